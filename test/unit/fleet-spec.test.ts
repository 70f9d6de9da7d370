import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadSelectedSpec } from '../../src/cli/load-spec.js';
import { formatDiagnostic, SpecError } from '../../src/model/diagnostic.js';
import { loadSpec } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-spec-'));

/** Problems of a hosts.yaml and setup.yaml pair, as FILE:LINE:COL: message with the directory left out. */
async function problems(hosts: string, setup: string): Promise<string[]> {
  writeFileSync(join(dir, 'hosts.yaml'), hosts);
  writeFileSync(join(dir, 'setup.yaml'), setup);
  try {
    await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
    return [];
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.diagnostics.map((d) => formatDiagnostic(d).replace(`${dir}/`, ''));
  }
}

const HOSTS = `hosts:
  prefect-server:
    address: 10.0.0.10
    vars: { tier: host }
  worker-1:
    address: 10.0.0.11
  worker-2:
    address: 10.0.0.12
groups:
  server: [prefect-server]
  workers: [worker-1, worker-2]
  everything: [server, workers]
group_vars:
  everything: { tier: fleet, region: eu }
  workers: { tier: worker }
`;
const directory = (extra = '') => `resources:\n  - kind: directory\n    path: /srv/x\n${extra}`;

describe('fleets: groups, targeting, values and order across hosts', () => {
  it('a secret left readable is located at its own resource, when resources before it are for other hosts', async () => {
    const setup = `secrets:
  token: { env: HOME }
resources:
  - kind: directory
    hosts: [worker-1]
    path: /srv/a
  - kind: file
    hosts: [prefect-server]
    path: /srv/token
    content: "{{ token }}"
`;
    expect(await problems(HOSTS, setup)).toEqual([
      'setup.yaml:7:5: secret \'token\' in file:/srv/token: mode 0644 (the default) lets every user on the host read it; set mode: "0600" (or "0640" with a group)',
    ]);
  });

  it('examples/fleet: the server, its PostgreSQL, pool and deployments on the server, a worker on each worker host after the server', async () => {
    vi.stubEnv('PREFECT_DB_PASSWORD', 'the-fleet-database-password');
    const spec = await loadSpec('examples/fleet/hosts.yaml', 'examples/fleet/setup.yaml');
    vi.unstubAllEnvs();
    const byHost = Object.fromEntries(spec.hosts.map((h) => [h.target.name, h]));
    const kinds = (host: string) => byHost[host]!.resources.map((r) => r.name);
    const database = [
      'systemd_service:postgresql.service',
      'postgres_role:prefect',
      'postgres_database:prefect',
      'prefect_server_database:http://10.0.0.10:4200/api',
      'database_backup:prefect',
    ];
    expect(kinds('prefect-server')).toEqual(
      expect.arrayContaining([
        'systemd_service:prefect-server.service',
        'prefect_work_pool:projections-local',
        'prefect_deployments:/home/daniel/projects/projections-v2',
        ...database,
      ]),
    );
    expect(kinds('prefect-server')).not.toContain('systemd_service:prefect-worker.service');
    for (const worker of ['worker-1', 'worker-2']) for (const name of database) expect(kinds(worker)).not.toContain(name);
    // The server notifies the worker of each host of the group `workers`.
    const server = byHost['prefect-server']!.resources.find((r) => r.name === 'systemd_service:prefect-server.service')!;
    expect(server.notifiesElsewhere?.map((n) => [n.host, n.token, n.label])).toEqual([
      ['worker-1', 'unit:prefect-worker.service', 'worker-1:prefect-worker.service'],
      ['worker-2', 'unit:prefect-worker.service', 'worker-2:prefect-worker.service'],
    ]);
    for (const worker of ['worker-1', 'worker-2']) {
      expect(kinds(worker)).not.toContain('systemd_service:prefect-server.service');
      const unit = byHost[worker]!.resources.find((r) => r.name === 'systemd_service:prefect-worker.service')!;
      expect(unit.waitsFor?.map((w) => [w.host, w.label])).toEqual([['prefect-server', 'prefect-server:prefect-server.service']]);
      expect(byHost[worker]!.groups).toEqual(['workers']);
      // The server's address, written once in hosts.yaml, reaches every host.
      expect(JSON.stringify(unit.spec)).toContain('PREFECT_API_URL=http://10.0.0.10:4200/api');
    }
  });

  it('group_vars sit between setup.yaml vars and host vars; the nearer group wins; built-ins include the groups', async () => {
    writeFileSync(join(dir, 'hosts.yaml'), HOSTS);
    writeFileSync(join(dir, 'setup.yaml'), 'vars:\n  tier: default\n  region: none\n  zone: z1\n' + directory());
    const spec = await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
    const vars = (host: string) => spec.hosts.find((h) => h.target.name === host)!.vars;
    expect([vars('worker-1').tier, vars('worker-1').region, vars('worker-1').zone, vars('worker-1').groups]).toEqual([
      'worker',
      'eu',
      'z1',
      'everything,workers',
    ]);
    expect([vars('prefect-server').tier, vars('prefect-server').region]).toEqual(['host', 'eu']);
    expect(vars('worker-2')['hosts.prefect-server.tier']).toBe('host');
    expect(vars('prefect-server')['hosts.worker-1.address']).toBe('10.0.0.11');
  });

  it('--limit takes group names', async () => {
    writeFileSync(join(dir, 'hosts.yaml'), HOSTS);
    writeFileSync(join(dir, 'setup.yaml'), directory());
    const options = {
      inventory: join(dir, 'hosts.yaml'),
      file: join(dir, 'setup.yaml'),
      color: false,
      concurrency: 1,
      lockTimeout: 1,
      keepRuns: 1,
      verbose: 0,
    };
    expect((await loadSelectedSpec({ ...options, limit: ['workers'] })).hosts.map((h) => h.target.name)).toEqual(['worker-1', 'worker-2']);
    expect((await loadSelectedSpec({ ...options, limit: ['server', 'worker-2'] })).hosts.map((h) => h.target.name)).toEqual([
      'prefect-server',
      'worker-2',
    ]);
    await expect(loadSelectedSpec({ ...options, limit: ['wrokers'] })).rejects.toThrow(
      /--limit: no host or group 'wrokers' in .*hosts.yaml \(did you mean 'workers'\?\)/,
    );
  });

  it('apply: a host whose host failed is skipped saying why, an unrelated host goes on (local connections)', () => {
    const local = mkdtempSync(join(tmpdir(), 'fleet-order-'));
    writeFileSync(
      join(local, 'hosts.yaml'),
      `defaults:\n  connection: local\nhosts:\n  server:\n    address: 127.0.0.1\n  worker:\n    address: 127.0.0.1\n  other:\n    address: 127.0.0.1\n`,
    );
    // The server's resource cannot be read (a file where a directory is wanted): that host fails.
    writeFileSync(join(local, 'blocker'), '');
    writeFileSync(
      join(local, 'setup.yaml'),
      `resources:
  - kind: directory
    hosts: [server]
    path: ${local}/blocker
  - kind: systemd_service
    hosts: [server]
    unit: app.service
    content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
  - kind: systemd_service
    hosts: [worker]
    unit: helper.service
    after: ["server:app.service"]
    content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
  - kind: directory
    hosts: [other]
    path: ${local}/made
`,
    );
    const run = spawnSync(
      process.execPath,
      [
        'bin/reconcile.js',
        'apply',
        '--json',
        '-i',
        join(local, 'hosts.yaml'),
        '-f',
        join(local, 'setup.yaml'),
        '--state-dir',
        join(local, 'state'),
      ],
      { encoding: 'utf8' },
    );
    const report = JSON.parse(run.stdout) as { hosts: { host: string; status: string; error?: string; waitsFor?: string[] }[] };
    expect(run.status).toBe(1);
    expect(report.hosts.map((h) => [h.host, h.status])).toEqual([
      ['server', 'failed'],
      ['worker', 'skipped'],
      ['other', 'changed'],
    ]);
    expect(report.hosts[1]).toMatchObject({
      error: 'skipped: waits for server:app.service, which failed',
      waitsFor: ['server:app.service'],
    });
    expect(existsSync(join(local, 'made'))).toBe(true);
  });

  it.each([
    [
      'a member that is neither host nor group',
      HOSTS.replace('[worker-1, worker-2]', '[worker-1, wroker-2]'),
      directory(),
      "hosts.yaml:11:23: 'wroker-2' is neither a host nor a group (did you mean 'worker-2'?)",
    ],
    [
      'a group holding itself',
      HOSTS.replace('server: [prefect-server]', 'server: [prefect-server, everything]'),
      directory(),
      'hosts.yaml:10:11: group cycle: server -> everything -> server (a group cannot hold itself)',
    ],
    [
      'a group named like a host',
      HOSTS.replace('  server: [prefect-server]', '  worker-1: [prefect-server]'),
      directory(),
      "hosts.yaml:10:13: 'worker-1' is both a host and a group; rename the group",
    ],
    [
      'group_vars of no group',
      HOSTS.replace('  workers: { tier: worker }', '  wrkers: { tier: worker }'),
      directory(),
      "hosts.yaml:15:11: 'wrkers' is not a group (did you mean 'workers'?)",
    ],
    [
      'a resource for an unknown name',
      HOSTS,
      directory('    hosts: [wrokers]\n'),
      "setup.yaml:4:13: 'wrokers' is neither a host nor a group of hosts.yaml (did you mean 'workers'?)",
    ],
    [
      "another host's unknown value",
      HOSTS,
      'vars:\n  api: "{{ hosts.prefect-sever.address }}"\n' + directory(),
      "setup.yaml:2:8: undefined variable 'hosts.prefect-sever.address' (did you mean 'hosts.prefect-server.address'?); defined: address, groups, host_name, hosts.NAME.KEY (host 'prefect-server')",
    ],
    [
      'after a unit the other host does not have',
      HOSTS,
      `resources:
  - kind: systemd_service
    hosts: [workers]
    unit: w.service
    after: ["prefect-server:prefect-sever.service"]
    content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
  - kind: systemd_service
    hosts: [server]
    unit: prefect-server.service
    content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
`,
      "setup.yaml:5:13: 'prefect-sever.service' is not a systemd_service of host 'prefect-server' (its resources' hosts: leave it out?) (did you mean 'prefect-server.service'?)",
    ],
    [
      'hosts waiting for each other',
      HOSTS,
      `resources:
  - kind: systemd_service
    hosts: [worker-1]
    unit: a.service
    after: ["worker-2:b.service"]
    content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
  - kind: systemd_service
    hosts: [worker-2]
    unit: b.service
    after: ["worker-1:a.service"]
    content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
`,
      'setup.yaml:5:13: hosts wait for each other in a circle: worker-1 -> worker-2 -> worker-1',
    ],
  ])('%s: located, with a likely fix', async (_name, hosts, setup, expected) => {
    expect((await problems(hosts, setup))[0]).toBe(expected);
  });
});

