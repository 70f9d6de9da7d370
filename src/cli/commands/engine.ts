import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';
import { loadSelectedSpec } from '../spec.js';
import { UsageError } from '../usage-error.js';

// The engine that gathers facts over SSH, plans and applies is the next piece of work (issue #4).
// Until it lands these commands validate the spec and then say plainly that they cannot go on.
async function notBuiltYet(command: string, options: GlobalOptions): Promise<ExitCode> {
  await loadSelectedSpec(options);
  throw new UsageError(`${command}: the spec is valid, but the engine that reads hosts over SSH is not built yet (issue #4)`);
}

export const planCommand = (options: GlobalOptions) => notBuiltYet('plan', options);
export const applyCommand = (options: GlobalOptions) => notBuiltYet('apply', options);
export const checkCommand = (options: GlobalOptions) => notBuiltYet('check', options);
