import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { Report } from '../../src/report/report.js';
import { cutSessions, type TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, reconcileWithEnv, repoSetup, workspace } from './helpers.js';

/** Connection cuts injected into upgrades (the issue asks for at least 10). */
const CUTS = Number(process.env.UPGRADE_CUTS ?? 10);
const VENV = '/home/daniel/projects/projections-v2/.venv';
const DB = '/home/daniel/.prefect/prefect.db';
/** The stand-in's database revision for each release (test/hosts/standin/build_wheels.py). */
const REVISION: Record<string, string> = { '3.8.3': '0001_standin_383', '3.9.0': '0002_standin_390', '3.9.1': '0003_standin_391' };

/** The README's steps for putting a snapshot back by hand. */
function restoreByHand(): string {
  const block = readFileSync('README.md', 'utf8').split('To go back to one by hand, as root on the host:\n\n```sh\n')[1]?.split('```')[0];
  if (!block?.startsWith('snap=')) throw new Error('README.md no longer has the restore-by-hand steps this test runs');
  return block;
}

/**
 * The repo's setup at another Prefect pin. The server's health gate waits 20 s instead of 90, so that
 * the broken release's failure (it never gets healthy) is found sooner; nothing else changes.
 */
const setupAt = (version: string) => {
  const setup = repoSetup().replace('prefect==3.8.3', `prefect==${version}`).replace('timeout: 90', 'timeout: 20');
  if (!setup.includes(`prefect==${version}`) || !setup.includes('timeout: 20'))
    throw new Error('the repo setup.yaml no longer has the lines this test edits');
  return setup;
};