describe('a work queue and its pool', () => {
  const queue = (pool: string) => `  - kind: prefect_work_queue
    queue: urgent
    pool: ${pool}
    api_url: http://127.0.0.1:4200/api
`;
  const pool = `  - kind: prefect_work_pool
    pool: projections-local
    type: process
    api_url: http://127.0.0.1:4200/api
`;

  it('comes after its pool when the file declares it, wherever it is written', async () => {
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  one: { address: 10.0.0.1 }\n');
    writeFileSync(join(dir, 'setup.yaml'), `resources:\n${queue('projections-local')}${pool}`);
    const [host] = (await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'))).hosts;
    const queueResource = host!.resources.find((r) => r.spec.kind === 'prefect_work_queue')!;
    expect(queueResource.dependsOn).toEqual(['prefect_work_pool:projections-local']);
  });

  it('needs no declared pool: one a worker made is fine', async () => {
    expect(await problems('hosts:\n  one: { address: 10.0.0.1 }\n', `resources:\n${queue('made-by-a-worker')}`)).toEqual([]);
  });
});

describe('notifications across hosts', () => {
  const notifying = (target: string) => `resources:
  - kind: systemd_service
    hosts: [prefect-server]
    unit: prefect-server.service
    notifies: ["${target}"]
    content: "[Service]\\nExecStart=/bin/true\\n"
    enabled: false
  - kind: systemd_service
    hosts: [workers]
    unit: prefect-worker.service
    content: "[Service]\\nExecStart=/bin/true\\n"
    enabled: false
`;

  it('a group stands for each of its hosts; a host alone for itself', async () => {
    expect(await problems(HOSTS, notifying('workers:prefect-worker.service'))).toEqual([]);
    expect(await problems(HOSTS, notifying('worker-2:prefect-worker.service'))).toEqual([]);
  });

  it('a unit the notified hosts lack is located, with the candidates', async () => {
    expect(await problems(HOSTS, notifying('workers:prefect-wroker.service'))).toEqual([
      "setup.yaml:5:16: 'prefect-wroker.service' is not a systemd_service of host 'worker-1' (its resources' hosts: leave it out?) (did you mean 'prefect-worker.service'?)",
      "setup.yaml:5:16: 'prefect-wroker.service' is not a systemd_service of host 'worker-2' (its resources' hosts: leave it out?) (did you mean 'prefect-worker.service'?)",
    ]);
  });

  it('a host notified by one it waits for is a circle', async () => {
    const setup = notifying('worker-1:prefect-worker.service').replace(
      '    hosts: [workers]\n    unit: prefect-worker.service\n',
      '    hosts: [worker-1]\n    unit: prefect-worker.service\n    after: ["prefect-server:prefect-server.service"]\n',
    );
    expect(
      await problems(
        HOSTS,
        setup.replace('hosts: [prefect-server]', 'hosts: [prefect-server]\n    after: ["worker-1:prefect-worker.service"]'),
      ),
    ).toEqual([expect.stringContaining('hosts wait for each other in a circle: prefect-server -> worker-1 -> prefect-server')]);
  });
});

describe("a worker's health read from its server", () => {
  const ONE = 'hosts:\n  worker-1: { address: 10.0.0.11 }\n';
  const worker = (execStart: string, health: string) => `resources:
  - kind: systemd_service
    unit: prefect-worker.service
    health:
${health}
    content: |
      [Service]
      ExecStart=${execStart}
      [Install]
      WantedBy=multi-user.target
`;
  const byName = `      prefect_worker:
        api_url: http://10.0.0.10:4200/api
        pool: projections-local
        name: "{{ host_name }}"`;

  it('is taken when the unit starts the worker under that name, the host name filled in', async () => {
    for (const flag of ['--name worker-1', '--name=worker-1', '-n worker-1', '--name "worker-1"'])
      expect(await problems(ONE, worker(`/v/bin/prefect worker start --pool projections-local ${flag} --type process`, byName))).toEqual(
        [],
      );
  });

  it('is refused, with the fix, when the unit starts it under another name or none', async () => {
    const fix =
      "setup.yaml:8:15: the unit does not start the worker as worker-1: add --name worker-1 to its prefect worker start (without it, the worker registers as 'ProcessWorker <uuid>' and its health cannot be read)";
    expect(await problems(ONE, worker('/v/bin/prefect worker start --pool projections-local', byName))).toEqual([fix]);
    expect(await problems(ONE, worker('/v/bin/prefect worker start --name worker-10 --pool p', byName))).toEqual([fix]);
  });

  it('is one of url and prefect_worker', async () => {
    expect(await problems(ONE, worker('/bin/true --name worker-1', `${byName}\n      url: http://127.0.0.1:8080/health`))).toEqual([
      'setup.yaml:5:7: give the health check either url or prefect_worker (one of them)',
    ]);
    expect(await problems(ONE, worker('/bin/true', '      timeout: 5'))).toEqual([
      'setup.yaml:5:7: give the health check either url or prefect_worker (one of them)',
    ]);
  });
});
