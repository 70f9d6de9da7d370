import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';

// The stand-in must answer like Prefect 3 (shared/prefect-reference.md, prefect-source-notes.md §6).
const WORK_POOL_KEYS = [
  'id',
  'created',
  'updated',
  'name',
  'description',
  'type',
  'base_job_template',
  'is_paused',
  'concurrency_limit',
  'status',
  'default_queue_id',
  'storage_configuration',
  'active_slots',
];
const DEPLOYMENT_KEYS = [
  'id',
  'created',
  'updated',
  'name',
  'version',
  'description',
  'flow_id',
  'paused',
  'schedules',
  'concurrency_limit',
  'global_concurrency_limit',
  'concurrency_options',
  'job_variables',
  'parameters',
  'tags',
  'labels',
  'work_queue_name',
  'work_queue_id',
  'last_polled',
  'parameter_openapi_schema',
  'path',
  'pull_steps',
  'entrypoint',
  'storage_document_id',
  'infrastructure_document_id',
  'created_by',
  'updated_by',
  'work_pool_name',
  'status',
  'enforce_parameter_schema',
];

const FLOW_RUN_KEYS = [
  'id',
  'created',
  'updated',
  'name',
  'flow_id',
  'state_id',
  'deployment_id',
  'deployment_version',
  'work_queue_id',
  'work_queue_name',
  'flow_version',
  'parameters',
  'idempotency_key',
  'context',
  'empirical_policy',
  'tags',
  'labels',
  'parent_task_run_id',
  'state_type',
  'state_name',
  'run_count',
  'expected_start_time',
  'next_scheduled_start_time',
  'start_time',
  'end_time',
  'total_run_time',
  'estimated_run_time',
  'estimated_start_time_delta',
  'auto_scheduled',
  'infrastructure_document_id',
  'infrastructure_pid',
  'created_by',
  'work_pool_id',
  'work_pool_name',
  'state',
  'job_variables',
];

const venv = '/home/daniel/projects/projections-v2/.venv';
const project = '/home/daniel/projects/projections-v2';

