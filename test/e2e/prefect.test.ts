import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, reconcileWithEnv, repoSetup, workspace, type CliResult } from './helpers.js';

const api = (host: TestHost) => `http://${host.address}:4200/api`;
const getJson = async (url: string) => (await (await fetch(url)).json()) as Record<string, unknown>;
const deployment = (host: TestHost, flow: string, name: string) => getJson(`${api(host)}/deployments/name/${flow}/${name}`);

describe('Prefect-aware resources on a fresh host, with the Prefect stand-in', () => {
  const hosts = useTestHosts(1, 'pr');
  let host: TestHost;
  let dir: string;

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it('keeps another profile and a comment in profiles.toml', async () => {
    await ssh(
      host,
      `mkdir -p ~/.prefect && printf '%s\\n' '# written by hand' 'active = "local"' '' '[profiles.local]' 'PREFECT_API_URL = "http://127.0.0.1:4200/api"' > ~/.prefect/profiles.toml`,
    );
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain(`selfhost.PREFECT_API_URL: (none) -> ${api(host)}`);
  });

  it('goes from nothing to a healthy server, worker, pool and deployments in one apply', async () => {
    const applied = await reconcile(dir, 'apply');
    expect(applied.stdout).toContain('0 failed');
    expect(applied.code).toBe(0);
    // The server was down when the run began and is up now: nothing stale about it is printed.
    expect(applied.stdout).not.toContain('not answering');
    expect(applied.stdout).not.toMatch(/^\S+: !/m);
    expect(await (await fetch(`${api(host)}/health`)).json()).toBe(true);
    expect(await (await fetch(`http://${host.address}:8080/health`)).json()).toEqual({ message: 'OK' });
    const workers = (await (
      await fetch(`${api(host)}/work_pools/projections-local/workers/filter`, { method: 'POST', body: '{}' })
    ).json()) as { status: string }[];
    expect(workers.map((w) => w.status)).toContain('ONLINE');
    expect(await getJson(`${api(host)}/work_pools/projections-local`)).toMatchObject({ type: 'process', is_paused: false });
    for (const [flow, name] of [
      ['live-score', 'live-score'],
      ['build-projections', 'nightly-projections'],
    ]) {
      expect(await deployment(host, flow!, name!)).toMatchObject({ name, work_pool_name: 'projections-local' });
    }
    const profiles = (await ssh(host, 'cat ~/.prefect/profiles.toml; stat -c "%U %a" ~/.prefect/profiles.toml')).stdout;
    expect(profiles).toBe(
      `# written by hand\nactive = "local"\n\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n\n[profiles.selfhost]\nPREFECT_API_URL = "${api(host)}"\ndaniel 600\n`,
    );
  }, 180_000);

  it('then plans nothing, and the next apply runs no prefect command at all', async () => {
    const plan = await reconcileJson(dir, 'plan');
    expect(plan.code).toBe(0);
    expect(plan.hosts[0]!.actions).toEqual([]);
    const before = (await deployment(host, 'live-score', 'live-score')).updated;
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    // Two execs: the run lock and the fact script. Nothing else ran on the host.
    expect(applied.hosts[0]!.execs).toBe(2);
    expect((await deployment(host, 'live-score', 'live-score')).updated).toBe(before);
  });

  it('redeploys only the deployment whose schedule changed in prefect.yaml', async () => {
    await ssh(host, `sed -i 's|"\\*/5 \\* \\* \\* \\*"|"*/2 * * * *"|' ~/projects/projections-v2/prefect.yaml`);
    const text = await reconcile(dir, 'plan');
    expect(text.code).toBe(2);
    expect(text.stdout).toContain('live-score: schedule: cron "*/5 * * * *" America/New_York -> cron "*/2 * * * *" America/New_York');
    const planned = await reconcileJson(dir, 'plan');
    expect(planned.hosts[0]!.actions.map((a) => a.id)).toEqual(['deploy live-score']);
    const other = (await deployment(host, 'build-projections', 'nightly-projections')).updated;
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    const live = (await deployment(host, 'live-score', 'live-score')) as { schedules: { schedule: { cron: string } }[] };
    expect(live.schedules.map((s) => s.schedule.cron)).toEqual(['*/2 * * * *']);
    expect((await deployment(host, 'build-projections', 'nightly-projections')).updated).toBe(other);
    expect((await reconcile(dir, 'plan')).code).toBe(0);
  }, 60_000);

  it('rolls back a server unit that cannot start, and reports the journal', async () => {
    // Something else holds port 4300; the new unit moves the server there.
    await ssh(host, `sudo -n systemd-run --unit=squatter python3 -m http.server 4300 --bind ${host.address}`);
    const broken = repoSetup()
      .replace('--port {{ prefect_port }}', '--port 4300')
      .replace(
        'url: "http://{{ prefect_host }}:{{ prefect_port }}/api/health"\n      timeout: 90',
        'url: "http://{{ prefect_host }}:4300/api/health"\n      timeout: 8',
      );
    writeFileSync(join(dir, 'setup.yaml'), broken);
    const run = await reconcile(dir, 'apply');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('restart prefect-server.service FAILED');
    expect(run.stdout).toContain('rolled back: the previous version is in place again');
    expect(run.stdout).toContain('last journal lines of prefect-server.service:');
    expect(run.stdout).toContain('Port 4300 is already in use');
    expect((await ssh(host, 'cat /etc/systemd/system/prefect-server.service')).stdout).toContain('--port 4200');
    await waitFor(async () => (await fetch(`${api(host)}/health`).catch(() => undefined))?.status === 200);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
    const after = await reconcile(dir, 'plan');
    expect(after.stdout).toMatch(/no changes$/m);
    expect(after.code).toBe(0);
  }, 90_000);

  it('takes a setting `prefect config set` wrote under its current name as the one declared under its older name', async () => {
    const url = (port: number) => `http://${host.address}:${port}/api`;
    await ssh(
      host,
      `PREFECT_PROFILE=selfhost ~/projects/projections-v2/.venv/bin/prefect config set PREFECT_SERVER_UI_API_URL=${url(4200)}`,
    );
    const declaring = (port: number) =>
      repoSetup().replace(
        '      PREFECT_API_URL: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n',
        `      PREFECT_API_URL: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n      PREFECT_UI_API_URL: "${url(port)}"\n`,
      );
    writeFileSync(join(dir, 'setup.yaml'), declaring(4200));
    const same = await reconcileJson(dir, 'plan');
    expect(same.hosts[0]!.actions).toEqual([]);
    writeFileSync(join(dir, 'setup.yaml'), declaring(4300));
    const changed = await reconcileJson(dir, 'plan');
    expect(changed.hosts[0]!.actions.flatMap((a) => a.fields)).toEqual([
      { field: 'selfhost.PREFECT_UI_API_URL', before: url(4200), after: url(4300) },
    ]);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    const profile = (await ssh(host, 'cat ~/.prefect/profiles.toml')).stdout;
    expect(profile.match(/UI_API_URL/g)).toHaveLength(1);
    expect(profile).toContain(`PREFECT_SERVER_UI_API_URL = "${url(4300)}"`);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 60_000);

  it('restarts the server and the worker when their profile changes: a running process reads it only at start', async () => {
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    const pids = async () =>
      (await ssh(host, 'systemctl show -p MainPID --value prefect-server prefect-worker')).stdout.split('\n').filter(Boolean);
    const before = await pids();
    writeFileSync(
      join(dir, 'setup.yaml'),
      repoSetup().replace(
        '      PREFECT_API_URL: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n',
        '      PREFECT_API_URL: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n      PREFECT_LOGGING_LEVEL: DEBUG\n',
      ),
    );
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain('↻ restart prefect-server.service (prefect_profile:daniel:selfhost changed)');
    expect(plan.stdout).toContain('↻ restart prefect-worker.service (prefect_profile:daniel:selfhost changed)');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    const after = await pids();
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect((await ssh(host, 'grep PREFECT_LOGGING_LEVEL ~/.prefect/profiles.toml')).stdout).toContain('DEBUG');
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);
  it('a prefect_variable: created, then in sync; changed on the server and put back; changed in the spec and applied', async () => {
    const url = `${api(host)}/variables/name/default_league`;
    const withVariable = (tags: string) =>
      `${repoSetup()}  - kind: prefect_variable
    variable: default_league
    value: { league: nba, seasons: [2024, 2025] }
    tags: ${tags}
    api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"
    after: [prefect-server.service]
`;
    writeFileSync(join(dir, 'setup.yaml'), withVariable('[projections]'));
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain('+ variable default_league');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await getJson(url)).toMatchObject({
      name: 'default_league',
      value: { league: 'nba', seasons: [2024, 2025] },
      tags: ['projections'],
    });
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // Changed by hand on the server (key order aside, the value differs): check names it, apply puts it back.
    const patched = await fetch(url, { method: 'PATCH', body: JSON.stringify({ value: { seasons: [2024], league: 'nba' } }) });
    expect(patched.status).toBe(204);
    const drift = await reconcile(dir, 'check');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('~ variable default_league');
    expect(drift.stdout).toContain('value:');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await getJson(url)).value).toEqual({ league: 'nba', seasons: [2024, 2025] });

    // Changed in the spec: only the tags travel.
    writeFileSync(join(dir, 'setup.yaml'), withVariable('[projections, nightly]'));
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    expect(applied.hosts[0]!.done).toEqual(['prefect_variable:default_league']);
    expect((await getJson(url)).tags).toEqual(['projections', 'nightly']);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);

  it('a prefect_concurrency_limit: created, then in sync; deactivated by hand and put back; its limit changed in the spec', async () => {
    const url = `${api(host)}/v2/concurrency_limits/database`;
    const withLimit = (limit: number) =>
      `${repoSetup()}  - kind: prefect_concurrency_limit
    concurrency_limit: database
    limit: ${limit}
    slot_decay_per_second: 0.5
    api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"
    after: [prefect-server.service]
`;
    writeFileSync(join(dir, 'setup.yaml'), withLimit(4));
    expect((await reconcile(dir, 'plan')).stdout).toContain('+ concurrency limit database');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await getJson(url)).toMatchObject({ name: 'database', limit: 4, active: true, slot_decay_per_second: 0.5 });
    expect((await reconcile(dir, 'check')).code).toBe(0);
    expect((await fetch(url, { method: 'PATCH', body: JSON.stringify({ active: false }) })).status).toBe(204);
    const drift = await reconcile(dir, 'check');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('active: false -> true');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await getJson(url)).active).toBe(true);
    writeFileSync(join(dir, 'setup.yaml'), withLimit(6));
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.hosts[0]!.done).toEqual(['prefect_concurrency_limit:database']);
    expect((await getJson(url)).limit).toBe(6);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);

  it('a prefect_work_queue: created in its pool after the pool, then in sync; changed on the server and put back', async () => {
    const url = `${api(host)}/work_pools/projections-local/queues/urgent`;
    const withQueue = (limit: number) =>
      `${repoSetup()}  - kind: prefect_work_queue
    queue: urgent
    pool: projections-local
    priority: 1
    concurrency_limit: ${limit}
    description: runs that cannot wait
    api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"
    after: [prefect-server.service]
`;
    writeFileSync(join(dir, 'setup.yaml'), withQueue(2));
    expect((await reconcile(dir, 'plan')).stdout).toContain('+ work queue projections-local/urgent');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await getJson(url)).toMatchObject({
      name: 'urgent',
      priority: 1,
      concurrency_limit: 2,
      is_paused: false,
      description: 'runs that cannot wait',
    });
    // Prefect keeps priorities unique: the pool's default queue made way.
    const queues = (await (
      await fetch(`${api(host)}/work_pools/projections-local/queues/filter`, { method: 'POST', body: '{}' })
    ).json()) as {
      name: string;
      priority: number;
    }[];
    expect(queues.map((q) => [q.name, q.priority])).toEqual([
      ['urgent', 1],
      ['default', 2],
    ]);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // Paused by hand on the server: check names it, apply puts it back.
    expect((await fetch(url, { method: 'PATCH', body: JSON.stringify({ is_paused: true }) })).status).toBe(204);
    const drift = await reconcile(dir, 'check');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('~ work queue projections-local/urgent');
    expect(drift.stdout).toContain('is_paused: true -> false');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await getJson(url)).is_paused).toBe(false);

    // Changed in the spec: only the limit travels.
    writeFileSync(join(dir, 'setup.yaml'), withQueue(5));
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    expect(applied.hosts[0]!.done).toEqual(['prefect_work_queue:projections-local/urgent']);
    expect((await getJson(url)).concurrency_limit).toBe(5);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);

  it('a prefect_block: a Secret and a webhook created from secrets:, compared by value, never shown; refused in clear; pruned', async () => {
    const KEY = 'sk-live-block-4242';
    const HOOK = 'https://hooks.example.com/T000/B000/XXXX';
    const url = `${api(host)}/block_types/slug/secret/block_documents/name/projections-api-key?include_secrets=true`;
    writeFileSync(join(dir, 'api-key'), `${KEY}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'hook-url'), `${HOOK}\n`, { mode: 0o600 });
    const server = 'api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n    after: [prefect-server.service]';
    const withBlocks = (method: string, extra = '') =>
      `${repoSetup()}  - kind: prefect_block
    block_type: secret
    block: projections-api-key
    data: { value: "{{ api_key }}" }
    ${server}
  - kind: prefect_block
    block_type: webhook
    block: alerts
    data: { url: "{{ hook_url }}", method: ${method} }
    ${server}
${extra}secrets:
  api_key: { file: ./api-key }
  hook_url: { file: ./hook-url }
`;
    const shown = (run: CliResult) => run.stdout + run.stderr;
    // Run records and metrics go to a state directory of this test's own, grepped at the end.
    const state = join(dir, 'block-state');
    const run = (...args: string[]) => reconcileWithEnv({}, dir, ...args, '--state-dir', state);
    const outputs: CliResult[] = [];
    writeFileSync(join(dir, 'setup.yaml'), withBlocks('PUT'));
    const plan = await run('plan', '-o', 'blocks.plan.json');
    expect(plan.stdout).toContain('+ secret block projections-api-key');
    expect(plan.stdout).toContain('+ webhook block alerts');
    expect(plan.stdout).toContain('value: (none) -> [hidden]');
    for (const secret of [KEY, HOOK]) {
      expect(shown(plan)).not.toContain(secret);
      expect(readFileSync(join(dir, 'blocks.plan.json'), 'utf8')).not.toContain(secret);
    }
    const applied = await run('apply');
    expect(applied.code, shown(applied)).toBe(0);
    expect((await getJson(url)).data).toEqual({ value: KEY });
    const alerts = await getJson(`${api(host)}/block_types/slug/webhook/block_documents/name/alerts?include_secrets=true`);
    expect(alerts.data).toEqual({ url: HOOK, method: 'PUT' });
    // Read without include_secrets, the server hides them itself: reconcile reads with them, to compare by value.
    expect((await getJson(url.replace('?include_secrets=true', ''))).data).toEqual({ value: '********' });
    expect((await run('check', '--metrics-file', join(state, 'metrics.prom'))).code).toBe(0);

    // Changed by hand on the server: named, never shown, put back.
    const id = (await getJson(url)).id as string;
    expect(
      (await fetch(`${api(host)}/block_documents/${id}`, { method: 'PATCH', body: JSON.stringify({ data: { value: 'typed-by-hand' } }) }))
        .status,
    ).toBe(204);
    const drift = await run('check');
    const driftJson = await run('check', '--json');
    outputs.push(plan, applied, drift, driftJson);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('~ secret block projections-api-key');
    expect(drift.stdout).toContain('value: [hidden] -> [hidden]');
    for (const run of [drift, driftJson]) for (const secret of [KEY, HOOK, 'typed-by-hand']) expect(shown(run)).not.toContain(secret);
    const repaired = await run('apply');
    outputs.push(repaired);
    expect(repaired.code).toBe(0);
    expect((await getJson(url)).data).toEqual({ value: KEY });
    const stored = readdirSync(state, { recursive: true, encoding: 'utf8' })
      .map((name) => join(state, name))
      .filter((path) => statSync(path).isFile())
      .map((path) => readFileSync(path, 'utf8'));
    expect(stored.length).toBeGreaterThan(1);
    for (const text of [...stored, ...outputs.map(shown)])
      for (const secret of [KEY, HOOK, 'typed-by-hand']) expect(text).not.toContain(secret);

    // A plain field changed in the spec travels alone, shown; the secret one stays as it is.
    writeFileSync(join(dir, 'setup.yaml'), withBlocks('POST'));
    const changed = await reconcileJson(dir, 'apply');
    expect(changed.code).toBe(0);
    expect(changed.hosts[0]!.done).toEqual(['prefect_block:webhook/alerts']);
    expect(changed.hosts[0]!.actions[0]!.fields).toEqual([{ field: 'method', before: '"PUT"', after: '"POST"' }]);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // What Prefect's client would refuse, and a secret field in clear, are problems before anything is sent.
    writeFileSync(
      join(dir, 'setup.yaml'),
      withBlocks(
        'POST',
        `  - kind: prefect_block
    block_type: secret
    block: in-clear
    data: { value: typed-into-setup, note: x }
    ${server}
  - kind: prefect_block
    block_type: aws-credentials
    block: aws
    data: { region_name: eu-west-1 }
    ${server}
`,
      ),
    );
    const refused = await reconcileJson(dir, 'check');
    expect(refused.hosts[0]!.problems).toEqual([
      "prefect_block:secret/in-clear: a secret block has no field 'note' (its fields: value)",
      "prefect_block:secret/in-clear: 'value' is a secret field of a secret block: give its value from secrets: ({{ NAME }}), not in setup.yaml",
      "prefect_block:aws-credentials/aws: block type 'aws-credentials' is not registered on the server: register it with `prefect block register -m MODULE` (the module that defines it, e.g. prefect_aws), or give the block register: {venv, user, module} and apply does it",
    ]);

    // prune: a Secret block made by hand goes; the declared ones stay.
    const type = await getJson(`${api(host)}/block_types/slug/secret`);
    const [schema] = (await (
      await fetch(`${api(host)}/block_schemas/filter`, {
        method: 'POST',
        body: JSON.stringify({ block_schemas: { block_type_id: { any_: [type.id] } } }),
      })
    ).json()) as { id: string }[];
    const byHand = await fetch(`${api(host)}/block_documents/`, {
      method: 'POST',
      body: JSON.stringify({ name: 'by-hand', block_type_id: type.id, block_schema_id: schema!.id, data: { value: 'x' } }),
    });
    expect(byHand.status).toBe(201);
    writeFileSync(
      join(dir, 'setup.yaml'),
      withBlocks('POST').replace('block: projections-api-key', 'block: projections-api-key\n    prune: true'),
    );
    const pruned = await reconcileJson(dir, 'apply');
    expect(pruned.code).toBe(0);
    expect(pruned.hosts[0]!.done).toEqual(['remove secret block by-hand']);
    const secrets = (await (
      await fetch(`${api(host)}/block_documents/filter`, {
        method: 'POST',
        body: JSON.stringify({ block_types: { slug: { any_: ['secret'] } } }),
      })
    ).json()) as { name: string }[];
    expect(secrets.map((b) => b.name)).toEqual(['projections-api-key']);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);

  it('a prefect_block of a type the server lacks: registered as prefect block register does, then made, in one apply', async () => {
    const TOKEN = 'tk-register-9191';
    await ssh(host, 'cat > /home/daniel/projects/projections-v2/ticketing_blocks.py', {
      input:
        'from prefect.blocks.core import Block, SecretStr\n\n\nclass Ticketing(Block):\n    url: str\n    token: SecretStr\n    project: str = "OPS"\n',
    });
    writeFileSync(join(dir, 'ticket-token'), `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'setup.yaml'),
      `${repoSetup()}  - kind: prefect_block
    block_type: ticketing
    block: ops-tickets
    data: { url: https://tickets.example.com, token: "{{ ticket_token }}" }
    register:
      venv: /home/daniel/projects/projections-v2/.venv
      user: daniel
      file: /home/daniel/projects/projections-v2/ticketing_blocks.py
    api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"
    after: [prefect-server.service]
secrets:
  ticket_token: { file: ./ticket-token }
`,
    );
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain('+ ticketing block ops-tickets (block type ticketing is not registered)');
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts[0])).toBe(0);
    expect(JSON.stringify(applied)).not.toContain(TOKEN);
    const type = await getJson(`${api(host)}/block_types/slug/ticketing`);
    expect(type.name).toBe('Ticketing');
    const block = await getJson(`${api(host)}/block_types/slug/ticketing/block_documents/name/ops-tickets?include_secrets=true`);
    expect(block.data).toEqual({ url: 'https://tickets.example.com', token: TOKEN });
    expect((block.block_schema as { fields: { secret_fields: string[] } }).fields.secret_fields).toEqual(['token']);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);

  it('a prefect_automation: created with the client’s defaults, in sync, disabled by hand and put back, replaced when the spec changes, pruned', async () => {
    const server = 'api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n    after: [prefect-server.service]';
    const withAutomation = (within: string, enabled = true) =>
      `${repoSetup()}  - kind: prefect_automation
    automation: cancel-hung-runs
    description: Cancel a flow run that stays running
    enabled: ${enabled}
    trigger:
      type: event
      match: { prefect.resource.id: prefect.flow-run.* }
      after: [prefect.flow-run.Running]
      expect: [prefect.flow-run.Completed, prefect.flow-run.Failed, prefect.flow-run.Crashed]
      for_each: [prefect.resource.id]
      posture: Proactive
      within: ${within}
    actions:
      - type: cancel-flow-run
    ${server}
`;
    const all = async () =>
      (await (await fetch(`${api(host)}/automations/filter`, { method: 'POST', body: '{}' })).json()) as Record<string, unknown>[];
    writeFileSync(join(dir, 'setup.yaml'), withAutomation('PT1H'));
    expect((await reconcile(dir, 'plan')).stdout).toContain('+ automation cancel-hung-runs');
    const created = await reconcile(dir, 'apply');
    expect(created.code, created.stdout).toBe(0);
    const [made] = await all();
    expect(made).toMatchObject({ name: 'cancel-hung-runs', enabled: true, trigger: { posture: 'Proactive', within: 3600, threshold: 1 } });
    // The server keeps its sets in its own order: not drift.
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // Disabled by hand: check names it, apply enables it again (a PATCH, the automation kept).
    expect((await fetch(`${api(host)}/automations/${made!.id as string}`, { method: 'PATCH', body: '{"enabled": false}' })).status).toBe(
      204,
    );
    const drift = await reconcile(dir, 'check');
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('~ automation cancel-hung-runs');
    expect(drift.stdout).toContain('enabled: false -> true');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await all()).map((a) => [a.id, a.enabled])).toEqual([[made!.id, true]]);

    // The trigger changed in the spec: replaced whole, same automation.
    writeFileSync(join(dir, 'setup.yaml'), withAutomation('1800'));
    const replaced = await reconcileJson(dir, 'apply');
    expect(replaced.code).toBe(0);
    expect(replaced.hosts[0]!.actions[0]!.fields.map((f) => f.field)).toEqual(['trigger']);
    expect((await all()).map((a) => [a.id, (a.trigger as { within: number }).within])).toEqual([[made!.id, 1800]]);
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // What the server refuses is Prefect's own words, and the rest of the host goes on.
    writeFileSync(join(dir, 'setup.yaml'), withAutomation('5'));
    const refused = await reconcile(dir, 'apply');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('`within` for Proactive triggers must be greater than or equal to 10 seconds');

    // prune: one made by hand goes; one that runs a deployment (what prefect.yaml triggers make) stays.
    const post = (body: unknown) => fetch(`${api(host)}/automations/`, { method: 'POST', body: JSON.stringify(body) });
    const trigger = { type: 'event', posture: 'Reactive', expect: ['prefect.flow-run.Failed'] };
    expect((await post({ name: 'by-hand', trigger, actions: [{ type: 'cancel-flow-run' }] })).status).toBe(201);
    const runs = { type: 'run-deployment', deployment_id: (await deployment(host, 'live-score', 'live-score')).id };
    expect((await post({ name: 'rerun-live-score', trigger, actions: [runs] })).status).toBe(201);
    writeFileSync(
      join(dir, 'setup.yaml'),
      withAutomation('1800').replace('automation: cancel-hung-runs', 'automation: cancel-hung-runs\n    prune: true'),
    );
    const pruned = await reconcileJson(dir, 'apply');
    expect(pruned.code).toBe(0);
    expect(pruned.hosts[0]!.done).toEqual(['remove automation by-hand']);
    expect((await all()).map((a) => a.name).sort()).toEqual(['cancel-hung-runs', 'rerun-live-score']);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);

  it('prune: true removes the objects of its kind no resource declares, each named in the plan, the pool’s default queue kept', async () => {
    const post = (path: string, body: unknown) => fetch(`${api(host)}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const names = async (path: string) => ((await (await post(path, {})).json()) as { name: string }[]).map((o) => o.name).sort();
    expect((await post('/variables/', { name: 'made_by_hand', value: 1 })).status).toBe(201);
    expect((await post('/v2/concurrency_limits/', { name: 'by-hand', limit: 1 })).status).toBe(201);
    expect((await post('/work_pools/projections-local/queues', { name: 'by-hand' })).status).toBe(201);
    const server = 'api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n    after: [prefect-server.service]';
    writeFileSync(
      join(dir, 'setup.yaml'),
      `${repoSetup()}  - kind: prefect_variable
    variable: kept_one
    value: 1
    ${server}
  - kind: prefect_variable
    variable: kept_two
    value: 2
    prune: true
    ${server}
  - kind: prefect_concurrency_limit
    concurrency_limit: database
    limit: 6
    prune: true
    ${server}
  - kind: prefect_work_queue
    queue: urgent
    pool: projections-local
    prune: true
    ${server}
`,
    );
    const removals = (await reconcileJson(dir, 'plan')).hosts[0]!.actions.filter((a) => a.verb === 'remove').map((a) => a.id);
    const strayVariables = (await names('/variables/filter')).filter((n) => !['kept_one', 'kept_two'].includes(n));
    expect(strayVariables).toContain('made_by_hand');
    expect(removals.sort()).toEqual(
      [...strayVariables.map((n) => `remove variable ${n}`), 'remove concurrency limit by-hand', 'remove work queue by-hand'].sort(),
    );
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts[0])).toBe(0);
    expect(await names('/variables/filter')).toEqual(['kept_one', 'kept_two']);
    expect(await names('/v2/concurrency_limits/filter')).toEqual(['database']);
    expect(await names('/work_pools/projections-local/queues/filter')).toEqual(['default', 'urgent']);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 120_000);
});

describe('a fresh host whose prefect.yaml reads a variable and a block the setup declares', () => {
  const hosts = useTestHosts(1, 'pv');
  let host: TestHost;
  let dir: string;

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it('a prefect.yaml that reads a variable and a block it declares deploys in one apply on a fresh host: they are made first', async () => {
    const KEY = 'sk-deploy-7373';
    const project = '/home/daniel/projects/projections-v2/prefect.yaml';
    const original = (await ssh(host, `cat ${project}`)).stdout;
    const reading = original.replace(
      '          PROJECTIONS_DATA: /home/daniel/projections-data\n',
      '          PROJECTIONS_DATA: /home/daniel/projections-data\n          REGION: "{{ prefect.variables.deploy_region }}"\n          DEPLOY_KEY: "{{ prefect.blocks.secret.deploy-key }}"\n',
    );
    expect(reading).not.toBe(original);
    await ssh(host, `cat > ${project}`, { input: reading });
    writeFileSync(join(dir, 'deploy-key'), `${KEY}\n`, { mode: 0o600 });
    const server = 'api_url: "http://{{ prefect_host }}:{{ prefect_port }}/api"\n    after: [prefect-server.service]';
    writeFileSync(
      join(dir, 'setup.yaml'),
      `${repoSetup()}  - kind: prefect_variable
    variable: deploy_region
    value: eu-west-1
    ${server}
  - kind: prefect_block
    block_type: secret
    block: deploy-key
    data: { value: "{{ deploy_key }}" }
    ${server}
secrets:
  deploy_key: { file: ./deploy-key }
`,
    );
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code, JSON.stringify(applied.hosts[0])).toBe(0);
    const done = applied.hosts[0]!.done ?? [];
    // The same apply brought the server up: nothing of this was there before.
    expect(done).toContain('start prefect-server.service');
    expect(done.indexOf('deploy nightly-projections')).toBeGreaterThan(done.indexOf('prefect_variable:deploy_region'));
    expect(done.indexOf('deploy nightly-projections')).toBeGreaterThan(done.indexOf('prefect_block:secret/deploy-key'));
    expect(JSON.stringify(applied)).not.toContain(KEY);
    const nightly = await deployment(host, 'build-projections', 'nightly-projections');
    expect((nightly.job_variables as { env: Record<string, string> }).env).toMatchObject({ REGION: 'eu-west-1', DEPLOY_KEY: KEY });
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // The variable changed in the spec: it is updated, and the deployment that reads it redeployed, in one apply.
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    writeFileSync(join(dir, 'setup.yaml'), setup.replace('value: eu-west-1', 'value: eu-central-1'));
    const moved = await reconcileJson(dir, 'apply');
    expect(moved.code, JSON.stringify(moved.hosts[0])).toBe(0);
    expect(moved.hosts[0]!.done).toEqual(['prefect_variable:deploy_region', 'deploy nightly-projections']);
    const region = async () =>
      ((await deployment(host, 'build-projections', 'nightly-projections')).job_variables as { env: Record<string, string> }).env.REGION;
    expect(await region()).toBe('eu-central-1');
    expect((await reconcile(dir, 'check')).code).toBe(0);

    // A block the file reads that is not on the server: the redeploy fails with Prefect's reason, named, no crash.
    await ssh(host, `cat > ${project}`, {
      input: reading.replace('prefect.blocks.secret.deploy-key', 'prefect.blocks.secret.missing-key'),
    });
    writeFileSync(join(dir, 'setup.yaml'), setup.replace('value: eu-west-1', 'value: us-east-1'));
    const missing = await reconcile(dir, 'apply');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("Block not found: 'missing-key' of type 'secret'");
    expect(missing.stdout + missing.stderr).not.toMatch(/^\s+at /m);
    expect(missing.stdout).not.toContain(KEY);

    await ssh(host, `cat > ${project}`, { input: original });
    await fetch(`${api(host)}/deployments/${nightly.id as string}`, { method: 'DELETE' });
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
    expect((await reconcile(dir, 'apply')).code).toBe(0);
  }, 120_000);
});
