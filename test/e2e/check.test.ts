import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateReport } from '../report-schema.js';
import { run } from '../hosts/exec.js';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, repoSetup, workspace } from './helpers.js';

const snapshot = async (host: TestHost) =>
  (
    await ssh(
      host,
      `stat -c "%n %Y" /etc/systemd/system/prefect-*.service ~/.bashrc ~/.prefect/profiles.toml; systemctl show -p MainPID --value prefect-server prefect-worker`,
    )
  ).stdout;

describe('reconcile check: read-only drift detection for cron', () => {
  const hosts = useTestHosts(1, 'ck');
  let host: TestHost;
  let dir: string;
  const check = (...args: string[]) => reconcileJson(dir, 'check', '--state-dir', join(dir, 'state'), ...args);
  const api = () => `http://${host.address}:4200/api`;

  beforeAll(async () => {
    host = hosts[0]!;
    dir = workspace(hosts);
    const applied = await reconcile(dir, 'apply', '--state-dir', join(dir, 'state'));
    if (applied.code !== 0) throw new Error(`setup apply failed: ${applied.stdout}`);
  }, 180_000);

  it('exits 0 on a converged host, with a report that matches its schema', async () => {
    const result = await check();
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ command: 'check', result: 'in-sync', exitCode: 0 });
    expect(validateReport(result.report)).toEqual([]);
    // One remote exec (the fact script): check runs nothing else on the host.
    expect(result.hosts[0]!.execs).toBe(1);
  });

  it('reports a hand edit, exit 2, and changes nothing', async () => {
    await ssh(host, `sed -i 's|^alias prefect-cli=.*|alias prefect-cli=true|' ~/.bashrc`);
    const before = await snapshot(host);
    const updated = ((await (await fetch(`${api()}/deployments/name/live-score/live-score`)).json()) as { updated: string }).updated;
    const run = await check('--metrics-file', join(dir, 'metrics.prom'), '--on-drift', `cat > ${join(dir, 'hook.json')}`);
    expect(run.code).toBe(2);
    expect(run.hosts[0]!.actions.map((a) => a.resource)).toEqual(['line:/home/daniel/.bashrc:^alias prefect-cli=']);
    expect(run.hosts[0]!.actions[0]!.diff).toContain('-alias prefect-cli=true');
    expect(await snapshot(host)).toBe(before);
    expect(((await (await fetch(`${api()}/deployments/name/live-score/live-score`)).json()) as { updated: string }).updated).toBe(updated);
    // The hook got the report; the metrics name the drifted resource.
    expect(JSON.parse(readFileSync(join(dir, 'hook.json'), 'utf8'))).toMatchObject({ result: 'drift', id: run.report.id });
    const metrics = readFileSync(join(dir, 'metrics.prom'), 'utf8');
    expect(metrics).toContain(`reconcile_host_drift{host="${host.name}"} 1`);
    expect(metrics).toContain(`reconcile_resource_drift{host="${host.name}",resource="line:/home/daniel/.bashrc:^alias prefect-cli="} 1`);
    expect(metrics).toContain(`reconcile_resource_drift{host="${host.name}",resource="directory:/home/daniel/projections-data"} 0`);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
  });

  it.each([
    ['a stopped service', 'sudo -n systemctl stop prefect-worker', 'systemd_service:prefect-worker.service'],
    ['a disabled service', 'sudo -n systemctl disable prefect-server 2>/dev/null', 'systemd_service:prefect-server.service'],
    [
      'a changed deployment',
      `sed -i 's|horizon_days: 7|horizon_days: 14|' ~/projects/projections-v2/prefect.yaml`,
      'prefect_deployments:/home/daniel/projects/projections-v2',
    ],
  ])(
    'reports %s with exit 2 and the resource named',
    async (_what, breakIt, resource) => {
      await ssh(host, breakIt);
      const run = await check();
      expect(run.code).toBe(2);
      expect(run.hosts[0]!.actions.map((a) => a.resource)).toContain(resource);
      expect((await reconcile(dir, 'apply')).code).toBe(0);
      expect((await check()).code).toBe(0);
    },
    60_000,
  );

  it('reports a dead worker (running, but its healthcheck does not answer)', async () => {
    await ssh(host, 'sudo -n systemctl kill --kill-whom=main -s SIGSTOP prefect-worker');
    try {
      const run = await check();
      expect(run.code).toBe(2);
      expect(run.hosts[0]!.problems.join('\n')).toMatch(
        /^systemd_service:prefect-worker\.service: running but unhealthy: http:\/\/127\.0\.0\.1:8080\/health/,
      );
    } finally {
      await ssh(host, 'sudo -n systemctl kill --kill-whom=main -s SIGCONT prefect-worker');
    }
  }, 60_000);

  it('keeps a run record per check and apply, listed by history', async () => {
    const list = await reconcile(dir, 'history', '--state-dir', join(dir, 'state'), '--json');
    const runs = JSON.parse(list.stdout) as { id: string; command: string; result: string }[];
    expect(runs.length).toBeGreaterThanOrEqual(8);
    expect(runs.map((r) => r.command)).toEqual(expect.arrayContaining(['check', 'apply']));
    const shown = await reconcile(dir, 'history', 'show', runs[0]!.id, '--state-dir', join(dir, 'state'));
    expect(validateReport(JSON.parse(shown.stdout))).toEqual([]);
  });

  it("runs the exact scheduled command in cron's empty environment and records the run", async () => {
    const stateDir = join(dir, 'scheduled-state');
    const dryRun = await reconcile(dir, 'schedule', 'install', '--every', '15m', '--dry-run', '--state-dir', stateDir);
    expect(dryRun.code).toBe(0);
    const command = /^command: (.*)$/m.exec(dryRun.stdout)![1]!;
    const scheduled = await run('env', ['-i', '/bin/sh', '-c', command], { timeoutMs: 120_000 });
    expect(scheduled.code).toBe(0);
    // In sync: not a word, so cron mails nothing; the run is recorded all the same.
    expect(scheduled.stdout).toBe('');
    const list = await reconcile(dir, 'history', '--state-dir', stateDir, '--json');
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ command: 'check', result: 'in-sync' })]);
    // While a scheduled run still holds the schedule lock, the next one is skipped with a log line.
    const lock = /'(\/[^']*\/schedule-[0-9a-f]{8}\.lock)'/.exec(command)![1]!;
    const holder = run('flock', [lock, 'sleep', '4']);
    await new Promise((r) => setTimeout(r, 500));
    const overlapping = await run('env', ['-i', '/bin/sh', '-c', command], { allowFailure: true, timeoutMs: 60_000 });
    expect(overlapping.code).toBe(75);
    expect(overlapping.stderr).toContain('the previous scheduled check is still running; this one is skipped');
    await holder;
    expect(JSON.parse((await reconcile(dir, 'history', '--state-dir', stateDir, '--json')).stdout)).toHaveLength(1);
  });

  it('installs, shows and removes the schedule in the crontab', async () => {
    expect(existsSync('/usr/bin/crontab')).toBe(true);
    await check();
    const before = spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout;
    try {
      expect((await reconcile(dir, 'schedule', 'install', '--cron', '*/10 * * * *', '--state-dir', join(dir, 'state'))).code).toBe(0);
      expect(spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout).toMatch(/^\*\/10 \* \* \* \* mkdir -p .* 'check' '-i' /m);
      const status = await reconcile(dir, 'schedule', 'status', '--state-dir', join(dir, 'state'));
      expect(status.stdout).toContain('installed: crontab entry');
      const runs = JSON.parse((await reconcile(dir, 'history', '--state-dir', join(dir, 'state'), '--json')).stdout) as {
        id: string;
        command: string;
        result: string;
      }[];
      const last = runs.find((r) => r.command === 'check')!;
      expect(status.stdout).toContain(`last check: `);
      expect(status.stdout).toContain(` ${last.result} (exit ${last.result === 'in-sync' ? 0 : 2}, run ${last.id})`);
      // A second project on the same machine gets its own entry; each status and remove is its own.
      const other = workspace(hosts);
      writeFileSync(join(other, 'setup.yaml'), repoSetup());
      expect((await reconcile(other, 'schedule', 'install', '--every', '30m', '--state-dir', join(other, 'state'))).code).toBe(0);
      const table = spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout;
      expect(table).toContain(`# reconcile scheduled check of ${dir} [project `);
      expect(table).toContain(`# reconcile scheduled check of ${other} [project `);
      const otherStatus = await reconcile(other, 'schedule', 'status', '--state-dir', join(other, 'state'));
      expect(otherStatus.stdout).toContain('*/30 * * * *');
      expect(otherStatus.stdout).toContain('last check: none recorded');
      expect(otherStatus.stdout).toContain('other projects with a scheduled check on this machine: 1');
      expect((await reconcile(dir, 'schedule', 'remove')).stdout).toContain(`removed the scheduled check of ${dir}`);
      expect(spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout).toContain(`# reconcile scheduled check of ${other} [project `);
      expect((await reconcile(other, 'schedule', 'remove')).stdout).toContain(`removed the scheduled check of ${other}`);
      expect(spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout).toBe(before);
    } finally {
      if (spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout !== before) spawnSync('crontab', ['-'], { input: before });
    }
  });
});

