import { SIGNAL_EXIT_CODES, type StopSignal } from '../model/signals.js';

/**
 * Ctrl-C, `kill` and a lost terminal. The first signal asks the run to stop at its next safe point:
 * apply finishes the step running on a host, puts back what a failed step would (a unit that had
 * not passed its gate, an open upgrade), records the run as interrupted and exits 130 (SIGINT),
 * 143 (SIGTERM) or 129 (SIGHUP). A second signal quits at once.
 */
const controller = new AbortController();

/** Aborted once a stop was asked for; its reason is the signal's name. */
export const interruption: AbortSignal = controller.signal;

export const interruptedBy = (): StopSignal | undefined => (interruption.aborted ? (interruption.reason as StopSignal) : undefined);

/**
 * Runs a command with the signals handled as above; an interrupted command exits with its signal's
 * code. A command that changes no host (`graceful` false: plan, check, …) has nothing to put back:
 * it ends at the first signal.
 */
export async function interruptible(run: () => Promise<number>, graceful: boolean): Promise<number> {
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((signal) => {
    const handler = () => (graceful ? onSignal(signal) : quit(signal));
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  try {
    const code = await run();
    const signal = interruptedBy();
    return signal ? SIGNAL_EXIT_CODES[signal] : code;
  } finally {
    for (const remove of handlers) remove();
  }
}

function quit(signal: StopSignal): void {
  process.stderr.write(`\nreconcile: ${signal}: stopped; this command changes nothing on any host\n`);
  process.exit(SIGNAL_EXIT_CODES[signal]);
}

function onSignal(signal: StopSignal): void {
  if (interruption.aborted) {
    process.stderr.write(
      `\nreconcile: ${signal} again: quitting now; a host may be left in the middle of a step (the next apply finishes it)\n`,
    );
    process.exit(SIGNAL_EXIT_CODES[signal]);
  }
  process.stderr.write(
    `\nreconcile: ${signal}: stopping at the next safe point (a step already running on a host is finished, and what it left half-done is put back); ${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again quits at once\n`,
  );
  controller.abort(signal);
}
