import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

/** A prefect.yaml written the way Prefect's docs write them, with every stored field a file can set. */
const DOCS_STYLE = `
name: projections-v2
prefect-version: 3.8.3

definitions:
  work_pools:
    local: &local
      name: projections-local
      work_queue_name: default
      job_variables:
        env:
          TEAM: "{{ $PROJECTIONS_TEAM }}"
  schedules:
    every_hour: &every_hour
      interval: PT1H
      anchor_date: "2026-01-01T00:00:00"
      timezone: Europe/Berlin
  base: &base
    tags: ["{{ $PROJECTIONS_TEAM }}", "owner-{{ prefect.variables.owner }}"]
    work_pool: *local
    enforce_parameter_schema: no

pull:
  - prefect.deployments.steps.set_working_directory:
      directory: /home/daniel/projects/projections-v2

deployments:
  - <<: *base
    name: live-score
    entrypoint: flows/documented.py:live_score
    parameters: {league: nba, since: 2024-01-01 10:00:00}
    schedules:
      - *every_hour
      - cron: "0 6 * * 1-5"
        timezone: America/New_York
        parameters: {league: nhl}
        slug: weekday-mornings
  - <<: *base
    name: nightly-projections
    entrypoint: flows/projections.py:build_projections
    description: Rebuild the projections overnight.
    version: "2026.1"
    paused: yes
    concurrency_limit:
      limit: 1
      collision_strategy: CANCEL_NEW
      grace_period_seconds: 120
    schedules:
      - rrule: FREQ=WEEKLY;BYDAY=MO,WE
        timezone: America/New_York
        active: false
`;

const FLOW = `from prefect import flow


@flow(log_prints=True)
def live_score(league: str = "nba", since: str = "") -> None:
    """Poll live scores.

    Writes a manifest per run.
    """
    print(f"polling live scores for {league}")
`;

const PROJECT = '/home/daniel/projects/projections-v2';

