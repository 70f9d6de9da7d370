import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

const venv = '/home/daniel/prefect-venv';

/**
 * A Prefect server whose SQLite database is busy, as under a fleet's load: the stand-in's switch makes
 * every Nth write answer 503 "Service Unavailable", as a write that met "database is locked" does.
 */
const setup = (host: TestHost, lockedEvery: number, variables: Record<string, number>) => `resources:
  - kind: package
    packages: [python3-venv]
  - kind: python_venv
    path: ${venv}
    owner: daniel
    packages: [prefect==3.8.3]
    notifies: [prefect-server.service]
  - kind: systemd_service
    unit: prefect-server.service
    health:
      url: http://${host.address}:4200/api/health
      timeout: 60
    content: |
      [Service]
      User=daniel
      Environment=PREFECT_STANDIN_LOCKED_EVERY=${lockedEvery}
      ExecStart=${venv}/bin/prefect server start --host ${host.address} --port 4200
      [Install]
      WantedBy=multi-user.target
  - kind: prefect_work_pool
    pool: busy-pool
    type: process
    api_url: http://${host.address}:4200/api
    after: [prefect-server.service]
${Object.entries(variables)
  .map(
    ([name, value]) =>
      `  - kind: prefect_variable\n    variable: ${name}\n    value: ${value}\n    api_url: http://${host.address}:4200/api\n    after: [prefect-server.service]\n`,
  )
  .join('')}`;

describe('a Prefect server that answers 503 to some writes (SQLite busy)', () => {
  const hosts = useTestHosts(1, 'bz');
  let host: TestHost;
  let dir: string;
  const variables = { v_one: 1, v_two: 2, v_three: 3, v_four: 4, v_five: 5 };
  const lockedLines = async () =>
    Number((await ssh(host, 'journalctl -u prefect-server.service -o cat | grep -c "database is locked" || true')).stdout.trim());

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it('every other write refused: apply retries each, as Prefect’s own client does, and converges', async () => {
    writeFileSync(join(dir, 'setup.yaml'), setup(host, 2, variables));
    const applied = await reconcile(dir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    // The server did refuse writes: the retries are what made the apply converge.
    expect(await lockedLines()).toBeGreaterThanOrEqual(3);
    const api = `http://${host.address}:4200/api`;
    for (const [name, value] of Object.entries(variables)) {
      expect(((await (await fetch(`${api}/variables/name/${name}`)).json()) as { value: unknown }).value).toBe(value);
    }
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 240_000);

  it('every write refused: apply gives up after its bounded tries and says so, exit 1', async () => {
    writeFileSync(join(dir, 'setup.yaml'), setup(host, 1, { ...variables, v_six: 6 }));
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(1);
    expect(applied.hosts[0]!.error).toMatch(
      /HTTP 503 \{"exception_message":"Service Unavailable"\} \(the server was busy: asked 6 times over [\d.]+ s, as Prefect's own client does, then gave up\)/,
    );
  }, 240_000);
});