describe('locking and unreachable hosts', () => {
  const hosts = useTestHosts(1, 'lk');

  it('never lets two applies interleave on one host', async () => {
    const host = hosts[0]!;
    const dir = workspace(hosts);
    const first = reconcile(dir, 'apply', '--json');
    await new Promise((r) => setTimeout(r, 1500));
    const impatient = await reconcile(dir, 'apply', '--lock-timeout', '0');
    const patient = reconcile(dir, 'apply', '--json');
    // Piped, a waiting apply says who holds the lock, and how long it has waited.
    const watching = reconcile(dir, 'apply');
    const [a, b, watched] = await Promise.all([first, patient, watching]);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(
      new RegExp(`${host.name}: waiting for the run lock, held by reconcile apply by \\S+ \\(pid \\d+\\) since \\S+ \\(\\d+/60 s\\)`),
    );
    expect(impatient.code).toBe(1);
    expect(impatient.stdout).toMatch(/locked: reconcile apply by \S+ \(pid \d+\) since .* holds \/run\/lock\/reconcile\.lock; waited 0s/);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    // The waiting apply planned after the first finished: it found nothing left to do.
    const done = [a, b].map((r) => (JSON.parse(r.stdout) as { hosts: { done?: string[] }[] }).hosts[0]!.done ?? []);
    expect(done.filter((d) => d.length > 0)).toHaveLength(1);
    expect((await reconcile(dir, 'plan')).code).toBe(0);
    expect((await ssh(host, 'sudo -n sh -c "ls -A /etc/systemd/system | grep -c reconcile || true"')).stdout.trim()).toBe('0');
  }, 240_000);

  it('reports an unreachable host with exit 1 and still shows the other host', async () => {
    const host = hosts[0]!;
    const dir = workspace(hosts);
    writeFileSync(
      join(dir, 'hosts.yaml'),
      `${readFileSync(join(dir, 'hosts.yaml'), 'utf8')}  ghost:\n    address: 10.231.252.2\n    connect_timeout: 2\n`,
    );
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
    const run = await reconcileJson(dir, 'check', '--state-dir', join(dir, 'state'));
    expect(run.code).toBe(1);
    expect(run.hosts.map((h) => [h.host, h.status])).toEqual([
      [host.name, 'in-sync'],
      ['ghost', 'failed'],
    ]);
    const text = await reconcile(dir, 'check', '--state-dir', join(dir, 'state'));
    expect(text.stdout).toContain(`${host.name} (${host.address}): in sync`);
    expect(text.stdout).toMatch(
      /ghost \(10\.231\.252\.2\): error: (no answer from 10\.231\.252\.2:22 within 2s|no route to 10\.231\.252\.2|could not reach 10\.231\.252\.2:22|10\.231\.252\.2:22 closed the connection before the SSH handshake)/,
    );
  });
});
