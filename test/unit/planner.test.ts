import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/engine/gather.js';
import type { Step } from '../../src/model/plan.js';
import { planHost } from '../../src/engine/plan.js';
import { resourceTypes } from '../../src/resources/registry.js';
import { parsePathFacts } from '../../src/resources/facts.js';
import { pythonVenv } from '../../src/resources/kinds/python_venv/python-venv.js';
import type { PythonVenv, SystemdService } from '../../src/model/generated/setup.js';
import type { DeclaredResource, HostSpec } from '../../src/model/spec.js';
import { sha256 } from '../../src/resources/steps.js';

// Table tests for the pure planner: given these facts and this spec, expect these actions.
const settings = { specDir: '/', types: resourceTypes };
const unit = '[Service]\nExecStart=/bin/true\n';
const resources: DeclaredResource[] = [
  {
    name: 'file:/srv/app/app.env',
    spec: { kind: 'file', path: '/srv/app/app.env', content: 'A=1\n', notifies: ['app.service'] },
    dependsOn: [],
  },
  // A notified service is converged after what notifies it (spec/load.ts).
  {
    name: 'systemd_service:app.service',
    spec: { kind: 'systemd_service', unit: 'app.service', content: unit },
    dependsOn: ['file:/srv/app/app.env'],
  },
  { name: 'directory:/srv/app', spec: { kind: 'directory', path: '/srv/app' }, dependsOn: [] },
];
const host: HostSpec = {
  target: {
    name: 'h',
    address: '10.0.0.1',
    port: 22,
    user: 'root',
    identityFiles: [],
    identitiesOnly: false,
    knownHosts: '/dev/null',
    become: false,
    connection: 'ssh',
    connectTimeoutMs: 1000,
  },
  groups: [],
  vars: {},
  resources,
};

const fileFacts = (content: string, mode = '644') =>
  parsePathFacts(`type=regular file\nmode=${mode}\nowner=root\ngroup=root\nsize=${content.length}\nsha256=${sha256(Buffer.from(content))}`);
const service = (active: string, content = unit) => ({
  unitFile: fileFacts(content),
  loadState: 'loaded',
  activeState: active,
  unitFileState: 'enabled',
  needDaemonReload: false,
});
const converged = (): HostFacts => ({
  actual: new Map<string, unknown>([
    ['file:/srv/app/app.env', fileFacts('A=1\n')],
    ['systemd_service:app.service', service('active')],
    ['directory:/srv/app', parsePathFacts('type=directory\nmode=755\nowner=root\ngroup=root\nsize=40')],
  ]),
  owed: new Map(),
  bootId: 'boot-1',
});
const scriptOf = (step: Step | undefined) => (step && 'script' in step ? step.script : undefined);
const ids = (facts: HostFacts) => planHost(host, facts, settings).actions.map((a) => a.id);

