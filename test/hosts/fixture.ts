import { afterAll, beforeAll } from 'vitest';
import { run, type RunResult } from './exec.js';
import { bootHost, createLan, removeLan, sshOptions, stopHost, type BootOptions, type TestHost } from './host.js';

let counter = 0;
const booted = new Set<string>();

// Interrupted runs (Ctrl-C) still tear their hosts down; a killed runner's hosts are cleaned at the next start.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([...booted].map(stopHost)).then(() => process.exit(130));
  });
}

/**
 * Boots `count` fresh hosts (in parallel) before the tests of the enclosing describe block and
 * always stops them afterwards. A host that cannot start fails the tests loudly; nothing is skipped.
 */
export function useTestHosts(
  count: number,
  prefix = 't',
  options: Pick<BootOptions, 'binds' | 'release'> & { lan?: boolean } = {},
): TestHost[] {
  const hosts: TestHost[] = [];
  let lan: number | undefined;
  beforeAll(async () => {
    const names = Array.from({ length: count }, () => `${prefix}${process.pid % 10000}-${++counter}`);
    // A fleet: the hosts share a LAN and reach each other.
    if (options.lan) lan = await createLan();
    const started = await Promise.allSettled(names.map((name) => bootHost(name, { ...options, lan })));
    for (const result of started) {
      if (result.status !== 'fulfilled') continue;
      hosts.push(result.value);
      booted.add(result.value.name);
    }
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  });
  afterAll(async () => {
    await Promise.all(hosts.map(async (h) => (await stopHost(h.name), booted.delete(h.name))));
    if (lan !== undefined) await removeLan(lan);
  });
  return hosts;
}

/** Runs a shell command on a test host with OpenSSH, strict host-key checking on. */
export function ssh(
  host: TestHost,
  command: string,
  options: { user?: string; input?: string; allowFailure?: boolean } = {},
): Promise<RunResult> {
  return run('ssh', [...sshOptions(host), `${options.user ?? host.user}@${host.address}`, command], {
    input: options.input,
    allowFailure: options.allowFailure,
    timeoutMs: 120_000,
  });
}

/** Polls until the check passes, or fails the test after the timeout. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs / 1000}s`);
}
