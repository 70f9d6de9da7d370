import { realpathSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';

/**
 * `schedule install` where systemd runs: on a test host (systemd is PID 1 there), with this machine's
 * Node and this checkout's built package mounted read-only, as root, checking the host itself.
 */
describe('schedule as a systemd timer, on a host where systemd runs', () => {
  const hosts = useTestHosts(1, 'tm', {
    binds: [`${realpathSync(process.execPath)}:/usr/local/bin/node`, `${process.cwd()}:/opt/reconcile`],
  });
  let host: TestHost;
  const root = (command: string) => ssh(host, command, { user: 'root' });
  const reconcile = (args: string) => root(`cd /srv/spec && /usr/local/bin/node /opt/reconcile/bin/reconcile.js ${args}`);

  beforeAll(async () => {
    host = hosts[0]!;
    await root(
      'mkdir -p /srv/spec && cd /srv/spec && printf "%s\\n" "hosts:" "  self:" "    address: 127.0.0.1" "    connection: local" > hosts.yaml' +
        ' && printf "%s\\n" "resources:" "  - kind: directory" "    path: /srv/managed" "    mode: \\"0750\\"" > setup.yaml',
    );
  });

  it('installs a timer systemd lists, whose run leaves a run record, and removes it without a trace', async () => {
    const installed = await reconcile('schedule install --every 15m');
    // The project's own units: another project's schedule on this machine keeps its own.
    const unit = /installed (reconcile-check-[0-9a-f]{8})\.timer \(every 15m\) for \/srv\/spec/.exec(installed.stdout)![1]!;
    expect((await root(`systemctl list-timers ${unit}.timer --all --no-pager`)).stdout).toContain(`${unit}.timer`);
    expect((await root(`systemctl is-enabled ${unit}.timer; systemctl is-active ${unit}.timer`)).stdout).toBe('enabled\nactive\n');

    // What the timer would start, started now: a check of a host whose directory is missing is drift (exit 2).
    await root(`systemctl start --no-block ${unit}.service`);
    await waitFor(async () => (await root(`systemctl show -p ActiveState --value ${unit}.service`)).stdout.trim() !== 'activating');
    await waitFor(async () => (await reconcile('history --json')).stdout.includes('"check"'));
    await waitFor(async () => (await root(`systemctl show -p ActiveState --value ${unit}.service`)).stdout.trim() !== 'active');
    expect((await root(`systemctl show -p ExecMainStatus --value ${unit}.service`)).stdout.trim()).toBe('2');
    const history = JSON.parse((await reconcile('history --json')).stdout) as { command: string; status: string }[];
    expect(history[0]).toMatchObject({ command: 'check' });
    expect((await reconcile('schedule status')).stdout).toContain(`installed: systemd timer ${unit}.timer`);

    const removed = await reconcile('schedule remove');
    expect(removed.code).toBe(0);
    expect(
      (
        await root(
          'ls /etc/systemd/system | grep -c reconcile-check; systemctl list-timers --all --no-pager | grep -c reconcile-check; true',
        )
      ).stdout,
    ).toBe('0\n0\n');
  }, 60_000);

  it('as a user without systemd timers, on a host with no cron daemon: refused, saying why', async () => {
    const refused = await ssh(
      host,
      'cd /srv/spec && /usr/local/bin/node /opt/reconcile/bin/reconcile.js schedule install --every 15m --state-dir /tmp/st',
      {
        allowFailure: true,
      },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not installed: no cron daemon runs on this machine, so the entry would never run');
  });
});
