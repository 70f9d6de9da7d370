import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, type CliResult, workspace } from './helpers.js';

const UNIT = '/etc/systemd/system/gated.service';
const PORT = 8999;

/** A service whose health URL answers only when `serves` (python's http.server); `crashes` exits at once, restarted by systemd. */
function gatedService(version: string, how: 'serves' | 'hangs' | 'crashes', timeout = 60): string {
  const exec = {
    serves: `/usr/bin/python3 -m http.server ${PORT} --bind 127.0.0.1`,
    hangs: '/bin/sleep infinity',
    crashes: "/bin/sh -c 'sleep 1; exit 1'",
  }[how];
  return `resources:
  - kind: systemd_service
    unit: gated.service
    health: { url: "http://127.0.0.1:${PORT}/", timeout: ${timeout} }
    content: |
      [Unit]
      Description=gated ${version}

      [Service]
      ExecStart=${exec}
      Restart=always
      RestartSec=1

      [Install]
      WantedBy=multi-user.target
`;
}

/** Runs the CLI as a child whose signals the test sends; output collected until it exits. */
function started(dir: string, ...args: string[]) {
  const child = spawn(process.execPath, [join(process.cwd(), 'bin/reconcile.js'), ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr })),
  );
  return { child, done, output: () => stdout };
}

/** Everything on the host a run could write (outside /run, which only holds the run lock). */
const fingerprint = (host: TestHost) =>
  ssh(
    host,
    "find /etc /home /var/lib /opt /usr/local -xdev \\( -path /var/lib/systemd/timers -o -path /var/lib/systemd/random-seed \\) -prune -o -printf '%p %s %m %u %T@\\n' 2>/dev/null | sort | sha256sum",
    { user: 'root' },
  ).then((r) => r.stdout);

const records = (dir: string) => {
  const root = join(dir, 'state/runs');
  return readdirSync(root).flatMap((day) =>
    readdirSync(join(root, day)).map((f) => JSON.parse(readFileSync(join(root, day, f), 'utf8')) as Report),
  );
};

