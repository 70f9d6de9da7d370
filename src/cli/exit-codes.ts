import type { SignalExitCode } from '../model/signals.js';

/** The only exit codes reconcile uses, everywhere. */
export const ExitCode = {
  /** Valid, converged, nothing to change. */
  ok: 0,
  /** An error: invalid spec, unreachable host, failed action. */
  error: 1,
  /** Changes pending (plan) or drift found (check). */
  changes: 2,
} as const;
/** The codes above, and those of a run a signal stopped (model/signals.ts). */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode] | SignalExitCode;
