import { spawn } from 'node:child_process';
import type { Spec } from '../model/spec.js';
import { writeMetrics } from '../report/metrics.js';
import { defaultStateDir, pruneRunRecords, writeRunRecord } from '../report/records.js';
import type { Report } from '../report/report.js';
import type { GlobalOptions } from './options.js';

/** Run record (with pruning), metrics and the drift hook: what unattended runs leave behind. */
export async function afterRun(report: Report, spec: Spec, options: GlobalOptions): Promise<void> {
  const stateDir = options.stateDir ?? defaultStateDir();
  await writeRunRecord(stateDir, report);
  await pruneRunRecords(stateDir, options.keepRuns);
  if (options.metricsFile) await writeMetrics(options.metricsFile, report, spec);
  if (options.onDrift && (report.result === 'drift' || report.result === 'error')) await runHook(options.onDrift, report);
}

/** The hook reads the JSON report on stdin; its failure is reported but does not change the exit code. */
function runHook(command: string, report: Report): Promise<void> {
  return new Promise((resolvePromise) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', (error) => {
      console.error(`reconcile: --on-drift command failed to start: ${error.message}`);
      resolvePromise();
    });
    child.on('close', (code) => {
      if (code !== 0) console.error(`reconcile: --on-drift command exited ${code}`);
      resolvePromise();
    });
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(report));
  });
}