describe('planner', () => {
  it('plans nothing for a converged host', () => {
    expect(ids(converged())).toEqual([]);
  });

  it('orders a directory before the file in it, and restarts the notified service after all writes', () => {
    const facts = converged();
    facts.actual.set('directory:/srv/app', parsePathFacts('type=absent'));
    facts.actual.set('file:/srv/app/app.env', parsePathFacts('type=absent'));
    expect(ids(facts)).toEqual(['directory:/srv/app', 'file:/srv/app/app.env', 'restart app.service']);
  });

  it('records the owed restart before the write that causes it, and clears it after the restart', () => {
    const facts = converged();
    facts.actual.set('file:/srv/app/app.env', fileFacts('A=2\n'));
    const [write, restart] = planHost(host, facts, settings).actions;
    expect(scriptOf(write!.steps[0])).toMatch(
      /^mkdir -p '\/var\/lib\/reconcile\/owed' && printf '%s' 'file:\/srv\/app\/app.env changed' > /,
    );
    expect(scriptOf(restart!.steps.at(-1))).toMatch(/^rm -f '\/var\/lib\/reconcile\/owed\//);
  });

  it('performs an owed restart even though no file differs any more', () => {
    const facts = converged();
    facts.owed.set('unit:app.service', ['file:/srv/app/app.env changed']);
    expect(ids(facts)).toEqual(['restart app.service']);
  });

  it('forgets a restart owed to a service that is declared stopped, instead of keeping it forever', () => {
    const stopped: HostSpec = {
      ...host,
      resources: resources.map((r) => (r.spec.kind === 'systemd_service' ? { ...r, spec: { ...r.spec, state: 'stopped' as const } } : r)),
    };
    const facts = converged();
    facts.actual.set('systemd_service:app.service', service('inactive'));
    facts.owed.set('unit:app.service', ['file:/srv/app/app.env changed']);
    const plan = planHost(stopped, facts, settings);
    expect(plan.actions.map((a) => a.id)).toEqual(['forget owed systemd_service:app.service']);
    expect(scriptOf(plan.actions[0]!.steps[0])).toMatch(/^rm -f '\/var\/lib\/reconcile\/owed\//);
    facts.owed.clear();
    expect(planHost(stopped, facts, settings).actions).toEqual([]);
  });

  it('starts a stopped service instead of restarting it, and reloads systemd once for a changed unit', () => {
    const facts = converged();
    facts.actual.set('systemd_service:app.service', service('inactive', '[Service]\nExecStart=/bin/false\n'));
    expect(ids(facts)).toEqual(['systemd_service:app.service', 'daemon-reload', 'start app.service']);
  });

  it('restarts a running service whose unit changed, once, after reloading systemd', () => {
    const facts = converged();
    facts.actual.set('systemd_service:app.service', service('active', '[Service]\nExecStart=/bin/false\n'));
    expect(ids(facts)).toEqual(['systemd_service:app.service', 'daemon-reload', 'restart app.service']);
  });

  it('only fixes metadata when only the mode differs', () => {
    const facts = converged();
    facts.actual.set('file:/srv/app/app.env', fileFacts('A=1\n', '600'));
    const plan = planHost(host, facts, settings);
    expect(plan.actions[0]!.fields).toEqual([{ field: 'mode', before: '0600', after: '0644' }]);
    expect(plan.actions[0]!.content).toBeUndefined();
    expect(scriptOf(plan.actions[0]!.steps.at(-1))).toBe(`chown 'root:' '/srv/app/app.env' && chmod '0644' '/srv/app/app.env'`);
  });
});

describe('planner: a venv upgrade is one transaction', () => {
  const venvSpec: PythonVenv = {
    kind: 'python_venv',
    path: '/srv/app/.venv',
    owner: 'app',
    packages: ['prefect==3.9.0'],
    notifies: ['app.service'],
    upgrade: { databases: ['/srv/app/prefect.db'], keep: 2 },
  };
  const gated = {
    kind: 'systemd_service' as const,
    unit: 'app.service',
    content: unit,
    health: { url: 'http://127.0.0.1:4200/api/health', timeout: 30 },
  };
  const venvHost: HostSpec = {
    ...host,
    resources: [
      { name: 'python_venv:/srv/app/.venv', spec: venvSpec, dependsOn: [] },
      { name: 'systemd_service:app.service', spec: gated, dependsOn: ['python_venv:/srv/app/.venv'] },
    ],
  };
  const venvFacts = (probe: string): HostFacts => ({
    actual: new Map<string, unknown>([
      ['python_venv:/srv/app/.venv', pythonVenv.parse(venvSpec, probe)],
      ['systemd_service:app.service', { ...service('active'), live: { healthy: true, detail: 'HTTP 200' } }],
    ]),
    owed: new Map(),
    bootId: 'boot-1',
  });
  const plan = (probe: string) => planHost(venvHost, venvFacts(probe), settings);

  it('plans nothing when the pins are installed and no upgrade is open', () => {
    expect(plan('exists=yes\npip=yes\npackage:prefect=3.9.0\n').actions).toEqual([]);
  });

  it('snapshots, installs, restarts and commits last; the rollback settles the owed restart and waits for health', () => {
    const actions = plan('exists=yes\npip=yes\npackage:prefect=3.8.3\n').actions;
    expect(actions.map((a) => a.id)).toEqual([
      'download python_venv:/srv/app/.venv',
      'snapshot python_venv:/srv/app/.venv',
      'python_venv:/srv/app/.venv',
      'restart app.service',
      'commit python_venv:/srv/app/.venv',
    ]);
    expect(actions[2]!.fields).toEqual([{ field: 'prefect', before: '3.8.3', after: '3.9.0' }]);
    // The new pins are resolved and downloaded first: that owes no restart and opens no transaction.
    expect(actions[0]!.steps).toHaveLength(1);
    expect(actions[0]!.transaction).toBeUndefined();
    expect(scriptOf(actions[0]!.steps[0])).toMatch(
      /bin\/pip\W+download\W+--disable-pip-version-check\W+--quiet\W+-d\W+\/var\/lib\/reconcile\/upgrades\/srv\/app\/.venv\/downloads\W+prefect==3.9.0/,
    );
    expect(scriptOf(actions[2]!.steps[0])).toMatch(
      /bin\/pip\W+install\W.*--find-links\W+\/var\/lib\/reconcile\/upgrades\/srv\/app\/.venv\/downloads\W+prefect==3.9.0/,
    );
    const snapshot = actions[1]!;
    expect(snapshot.because).toBe(
      `into /var/lib/reconcile/upgrades/srv/app/.venv/; if a step or health gate fails: stop app.service; put back /srv/app/.venv and /srv/app/prefect.db from the snapshot in /var/lib/reconcile/upgrades/srv/app/.venv/; start them again, health-checked`,
    );
    // The owed restart is written down before the snapshot; the snapshot marks itself open last.
    expect(scriptOf(snapshot.steps[0])).toMatch(/^mkdir -p '\/var\/lib\/reconcile\/owed'/);
    expect(scriptOf(snapshot.steps[1])).toMatch(
      /> '\/var\/lib\/reconcile\/upgrades\/srv\/app\/.venv'\/open.new && mv [^\n]+\necho "snapshot [^\n]+$/,
    );
    const rollback = snapshot.transaction!.rollback;
    expect(scriptOf(rollback[0])).toContain("systemctl stop 'app.service'");
    expect(scriptOf(rollback[1])).toMatch(/^rm -f '\/var\/lib\/reconcile\/owed\//);
    expect(rollback[2]).toMatchObject({ waitForHealth: { url: 'http://127.0.0.1:4200/api/health', timeoutSeconds: 30 } });
    expect(scriptOf(actions[4]!.steps[0])).toContain('[ "$rc_kept" -le 2 ]');
  });

  it('makes no snapshot of a venv that does not exist yet or is half-made: there is nothing to go back to', () => {
    expect(plan('exists=no\n').actions.map((a) => a.id)).toEqual(['python_venv:/srv/app/.venv', 'restart app.service']);
    expect(plan('exists=yes\npackage:prefect=3.8.3\n').actions.map((a) => a.id)).toEqual([
      'python_venv:/srv/app/.venv',
      'restart app.service',
    ]);
  });

  it('journals no restart for a service that is not running: it is started either way', () => {
    const facts = venvFacts('exists=no\n');
    facts.actual.set('systemd_service:app.service', service('inactive'));
    const [create, start] = planHost(venvHost, facts, settings).actions;
    expect(start!.id).toBe('start app.service');
    expect(create!.steps.some((step) => scriptOf(step)?.includes('/var/lib/reconcile/owed'))).toBe(false);
    expect(start!.steps.at(-1)).toMatchObject({ waitForHealth: { url: 'http://127.0.0.1:4200/api/health', timeoutSeconds: 30 } });
  });

  it('resumes an upgrade a cut left open: no new snapshot, the open one can still be put back, and it is committed at the end', () => {
    const finished = plan('exists=yes\npip=yes\npackage:prefect=3.9.0\nupgrade-open=20261201T120000Z\n').actions;
    expect(finished.map((a) => a.id)).toEqual(['resume upgrade python_venv:/srv/app/.venv', 'commit python_venv:/srv/app/.venv']);
    expect(finished[0]!.transaction).toBeDefined();
    const midPip = plan('exists=yes\npip=yes\npackage:prefect=3.8.3\nupgrade-open=20261201T120000Z\n').actions;
    expect(midPip.map((a) => a.id)).toEqual([
      'resume upgrade python_venv:/srv/app/.venv',
      'python_venv:/srv/app/.venv',
      'restart app.service',
      'commit python_venv:/srv/app/.venv',
    ]);
  });
});

describe('planner: a checkout and what reads it', () => {
  const project = '/home/daniel/app';
  const checkout: DeclaredResource = {
    name: `git:${project}`,
    spec: { kind: 'git', repo: 'file:///srv/git/app.git', path: project, version: 'main', user: 'daniel' },
    dependsOn: [],
  };
  const deployments: DeclaredResource = {
    name: `prefect_deployments:${project}/sub`,
    spec: {
      kind: 'prefect_deployments',
      project_dir: `${project}/sub`,
      user: 'daniel',
      venv: `${project}/.venv`,
      api_url: 'http://127.0.0.1:4200/api',
    },
    // The loader makes the checkout's reader come after it (a `before` reference of the git resource).
    dependsOn: [checkout.name],
  };
  const reader = { ...host, resources: [deployments, checkout] };
  const gitAt = (head: string) => ({ exists: 'yes', head, origin: 'file:///srv/git/app.git', changes: [], wanted: 'b'.repeat(40) });
  const facts = (head: string): HostFacts => ({
    actual: new Map<string, unknown>([
      [checkout.name, gitAt(head)],
      [deployments.name, { file: parsePathFacts('type=absent'), flowFiles: new Map(), registered: [], variables: new Map() }],
    ]),
    owed: new Map(),
    bootId: 'boot-1',
  });

  it('a checkout that moves has the deployments of a project inside it compared once it has, with nothing journalled', () => {
    const plan = planHost(reader, facts('a'.repeat(40)), settings);
    expect(plan.actions.map((a) => [a.id, a.because])).toEqual([
      [checkout.name, undefined],
      [
        `compare ${deployments.name}`,
        `${checkout.name} changed: compared again when apply reaches it, and what then differs is redeployed`,
      ],
    ]);
    // The next run's plan compares afresh: no owed-notification file is written, none cleared.
    expect(plan.actions.flatMap((a) => a.steps.map(scriptOf)).join('\n')).not.toContain('owed');
    expect(plan.actions[1]!.steps).toEqual([{ replan: { resource: deployments.name } }]);
  });

  it('a checkout in place leaves the deployments to their own comparison', () => {
    const plan = planHost(reader, facts('b'.repeat(40)), settings);
    expect(plan.actions).toEqual([]);
    expect(plan.problems).toEqual([`${deployments.name}: ${project}/sub/prefect.yaml is not a readable file on the host`]);
  });
});

describe('planner: notifications reach other hosts', () => {
  const [file, app, directory] = resources;
  const notifier: DeclaredResource = {
    ...app!,
    spec: { kind: 'systemd_service', unit: 'app.service', content: unit, notifies: ['workers:w.service'] },
    notifiesElsewhere: [
      { host: 'w1', label: 'w1:w.service', token: 'unit:w.service', what: 'a systemd_service', at: [], notified: 'unit:workers:w.service' },
    ],
  };
  const fleetHost = { ...host, resources: [file!, notifier, directory!] };

  it('a service restarted because it was notified notifies in turn: the restart of another host is part of the plan', () => {
    const facts = converged();
    facts.actual.set('file:/srv/app/app.env', fileFacts('A=2\n'));
    const plan = planHost(fleetHost, facts, settings);
    expect(plan.actions.map((a) => a.id)).toEqual(['file:/srv/app/app.env', 'restart app.service']);
    expect(plan.notifiesElsewhere).toEqual([{ host: 'w1', token: 'unit:w.service', because: 'h: systemd_service:app.service changed' }]);
  });

  it('a service neither started nor restarted notifies nobody', () => {
    expect(planHost(fleetHost, converged(), settings).notifiesElsewhere).toBeUndefined();
  });

  it("another host's notification restarts a running service here, and is not journalled on this host", () => {
    const elsewhere = new Map([['unit:app.service', ['server: systemd_service:s.service changed']]]);
    const plan = planHost(host, converged(), { ...settings, elsewhere });
    expect(plan.actions.map((a) => [a.id, a.because])).toEqual([['restart app.service', 'server: systemd_service:s.service changed']]);
    expect(plan.actions.flatMap((a) => a.steps.map(scriptOf)).join('\n')).not.toContain('owed');
  });
});

describe('planner: a restart that drains a work pool', () => {
  const [file, app, directory] = resources;
  const drain = { api_url: 'http://127.0.0.1:4200/api', pool: 'p' };
  const draining = { ...host, resources: [file!, { ...app!, spec: { ...(app!.spec as SystemdService), drain } }, directory!] };
  const restartWith = (paused: boolean) => {
    const facts = converged();
    facts.actual.set('file:/srv/app/app.env', fileFacts('A=2\n'));
    facts.actual.set('systemd_service:app.service', { ...service('active'), drain: { paused } });
    return planHost(draining, facts, settings);
  };

  it('pauses the pool and waits for its runs before the restart; the resume is kept for the end of the run, and undoes a failure', () => {
    const plan = restartWith(false);
    expect(plan.actions.map((a) => a.id)).toEqual(['file:/srv/app/app.env', 'drain p', 'restart app.service']);
    const drained = plan.actions[1]!;
    expect(drained.steps).toEqual([
      { request: { method: 'PATCH', url: 'http://127.0.0.1:4200/api/work_pools/p', body: { is_paused: true } } },
      {
        waitUntilEmpty: {
          url: 'http://127.0.0.1:4200/api/flow_runs/filter',
          body: { flow_runs: { state: { type: { any_: ['PENDING', 'RUNNING', 'CANCELLING'] } } }, work_pools: { name: { any_: ['p'] } } },
          timeoutSeconds: 600,
          what: 'flow runs of pool p in flight',
        },
      },
    ]);
    const resume = [{ request: { method: 'PATCH', url: 'http://127.0.0.1:4200/api/work_pools/p', body: { is_paused: false } } }];
    // The rollback waits for the server a failed restart's rollback restarts.
    expect(drained.transaction?.rollback).toEqual([
      { waitForHealth: { url: 'http://127.0.0.1:4200/api/health', timeoutSeconds: 120 } },
      ...resume,
    ]);
    expect(plan.atRunEnd).toEqual([{ after: 'drain p', title: 'resume work pool p', steps: resume }]);
  });

  it('a pool paused already is waited for, and left paused', () => {
    const plan = restartWith(true);
    expect(plan.actions[1]!.steps.map((s) => Object.keys(s)[0])).toEqual(['waitUntilEmpty']);
    expect(plan.actions[1]!.transaction).toBeUndefined();
    expect(plan.atRunEnd).toBeUndefined();
  });

  it('a start drains nothing: a stopped server has no runs in flight', () => {
    const facts = converged();
    facts.actual.set('systemd_service:app.service', { ...service('inactive'), drain: { paused: false } });
    expect(planHost(draining, facts, settings).actions.map((a) => a.id)).toEqual(['start app.service']);
  });
});
