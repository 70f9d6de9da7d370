import { hostname, userInfo } from 'node:os';
import { quote } from '../shell/quote.js';
import { HostError, type Transport } from '../transport/transport.js';
import { HOST_STATE } from '../model/host-state.js';

/**
 * One run at a time per host: runs take flock(1) on a file in /run/lock (gone at reboot, like the
 * processes that held it). Reading runs (plan, check) share it and take it inside their one fact
 * script; apply holds it exclusively for its whole run from a script that waits for its stdin to
 * close, so a dropped connection releases it too. Each holder writes a note beside it, starting with
 * the pid of the shell that holds it, and removes it when it lets go: a waiting run names the holders
 * whose shell is still alive, never a note a finished run left behind.
 */
const { lockFile: LOCK_FILE, lockOwner: OWNER_FILE, lockReaders: READERS_DIR } = HOST_STATE;
const LOCKED_MARKER = '@@rc:lock-held-by:';
const ACQUIRED_MARKER = '@@rc:lock-acquired';
const WAITED_MARKER = '@@rc:lock-waited';

export function lockOwner(command: string): string {
  return `reconcile ${command} by ${userInfo().username}@${hostname()} (pid ${process.pid}) since ${new Date().toISOString()}`;
}

/** Prints the notes of the live holders (pid, then who); `;`-separated. */
const HOLDERS = `rc_holders=''; for rc_note in ${OWNER_FILE} ${READERS_DIR}/*; do
  [ -f "$rc_note" ] || continue; rc_pid=$(cut -d' ' -f1 < "$rc_note")
  [ -n "$rc_pid" ] && [ -d "/proc/$rc_pid" ] && rc_holders="$rc_holders\${rc_holders:+; }$(head -n 1 "$rc_note" | cut -d' ' -f2-)"
done; printf '%s' "\${rc_holders:-a process that left no note (not a reconcile run, or one killed before it could write one)}"`;

/** Shell lines that take the lock or exit 75 printing who holds it, and leave this holder's note. */
export function lockPreamble(mode: 'shared' | 'exclusive', timeoutSeconds: number, owner: string): string {
  const note = mode === 'exclusive' ? OWNER_FILE : `${READERS_DIR}/$$`;
  return [
    `exec 9>>${LOCK_FILE}`,
    `rc_flock=${mode === 'shared' ? '-s' : '-x'}`,
    // Say when the lock was busy, and who holds it: what was read before it was ours (HTTP, in
    // parallel) must be read again, and a person waiting is told what for.
    `if ! flock $rc_flock -n 9; then printf '${WAITED_MARKER}%s\\n' "$(${HOLDERS})"; if ! flock $rc_flock -w ${Math.max(0, Math.round(timeoutSeconds))} 9; then printf '${LOCKED_MARKER}%s\\n' "$(${HOLDERS})"; exit 75; fi; fi`,
    ...(mode === 'shared' ? [`mkdir -p ${READERS_DIR} 2>/dev/null; trap 'rm -f ${note}' EXIT`] : []),
    `printf '%s %s\\n' "$$" ${quote(owner)} > ${note} 2>/dev/null || true`,
  ].join('\n');
}

/** Whether a script had to wait for another run's lock before it went on. */
export function waitedForLock(stdout: string): boolean {
  return stdout.includes(WAITED_MARKER);
}

/** The error for a script that stopped at the lock, if it did. */
export function lockRefusal(host: string, stdout: string, timeoutSeconds: number): HostError | undefined {
  const at = stdout.indexOf(LOCKED_MARKER);
  if (at < 0) return undefined;
  const holder = stdout.slice(at + LOCKED_MARKER.length).split('\n')[0];
  return new HostError(host, `locked: ${holder} holds ${LOCK_FILE}; waited ${timeoutSeconds}s (--lock-timeout)`);
}

/**
 * Takes the exclusive lock for an apply; the returned function releases it. An interrupt while
 * waiting gives up at once: nothing was done yet, and closing the connection ends the wait on the host.
 */
export async function holdExclusiveLock(
  transport: Transport,
  sudo: boolean,
  timeoutSeconds: number,
  owner: string,
  signal?: AbortSignal,
  onWait?: (holders: string) => void,
): Promise<() => Promise<void>> {
  // Not `exec cat`: the shell outlives cat to take its note away when the run lets go.
  const holder = await transport.start(
    `${lockPreamble('exclusive', timeoutSeconds, owner)}\necho ${ACQUIRED_MARKER}\ncat > /dev/null\nrm -f ${OWNER_FILE}`,
    { sudo },
  );
  let stop = () => {};
  const interrupted = new Promise<never>((_, reject) => {
    stop = () =>
      reject(
        new HostError(
          transport.host,
          `not started: interrupted by ${String(signal?.reason)} while waiting for the run lock (nothing was done)`,
        ),
      );
  });
  interrupted.catch(() => {});
  void holder.waitFor(WAITED_MARKER).then(({ found, stdout }) => {
    if (found) onWait?.(stdout.slice(stdout.indexOf(WAITED_MARKER) + WAITED_MARKER.length).split('\n')[0]!);
  });
  signal?.addEventListener('abort', stop);
  if (signal?.aborted) stop();
  const { found, stdout } = await Promise.race([holder.waitFor(ACQUIRED_MARKER), interrupted]).finally(() =>
    signal?.removeEventListener('abort', stop),
  );
  if (!found) {
    const result = await holder.finish();
    throw (
      lockRefusal(transport.host, stdout, timeoutSeconds) ??
      new HostError(transport.host, `could not take the run lock: ${result.stderr.trim() || `exit ${result.code}`}`)
    );
  }
  return async () => {
    await holder.finish();
  };
}
