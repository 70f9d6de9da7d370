import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { addSleepingFlow, serveSampleProject, withProjectAt } from '../hosts/served-repo.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

const repo = serveSampleProject();

/**
 * examples/fleet as a user would adapt it: the test hosts' addresses and keys in its hosts.yaml, the
 * served sample project as the repository.
 */
function fleetWorkspace(hosts: TestHost[], serverHealthTimeout = 90): string {
  // The database password, as a user exports it before running reconcile.
  vi.stubEnv('PREFECT_DB_PASSWORD', 'fleet:db/p@ss');
  const dir = workspace(hosts);
  const names = ['prefect-server', 'worker-1', 'worker-2'];
  let inventory = readFileSync('examples/fleet/hosts.yaml', 'utf8');
  hosts.forEach((h, i) => {
    inventory = inventory.replace(
      new RegExp(`(  ${names[i]}:\\n    address: )\\S+`),
      `$1${h.address}\n    identity_file: ${h.identity_file}\n    known_hosts: ${h.known_hosts}`,
    );
  });
  writeFileSync(join(dir, 'hosts.yaml'), inventory);
  writeFileSync(
    join(dir, 'setup.yaml'),
    withProjectAt(
      readFileSync('examples/fleet/setup.yaml', 'utf8')
        // The stand-in reads PostgreSQL through Debian's psycopg2 (real Prefect brings asyncpg in its wheel).
        .replace('packages: [postgresql]', 'packages: [postgresql, python3-psycopg2]')
        .replace('timeout: 90', `timeout: ${serverHealthTimeout}`)
        .replace('name: "{{ host_name }}"\n      timeout: 60', 'name: "{{ host_name }}"\n      timeout: 10')
        // A heartbeat every 2 s (Prefect's setting; 30 s by default): a worker that stops sending them is OFFLINE in 6 s.
        .replace(
          'Environment=PREFECT_API_URL=',
          // The stand-in's cancellation watcher gives up after 4 s without its server, not about 30 s as Prefect's.
          'Environment=PREFECT_WORKER_HEARTBEAT_SECONDS=2\n      Environment=PREFECT_STANDIN_CANCEL_GIVE_UP_SECONDS=4\n      Environment=PREFECT_API_URL=',
        ),
      repo,
      repo.head(),
    ),
  );
  return dir;
}