describe("prefect.yaml read the way `prefect deploy` reads it, compared field by field", () => {
  const hosts = useTestHosts(1, 'py');
  let host: TestHost;
  let dir: string;
  const api = () => `http://${host.address}:4200/api`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api()}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const text = await response.text();
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const registered = async () => (await call('POST', '/deployments/filter', {})) as unknown as Record<string, unknown>[];
  const byName = async (name: string) => (await registered()).find((d) => d.name === name)!;
  const snapshot = async () => Object.fromEntries((await registered()).map((d) => [d.name, { updated: d.updated, schedules: (d.schedules as { id: string }[]).map((s) => s.id) }]));

  beforeAll(async () => {
    host = hosts[0]!;
    dir = workspace(hosts);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    // The user's own environment and a server variable, as the templates above use them.
    await ssh(host, `echo 'export PROJECTIONS_TEAM=data-eng' >> ~/.profile`);
    await call('POST', '/variables/', { name: 'owner', value: 'ops' });
    await ssh(host, `cat > ${PROJECT}/flows/documented.py`, { input: FLOW });
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: DOCS_STYLE });
    for (const d of await registered()) await call('DELETE', `/deployments/${d.id as string}`);
    // Deployed by Prefect's own CLI (the stand-in), not by reconcile.
    const deployed = await ssh(host, `bash -lc 'cd ${PROJECT} && PREFECT_API_URL=${api()} .venv/bin/prefect --no-prompt deploy --all'`, { allowFailure: true });
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  }, 180_000);

  it('is in sync right after `prefect deploy`, and a second apply runs no prefect command', async () => {
    const check = await reconcile(dir, 'check');
    expect(check.code, check.stdout).toBe(0);
    const live = await byName('live-score');
    expect(live).toMatchObject({ description: 'Poll live scores.\n\nWrites a manifest per run.', tags: ['data-eng', 'owner-ops'], enforce_parameter_schema: false, parameters: { league: 'nba', since: '2024-01-01T10:00:00' } });
    expect(await byName('nightly-projections')).toMatchObject({ paused: true, version: '2026.1', concurrency_options: { collision_strategy: 'CANCEL_NEW', grace_period_seconds: 120 } });
    const before = await snapshot();
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    expect(applied.hosts[0]!.execs).toBe(2);
    expect(await snapshot()).toEqual(before);
  });

  const serverChanges: [string, string, unknown][] = [
    ['paused', 'live-score', { paused: true }],
    ['version', 'live-score', { version: 'hand-edited' }],
    ['enforce_parameter_schema', 'live-score', { enforce_parameter_schema: true }],
    ['description', 'nightly-projections', { description: 'edited in the UI' }],
    ['tags', 'nightly-projections', { tags: ['other'] }],
    ['parameters', 'live-score', { parameters: { league: 'mlb' } }],
    ['job variables', 'live-score', { job_variables: { env: { TEAM: 'someone-else' } } }],
    ['pull steps', 'nightly-projections', { pull_steps: [] }],
    ['collision_strategy', 'nightly-projections', { concurrency_options: { collision_strategy: 'ENQUEUE', grace_period_seconds: 120 } }],
    ['grace_period_seconds', 'nightly-projections', { concurrency_options: { collision_strategy: 'CANCEL_NEW', grace_period_seconds: 60 } }],
    ['schedule', 'live-score', { schedules: [{ schedule: { cron: '0 6 * * 1-5', timezone: 'America/New_York' }, active: true, parameters: {}, slug: 'weekday-mornings' }, { schedule: { interval: 7200, timezone: 'UTC' }, active: true }] }],
  ];
  for (const [field, name, patch] of serverChanges) {
    it(`finds ${field} changed on the server and redeploys ${name} alone`, async () => {
      const other = name === 'live-score' ? 'nightly-projections' : 'live-score';
      await call('PATCH', `/deployments/${(await byName(name)).id as string}`, patch);
      const check = await reconcile(dir, 'check');
      expect(check.code, check.stdout).toBe(2);
      expect(check.stdout).toContain(`${name}: ${field}:`);
      const untouched = (await snapshot())[other];
      const applied = await reconcileJson(dir, 'apply');
      expect(applied.code).toBe(0);
      expect(applied.hosts[0]!.done).toEqual([`deploy ${name}`]);
      expect((await snapshot())[other]).toEqual(untouched);
      expect((await reconcile(dir, 'check')).code).toBe(0);
    }, 60_000);
  }

  const fileChanges: [string, string, string, string][] = [
    ['anchor of an interval schedule', 'live-score', 'anchor_date: "2026-01-01T00:00:00"', 'anchor_date: "2026-02-01T00:00:00"'],
    ['parameters of a schedule', 'live-score', 'parameters: {league: nhl}', 'parameters: {league: ahl}'],
    ['timezone of an rrule', 'nightly-projections', 'FREQ=WEEKLY;BYDAY=MO,WE\n        timezone: America/New_York', 'FREQ=WEEKLY;BYDAY=MO,WE\n        timezone: Europe/Paris'],
    ['paused', 'nightly-projections', 'paused: yes', 'paused: no'],
    ['the docstring', 'live-score', 'Writes a manifest per run.', 'Writes two manifests per run.'],
  ];
  for (const [what, name, from, to] of fileChanges) {
    it(`finds ${what} changed in the files and redeploys ${name} alone`, async () => {
      const file = what === 'the docstring' ? `${PROJECT}/flows/documented.py` : `${PROJECT}/prefect.yaml`;
      const text = (await ssh(host, `cat ${file}`)).stdout;
      expect(text).toContain(from);
      await ssh(host, `cat > ${file}`, { input: text.replace(from, to) });
      const check = await reconcile(dir, 'check');
      expect(check.code, check.stdout).toBe(2);
      expect(check.stdout).toContain(`${name}: `);
      const applied = await reconcileJson(dir, 'apply');
      expect(applied.code, JSON.stringify(applied.hosts[0])).toBe(0);
      expect(applied.hosts[0]!.done).toEqual([`deploy ${name}`]);
      expect((await reconcile(dir, 'check')).code).toBe(0);
    }, 60_000);
  }

  it('with the server stopped, says so once; apply starts it and redeploys nothing', async () => {
    const before = await snapshot();
    await ssh(host, 'sudo -n systemctl stop prefect-server.service');
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    const problems = check.hosts[0]!.problems;
    expect(problems.filter((p) => p.includes('server not answering'))).toHaveLength(1);
    expect(check.hosts[0]!.actions.filter((a) => a.verb === 'create')).toEqual([]);
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts[0])).toBe(0);
    expect((applied.hosts[0]!.done ?? []).filter((id) => id.startsWith('deploy '))).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 120_000);

  it("shows Prefect's own error when a deploy fails with a verbose profile", async () => {
    await ssh(host, `echo 'export PREFECT_LOGGING_LEVEL=DEBUG' >> ~/.profile`);
    const text = (await ssh(host, `cat ${PROJECT}/prefect.yaml`)).stdout;
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text.replace('name: projections-local', 'name: no-such-pool') });
    const applied = await reconcile(dir, 'apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain("references work pool 'no-such-pool' which does not exist");
    expect(applied.stdout).toContain('DEBUG');
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text });
  }, 60_000);
});
