import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

const project = '/home/daniel/projects/projections-v2';
const venv = `${project}/.venv`;
const SECRET = 'sk-import-5151';
const HOOK = 'https://hooks.example.com/import';

/** The seed's two units, written by hand as its wiki page says, not by reconcile. */
const unit = (description: string, exec: string, extra = '') => `[Unit]
Description=${description}
After=network-online.target${extra}

[Service]
Type=simple
User=daniel
WorkingDirectory=${project}
Environment=PREFECT_PROFILE=selfhost
ExecStart=${venv}/bin/prefect ${exec}
Restart=always

[Install]
WantedBy=multi-user.target
`;

describe('reconcile import: a host set up by hand becomes a spec that is in sync', () => {
  const hosts = useTestHosts(1, 'im');
  let host: TestHost;
  let dir: string;
  let api: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return (text ? JSON.parse(text) : null) as Record<string, unknown>;
  };

  beforeAll(async () => {
    host = hosts[0]!;
    dir = workspace(hosts);
    api = `http://${host.address}:4200/api`;
    // By hand, with Prefect's own CLI and API (the stand-in's), as the seed's wiki page does it.
    await ssh(host, 'sudo -n apt-get -qq update && sudo -n DEBIAN_FRONTEND=noninteractive apt-get -qq -y install python3-venv >/dev/null');
    await ssh(host, `python3 -m venv ${venv} && ${venv}/bin/pip install -q prefect==3.8.3`);
    await ssh(
      host,
      `${venv}/bin/prefect profile create selfhost && ${venv}/bin/prefect --profile selfhost config set PREFECT_API_URL=${api} PREFECT_API_KEY=${SECRET}`,
    );
    await ssh(host, 'sudo -n tee /etc/systemd/system/prefect-server.service >/dev/null', {
      input: unit('Prefect Server', `server start --host ${host.address} --port 4200`),
    });
    await ssh(host, 'sudo -n tee /etc/systemd/system/prefect-worker.service >/dev/null', {
      input: unit('Prefect Worker', 'worker start --pool projections-local --type process', ' prefect-server.service'),
    });
    await ssh(host, 'sudo -n systemctl daemon-reload && sudo -n systemctl enable --now prefect-server.service');
    await waitFor(async () => (await fetch(`${api}/health`).catch(() => undefined))?.ok === true, 60_000);
    await ssh(host, `PREFECT_PROFILE=selfhost ${venv}/bin/prefect work-pool create projections-local --type process`);
    await ssh(host, 'sudo -n systemctl enable --now prefect-worker.service');
    await call('POST', '/work_pools/projections-local/queues', { name: 'urgent', priority: 1, concurrency_limit: 2 });
    await call('POST', '/variables/', { name: 'default_league', value: { league: 'nba' }, tags: ['projections'] });
    await call('POST', '/v2/concurrency_limits/', { name: 'database', limit: 4 });
    const secretType = await call('GET', '/block_types/slug/secret');
    const webhookType = await call('GET', '/block_types/slug/webhook');
    const schemaOf = async (type: Record<string, unknown>) =>
      (
        (await call('POST', '/block_schemas/filter', { block_schemas: { block_type_id: { any_: [type.id] } }, limit: 1 })) as unknown as {
          id: string;
        }[]
      )[0]!.id;
    await call('POST', '/block_documents/', {
      name: 'projections-api-key',
      block_type_id: secretType.id,
      block_schema_id: await schemaOf(secretType),
      data: { value: SECRET },
    });
    await call('POST', '/block_documents/', {
      name: 'alerts',
      block_type_id: webhookType.id,
      block_schema_id: await schemaOf(webhookType),
      data: { url: HOOK, method: 'PUT', headers: { 'X-Token': SECRET } },
    });
    await call('POST', '/automations/', {
      name: 'cancel-hung-runs',
      trigger: {
        type: 'event',
        posture: 'Proactive',
        expect: ['prefect.flow-run.Completed'],
        after: ['prefect.flow-run.Running'],
        within: 3600,
      },
      actions: [{ type: 'cancel-flow-run' }],
    });
    const deployed = await ssh(host, `cd ${project} && PREFECT_PROFILE=selfhost ${venv}/bin/prefect --no-prompt deploy --all`, {
      allowFailure: true,
    });
    expect(deployed.code, deployed.stdout).toBe(0);
  }, 240_000);

  it('writes a setup.yaml and hosts.yaml that validate, with every secret a reference to fill in, never a value', async () => {
    const imported = await reconcile(dir, 'import', '--host', host.name, '--out', 'imported');
    expect(imported.code, imported.stdout + imported.stderr).toBe(0);
    expect(imported.stdout).toContain('fill in');
    const out = join(dir, 'imported');
    const setupText = readFileSync(join(out, 'setup.yaml'), 'utf8');
    for (const text of [setupText, readFileSync(join(out, 'hosts.yaml'), 'utf8'), imported.stdout]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(HOOK);
    }
    // Plain YAML a person edits: no anchors where resources share a value.
    expect(setupText).not.toMatch(/[&*]a\d/);
    const setup = parse(setupText) as { resources: { kind: string }[]; secrets: Record<string, unknown> };
    expect(setup.resources.map((r) => r.kind).sort()).toEqual(
      [
        'package',
        'python_venv',
        'prefect_profile',
        'systemd_service',
        'systemd_service',
        'prefect_work_pool',
        'prefect_work_queue',
        'prefect_variable',
        'prefect_block',
        'prefect_block',
        'prefect_concurrency_limit',
        'prefect_automation',
        'prefect_deployments',
      ].sort(),
    );
    expect(Object.keys(setup.secrets).sort()).toEqual([
      'alerts_headers_x_token',
      'alerts_url',
      'projections_api_key_value',
      'selfhost_prefect_api_key',
    ]);
    const validated = await reconcile(out, 'validate');
    expect(validated.code, validated.stdout + validated.stderr).toBe(0);
    // Refuses to write over what it wrote.
    expect((await reconcile(dir, 'import', '--host', host.name, '--out', 'imported')).code).toBe(1);
  }, 60_000);

  it('is in sync at once, once the secrets are filled in; and a change on the host is drift of the imported spec', async () => {
    const out = join(dir, 'imported');
    mkdirSync(join(out, 'secrets'), { mode: 0o700 });
    for (const [name, value] of Object.entries({
      alerts_headers_x_token: SECRET,
      alerts_url: HOOK,
      projections_api_key_value: SECRET,
      selfhost_prefect_api_key: SECRET,
    }))
      writeFileSync(join(out, 'secrets', name), `${value}\n`, { mode: 0o600 });
    const check = await reconcileJson(out, 'check');
    expect(check.code, JSON.stringify(check.hosts[0])).toBe(0);
    await call('PATCH', '/variables/name/default_league', { value: { league: 'nhl' } });
    const drift = await reconcileJson(out, 'check');
    expect(drift.code).toBe(2);
    expect(drift.hosts[0]!.actions.map((a) => a.id)).toEqual(['prefect_variable:default_league']);
  }, 60_000);
});