describe('one Prefect across many hosts: examples/fleet on three test hosts', () => {
  const hosts = useTestHosts(3, 'fl', { lan: true, binds: [repo.bind] });
  let dir: string;
  let server: TestHost;
  let workers: TestHost[];
  const api = () => `http://${server.address}:4200/api`;
  const active = async (host: TestHost, unit: string) => (await ssh(host, `systemctl is-active ${unit} || true`)).stdout.trim();
  const mainPid = async (host: TestHost, unit: string) => (await ssh(host, `systemctl show -p MainPID --value ${unit}`)).stdout.trim();
  const poolWorkers = async () =>
    (await (await fetch(`${api()}/work_pools/projections-local/workers/filter`, { method: 'POST', body: '{}' })).json()) as {
      name: string;
      status: string;
    }[];
  const onlineWorkers = async () => (await poolWorkers()).filter((w) => w.status === 'ONLINE').map((w) => w.name);

  /** A deployment by FLOW/NAME, as the server has it. */
  const deployment = async (flowAndName: string) =>
    (await (await fetch(`${api()}/deployments/name/${flowAndName}`)).json()) as {
      version: string;
      schedules: { schedule: { cron: string } }[];
    };
  const cronOf = async (flowAndName: string) => (await deployment(flowAndName)).schedules.map((s) => s.schedule.cron).join(',');
  /** A run of the slow flow (deployed by the drain test) that sleeps `seconds`, by its id. */
  const runOf = async (seconds: number) => {
    const slow = (await deployment('slow/slow')) as unknown as { id: string };
    const created = await fetch(`${api()}/deployments/${slow.id}/create_flow_run`, {
      method: 'POST',
      body: JSON.stringify({ parameters: { seconds } }),
    });
    return ((await created.json()) as { id: string }).id;
  };
  const stateOf = async (id: string) =>
    (await (await fetch(`${api()}/flow_runs/${id}`)).json()) as { state_type: string; start_time: string | null };
  const stateTypeOf = async (id: string) => (await stateOf(id)).state_type;
  /** The runs the server's scheduler made ahead for a deployment (FLOW/NAME), earliest first. */
  const runsAhead = async (flowAndName: string) => {
    const { id } = (await deployment(flowAndName)) as unknown as { id: string };
    const scheduled = await fetch(`${api()}/flow_runs/filter`, {
      method: 'POST',
      body: JSON.stringify({ flow_runs: { state: { type: { any_: ['SCHEDULED'] } } } }),
    });
    return (
      (await scheduled.json()) as {
        deployment_id: string;
        auto_scheduled: boolean;
        expected_start_time: string;
        deployment_version: string;
      }[]
    )
      .filter((r) => r.deployment_id === id && r.auto_scheduled)
      .sort((x, y) => x.expected_start_time.localeCompare(y.expected_start_time));
  };
  const minutesOf = (runs: { expected_start_time: string }[]) => runs.map((r) => new Date(r.expected_start_time).getUTCMinutes());
  /** check exits 2 with `title` on each worker host and nothing on the server host; its report, for more. */
  const driftOnWorkersAlone = async (title: string) => {
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.hosts.map((h) => [h.host, h.actions.map((a) => a.title)])).toEqual([
      ['prefect-server', []],
      ['worker-1', [title]],
      ['worker-2', [title]],
    ]);
    return check;
  };
  const checkedOut = async (host: TestHost) =>
    (await ssh(host, 'git -C /home/daniel/projects/projections-v2 rev-parse HEAD')).stdout.trim();

  beforeAll(async () => {
    [server, ...workers] = hosts as [TestHost, TestHost, TestHost];
    dir = fleetWorkspace(hosts, 20);
    // Fresh VMs: no host has the project (the image bakes the single box's checkout); the git resource brings it.
    for (const h of hosts) await ssh(h, 'rm -rf /home/daniel/projects/projections-v2');
  });

  it('plans the cross-host order: each worker host after the server host', async () => {
    const plan = await reconcile(dir, 'plan');
    expect(plan.code).toBe(2);
    for (const [i, w] of workers.entries()) expect(plan.stdout).toContain(`worker-${i + 1} (${w.address}): `);
    expect(
      plan.stdout.match(/⧗ after prefect-server:prefect-server\.service: apply starts this host once prefect-server is done/g),
    ).toHaveLength(2);
  });

  it('one apply on fresh hosts: the server on the server host only, a worker on each worker host, both heartbeating', async () => {
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts.map((h) => [h.host, h.status, h.error]))).toBe(0);
    expect(applied.hosts.map((h) => [h.host, h.groups])).toEqual([
      ['prefect-server', ['server']],
      ['worker-1', ['workers']],
      ['worker-2', ['workers']],
    ]);
    expect(await active(server, 'prefect-server.service')).toBe('active');
    expect(await active(server, 'prefect-worker.service')).not.toBe('active');
    for (const w of workers) {
      expect(await active(w, 'prefect-worker.service')).toBe('active');
      expect(await active(w, 'prefect-server.service')).not.toBe('active');
    }
    // The containers share one kernel, so their monotonic clocks compare: the workers started after the server.
    const started = async (host: TestHost, unit: string) =>
      Number((await ssh(host, `systemctl show -p ExecMainStartTimestampMonotonic --value ${unit}`)).stdout.trim());
    const serverStart = await started(server, 'prefect-server.service');
    for (const w of workers) expect(await started(w, 'prefect-worker.service')).toBeGreaterThan(serverStart);
    // One record per worker host, named after it.
    await waitFor(async () => (await onlineWorkers()).length === 2, 30_000);
    expect((await poolWorkers()).map((w) => w.name).sort()).toEqual(['worker-1', 'worker-2']);
    for (const h of hosts) expect(await checkedOut(h)).toBe(repo.head());
    // The server keeps them in PostgreSQL on its host (no SQLite file is made), and says so.
    const inPostgres = await ssh(server, 'sudo -n -u postgres psql -XAtq -d prefect', {
      input: "SELECT string_agg(doc::json->>'name', ',' ORDER BY 1) FROM work_pools",
    });
    expect(inPostgres.stdout.trim()).toBe('projections-local');
    expect((await ssh(server, 'ls /home/daniel/.prefect/prefect.db 2>/dev/null || echo none')).stdout.trim()).toBe('none');
    // Deployed from the server's own checkout: Prefect versions each deployment by its commit (the first 8 characters).
    expect(await deployment('live-score/live-score')).toMatchObject({ version: repo.head().slice(0, 8) });
    const check = await reconcile(dir, 'check');
    expect(check.code, check.stdout).toBe(0);
    const again = await reconcileJson(dir, 'apply');
    expect(again.code).toBe(0);
    expect(again.hosts.every((h) => h.status === 'in-sync' && h.actions.length === 0)).toBe(true);
  }, 300_000);

  it('a commit that changes a schedule, pinned: check shows every checkout behind and the deployments compared after; one apply redeploys it', async () => {
    const before = repo.head();
    const next = repo.commit('live-score every ten minutes', (work) => {
      const file = join(work, 'prefect.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('cron: "*/5 * * * *"', 'cron: "*/10 * * * *"'));
    });
    writeFileSync(join(dir, 'setup.yaml'), withProjectAt(readFileSync(join(dir, 'setup.yaml'), 'utf8'), repo, next));
    const moved = {
      title: `git /home/daniel/projects/projections-v2 at ${next}`,
      fields: [{ field: 'commit', before: before.slice(0, 12), after: next.slice(0, 12) }],
    };
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.hosts.map((h) => [h.host, h.actions.map((a) => ({ title: a.title, fields: a.fields }))])).toEqual([
      ['prefect-server', [moved, { title: 'deployments of /home/daniel/projects/projections-v2/prefect.yaml', fields: [] }]],
      ['worker-1', [moved]],
      ['worker-2', [moved]],
    ]);
    // Nothing was changed by check: the server still has the old schedule, and its scheduler's runs ahead.
    expect(await cronOf('live-score/live-score')).toBe('*/5 * * * *');
    expect(minutesOf(await runsAhead('live-score/live-score')).some((m) => m % 10 === 5)).toBe(true);
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts.map((h) => [h.host, h.error]))).toBe(0);
    for (const h of hosts) expect(await checkedOut(h)).toBe(next);
    expect(await cronOf('live-score/live-score')).toBe('*/10 * * * *');
    expect(await deployment('live-score/live-score')).toMatchObject({ version: next.slice(0, 8) });
    expect(await deployment('build-projections/nightly-projections')).toMatchObject({ version: next.slice(0, 8) });
    // The scheduler's runs ahead follow: the new schedule's, of the new version.
    let ahead: Awaited<ReturnType<typeof runsAhead>> = [];
    await waitFor(async () => (ahead = await runsAhead('live-score/live-score')).length >= 6, 20_000);
    expect(minutesOf(ahead).every((m) => m % 10 === 0)).toBe(true);
    expect(new Set(ahead.map((r) => r.deployment_version))).toEqual(new Set([next.slice(0, 8)]));
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 120_000);

  it('a flow run of live-score created through the API completes on a worker host, from its git checkout', async () => {
    const deployment = (await (await fetch(`${api()}/deployments/name/live-score/live-score`)).json()) as { id: string };
    const created = await fetch(`${api()}/deployments/${deployment.id}/create_flow_run`, { method: 'POST', body: '{}' });
    expect(created.status).toBe(201);
    const run = (await created.json()) as { id: string; state: { type: string } };
    expect(run.state.type).toBe('SCHEDULED');
    let state = '';
    await waitFor(async () => {
      state = ((await (await fetch(`${api()}/flow_runs/${run.id}`)).json()) as { state: { type: string } }).state.type;
      return state === 'COMPLETED' || state === 'FAILED' || state === 'CRASHED';
    }, 60_000);
    expect(state).toBe('COMPLETED');
    // Its manifest is on exactly one worker host, written by the flow file of that host's checkout.
    const manifests = await Promise.all(
      workers.map(async (w) =>
        (await ssh(w, `cat /home/daniel/projections-data/manifests/*/live-score/${run.id}.json 2>/dev/null || true`)).stdout.trim(),
      ),
    );
    const ran = manifests.filter((m) => m !== '');
    expect(ran).toHaveLength(1);
    const worker = workers[manifests.findIndex((m) => m !== '')]!;
    expect(JSON.parse(ran[0]!)).toMatchObject({
      flow_run_id: run.id,
      league: 'nba',
      source: '/home/daniel/projects/projections-v2/flows/live_score.py',
      cwd: '/home/daniel/projects/projections-v2',
    });
    expect(await checkedOut(worker)).toBe(repo.head());
  }, 90_000);

  it('check --limit workers reads the worker hosts alone', async () => {
    const check = await reconcileJson(dir, 'check', '--limit', 'workers');
    expect(check.code).toBe(0);
    expect(check.hosts.map((h) => h.host)).toEqual(['worker-1', 'worker-2']);
  });

  it('a worker stopped on worker-2 is drift of worker-2 alone; apply repairs it and touches no other host', async () => {
    const pids = { server: await mainPid(server, 'prefect-server.service'), worker1: await mainPid(workers[0]!, 'prefect-worker.service') };
    await ssh(workers[1]!, 'systemctl stop prefect-worker.service', { user: 'root' });
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.hosts.map((h) => [h.host, h.status])).toEqual([
      ['prefect-server', 'in-sync'],
      ['worker-1', 'in-sync'],
      ['worker-2', 'drift'],
    ]);
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    expect(applied.hosts.find((h) => h.host === 'worker-2')!.done).toEqual(['start prefect-worker.service']);
    expect(await active(workers[1]!, 'prefect-worker.service')).toBe('active');
    expect({
      server: await mainPid(server, 'prefect-server.service'),
      worker1: await mainPid(workers[0]!, 'prefect-worker.service'),
    }).toEqual(pids);
  }, 120_000);

  it("a worker frozen on worker-1 (its unit active) is worker-1's drift alone once the server lists it OFFLINE", async () => {
    const pid = await mainPid(workers[0]!, 'prefect-worker.service');
    await ssh(workers[0]!, `kill -STOP ${pid}`, { user: 'root' });
    try {
      // OFFLINE after three heartbeat intervals without one (2 s here).
      await waitFor(async () => !(await onlineWorkers()).includes('worker-1'), 20_000);
      const check = await reconcileJson(dir, 'check');
      expect(check.code).toBe(2);
      expect(check.hosts.map((h) => [h.host, h.status])).toEqual([
        ['prefect-server', 'in-sync'],
        ['worker-1', 'drift'],
        ['worker-2', 'in-sync'],
      ]);
      expect(check.hosts[1]!.problems).toEqual([
        expect.stringMatching(
          /^systemd_service:prefect-worker\.service: running but unhealthy: worker worker-1 in pool projections-local \(worker worker-1 is OFFLINE in pool projections-local \(last heartbeat \d+s ago\)\)$/,
        ),
      ]);
    } finally {
      await ssh(workers[0]!, `kill -CONT ${pid}`, { user: 'root' });
    }
    await waitFor(async () => (await onlineWorkers()).includes('worker-1'), 20_000);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 60_000);

  it('OFFLINE records of workers that ran without a name are removed by apply, even with two hosts removing them at once', async () => {
    const anonymous = ['ProcessWorker 0f9c2b4e-7a1d-4a53-9a0e-3f1b2c4d5e6f', 'ProcessWorker 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d'];
    for (const name of anonymous) {
      const beat = await fetch(`${api()}/work_pools/projections-local/workers/heartbeat`, {
        method: 'POST',
        body: JSON.stringify({ name, heartbeat_interval_seconds: 1 }),
      });
      expect(beat.status).toBe(204);
    }
    await waitFor(
      async () => (await poolWorkers()).filter((w) => anonymous.includes(w.name) && w.status === 'OFFLINE').length === 2,
      10_000,
    );
    await driftOnWorkersAlone('2 OFFLINE worker records without a name in pool projections-local');
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts.map((h) => [h.host, h.error]))).toBe(0);
    expect((await poolWorkers()).map((w) => w.name).sort()).toEqual(['worker-1', 'worker-2']);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 60_000);

  it("with the server down, every worker host's worker is unhealthy, and apply --limit workers says so, exit 1", async () => {
    await ssh(server, 'systemctl stop prefect-server.service', { user: 'root' });
    try {
      const check = await reconcileJson(dir, 'check', '--limit', 'workers');
      expect(check.code).toBe(2);
      for (const h of check.hosts) {
        expect(h.status).toBe('drift');
        expect(h.problems.join('\n')).toContain('its server does not answer');
      }
      const applied = await reconcileJson(dir, 'apply', '--limit', 'workers');
      expect(applied.code).toBe(1);
      expect(applied.hosts.every((h) => h.status === 'failed' && /^not converged: .*its server does not answer/.test(h.error ?? ''))).toBe(
        true,
      );
      // A worker started while its server is down never passes its gate: no heartbeat reaches the server.
      await ssh(workers[1]!, 'systemctl stop prefect-worker.service', { user: 'root' });
      const started = await reconcileJson(dir, 'apply', '--limit', 'worker-2');
      expect(started.code).toBe(1);
      expect(started.hosts[0]!.error).toMatch(
        /^start prefect-worker\.service: not healthy after 10s: http:\S+\/work_pools\/projections-local\/workers\/filter \(/,
      );
      expect(await active(workers[1]!, 'prefect-worker.service')).toBe('active');
    } finally {
      await ssh(server, 'systemctl start prefect-server.service', { user: 'root' });
    }
    await waitFor(async () => (await onlineWorkers()).length === 2, 60_000);
    // Down for longer than the workers' cancellation watchers bear (4 s here, about 30 s in Prefect):
    // ONLINE and healthy again, each must restart to cancel runs again; check says so, and apply does it.
    await driftOnWorkersAlone('restart prefect-worker.service');
    const repaired = await reconcileJson(dir, 'apply');
    expect(repaired.code, JSON.stringify(repaired.hosts.map((h) => [h.host, h.error]))).toBe(0);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 150_000);

  it("a server restart (its unit changed) restarts each worker host's worker after the server is healthy; check says so first", async () => {
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'setup.yaml'),
      setup.replace('Description=Prefect Server (self-hosted)', 'Description=Prefect Server (self-hosted, v2)'),
    );
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    const restart = (h: { actions: { id: string; because?: string }[] }) => h.actions.filter((a) => a.id.startsWith('restart '));
    expect(check.hosts.map((h) => [h.host, restart(h).map((a) => [a.id, a.because])])).toEqual([
      ['prefect-server', [['restart prefect-server.service', 'systemd_service:prefect-server.service changed']]],
      ...['worker-1', 'worker-2'].map((w) => [
        w,
        [['restart prefect-worker.service', 'prefect-server: systemd_service:prefect-server.service changed']],
      ]),
    ]);
    const before = await Promise.all(workers.map((w) => mainPid(w, 'prefect-worker.service')));
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts.map((h) => [h.host, h.error]))).toBe(0);
    for (const h of applied.hosts.slice(1)) expect(h.done).toEqual(['restart prefect-worker.service']);
    const after = await Promise.all(workers.map((w) => mainPid(w, 'prefect-worker.service')));
    after.forEach((pid, i) => expect(pid).not.toBe(before[i]));
    const started = async (host: TestHost, unit: string) =>
      Number((await ssh(host, `systemctl show -p ExecMainStartTimestampMonotonic --value ${unit}`)).stdout.trim());
    const serverStart = await started(server, 'prefect-server.service');
    for (const w of workers) expect(await started(w, 'prefect-worker.service')).toBeGreaterThan(serverStart);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 120_000);

  it('a server restart drains the pool: a run in flight completes, a run due meanwhile starts after, the pool is resumed once the workers restarted', async () => {
    // A flow that takes a while, deployed from a commit as any change reaches the fleet.
    const next = repo.commit('a slow flow', addSleepingFlow('slow'));
    writeFileSync(join(dir, 'setup.yaml'), withProjectAt(readFileSync(join(dir, 'setup.yaml'), 'utf8'), repo, next));
    const deployed = await reconcile(dir, 'apply');
    expect(deployed.code, deployed.stdout).toBe(0);
    const paused = async () => ((await (await fetch(`${api()}/work_pools/projections-local`)).json()) as { is_paused: boolean }).is_paused;

    const inFlight = await runOf(8);
    await waitFor(async () => (await stateOf(inFlight)).state_type === 'RUNNING', 30_000);
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'setup.yaml'),
      setup.replace(/Description=Prefect Server \(self-hosted[^)]*\)/, 'Description=Prefect Server (self-hosted, v3)'),
    );
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain('drain work pool projections-local');
    const applying = reconcileJson(dir, 'apply');
    await waitFor(paused, 20_000);
    // Due while the pool is paused: it waits, and runs once the pool is resumed.
    const due = await runOf(0);
    const applied = await applying;
    expect(applied.code, JSON.stringify(applied.hosts.map((h) => [h.host, h.error]))).toBe(0);
    expect(applied.hosts[0]!.done).toEqual(expect.arrayContaining(['drain projections-local', 'restart prefect-server.service']));
    for (const h of applied.hosts.slice(1)) expect(h.done).toEqual(['restart prefect-worker.service']);
    expect(await stateOf(inFlight)).toMatchObject({ state_type: 'COMPLETED' });
    expect(await paused()).toBe(false);
    await waitFor(async () => ['COMPLETED', 'FAILED', 'CRASHED'].includes((await stateOf(due)).state_type), 60_000);
    expect((await stateOf(due)).state_type).toBe('COMPLETED');
    // It started after the server's restart: delayed, not lost.
    const restarted = Number(
      (
        await ssh(server, 'systemctl show -p ExecMainStartTimestamp --value prefect-server.service | xargs -I{} date -d {} +%s')
      ).stdout.trim(),
    );
    expect(Date.parse((await stateOf(due)).start_time!) / 1000).toBeGreaterThan(restarted);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 180_000);

  it('an outage longer than the cancellation watcher bears leaves runs uncancellable: check finds it in the workers’ journals and apply restarts them; a planned server restart keeps cancellation too', async () => {
    const cancel = (id: string) =>
      fetch(`${api()}/flow_runs/${id}/set_state`, {
        method: 'POST',
        body: JSON.stringify({ state: { type: 'CANCELLING', name: 'Cancelling' } }),
      });
    const cancelled = async (seconds: number) => {
      const run = await runOf(seconds);
      await waitFor(async () => (await stateTypeOf(run)) === 'RUNNING', 30_000);
      await cancel(run);
      return run;
    };

    // Unplanned: the server down for longer than the workers' cancellation watcher bears.
    await ssh(server, 'systemctl stop prefect-server.service', { user: 'root' });
    await new Promise((r) => setTimeout(r, 8000));
    await ssh(server, 'systemctl start prefect-server.service', { user: 'root' });
    await waitFor(async () => (await onlineWorkers()).length === 2, 60_000);
    const lost = await cancelled(10);
    await new Promise((r) => setTimeout(r, 5000));
    expect(await stateTypeOf(lost)).toBe('CANCELLING');
    // It runs to its end (a worker's restart would end it too: wait for it, as for any run in flight).
    await waitFor(async () => !['RUNNING', 'CANCELLING'].includes(await stateTypeOf(lost)), 30_000);
    // Each worker is ONLINE and healthy, yet check finds what its journal says since it started: drift, a restart each.
    const check = await driftOnWorkersAlone('restart prefect-worker.service');
    for (const w of check.hosts.slice(1)) expect(w.actions[0]!.because).toContain("'flow run cancellation will fail' in its journal");
    const repaired = await reconcileJson(dir, 'apply');
    expect(repaired.code, JSON.stringify(repaired.hosts.map((h) => [h.host, h.error]))).toBe(0);
    const again = await cancelled(30);
    await waitFor(async () => (await stateTypeOf(again)) === 'CANCELLED', 15_000);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // Planned: a server restart through apply restarts the workers it notifies; they cancel again.
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'setup.yaml'),
      setup.replace(/Description=Prefect Server \(self-hosted[^)]*\)/, 'Description=Prefect Server (self-hosted, v4)'),
    );
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts.map((h) => [h.host, h.error]))).toBe(0);
    const run = await cancelled(30);
    await waitFor(async () => (await stateTypeOf(run)) === 'CANCELLED', 15_000);
  }, 180_000);

  it('a server unit that cannot start: the server host fails and rolls back, the worker hosts are skipped saying why, exit 1', async () => {
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    writeFileSync(join(dir, 'setup.yaml'), setup.replace('server start --host', 'server start --no-such-flag --host'));
    const failed = await reconcileJson(dir, 'apply');
    expect(failed.code).toBe(1);
    const [s, w1, w2] = failed.hosts;
    expect(s!.status).toBe('failed');
    // The stand-in refuses the flag at once, so systemd restarts it: the gate gives up without waiting out its 20 s.
    expect(s!.error).toMatch(
      /^restart prefect-server\.service: gave up waiting for http:\S+\/api\/ready after \d+s: prefect-server\.service crashed[^]*rolled back: the previous version is in place again/,
    );
    for (const w of [w1!, w2!]) {
      expect(w.status).toBe('skipped');
      expect(w.error).toBe('skipped: waits for prefect-server:prefect-server.service, which failed');
    }
    // The previous unit is back and healthy, the pool drained for the restart resumed; the workers were never touched.
    await waitFor(async () => (await fetch(`${api()}/health`).catch(() => undefined))?.ok === true, 30_000);
    expect(s!.error).toContain('rolled back (drain projections-local)');
    expect(((await (await fetch(`${api()}/work_pools/projections-local`)).json()) as { is_paused: boolean }).is_paused).toBe(false);
    writeFileSync(join(dir, 'setup.yaml'), setup);
    const check = await reconcile(dir, 'check');
    expect(check.code, check.stdout).toBe(0);
  }, 180_000);
});