describe('trust: a dry-run changes nothing, exit 0 means converged, and what is printed is what happened', () => {
  const hosts = useTestHosts(1, 'tr');
  let host: TestHost;
  let dir: string;
  const setup = (text: string) => writeFileSync(join(dir, 'setup.yaml'), text);
  const unitOnHost = async () => (await ssh(host, `cat ${UNIT}`)).stdout;
  const healthy = async () =>
    (
      await ssh(
        host,
        `python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/', timeout=2)" && echo yes || echo no`,
        { allowFailure: true },
      )
    ).stdout.trim() === 'yes';

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it('--dry-run writes nothing on the host, wherever it stands on the line', async () => {
    // The repo's setup on a fresh host: every resource would change something.
    const before = await fingerprint(host);
    for (const argv of [
      ['apply', '--dry-run'],
      ['--dry-run', 'apply'],
      ['--dry-run'],
      ['plan', '--dry-run'],
      ['--dry-run', '--json', 'apply'],
    ]) {
      const run = await reconcile(dir, ...argv, '--state-dir', join(dir, 'state'));
      expect(run.code, `${argv.join(' ')}: ${run.stdout}${run.stderr}`).toBe(2);
      expect(run.stdout, argv.join(' ')).not.toMatch(/ done \(|changes? applied/);
    }
    expect(await fingerprint(host)).toBe(before);
  }, 60_000);

  it('counts a server that is not installed yet as something to compare later, not as a problem', async () => {
    const plan = await reconcileJson(dir, 'plan');
    expect(plan.hosts[0]!.problems).toEqual([]);
    expect(plan.hosts[0]!.deferred).toEqual([
      expect.stringMatching(/^server not answering: http:\/\/[\d.]+:4200\/api .*compared once it is up$/),
    ]);
    const text = await reconcile(dir, 'plan');
    // The README quotes this line: it is a promise.
    const quoted = /a fresh host's plan says\s+`([^`]+)`/.exec(readFileSync('README.md', 'utf8'))![1]!;
    expect(text.stdout).toContain(`${host.name} (${host.address}): ${quoted}\n`);
    expect(text.stdout).not.toMatch(/problem/);
  });

  it('apply exits 1 on a host it could not converge, naming what is left', async () => {
    setup(`resources:
  - kind: file
    path: /srv/trust-marker
    content: "converged\\n"
  - kind: prefect_deployments
    project_dir: /srv/no-project
    user: daniel
    venv: /srv/no-project/.venv
    api_url: http://127.0.0.1:4200/api
`);
    const run = await reconcile(dir, 'apply');
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toContain(`${host.name}: NOT CONVERGED; what still differs:`);
    expect(run.stdout).toContain('! prefect_deployments:/srv/no-project: /srv/no-project/prefect.yaml is not a readable file on the host');
    // What could be done was done.
    expect((await ssh(host, 'cat /srv/trust-marker')).stdout).toBe('converged\n');
    const again = await reconcileJson(dir, 'apply');
    expect(again.code).toBe(1);
    expect(again.hosts[0]!.status).toBe('failed');
    expect((await reconcile(dir, 'check')).code).toBe(2);
  });

  it('a unit that passes its gate is installed; apply exits 0 and leaves no lock note behind', async () => {
    setup(gatedService('v1', 'serves'));
    const run = await reconcile(dir, 'apply');
    expect(run.code, run.stdout).toBe(0);
    expect(await healthy()).toBe(true);
    expect((await reconcile(dir, 'check', '--state-dir', join(dir, 'state'))).code).toBe(0);
    expect(
      (await ssh(host, 'test ! -e /run/lock/reconcile.owner || echo owner; ls -A /run/lock/reconcile.readers', { user: 'root' })).stdout,
    ).toBe('');
  }, 60_000);

  it('Ctrl-C during a health gate: the previous unit goes back, the run is recorded as interrupted, exit 130; a waiting run names the live holder', async () => {
    setup(gatedService('v2', 'hangs'));
    const apply = started(dir, 'apply', '--state-dir', join(dir, 'state'));
    await waitFor(() => apply.output().includes('waiting for http://127.0.0.1:8999/'), 30_000);
    // Another run waits for the lock the apply holds, and names it (not a run that ended long ago).
    const waiting = await reconcile(dir, 'check', '--lock-timeout', '1');
    expect(waiting.code).toBe(1);
    expect(waiting.stdout).toMatch(/locked: reconcile apply by \S+ \(pid \d+\) since \S+ holds \/run\/lock\/reconcile\.lock/);
    apply.child.kill('SIGINT');
    const run = await apply.done;
    expect(run.code, run.stdout + run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGINT: stopping at the next safe point');
    expect(run.stdout).toMatch(/restart gated\.service INTERRUPTED: interrupted by SIGINT while waiting for http:\/\/127\.0\.0\.1:8999\//);
    expect(run.stdout).toContain('rolled back: the previous version is in place again');
    expect(await unitOnHost()).toContain('Description=gated v1');
    await waitFor(healthy);
    const record = records(dir).find((r) => r.command === 'apply' && r.result === 'interrupted');
    expect(record).toMatchObject({ interrupted: 'SIGINT', exitCode: 130, hosts: [{ interrupted: true }] });
  }, 90_000);

  it('SIGTERM: the same, exit 143; a run killed outright mid-gate is rolled back by the next apply to the unit that last passed', async () => {
    const term = started(dir, 'apply');
    await waitFor(() => term.output().includes('waiting for'), 30_000);
    term.child.kill('SIGTERM');
    expect((await term.done).code).toBe(143);
    expect(await unitOnHost()).toContain('Description=gated v1');

    setup(gatedService('v2', 'hangs', 6));
    const killed = started(dir, 'apply');
    await waitFor(() => killed.output().includes('waiting for'), 30_000);
    killed.child.kill('SIGKILL');
    await killed.done;
    // The new unit stayed in place, unproven.
    expect(await unitOnHost()).toContain('Description=gated v2');
    const next = await reconcile(dir, 'apply');
    expect(next.code).toBe(1);
    expect(next.stdout).toContain('rolled back: the previous version is in place again');
    expect(await unitOnHost()).toContain('Description=gated v1');
    await waitFor(healthy);
  }, 90_000);

  it("Ctrl-C while waiting for another run's lock gives up at once: nothing was started", async () => {
    await ssh(host, 'systemd-run --unit=lock-squatter flock -x /run/lock/reconcile.lock sleep 60', { user: 'root' });
    const waiting = started(dir, 'apply', '--lock-timeout', '50');
    await new Promise((r) => setTimeout(r, 3000));
    const begun = Date.now();
    waiting.child.kill('SIGINT');
    const run = await waiting.done;
    expect(run.code).toBe(130);
    expect(Date.now() - begun).toBeLessThan(10_000);
    expect(run.stdout).toContain('not started: interrupted by SIGINT while waiting for the run lock (nothing was done)');
    await ssh(host, 'systemctl stop lock-squatter', { user: 'root' });
  }, 60_000);

  it('a unit that crash-loops fails its gate at once, with its journal, instead of waiting out the timeout', async () => {
    setup(gatedService('v3', 'crashes', 90));
    const begun = Date.now();
    const run = await reconcile(dir, 'apply');
    expect(run.code).toBe(1);
    expect(Date.now() - begun).toBeLessThan(30_000);
    expect(run.stdout).toMatch(/gave up waiting for http:\/\/127\.0\.0\.1:8999\/ after \d+s: gated\.service crash/);
    expect(run.stdout).toContain('last journal lines of gated.service:');
    // The journal is shown once, where the action failed, not again in the summary.
    expect(run.stdout.split('last journal lines of gated.service:')).toHaveLength(2);
    expect(await unitOnHost()).toContain('Description=gated v1');
  }, 60_000);

  it('Ctrl-C on a terminal (the live view) is handled the same way, not exit 127', async () => {
    setup(gatedService('v4', 'hangs'));
    // A terminal of a real size: script(1) alone gives one of 0 columns.
    const command = `stty cols 160 rows 40; exec ${process.execPath} ${join(process.cwd(), 'bin/reconcile.js')} apply --yes`;
    const tty = spawn('script', ['-qfec', command, '/dev/null'], { cwd: dir, env: { ...process.env, TERM: 'xterm' } });
    let out = '';
    tty.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = new Promise<number | null>((resolve) => tty.on('close', resolve));
    await waitFor(() => out.includes('waiting for'), 30_000);
    // Ctrl-C typed at the terminal: the line discipline sends SIGINT to the foreground process.
    tty.stdin.write('\u0003');
    expect(await code).toBe(130);
    expect(out).toContain('SIGINT: stopping at the next safe point');
    expect(await unitOnHost()).toContain('Description=gated v1');
  }, 60_000);
});