describe('Prefect 3 stand-in on a test host', () => {
  const hosts = useTestHosts(1, 'pf');
  let host: TestHost;
  let api: string;
  const prefect = (args: string, env = '') =>
    ssh(host, `cd ${project} && ${env} PREFECT_API_URL=${api} ${venv}/bin/prefect ${args}`, { allowFailure: true });
  const get = async (path: string) => {
    const response = await fetch(`${api}${path}`);
    return { status: response.status, body: (await response.json()) as unknown };
  };
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${api}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };

  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: response.status, body: response.status === 204 ? undefined : ((await response.json()) as unknown) };
  };

  beforeAll(async () => {
    host = hosts[0]!;
    api = `http://${host.address}:4200/api`;
    // Real pip installs the pinned stand-in from the image's wheelhouse, as setup.yaml will.
    // A fresh host has no venv module: from its (local) apt source first, as the setup does.
    await ssh(
      host,
      'sudo -n apt-get -qq update && sudo -n DEBIAN_FRONTEND=noninteractive apt-get -qq -y install --no-install-recommends python3-venv >/dev/null',
    );
    await ssh(host, `python3 -m venv ${venv} && ${venv}/bin/pip install -q prefect==3.8.3`);
    await ssh(
      host,
      `sudo -n systemd-run --unit=pf-server --uid=daniel -p WorkingDirectory=${project} ${venv}/bin/prefect server start --host ${host.address} --port 4200`,
    );
    await waitFor(async () => (await get('/health')).body === true);
  }, 120_000);

  it('serves health and versions where it was told to bind', async () => {
    expect(await get('/health')).toEqual({ status: 200, body: true });
    expect(await get('/version')).toEqual({ status: 200, body: '0.8.4' });
    expect((await get('/admin/version')).body).toBe('3.8.3');
    const listening = await ssh(host, 'ss -ltnH "sport = :4200"');
    expect(listening.stdout).toContain(`${host.address}:4200`);
    expect(listening.stdout).not.toContain('0.0.0.0:4200');
  });

  it('refuses a second server on a taken port like the real one', async () => {
    const second = await prefect(`server start --host ${host.address} --port 4200`);
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('Port 4200 is already in use. Please specify a different port with the `--port` flag.');
  });

  it('creates and inspects work pools with the real messages, exit codes and JSON shape', async () => {
    const created = await prefect('work-pool create projections-local --type process');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("Created work pool 'projections-local'!");
    const again = await prefect('work-pool create projections-local --type process');
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("Work pool named 'projections-local' already exists. Use --overwrite to update it.");
    const noType = await prefect('work-pool create other-pool');
    expect(noType.code).toBe(1);
    expect(noType.stdout).toContain('you must supply a `--type` value');
    const inspected = await prefect('work-pool inspect projections-local --output json');
    expect(Object.keys(JSON.parse(inspected.stdout) as object)).toEqual(WORK_POOL_KEYS);
    expect((await prefect('work-pool inspect nope')).stdout).toContain("Work pool 'nope' not found!");
    expect((await prefect('work-pool set-concurrency-limit projections-local 2')).stdout).toContain(
      "Set concurrency limit for work pool 'projections-local' to 2",
    );
    expect((await get('/work_pools/projections-local')).body).toMatchObject({ concurrency_limit: 2, type: 'process', status: 'NOT_READY' });
    expect(await get('/work_pools/nope')).toEqual({ status: 404, body: { detail: 'Work pool "nope" not found.' } });
    expect((await post('/work_pools/', { name: 'prefect-internal', type: 'process' })).status).toBe(403);
    expect((await post('/work_pools/', { name: 'x', bogus: 1 })).status).toBe(422);
  });

  it('deploys every deployment of the sample prefect.yaml and stores them as Prefect does', async () => {
    const deployed = await prefect('deploy --all');
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toContain("Deployment 'live-score/live-score' successfully created");
    const live = await get('/deployments/name/live-score/live-score');
    expect(Object.keys(live.body as object)).toEqual(DEPLOYMENT_KEYS);
    expect(live.body).toMatchObject({
      entrypoint: 'flows/live_score.py:live_score',
      work_pool_name: 'projections-local',
      work_queue_name: 'default',
      parameters: { league: 'nba', write_manifest: true },
      tags: ['live', 'scores'],
      schedules: [{ schedule: { cron: '*/5 * * * *', timezone: 'America/New_York', day_or: true }, active: true }],
    });
    const nightly = (await get('/deployments/name/build-projections/nightly-projections')).body as Record<string, unknown>;
    expect(nightly.concurrency_limit).toBeNull();
    expect(nightly.global_concurrency_limit).toMatchObject({ limit: 1 });
    expect((await prefect('deployment inspect live-score/nope')).stdout).toContain("Deployment 'live-score/nope' not found!");
    expect(await get('/deployments/name/live-score/nope')).toEqual({ status: 404, body: { detail: 'Deployment not found' } });
  });

  it('redeploys one deployment by name, leaving the other untouched', async () => {
    const before = (await get('/deployments/name/build-projections/nightly-projections')).body as { updated: string };
    await ssh(host, `sed -i 's|"\\*/5 \\* \\* \\* \\*"|"*/2 * * * *"|' ${project}/prefect.yaml`);
    expect((await prefect('deploy -n live-score')).code).toBe(0);
    const live = (await get('/deployments/name/live-score/live-score')).body as { schedules: { schedule: { cron: string } }[] };
    expect(live.schedules.map((s) => s.schedule.cron)).toEqual(['*/2 * * * *']);
    expect(((await get('/deployments/name/build-projections/nightly-projections')).body as { updated: string }).updated).toBe(
      before.updated,
    );
  });

  // Each expectation below is a line of shared/prefect-reference.md, "How `prefect deploy` turns prefect.yaml into what the server stores".
  it('follows the real deploy: -n NAME takes every entry of that name, -n FUNCTION/NAME one; "None" on create, null on update', async () => {
    const flows = 'from prefect import flow\n\n@flow\ndef first():\n    pass\n\n@flow\ndef second():\n    pass\n';
    await ssh(host, `mkdir -p /tmp/twins/flows && cat > /tmp/twins/flows/twins.py`, { input: flows });
    const yaml = (extra: string) =>
      `deployments:\n  - name: same\n    entrypoint: flows/twins.py:first\n    work_pool: {name: projections-local}\n${extra}  - name: same\n    entrypoint: flows/twins.py:second\n    work_pool: {name: projections-local}\n`;
    await ssh(host, 'cat > /tmp/twins/prefect.yaml', { input: yaml('') });
    const twins = (args: string) =>
      ssh(host, `cd /tmp/twins && PREFECT_API_URL=${api} ${venv}/bin/prefect --no-prompt deploy ${args}`, { allowFailure: true });
    expect((await twins('-n second/same')).code).toBe(0);
    expect((await get('/deployments/name/first/same')).status).toBe(404);
    const created = (await get('/deployments/name/second/same')).body as { description: unknown; updated: string };
    expect(created.description).toBe('None');
    expect((await twins('-n same')).code).toBe(0);
    expect((await get('/deployments/name/first/same')).status).toBe(200);
    expect(((await get('/deployments/name/second/same')).body as { description: unknown }).description).toBeNull();
  });

  // api/deployments.py create_flow_run_from_deployment, schemas/responses.py FlowRunResponse, core_policy.py PreventPendingTransitions.
  it('creates flow runs from a deployment and lets only one worker claim each, as Prefect orchestrates them', async () => {
    const live = (await get('/deployments/name/live-score/live-score')).body as { id: string };
    expect((await post(`/deployments/${live.id}/create_flow_run`, { bogus: 1 })).status).toBe(422);
    const created = await post(`/deployments/${live.id}/create_flow_run`, { parameters: { league: 'nhl' } });
    expect(created.status).toBe(201);
    const run = created.body as Record<string, unknown> & { id: string };
    expect(Object.keys(run)).toEqual(FLOW_RUN_KEYS);
    expect(run).toMatchObject({
      deployment_id: live.id,
      parameters: { league: 'nhl', write_manifest: true },
      state_type: 'SCHEDULED',
      work_pool_name: 'projections-local',
      tags: ['live', 'scores'],
    });
    const due = (
      await post('/work_pools/projections-local/get_scheduled_flow_runs', { scheduled_before: new Date(Date.now() + 10_000).toISOString() })
    ).body as { flow_run: { id: string } }[];
    expect(due.map((d) => d.flow_run.id)).toContain(run.id);
    expect((await post('/work_pools/projections-local/get_scheduled_flow_runs', { work_queue_names: ['nope'] })).body).toEqual({
      detail: "Work pool queue 'projections-local/nope' not found.",
    });
    expect((await post(`/flow_runs/${run.id}/set_state`, { state: { type: 'DONE' } })).status).toBe(422);
    expect((await post(`/flow_runs/${run.id}/set_state`, {})).status).toBe(422);
    const pending = { state: { type: 'PENDING', name: 'Pending' } };
    expect(await post(`/flow_runs/${run.id}/set_state`, pending)).toMatchObject({
      status: 201,
      body: { status: 'ACCEPT', details: { type: 'accept_details' }, state: { type: 'PENDING' } },
    });
    expect(await post(`/flow_runs/${run.id}/set_state`, pending)).toMatchObject({
      status: 200,
      body: {
        status: 'ABORT',
        details: { type: 'abort_details', reason: 'This run is in a PENDING state and cannot transition to a PENDING state.' },
      },
    });
    expect(await get('/flow_runs/00000000-0000-0000-0000-000000000000')).toEqual({ status: 404, body: { detail: 'Flow run not found' } });
    // WaitForScheduledTime: a run due in a minute, claimed early (workers prefetch), may not run yet; CopyScheduledTime keeps its time.
    const later = new Date(Date.now() + 60_000).toISOString();
    const early = (
      await post(`/deployments/${live.id}/create_flow_run`, { state: { type: 'SCHEDULED', state_details: { scheduled_time: later } } })
    ).body as { id: string; expected_start_time: string };
    expect(Date.parse(early.expected_start_time)).toBe(Date.parse(later));
    expect(await post(`/flow_runs/${early.id}/set_state`, pending)).toMatchObject({ status: 201, body: { status: 'ACCEPT' } });
    const running = await post(`/flow_runs/${early.id}/set_state`, { state: { type: 'RUNNING', name: 'Running' } });
    expect(running).toMatchObject({
      status: 200,
      body: { status: 'WAIT', details: { type: 'wait_details', reason: 'Scheduled time is in the future' }, state: null },
    });
    expect((running.body as { details: { delay_seconds: number } }).details.delay_seconds).toBeGreaterThan(55);
    expect(((await get(`/flow_runs/${early.id}`)).body as { state_type: string }).state_type).toBe('PENDING');
  });

  it('hands out no run of a paused pool or queue, and filters flow runs by state type and pool as read_flow_runs does', async () => {
    const live = (await get('/deployments/name/live-score/live-score')).body as { id: string };
    const run = (await post(`/deployments/${live.id}/create_flow_run`, {})).body as { id: string };
    const due = async () =>
      (
        (
          await post('/work_pools/projections-local/get_scheduled_flow_runs', {
            scheduled_before: new Date(Date.now() + 10_000).toISOString(),
          })
        ).body as { flow_run: { id: string } }[]
      ).map((d) => d.flow_run.id);
    expect(await due()).toContain(run.id);
    expect((await send('PATCH', '/work_pools/projections-local', { is_paused: true })).status).toBe(204);
    expect(await due()).toEqual([]);
    expect((await send('PATCH', '/work_pools/projections-local', { is_paused: false })).status).toBe(204);
    expect((await send('PATCH', '/work_pools/projections-local/queues/default', { is_paused: true })).status).toBe(204);
    expect(await due()).not.toContain(run.id);
    expect((await send('PATCH', '/work_pools/projections-local/queues/default', { is_paused: false })).status).toBe(204);
    expect(await due()).toContain(run.id);

    const ids = async (body: unknown) => ((await post('/flow_runs/filter', body)).body as { id: string }[]).map((r) => r.id);
    const scheduled = { flow_runs: { state: { type: { any_: ['SCHEDULED'] } } }, work_pools: { name: { any_: ['projections-local'] } } };
    expect(await ids(scheduled)).toContain(run.id);
    expect(await ids({ ...scheduled, work_pools: { name: { any_: ['other-pool'] } } })).toEqual([]);
    expect(await ids({ flow_runs: { state: { type: { any_: ['RUNNING'] } } } })).not.toContain(run.id);
    expect(await ids({ flow_runs: { state: { type: { not_any_: ['SCHEDULED'] } } } })).not.toContain(run.id);
    const extra = await post('/flow_runs/filter', { flow_runs: { state: { type: { any_: ['SCHEDULED'], bogus: 1 } } } });
    expect(extra).toMatchObject({
      status: 422,
      body: { exception_detail: [{ type: 'extra_forbidden', loc: ['body', 'flow_runs', 'state', 'type', 'bogus'] }] },
    });
  });

  // services/scheduler.py; models/deployments.py _generate_scheduled_flow_runs and _delete_scheduled_runs.
  it('makes runs ahead for active schedules by itself, as the scheduler service does, and remakes them when a deployment changes', async () => {
    interface Run {
      id: string;
      deployment_id: string;
      expected_start_time: string;
      auto_scheduled: boolean;
    }
    const ahead = async (deploymentId: string) =>
      ((await post('/flow_runs/filter', { flow_runs: { state: { type: { any_: ['SCHEDULED'] } } } })).body as Run[])
        .filter((r) => r.deployment_id === deploymentId && r.auto_scheduled)
        .sort((a, b) => a.expected_start_time.localeCompare(b.expected_start_time));
    const minutes = (runs: Run[]) => runs.map((r) => new Date(r.expected_start_time).getUTCMinutes());
    const newYork = (run: Run) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' }).format(
        new Date(run.expected_start_time),
      );

    // live-score, redeployed above with '*/2' in America/New_York: at least an hour ahead, every even minute.
    const live = (await get('/deployments/name/live-score/live-score')).body as {
      id: string;
      flow_id: string;
      schedules: { id: string }[];
    };
    let runs: Run[] = [];
    await waitFor(async () => (runs = await ahead(live.id)).length >= 30, 20_000);
    expect(minutes(runs).every((m) => m % 2 === 0)).toBe(true);
    expect(Date.parse(runs.at(-1)!.expected_start_time) - Date.now()).toBeGreaterThan(59 * 60_000);
    const first = (await get(`/flow_runs/${runs[0]!.id}`)).body as Record<string, unknown>;
    expect(first).toMatchObject({
      tags: ['auto-scheduled', 'live', 'scores'],
      parameters: { league: 'nba', write_manifest: true },
      created_by: { id: live.schedules[0]!.id, type: 'SCHEDULE', display_value: 'CronSchedule' },
      state: { type: 'SCHEDULED', message: 'Flow run scheduled' },
    });
    expect(first.idempotency_key).toMatch(
      new RegExp(`^scheduled ${live.id} ${live.schedules[0]!.id} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:00-0[45]:00$`),
    );
    // nightly-projections, '0 3 * * *' in America/New_York: three nights, not an hour of them.
    const nightly = (await get('/deployments/name/build-projections/nightly-projections')).body as { id: string };
    await waitFor(async () => (runs = await ahead(nightly.id)).length === 3);
    expect(runs.map(newYork)).toEqual(['03:00', '03:00', '03:00']);

    // A deployment made through the API with an interval of a minute, then changed to a cron: the runs
    // ahead of the old schedule go, the new schedule's come; paused, it has none.
    const body = (schedule: unknown) => ({
      name: 'every-minute',
      flow_id: live.flow_id,
      work_pool_name: 'projections-local',
      schedules: [{ schedule, active: true }],
    });
    const made = (await post('/deployments/', body({ interval: 60 }))).body as { id: string };
    await waitFor(async () => (runs = await ahead(made.id)).length >= 60, 20_000);
    const gaps = runs.slice(1).map((r, i) => Date.parse(r.expected_start_time) - Date.parse(runs[i]!.expected_start_time));
    expect(new Set(gaps)).toEqual(new Set([60_000]));
    expect((await post('/deployments/', body({ cron: '*/10 * * * *' }))).status).toBe(200);
    await waitFor(async () => (runs = await ahead(made.id)).length >= 6 && minutes(runs).every((m) => m % 10 === 0), 20_000);
    expect((await send('PATCH', `/deployments/${made.id}`, { paused: true })).status).toBe(204);
    expect(await ahead(made.id)).toEqual([]);
    await new Promise((r) => setTimeout(r, 7_000));
    expect(await ahead(made.id)).toEqual([]);
    expect((await send('DELETE', `/deployments/${made.id}`)).status).toBe(204);
  }, 90_000);

  it('keeps job variables and schedules a redeploy leaves out, and refuses what Prefect refuses', async () => {
    const yaml = (pool: string, schedules: string) =>
      `deployments:\n  - name: keep\n    entrypoint: flows/live_score.py:live_score\n    work_pool: ${pool}\n${schedules}`;
    const keep = (text: string) =>
      ssh(
        host,
        `cat > ${project}/keep.yaml && cd ${project} && PREFECT_API_URL=${api} ${venv}/bin/prefect --no-prompt deploy -n keep --prefect-file keep.yaml`,
        { input: text, allowFailure: true },
      );
    expect(
      (await keep(yaml('{name: projections-local, job_variables: {env: {A: "1"}}}', '    schedules: [{interval: PT1H}]\n'))).code,
    ).toBe(0);
    const first = (await get('/deployments/name/live-score/keep')).body as {
      job_variables: unknown;
      schedules: { schedule: Record<string, unknown> }[];
    };
    expect(first.schedules[0]!.schedule).toMatchObject({ interval: 3600, timezone: 'UTC' });
    expect((await keep(yaml('{name: projections-local, job_variables: {}}', '    schedules: []\n'))).code).toBe(0);
    const after = (await get('/deployments/name/live-score/keep')).body as typeof first;
    expect(after.job_variables).toEqual({ env: { A: '1' } });
    expect(after.schedules).toHaveLength(1);
    const invalid = await keep(yaml('{name: projections-local}', '    version: 1.0\n'));
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('Invalid fields in deployments:\n\n  \u2022 keep: version');
    expect(invalid.stdout).toContain('Skipping deployment configuration due to validation errors.');
    const noPool = await keep('deployments:\n  - name: keep\n    entrypoint: flows/live_score.py:live_score\n');
    expect(noPool.code).toBe(1);
    expect(noPool.stdout).toContain('A work pool is required to deploy this flow');
  });

  it('keeps variables as Prefect 3.8.3 does: its name rule, its value limit, 409 on a second create, 204 on update and delete', async () => {
    const badName = await post('/variables/', { name: 'Default League', value: 1 });
    expect(badName.status).toBe(422);
    expect(JSON.stringify(badName.body)).toContain(
      'Variable name must only contain lowercase letters, numbers, and dashes or underscores.',
    );
    expect((await post('/variables/', { name: 'too_long', value: 'x'.repeat(5000) })).status).toBe(422);
    expect((await post('/variables/', { name: 'no_value' })).status).toBe(422);
    const made = await post('/variables/', { name: 'std-in_1', value: { a: [1, 2] }, tags: ['t'] });
    expect(made.status).toBe(201);
    expect(Object.keys(made.body as object).sort()).toEqual(['created', 'id', 'name', 'tags', 'updated', 'value']);
    expect((await post('/variables/', { name: 'std-in_1', value: 2 })).status).toBe(409);
    expect((await send('PATCH', '/variables/name/std-in_1', { value: null, tags: [] })).status).toBe(204);
    expect((await get('/variables/name/std-in_1')).body).toMatchObject({ value: null, tags: [] });
    expect((await send('DELETE', '/variables/name/std-in_1')).status).toBe(204);
    const gone = await get('/variables/name/std-in_1');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ detail: 'Variable not found.' });
    // A rename, and a rename onto a taken name (Prefect's integrity handler: 409).
    await post('/variables/', { name: 'std-in_2', value: 1 });
    await post('/variables/', { name: 'std-in_3', value: 1 });
    expect((await send('PATCH', '/variables/name/std-in_2', { name: 'std-in_4' })).status).toBe(204);
    expect((await get('/variables/name/std-in_4')).body).toMatchObject({ name: 'std-in_4', value: 1 });
    expect((await send('PATCH', '/variables/name/std-in_4', { name: 'std-in_3' })).status).toBe(409);
  });

  it('keeps blocks as Prefect 3.8.3 does: system types registered on start, secrets obfuscated unless asked, a merging PATCH', async () => {
    // models/block_registration.py: the protected system blocks exist before anyone registers anything.
    const secret = (await get('/block_types/slug/secret')).body as { id: string; is_protected: boolean };
    expect(secret.is_protected).toBe(true);
    expect(await get('/block_types/slug/no-such-type')).toEqual({ status: 404, body: { detail: 'Block type not found' } });
    expect((await post('/block_types/', { name: 'Prefect Thing', slug: 'prefect-thing' })).status).toBe(403);
    expect((await post('/block_types/', { name: 'Secret', slug: 'secret' })).status).toBe(409);
    const [schema] = (await post('/block_schemas/filter', { block_schemas: { block_type_id: { any_: [secret.id] } }, limit: 1 })).body as {
      id: string;
      fields: { secret_fields: string[] };
    }[];
    expect(schema!.fields.secret_fields).toEqual(['value']);
    const create = (name: string) =>
      post('/block_documents/', { name, block_type_id: secret.id, block_schema_id: schema!.id, data: { value: 's3' } });
    const badName = await create('Bad_Name');
    expect(badName.status).toBe(422);
    expect(JSON.stringify(badName.body)).toContain('Block document name must only contain lowercase letters, numbers, and dashes.');
    const made = await create('std-in-key');
    expect(made.status).toBe(201);
    expect((made.body as { data: unknown }).data).toEqual({ value: '********' });
    expect((await create('std-in-key')).status).toBe(409);
    const id = (made.body as { id: string }).id;
    // Sending the obfuscated value back keeps the stored one (update_block_document); a new one replaces it.
    expect((await send('PATCH', `/block_documents/${id}`, { data: { value: '********' } })).status).toBe(204);
    expect(((await get(`/block_documents/${id}?include_secrets=true`)).body as { data: unknown }).data).toEqual({ value: 's3' });
    expect((await send('PATCH', `/block_documents/${id}`, { data: { value: 's4' }, extra: 1 })).status).toBe(422);
    expect((await send('PATCH', `/block_documents/${id}`, { data: { value: 's4' } })).status).toBe(204);
    expect(((await get(`/block_documents/${id}?include_secrets=true`)).body as { data: unknown }).data).toEqual({ value: 's4' });
    const listed = (await post('/block_documents/filter', { block_types: { slug: { any_: ['secret'] } } })).body as {
      name: string;
      data: unknown;
    }[];
    expect(listed.find((b) => b.name === 'std-in-key')?.data).toEqual({ value: '********' });
    expect((await send('DELETE', `/block_documents/${id}`)).status).toBe(204);
    expect(await get(`/block_documents/${id}`)).toEqual({ status: 404, body: { detail: 'Block document not found' } });
  });

  it('registers block types from a file as `prefect block register` does, refusing what it refuses', async () => {
    const none = await prefect('block register');
    expect([none.code, none.stdout.trim()]).toEqual([
      1,
      'Please specify either a module or a file containing blocks to be registered, but not both.',
    ]);
    expect((await prefect('block register -f notes.txt')).stdout).toContain('notes.txt is not a .py file');
    expect((await prefect('block register -m no_such_module')).stdout).toContain('Unable to load no_such_module.');
    await ssh(
      host,
      `printf 'from prefect.blocks.core import Block, SecretStr\\n\\nclass Pager(Block):\\n    key: SecretStr\\n' > ${project}/pager.py`,
    );
    const made = await prefect(`block register -f ${project}/pager.py`);
    expect([made.code, made.stdout.trim()]).toEqual([0, 'Successfully registered 1 block']);
    expect((await get('/block_types/slug/pager')).body).toMatchObject({ name: 'Pager', slug: 'pager', is_protected: false });
    // Again: the same schema (by checksum) is kept, not made twice.
    expect((await prefect(`block register -f ${project}/pager.py`)).code).toBe(0);
    const type = (await get('/block_types/slug/pager')).body as { id: string };
    expect(
      ((await post('/block_schemas/filter', { block_schemas: { block_type_id: { any_: [type.id] } } })).body as unknown[]).length,
    ).toBe(1);
  });

  it('keeps automations as Prefect 3.8.3 does: the server trigger’s rules, ids on triggers, a PUT that replaces, a PATCH of enabled only', async () => {
    const trigger = { type: 'event', posture: 'Proactive', expect: ['prefect.flow-run.Completed'], within: 600 };
    // The server's EventTrigger has no default posture (the client's does), and a Proactive window is at least 10 s.
    expect((await post('/automations/', { name: 'a', trigger: { type: 'event' }, actions: [] })).status).toBe(422);
    const short = await post('/automations/', { name: 'a', trigger: { ...trigger, within: 5 }, actions: [] });
    expect(short.status).toBe(422);
    expect(JSON.stringify(short.body)).toContain('`within` for Proactive triggers must be greater than or equal to 10 seconds');
    expect((await post('/automations/', { name: 'a', trigger, actions: [{ type: 'no-such-action' }] })).status).toBe(422);
    const made = await post('/automations/', { name: 'std-in', trigger, actions: [{ type: 'cancel-flow-run' }] });
    expect(made.status).toBe(201);
    const body = made.body as { id: string; trigger: { id: string; threshold: number }; enabled: boolean; description: string };
    expect([body.enabled, body.description, body.trigger.threshold, typeof body.trigger.id]).toEqual([true, '', 1, 'string']);
    expect((await send('PATCH', `/automations/${body.id}`, { enabled: false, name: 'x' })).status).toBe(422);
    expect((await send('PATCH', `/automations/${body.id}`, { enabled: false })).status).toBe(204);
    expect((await send('PUT', `/automations/${body.id}`, { name: 'std-in', trigger, actions: [] })).status).toBe(204);
    const replaced = (await get(`/automations/${body.id}`)).body as { enabled: boolean; actions: unknown[]; trigger: { id: string } };
    expect([replaced.enabled, replaced.actions, replaced.trigger.id === body.trigger.id]).toEqual([true, [], false]);
    expect((await send('DELETE', `/automations/${body.id}`)).status).toBe(204);
    expect(await get(`/automations/${body.id}`)).toEqual({ status: 404, body: { exception_message: 'Automation not found' } });
  });

  it('keeps global concurrency limits as Prefect 3.8.3 does: by name or id, non-negative numbers, 409 from the unique name, 404 with its words', async () => {
    expect((await post('/v2/concurrency_limits/', { name: 'std-db' })).status).toBe(422);
    expect((await post('/v2/concurrency_limits/', { name: 'std-db', limit: -1 })).status).toBe(422);
    expect((await post('/v2/concurrency_limits/', { name: 'a/b', limit: 1 })).status).toBe(422);
    expect((await post('/v2/concurrency_limits/', { name: 'std-db', limit: 1, colour: 'red' })).status).toBe(422);
    const made = await post('/v2/concurrency_limits/', { name: 'std-db', limit: 3 });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'std-db', limit: 3, active: true, active_slots: 0, denied_slots: 0, slot_decay_per_second: 0 });
    const again = await post('/v2/concurrency_limits/', { name: 'std-db', limit: 1 });
    expect([again.status, (again.body as { detail: string }).detail]).toEqual([409, expect.stringContaining('Data integrity conflict')]);
    // By id as by name; a PATCH changes only what it sends.
    expect((await send('PATCH', `/v2/concurrency_limits/${(made.body as { id: string }).id}`, { active: false })).status).toBe(204);
    expect((await get('/v2/concurrency_limits/std-db')).body).toMatchObject({ limit: 3, active: false });
    expect((await send('DELETE', '/v2/concurrency_limits/std-db')).status).toBe(204);
    const gone = await get('/v2/concurrency_limits/std-db');
    expect([gone.status, gone.body]).toEqual([404, { detail: 'Concurrency Limit not found' }]);
  });

  it('keeps work queues as Prefect 3.8.3 does: its name rule, positive priorities kept unique, 409, 404 with its words', async () => {
    const queues = '/work_pools/projections-local/queues';
    expect((await post(queues, { name: 'a/b' })).status).toBe(422);
    expect((await post(queues, { name: 'q0', priority: 0 })).status).toBe(422);
    expect((await post(queues, { name: 'q0', concurrency_limit: -1 })).status).toBe(422);
    expect((await post(queues, { name: 'q0', colour: 'red' })).status).toBe(422);
    expect((await post('/work_pools/no-such-pool/queues', { name: 'q0' })).status).toBe(404);
    // No priority: the first one not taken (the default queue holds 1).
    const made = await post(queues, { name: 'std-q1' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'std-q1', priority: 2, description: '', is_paused: false, concurrency_limit: null });
    expect((await post(queues, { name: 'std-q1' })).status).toBe(409);
    expect((await post(queues, { name: 'default' })).status).toBe(409);
    // Priority 1 taken by another queue: the others move up, their order kept.
    expect((await send('PATCH', `${queues}/std-q1`, { priority: 1 })).status).toBe(204);
    const order = ((await post(`${queues}/filter`, {})).body as { name: string; priority: number }[]).map((q) => [q.name, q.priority]);
    expect(order.slice(0, 2)).toEqual([
      ['std-q1', 1],
      ['default', 2],
    ]);
    // A PATCH changes only what it sends.
    expect((await send('PATCH', `${queues}/std-q1`, { concurrency_limit: 3 })).status).toBe(204);
    expect((await get(`${queues}/std-q1`)).body).toMatchObject({ priority: 1, concurrency_limit: 3, is_paused: false, active_slots: 0 });
    expect((await send('DELETE', `${queues}/std-q1`)).status).toBe(204);
    const gone = await get(`${queues}/std-q1`);
    expect([gone.status, gone.body]).toEqual([404, { detail: "Work pool queue 'projections-local/std-q1' not found." }]);
  });

  it('runs a worker that heartbeats to its pool and answers its healthcheck', async () => {
    await ssh(
      host,
      `sudo -n systemd-run --unit=pf-worker --uid=daniel -p WorkingDirectory=${project} -E PREFECT_API_URL=${api} ${venv}/bin/prefect worker start --pool projections-local --type process --limit 2 --with-healthcheck`,
    );
    await waitFor(async () => (await fetch(`http://${host.address}:8080/health`).catch(() => undefined))?.status === 200);
    expect(await (await fetch(`http://${host.address}:8080/health`)).json()).toEqual({ message: 'OK' });
    const workers = (await post('/work_pools/projections-local/workers/filter', {})).body as {
      status: string;
      last_heartbeat_time: string;
    }[];
    expect(workers).toHaveLength(1);
    expect(workers[0]!.status).toBe('ONLINE');
    expect(Date.now() - Date.parse(workers[0]!.last_heartbeat_time)).toBeLessThan(60_000);
    expect((await get('/work_pools/projections-local')).body).toMatchObject({ status: 'READY' });
  });

  it('keeps a record per worker name: an unnamed worker adds one per start, a named one keeps its own; DELETE as Prefect answers it', async () => {
    const names = async () =>
      ((await post('/work_pools/projections-local/workers/filter', {})).body as { name: string }[]).map((w) => w.name).sort();
    const start = (unit: string, name: string) =>
      ssh(
        host,
        `sudo -n systemd-run --unit=${unit} --uid=daniel -p WorkingDirectory=${project} -E PREFECT_API_URL=${api} -E PREFECT_WORKER_WEBSERVER_PORT=0 ${venv}/bin/prefect worker start --pool projections-local --type process ${name}`,
      );
    const stop = (unit: string) => ssh(host, `sudo -n systemctl stop ${unit}`);
    const before = await names();
    for (const n of [1, 2]) {
      await start(`pf-anon-${n}`, '');
      await waitFor(async () => (await names()).length === before.length + n);
      await stop(`pf-anon-${n}`);
    }
    const anonymous = (await names()).filter((n) => !before.includes(n));
    expect(anonymous.every((n) => /^ProcessWorker [0-9a-f-]{36}$/.test(n))).toBe(true);
    for (const n of [1, 2]) {
      await start(`pf-named-${n}`, '--name worker-x');
      await waitFor(async () => (await names()).includes('worker-x'));
      await stop(`pf-named-${n}`);
    }
    expect((await names()).filter((n) => n === 'worker-x')).toHaveLength(1);
    const worker = (n: string) => `/work_pools/projections-local/workers/${encodeURIComponent(n)}`;
    for (const n of [...anonymous, 'worker-x']) expect((await send('DELETE', worker(n))).status).toBe(204);
    expect(await send('DELETE', worker('worker-x'))).toEqual({ status: 404, body: { detail: 'Worker not found.' } });
    expect(await names()).toEqual(before);
  }, 60_000);

  it("answers 200 on /health with no server to reach, for PREFECT_WORKER_QUERY_SECONDS x 30, as the real worker's loop check does", async () => {
    await ssh(
      host,
      `sudo -n systemd-run --unit=pf-lonely --uid=daniel -E PREFECT_API_URL=http://127.0.0.1:9/api -E PREFECT_WORKER_WEBSERVER_PORT=8081 ${venv}/bin/prefect worker start --pool projections-local --type process --with-healthcheck`,
    );
    await waitFor(async () => (await fetch(`http://${host.address}:8081/health`).catch(() => undefined))?.status === 200);
    expect(await (await fetch(`http://${host.address}:8081/health`)).json()).toEqual({ message: 'OK' });
    expect((await ssh(host, 'systemctl is-active pf-lonely', { allowFailure: true })).stdout.trim()).toBe('active');
    await ssh(host, 'sudo -n systemctl stop pf-lonely');
  }, 30_000);

  it('fails like the real worker when the API is unreachable and no type is given', async () => {
    const run = await ssh(host, `PREFECT_API_URL=http://127.0.0.1:9/api ${venv}/bin/prefect worker start --pool projections-local`, {
      allowFailure: true,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Unable to reach the Prefect API to determine the type of work pool 'projections-local'");
  });

  it('keeps profiles.toml in the real format and honours PREFECT_PROFILE', async () => {
    expect((await prefect('profile create selfhost')).code).toBe(0);
    expect((await prefect('profile create selfhost')).stdout).toContain("Profile 'selfhost' already exists.");
    const set = await ssh(host, `PREFECT_PROFILE=selfhost ${venv}/bin/prefect config set PREFECT_API_URL=${api}`);
    expect(set.stdout).toContain(`Set 'PREFECT_API_URL' to '${api}'.\nUpdated profile 'selfhost'.`);
    expect((await ssh(host, 'cat ~/.prefect/profiles.toml')).stdout).toBe(
      `active = "ephemeral"\n\n[profiles.selfhost]\nPREFECT_API_URL = "${api}"\n`,
    );
    const viewed = await ssh(host, `PREFECT_PROFILE=selfhost ${venv}/bin/prefect config view --output json`);
    expect(JSON.parse(viewed.stdout)).toMatchObject({
      profile: 'selfhost',
      settings: [{ name: 'PREFECT_API_URL', value: api, source: 'profile' }],
    });
    const pools = await ssh(host, `PREFECT_PROFILE=selfhost ${venv}/bin/prefect work-pool ls --output json`);
    expect((JSON.parse(pools.stdout) as { name: string }[]).map((p) => p.name)).toContain('projections-local');
  });
});
