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
          API_KEY: "{{ prefect.blocks.secret.projections-api-key }}"
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
const SECRET = 'sk-live-4242-do-not-print';

describe('prefect.yaml read the way `prefect deploy` reads it, compared field by field', () => {
  const hosts = useTestHosts(1, 'py');
  let host: TestHost;
  let dir: string;
  const api = () => `http://${host.address}:4200/api`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api()}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    const text = await response.text();
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const registered = async () => (await call('POST', '/deployments/filter', {})) as unknown as Record<string, unknown>[];
  const byName = async (name: string) => (await registered()).find((d) => d.name === name)!;
  type Snapshot = Record<string, { updated: unknown; schedules: string[] }>;
  const snapshot = async (): Promise<Snapshot> =>
    Object.fromEntries(
      (await registered()).map((d) => [
        d.name as string,
        { updated: d.updated, schedules: (d.schedules as { id: string }[]).map((s) => s.id) },
      ]),
    );

  beforeAll(async () => {
    host = hosts[0]!;
    dir = workspace(hosts);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    // The user's own environment and a server variable, as the templates above use them.
    await ssh(host, `echo 'export PROJECTIONS_TEAM=data-eng' >> ~/.profile`);
    await call('POST', '/variables/', { name: 'owner', value: 'ops' });
    // A Secret block, as the UI makes one: of the type and schema the server registered on start.
    const type = await call('GET', '/block_types/slug/secret');
    const [schema] = (await call('POST', '/block_schemas/filter', {
      block_schemas: { block_type_id: { any_: [type.id] } },
      limit: 1,
    })) as unknown as Record<string, unknown>[];
    await call('POST', '/block_documents/', {
      name: 'projections-api-key',
      block_type_id: type.id,
      block_schema_id: schema!.id,
      data: { value: SECRET },
    });
    await ssh(host, `cat > ${PROJECT}/flows/documented.py`, { input: FLOW });
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: DOCS_STYLE });
    for (const d of await registered()) await call('DELETE', `/deployments/${d.id as string}`);
    // Deployed by Prefect's own CLI (the stand-in), not by reconcile.
    const deployed = await ssh(host, `bash -lc 'cd ${PROJECT} && PREFECT_API_URL=${api()} .venv/bin/prefect --no-prompt deploy --all'`, {
      allowFailure: true,
    });
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  }, 180_000);

  it('is in sync right after `prefect deploy`, and a second apply runs no prefect command', async () => {
    const check = await reconcile(dir, 'check');
    expect(check.code, check.stdout).toBe(0);
    const live = await byName('live-score');
    expect(live).toMatchObject({
      description: 'Poll live scores.\n\nWrites a manifest per run.',
      tags: ['data-eng', 'owner-ops'],
      enforce_parameter_schema: false,
      parameters: { league: 'nba', since: '2024-01-01T10:00:00' },
    });
    expect(await byName('nightly-projections')).toMatchObject({
      paused: true,
      version: '2026.1',
      concurrency_options: { collision_strategy: 'CANCEL_NEW', grace_period_seconds: 120 },
    });
    const before = await snapshot();
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    expect(applied.hosts[0]!.execs).toBe(2);
    expect(await snapshot()).toEqual(before);
  });

  it('never prints what a secret block resolved to, in plans, checks or reports', async () => {
    const live = await byName('live-score');
    expect((live.job_variables as { env: { API_KEY: string } }).env.API_KEY).toBe(SECRET);
    await call('PATCH', `/deployments/${live.id as string}`, { job_variables: { env: { TEAM: 'someone-else', API_KEY: SECRET } } });
    const text = await reconcile(dir, 'check');
    const json = await reconcile(dir, 'check', '--json');
    expect(text.code).toBe(2);
    expect(text.stdout).toContain('live-score: job variables:');
    expect(text.stdout).toContain('[decided at deploy time]');
    for (const output of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(output).not.toContain(SECRET);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 60_000);

  /** A change made on the server: to the deployment (PATCH /deployments/ID) or to one of its schedules (PATCH …/schedules/SID). */
  interface ServerChange {
    field: string;
    name: string;
    patch: unknown;
    /** The schedule to change, by its kind; unset: the deployment itself. */
    schedule?: 'cron' | 'interval' | 'rrule';
  }
  const serverChanges: ServerChange[] = [
    { field: 'paused', name: 'live-score', patch: { paused: true } },
    { field: 'version', name: 'live-score', patch: { version: 'hand-edited' } },
    { field: 'enforce_parameter_schema', name: 'live-score', patch: { enforce_parameter_schema: true } },
    { field: 'description', name: 'nightly-projections', patch: { description: 'edited in the UI' } },
    { field: 'tags', name: 'nightly-projections', patch: { tags: ['other'] } },
    { field: 'parameters', name: 'live-score', patch: { parameters: { league: 'mlb' } } },
    { field: 'job variables', name: 'live-score', patch: { job_variables: { env: { TEAM: 'someone-else' } } } },
    { field: 'work queue', name: 'nightly-projections', patch: { work_queue_name: 'other' } },
    { field: 'entrypoint', name: 'nightly-projections', patch: { entrypoint: 'flows/other.py:build_projections' } },
    { field: 'pull steps', name: 'nightly-projections', patch: { pull_steps: [] } },
    { field: 'concurrency limit', name: 'nightly-projections', patch: { concurrency_limit: 5 } },
    {
      field: 'collision_strategy',
      name: 'nightly-projections',
      patch: { concurrency_options: { collision_strategy: 'ENQUEUE', grace_period_seconds: 120 } },
    },
    {
      field: 'grace_period_seconds',
      name: 'nightly-projections',
      patch: { concurrency_options: { collision_strategy: 'CANCEL_NEW', grace_period_seconds: 60 } },
    },
    {
      field: 'schedule',
      name: 'live-score',
      patch: {
        schedules: [
          { schedule: { cron: '0 6 * * 1-5', timezone: 'America/New_York' }, active: true, parameters: {}, slug: 'weekday-mornings' },
          { schedule: { interval: 7200, timezone: 'UTC' }, active: true },
        ],
      },
    },
    { field: 'schedule', name: 'live-score', schedule: 'cron', patch: { max_scheduled_runs: 5 } },
    { field: 'schedule', name: 'live-score', schedule: 'cron', patch: { slug: 'renamed' } },
    { field: 'schedule', name: 'live-score', schedule: 'cron', patch: { parameters: { league: 'khl' } } },
    { field: 'schedule', name: 'live-score', schedule: 'cron', patch: { active: false } },
    {
      field: 'schedule',
      name: 'live-score',
      schedule: 'interval',
      patch: { schedule: { interval: 3600, anchor_date: '2026-03-01T00:00:00Z', timezone: 'Europe/Berlin' } },
    },
    {
      field: 'schedule',
      name: 'live-score',
      schedule: 'interval',
      patch: { schedule: { interval: 3600, anchor_date: '2025-12-31T23:00:00Z', timezone: 'UTC' } },
    },
    {
      field: 'schedule',
      name: 'nightly-projections',
      schedule: 'rrule',
      patch: { schedule: { rrule: 'FREQ=WEEKLY;BYDAY=MO,WE', timezone: 'UTC' } },
    },
  ];
  for (const { field, name, patch, schedule } of serverChanges) {
    it(`finds ${field} changed on the server${schedule ? ` (${schedule}: ${Object.keys(patch as object).join(', ')})` : ''} and redeploys ${name} alone`, async () => {
      const other = name === 'live-score' ? 'nightly-projections' : 'live-score';
      const deployment = await byName(name);
      const target =
        schedule && (deployment.schedules as { id: string; schedule: Record<string, unknown> }[]).find((s) => schedule in s.schedule)!;
      await call('PATCH', `/deployments/${deployment.id as string}${target ? `/schedules/${target.id}` : ''}`, patch);
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

  /** [what, deployment, field named in the check, text in the file, its replacement]; each stays for the next. */
  const fileChanges: [string, string, string, string, string][] = [
    [
      'anchor of an interval schedule',
      'live-score',
      'schedule',
      'anchor_date: "2026-01-01T00:00:00"',
      'anchor_date: "2026-02-01T00:00:00"',
    ],
    ['parameters of a schedule', 'live-score', 'schedule', 'parameters: {league: nhl}', 'parameters: {league: ahl}'],
    ['slug of a schedule', 'live-score', 'schedule', 'slug: weekday-mornings', 'slug: mornings'],
    [
      'timezone of a cron schedule',
      'live-score',
      'schedule',
      'cron: "0 6 * * 1-5"\n        timezone: America/New_York',
      'cron: "0 6 * * 1-5"\n        timezone: America/Chicago',
    ],
    [
      'timezone of an rrule',
      'nightly-projections',
      'schedule',
      'FREQ=WEEKLY;BYDAY=MO,WE\n        timezone: America/New_York',
      'FREQ=WEEKLY;BYDAY=MO,WE\n        timezone: Europe/Paris',
    ],
    ['active of a schedule', 'nightly-projections', 'schedule', 'active: false', 'active: true'],
    ['paused', 'nightly-projections', 'paused', 'paused: yes', 'paused: no'],
    ['version', 'nightly-projections', 'version', 'version: "2026.1"', 'version: "2026.2"'],
    [
      'description',
      'nightly-projections',
      'description',
      'description: Rebuild the projections overnight.',
      'description: Rebuild them at night.',
    ],
    ['concurrency limit', 'nightly-projections', 'concurrency limit', 'limit: 1', 'limit: 2'],
    ['collision_strategy', 'nightly-projections', 'collision_strategy', 'collision_strategy: CANCEL_NEW', 'collision_strategy: ENQUEUE'],
    ['grace_period_seconds', 'nightly-projections', 'grace_period_seconds', 'grace_period_seconds: 120', 'grace_period_seconds: 300'],
    ['tags', 'nightly-projections', 'tags', '    name: nightly-projections\n', '    name: nightly-projections\n    tags: [nightly]\n'],
    ['pull steps', 'nightly-projections', 'pull steps', '    name: nightly-projections\n', '    name: nightly-projections\n    pull: []\n'],
    [
      'work queue',
      'nightly-projections',
      'work queue',
      '    name: nightly-projections\n',
      '    name: nightly-projections\n    work_pool: {name: projections-local, work_queue_name: nightly, job_variables: {env: {TEAM: data-eng}}}\n',
    ],
    [
      'enforce_parameter_schema',
      'live-score',
      'enforce_parameter_schema',
      '    name: live-score\n',
      '    name: live-score\n    enforce_parameter_schema: yes\n',
    ],
    [
      'parameters',
      'live-score',
      'parameters',
      'parameters: {league: nba, since: 2024-01-01 10:00:00}',
      'parameters: {league: nba, since: 2024-01-02 10:00:00}',
    ],
    [
      'job variables',
      'live-score',
      'job variables',
      '    name: live-score\n',
      '    name: live-score\n    work_pool: {name: projections-local, work_queue_name: default, job_variables: {env: {TEAM: "{{ $PROJECTIONS_TEAM }}", LEVEL: debug}}}\n',
    ],
    ['the docstring', 'live-score', 'description', 'Writes a manifest per run.', 'Writes two manifests per run.'],
  ];
  for (const [what, name, field, from, to] of fileChanges) {
    it(`finds ${what} changed in the files and redeploys ${name} alone`, async () => {
      const file = what === 'the docstring' ? `${PROJECT}/flows/documented.py` : `${PROJECT}/prefect.yaml`;
      const text = (await ssh(host, `cat ${file}`)).stdout;
      expect(text).toContain(from);
      await ssh(host, `cat > ${file}`, { input: text.replace(from, to) });
      const check = await reconcile(dir, 'check');
      expect(check.code, check.stdout).toBe(2);
      expect(check.stdout).toContain(`${name}: ${field}:`);
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
    // A stopped server is the one difference; what is read through it is noted once, not counted as a problem.
    expect(check.hosts[0]!.problems).toEqual([]);
    expect(check.hosts[0]!.deferred?.filter((p) => p.includes('server not answering'))).toHaveLength(1);
    expect(check.hosts[0]!.actions.filter((a) => a.verb === 'start').map((a) => a.id)).toEqual(['start prefect-server.service']);
    expect(check.hosts[0]!.actions.filter((a) => a.verb === 'create')).toEqual([]);
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts[0])).toBe(0);
    expect((applied.hosts[0]!.done ?? []).filter((id) => id.startsWith('deploy '))).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 120_000);

  it('takes an empty concurrency_limit as none, like Prefect, and reports a file Prefect rejects without losing the rest of the plan', async () => {
    const text = (await ssh(host, `cat ${PROJECT}/prefect.yaml`)).stdout;
    const emptyLimit = text.replace(/ {4}concurrency_limit:\n( {6}.*\n)+/, '    concurrency_limit:\n');
    expect(emptyLimit).not.toBe(text);
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: emptyLimit });
    const deployed = await ssh(host, `bash -lc 'cd ${PROJECT} && PREFECT_API_URL=${api()} .venv/bin/prefect --no-prompt deploy --all'`, {
      allowFailure: true,
    });
    expect(deployed.code, deployed.stdout).toBe(0);
    expect((await byName('nightly-projections')).global_concurrency_limit).toBeNull();
    expect((await reconcile(dir, 'check')).code).toBe(0);

    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, {
      input: 'deployments:\n  live-score:\n    entrypoint: flows/documented.py:live_score\n',
    });
    const refused = await ssh(host, `bash -lc 'cd ${PROJECT} && PREFECT_API_URL=${api()} .venv/bin/prefect --no-prompt deploy --all'`, {
      allowFailure: true,
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('Invalid top-level fields in config file');
    await ssh(host, 'sudo -n systemctl stop prefect-worker.service');
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.hosts[0]!.problems).toContainEqual(
      expect.stringContaining(`${PROJECT}/prefect.yaml: deployments: must be a list of deployments`),
    );
    // The host's other resources are still read and planned.
    expect(check.hosts[0]!.actions.map((a) => a.id)).toEqual(['start prefect-worker.service']);
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text });
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 90_000);

  it('reads what public prefect.yaml files write as Prefect does: module entrypoints, tags as text, an empty schedule, no pool', async () => {
    const text = (await ssh(host, `cat ${PROJECT}/prefect.yaml`)).stdout;
    const deploy = (name: string) =>
      ssh(host, `bash -lc 'cd ${PROJECT} && PREFECT_API_URL=${api()} .venv/bin/prefect --no-prompt deploy -n ${name}'`, {
        allowFailure: true,
      });
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, {
      input: [
        'prefect-version: 3.8.3',
        'deployments:',
        '  - name: by-module',
        '    entrypoint: flows.documented:live_score',
        '    tags: dev',
        '    schedule: {}',
        '    work_pool: {name: projections-local}',
        '  - name: no-pool',
        '    entrypoint: flows/documented.py:live_score',
        '',
      ].join('\n'),
    });
    const byModule = await deploy('live_score/by-module');
    expect(byModule.code, byModule.stdout).toBe(0);
    const noPool = await deploy('live_score/no-pool');
    expect(noPool.code).toBe(1);
    expect(noPool.stdout).toContain('A work pool is required to deploy this flow');
    expect((await byName('by-module')).tags).toEqual(['d', 'e', 'v']);

    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    // The module's flow was read (its docstring and file hash match), so nothing is redeployed.
    expect(check.hosts[0]!.actions.map((a) => a.id)).toEqual([]);
    expect(check.hosts[0]!.problems).toContainEqual(
      `prefect_deployments:${PROJECT}: ${PROJECT}/prefect.yaml: deployment 'no-pool' names no work pool; Prefect refuses to deploy it ("A work pool is required to deploy this flow"): set its work_pool.name`,
    );

    await ssh(host, `sed -i 's/^prefect-version: 3.8.3$/prefect-version: 2.10/' ${PROJECT}/prefect.yaml`);
    const refused = await deploy('live_score/by-module');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('prefect-version: Input should be a valid string');
    expect((await reconcileJson(dir, 'check')).hosts[0]!.problems).toContainEqual(
      expect.stringContaining(`${PROJECT}/prefect.yaml: prefect-version: must be a string, not a decimal number 2.1`),
    );
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text });
    await call('DELETE', `/deployments/${(await byName('by-module')).id as string}`);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 90_000);

  it("compares a deployment's triggers with the automations prefect deploy made for them, and redeploys to change them", async () => {
    const text = (await ssh(host, `cat ${PROJECT}/prefect.yaml`)).stdout;
    const withTriggers = (within: string) =>
      text.replace(
        '    name: nightly-projections\n',
        `    name: nightly-projections\n    triggers:\n      - expect: [prefect.flow-run.Failed]\n        match: {prefect.resource.name: projections-*}\n        within: ${within}\n        parameters: {horizon_days: 1}\n`,
      );
    expect(withTriggers('0')).not.toBe(text);
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: withTriggers('0') });
    const deployed = await ssh(
      host,
      `bash -lc 'cd ${PROJECT} && PREFECT_API_URL=${api()} .venv/bin/prefect --no-prompt deploy -n build_projections/nightly-projections'`,
      {
        allowFailure: true,
      },
    );
    expect(deployed.code, deployed.stdout).toBe(0);
    const automations = async () =>
      (await call('POST', '/automations/filter', {})) as unknown as { name: string; trigger: { within: number } }[];
    expect((await automations()).map((a) => a.name)).toEqual(['nightly-projections__automation_1']);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // The trigger changed in the file: the deployment's triggers differ, and a redeploy makes the automation anew.
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: withTriggers('PT10M') });
    const drift = await reconcileJson(dir, 'check');
    expect(drift.code).toBe(2);
    expect(drift.hosts[0]!.actions.map((a) => [a.id, a.fields.map((f) => f.field)])).toEqual([
      ['deploy nightly-projections', ['nightly-projections: triggers']],
    ]);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await automations()).map((a) => [a.name, a.trigger.within])).toEqual([['nightly-projections__automation_1', 600]]);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // No triggers in the file: the deployment's automation is drift, and the redeploy removes it.
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text });
    expect((await reconcile(dir, 'check')).code).toBe(2);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await automations()).toEqual([]);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 90_000);

  it("shows Prefect's own error when a deploy fails with a verbose profile", async () => {
    await ssh(host, `echo 'export PREFECT_LOGGING_LEVEL=DEBUG' >> ~/.profile`);
    const text = (await ssh(host, `cat ${PROJECT}/prefect.yaml`)).stdout;
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text.replaceAll('name: projections-local', 'name: no-such-pool') });
    const applied = await reconcile(dir, 'apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain("references work pool 'no-such-pool' which does not exist");
    expect(applied.stdout).toContain('DEBUG');
    await ssh(host, `cat > ${PROJECT}/prefect.yaml`, { input: text });
  }, 60_000);
});
