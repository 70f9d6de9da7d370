/** The only exit codes reconcile uses, everywhere. */
export const ExitCode = {
  /** Valid, converged, nothing to change. */
  ok: 0,
  /** An error: invalid spec, unreachable host, failed action. */
  error: 1,
  /** Changes pending (plan) or drift found (check). */
  changes: 2,
  /** Interrupted (128 + the signal's number): SIGHUP, SIGINT, SIGTERM. */
  hangup: 129,
  interrupt: 130,
  terminate: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
