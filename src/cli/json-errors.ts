import type { Mode } from '../engine/run.js';
import { SpecError, type Diagnostic } from '../model/diagnostic.js';
import { stoppedBeforeHosts } from '../report/report.js';
import type { GlobalOptions } from './options.js';
import { UsageError } from './usage-error.js';
import { toolVersion } from './version.js';

/** Why a command stopped before it reached any host. */
export type Stopped = { specProblems: Diagnostic[] } | { error: string };

/**
 * With --json, a command that stops before it reaches any host (a spec that cannot be used, a
 * --limit that names nothing) still prints a JSON document on stdout saying why: a script reading
 * stdout gets JSON, never nothing. The error then goes on to the error boundary, which says it in
 * words on stderr and exits 1.
 */
export async function jsonEvenWhenStopped<T>(
  options: GlobalOptions,
  document: (why: Stopped) => unknown,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (options.json && (error instanceof SpecError || error instanceof UsageError)) {
      const why = error instanceof SpecError ? { specProblems: error.diagnostics } : { error: error.message };
      console.log(JSON.stringify(document(why), null, 2));
    }
    throw error;
  }
}

/** plan, check and apply: their report (result error, no hosts), in the report schema. */
export const stoppedRunReport = (mode: Mode, options: GlobalOptions, started: Date) => (why: Stopped) =>
  stoppedBeforeHosts(mode, { inventory: options.inventory, setup: options.file }, started, toolVersion(), why);
