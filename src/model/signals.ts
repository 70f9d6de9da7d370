/** The signals that stop a run, and the exit code of a run each one stopped (128 + its number). */
export const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;
export type SignalExitCode = (typeof SIGNAL_EXIT_CODES)[StopSignal];
