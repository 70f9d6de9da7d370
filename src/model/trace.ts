/**
 * -v and -vv: what reconcile does, on stderr, as it does it. Level 1: connection steps, the keys
 * offered, each phase of a host with its time, each HTTP call. Level 2: also every script sent to a
 * host. The CLI decides the level and where lines go (through the secret mask); the layers below
 * only say what happens.
 */
let level = 0;
let write: (line: string) => void = () => {};
const started = performance.now();

export function traceTo(verbosity: number, sink: (line: string) => void): void {
  level = verbosity;
  write = sink;
}

/** Whether lines of this level are wanted (to skip building expensive ones). */
export const tracing = (at: 1 | 2) => level >= at;

export function trace(at: 1 | 2, host: string, message: string): void {
  if (level >= at) write(`[${((performance.now() - started) / 1000).toFixed(3)}s] ${host}: ${message}`);
}