describe('safe Prefect upgrades: the host runs the new version healthy, or is back exactly as it was', () => {
  const hosts = useTestHosts(1, 'up');
  let host: TestHost;
  let dir: string;
  let stateDir: string;
  let upgradeMs = 0;

  const api = () => `http://${host.address}:4200/api`;
  const pin = (version: string) => writeFileSync(join(dir, 'setup.yaml'), setupAt(version));
  const apply = (...args: string[]) => reconcileWithEnv({ RECONCILE_STATE_DIR: stateDir }, dir, 'apply', ...args);
  const runningVersion = async () => (await (await fetch(`${api()}/admin/version`)).json()) as string;
  const revision = async () =>
    (
      await ssh(
        host,
        `python3 -c "import sqlite3; print(sqlite3.connect('file:${DB}?mode=ro', uri=True).execute('select version_num from alembic_version').fetchone()[0])"`,
      )
    ).stdout.trim();
  const deployments = async () => {
    const found = (await (await fetch(`${api()}/deployments/filter`, { method: 'POST', body: '{}' })).json()) as {
      name: string;
      updated: string;
    }[];
    return found.map((d) => `${d.name}@${d.updated}`).sort();
  };
  const healthy = async () => {
    try {
      return (await fetch(`${api()}/health`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  };
  /** Starts of a unit since a moment, from its journal. */
  const startsSince = async (unit: string, since: number) =>
    Number(
      (
        await ssh(host, `journalctl -u ${unit} --since @${Math.floor(since / 1000)} -o cat | grep -c '^Started ' || true`, { user: 'root' })
      ).stdout.trim(),
    );
  const mainPids = async () =>
    (await ssh(host, 'systemctl show -p MainPID --value prefect-server.service prefect-worker.service')).stdout.trim();
  const installedPrefect = async () =>
    (await ssh(host, `ls -d ${VENV}/lib/python3*/site-packages/prefect-*.dist-info | sed 's/.*prefect-//; s/.dist-info//'`)).stdout.trim();

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
    stateDir = join(dir, 'state');
  });

  it('converges a bare host at 3.8.3 with its deployments', async () => {
    pin('3.8.3');
    const applied = await apply();
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(await runningVersion()).toBe('3.8.3');
    expect(await revision()).toBe(REVISION['3.8.3']);
    expect((await deployments()).length).toBe(2);
  }, 180_000);

  it('plans an upgrade as what it will do: versions, the copies, the restarts, and the rollback a failed gate would bring', async () => {
    pin('3.9.0');
    const plan = await reconcile(dir, 'plan');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(
      `+ snapshot ${VENV} and ${DB} before the upgrade (into /var/lib/reconcile/upgrades${VENV}/; if a step or health gate fails: stop prefect-server.service, prefect-worker.service; put back ${VENV} and ${DB}`,
    );
    expect(plan.stdout).toContain('prefect: 3.8.3 -> 3.9.0');
    expect(plan.stdout).toMatch(
      /↻ restart prefect-server\.service \(python_venv:\S+ changed\)[^]*↻ restart prefect-worker\.service \(python_venv:\S+ changed\)/,
    );
    const json = await reconcileJson(dir, 'plan');
    const ids = json.hosts[0]!.actions.map((a) => a.id);
    expect(ids).toEqual([
      `download python_venv:${VENV}`,
      `snapshot python_venv:${VENV}`,
      `python_venv:${VENV}`,
      'restart prefect-server.service',
      'restart prefect-worker.service',
      `commit python_venv:${VENV}`,
    ]);
  });

  it('bumping the pin: both services run the new version, each restarted once, the database migrated, the deployments kept', async () => {
    const before = await deployments();
    const since = Date.now() - 1000;
    const started = performance.now();
    const applied = await apply();
    upgradeMs = performance.now() - started;
    expect(applied.code, applied.stdout).toBe(0);
    expect(await runningVersion()).toBe('3.9.0');
    expect(await revision()).toBe(REVISION['3.9.0']);
    expect(await deployments()).toEqual(before);
    expect(await startsSince('prefect-server.service', since)).toBe(1);
    expect(await startsSince('prefect-worker.service', since)).toBe(1);
    // The worker's process began after the new release was installed, so it runs the new code.
    const [workerStart, installed] = (
      await ssh(
        host,
        `stat -c %Y /proc/$(systemctl show -p MainPID --value prefect-worker.service); stat -c %Y ${VENV}/lib/python3*/site-packages/prefect-3.9.0.dist-info`,
      )
    ).stdout
      .trim()
      .split('\n')
      .map(Number);
    expect(workerStart).toBeGreaterThanOrEqual(installed!);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // The run record has the upgrade; the snapshot is kept, closed, with what it was taken from.
    const record = JSON.parse(
      (await reconcileWithEnv({ RECONCILE_STATE_DIR: stateDir }, dir, 'history', 'show', 'latest')).stdout,
    ) as Report;
    const venvAction = record.hosts[0]!.actions.find((a) => a.id === `python_venv:${VENV}`);
    expect(venvAction?.fields).toEqual([{ field: 'prefect', before: '3.8.3', after: '3.9.0' }]);
    expect(record.hosts[0]!.done).toContain(`commit python_venv:${VENV}`);
    const manifest = (
      await ssh(host, `cat /var/lib/reconcile/upgrades${VENV}/*/manifest; ls /var/lib/reconcile/upgrades${VENV}`, { user: 'root' })
    ).stdout;
    expect(manifest).toContain('before=prefect==3.8.3\nafter=prefect==3.9.0\n');
    expect(manifest).toMatch(/committed=\S+/);
    expect(manifest).not.toMatch(/^open$/m);
  }, 120_000);

  it('a release that never gets healthy: exit 1 naming the gate; the previous version runs again on the database as it was', async () => {
    const before = await deployments();
    pin('3.9.1');
    const failed = await apply();
    expect(failed.code).toBe(1);
    // 3.9.1 crashes at every start: the gate gives up as soon as systemd restarts it, not after 20 s.
    expect(failed.stdout).toMatch(
      new RegExp(
        `${host.name}: ↻ restart prefect-server\\.service FAILED: gave up waiting for http://\\S+/api/health after \\d+s: prefect-server\\.service crash`,
      ),
    );
    expect(failed.stdout).toContain('last journal lines of prefect-server.service:');
    // Said once, and the summary says where the host stands: back on the old version, healthy; nothing is owed.
    expect(failed.stdout.split('last journal lines of prefect-server.service:')).toHaveLength(2);
    expect(failed.stdout).toContain(
      `${host.name}: the host runs as it did before this apply (its services health-checked again); the next apply starts over`,
    );
    expect(failed.stdout).not.toContain('picks up from there');
    expect(failed.stdout).toContain('RuntimeError: prefect 3.9.1 cannot start');
    expect(failed.stdout).toContain(
      `rolled back (snapshot python_venv:${VENV}): put back: ${VENV} and ${DB} from /var/lib/reconcile/upgrades${VENV}/`,
    );
    // The run record (reconcile history show) has the upgrade that was tried and its rollback.
    const report = (
      JSON.parse((await reconcileWithEnv({ RECONCILE_STATE_DIR: stateDir }, dir, 'history', 'show', 'latest')).stdout) as Report
    ).hosts[0]!;
    expect(report.actions.find((a) => a.id === `python_venv:${VENV}`)?.fields).toEqual([
      { field: 'prefect', before: '3.9.0', after: '3.9.1' },
    ]);
    expect(report.rolledBack).toEqual([
      {
        action: `snapshot python_venv:${VENV}`,
        restored: true,
        detail: expect.stringContaining(`put back: ${VENV} and ${DB} from /var/lib/reconcile/upgrades${VENV}/`) as unknown,
      },
    ]);
    expect(await healthy()).toBe(true);
    expect(await runningVersion()).toBe('3.9.0');
    expect(await revision()).toBe(REVISION['3.9.0']);
    expect(await deployments()).toEqual(before);
    expect(await installedPrefect()).toBe('3.9.0');
    pin('3.9.0');
    const check = await reconcile(dir, 'check');
    expect(check.code, check.stdout).toBe(0);
  }, 120_000);

  it('a rolled-back target is not tried again until the pins change or --retry-failed, and failed attempts never push out a snapshot of a version that worked', async () => {
    pin('3.9.1');
    const plan = await reconcileJson(dir, 'plan');
    expect(plan.code).toBe(2);
    expect(plan.hosts[0]!.actions).toEqual([]);
    expect(plan.hosts[0]!.problems).toEqual([
      expect.stringMatching(
        /: the upgrade to prefect==3\.9\.1 was rolled back on \S+ and is not tried again until the pins change \(or: reconcile apply --retry-failed\)/,
      ),
    ]);
    const check = await reconcile(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('was rolled back on');
    const pids = await mainPids();
    const again = await apply();
    expect(again.code, again.stdout).toBe(1);
    expect(again.stdout).toContain(`${host.name}: NOT CONVERGED; what still differs:`);
    expect(await mainPids()).toEqual(pids);
    // Asked for: tried again, and rolled back again, twice.
    expect((await reconcileJson(dir, 'plan', '--retry-failed')).hosts[0]!.actions.map((a) => a.id)).toContain(
      `snapshot python_venv:${VENV}`,
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const retried = await apply('--retry-failed');
      expect(retried.code).toBe(1);
      expect(retried.stdout).toContain(`rolled back (snapshot python_venv:${VENV})`);
    }
    // Three failed attempts with keep: 3: the snapshot of the upgrade that worked is still there; one failed one is kept.
    const ended = (
      await ssh(
        host,
        `cat /var/lib/reconcile/upgrades${VENV}/2*/manifest | grep -E '^(committed|rolled-back)=' | cut -d= -f1 | sort | uniq -c`,
        { user: 'root' },
      )
    ).stdout;
    expect(
      ended
        .trim()
        .split('\n')
        .map((l) => l.trim()),
    ).toEqual(['1 committed', '1 rolled-back']);
    expect(await runningVersion()).toBe('3.9.0');
    pin('3.9.0');
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 240_000);

  it('a pin pip cannot resolve fails before anything is stopped or copied: no outage, no rollback', async () => {
    const snapshots = async () => (await ssh(host, `ls /var/lib/reconcile/upgrades${VENV} | grep '^[0-9]'`, { user: 'root' })).stdout;
    const before = { pids: await mainPids(), snapshots: await snapshots() };
    pin('9.9.9');
    const failed = await apply();
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(new RegExp(`${host.name}: ~ download prefect==9\\.9\\.9 for ${VENV} FAILED: exit 1:[^]*9\\.9\\.9`));
    expect(failed.stdout).not.toContain('rolled back');
    expect({ pids: await mainPids(), snapshots: await snapshots() }).toEqual(before);
    expect(await installedPrefect()).toBe('3.9.0');
    // Nothing was rolled back, so nothing is remembered: the next run tries the download again, at no cost.
    expect((await reconcileJson(dir, 'plan')).hosts[0]!.actions[0]!.id).toBe(`download python_venv:${VENV}`);
  }, 120_000);

  it('refuses a pin below the release that migrated the database, saying why', async () => {
    pin('3.8.3');
    const plan = await reconcileJson(dir, 'plan');
    expect(plan.hosts[0]!.actions).toEqual([]);
    expect(plan.hosts[0]!.problems).toEqual([
      expect.stringContaining(
        `prefect==3.8.3 is older than prefect==3.9.0, which migrated ${DB}: an older release cannot open a database a newer one migrated`,
      ),
    ]);
    const pids = await mainPids();
    expect((await apply()).code).toBe(1);
    expect(await mainPids()).toEqual(pids);
    expect(await revision()).toBe(REVISION['3.9.0']);
  }, 60_000);

  it(
    `a connection cut at random points of an upgrade (${CUTS} cuts): one whole version on a matching database, and the next apply converges`,
    async () => {
      let landed = 0;
      let resumes = 0;
      for (let cut = 1; cut <= CUTS; cut++) {
        // Back to 3.8.3 as the README tells a person to, from the newest snapshot of an upgrade that began at 3.8.3.
        const newest = `$(dirname "$(grep -lx before=prefect==3.8.3 /var/lib/reconcile/upgrades${VENV}/2*/manifest | sort | tail -n 1)")`;
        await ssh(host, `set -e\n${restoreByHand().replace(/^snap=.*$/m, `snap=${newest}`)}`, { user: 'root' });
        await waitFor(healthy, 30_000);
        expect([await runningVersion(), await revision(), await installedPrefect()]).toEqual(['3.8.3', REVISION['3.8.3'], '3.8.3']);
        pin('3.9.0');
        const delay = Math.random() * upgradeMs;
        const running = reconcileJson(dir, 'apply', '--lock-timeout', '30');
        await new Promise((r) => setTimeout(r, delay));
        await cutSessions(host.name, 'daniel');
        const cutRun = (await running).hosts[0]!;
        if (cutRun.status === 'failed') landed++;

        // Whatever the cut interrupted runs to its end on the host (pip, a queued restart); then one whole version runs.
        const busy = 'pgrep -f "pip instal[l]|[r]econcile"; systemctl list-jobs --no-legend';
        await waitFor(async () => (await ssh(host, busy, { user: 'root', allowFailure: true })).stdout.trim() === '', 30_000);
        await waitFor(healthy, 30_000);
        const version = await runningVersion();
        expect(['3.8.3', '3.9.0'], `cut ${cut} (${Math.round(delay)} ms)`).toContain(version);
        expect(await revision(), `cut ${cut} (${Math.round(delay)} ms): the database matches the running ${version}`).toBe(
          REVISION[version],
        );

        const next = await reconcileJson(dir, 'apply', '--lock-timeout', '30');
        expect(next.code, `apply after cut ${cut}: ${JSON.stringify(next.hosts[0])}`).toBe(0);
        const resumed = next.hosts[0]!.actions.some((a) => a.id.startsWith('resume upgrade'));
        if (resumed) resumes++;
        console.log(
          `cut ${cut} at ${Math.round(delay)} ms: ${cutRun.status === 'failed' ? `done before it: ${cutRun.done?.length ?? 0} of ${cutRun.actions.length} actions` : 'the run had ended'}; found ${version}; next apply ${resumed ? 'resumed the open upgrade' : 'upgraded afresh or had nothing to do'}`,
        );
        expect(await runningVersion()).toBe('3.9.0');
        expect(await revision()).toBe(REVISION['3.9.0']);
        expect(await installedPrefect()).toBe('3.9.0');
        const after = await reconcile(dir, 'check');
        expect(after.code, `check after cut ${cut}: ${after.stdout}`).toBe(0);
      }
      console.log(
        `upgrade fault loop: ${CUTS} cuts in upgrades of ${Math.round(upgradeMs)} ms, ${landed} landed mid-run, ${resumes} left an upgrade open that the next apply resumed; each left one whole version on a matching database and the next apply converged`,
      );
      expect(landed).toBeGreaterThan(0);
    },
    CUTS * 90_000,
  );
});
