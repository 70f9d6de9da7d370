import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../src/engine/gather.js';
import type { Step } from '../../src/engine/model.js';
import { planHost } from '../../src/engine/plan.js';
import { parsePathFacts } from '../../src/resources/facts.js';
import type { DeclaredResource, HostSpec } from '../../src/spec/load.js';
import { sha256 } from '../../src/resources/steps.js';

// Table tests for the pure planner: given these facts and this spec, expect these actions.
const unit = '[Service]\nExecStart=/bin/true\n';
const resources: DeclaredResource[] = [
  { name: 'file:/srv/app/app.env', spec: { kind: 'file', path: '/srv/app/app.env', content: 'A=1\n', notifies: ['app.service'] }, dependsOn: ['systemd_service:app.service'] },
  { name: 'systemd_service:app.service', spec: { kind: 'systemd_service', unit: 'app.service', content: unit }, dependsOn: [] },
  { name: 'directory:/srv/app', spec: { kind: 'directory', path: '/srv/app' }, dependsOn: [] },
];
const host: HostSpec = {
  target: { name: 'h', address: '10.0.0.1', port: 22, user: 'root', knownHosts: '/dev/null', become: false, connection: 'ssh', connectTimeoutMs: 1000 },
  vars: {},
  resources,
};

const fileFacts = (content: string, mode = '644') => parsePathFacts(`type=regular file\nmode=${mode}\nowner=root\ngroup=root\nsize=${content.length}\nsha256=${sha256(Buffer.from(content))}`);
const service = (active: string, content = unit) => ({
  unitFile: fileFacts(content), loadState: 'loaded', activeState: active, unitFileState: 'enabled', needDaemonReload: false,
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
const ids = (facts: HostFacts) => planHost(host, facts, '/').actions.map((a) => a.id);

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
    const [write, restart] = planHost(host, facts, '/').actions;
    expect(scriptOf(write!.steps[0])).toMatch(/^mkdir -p '\/var\/lib\/reconcile\/owed' && printf '%s' 'file:\/srv\/app\/app.env changed' > /);
    expect(scriptOf(restart!.steps.at(-1))).toMatch(/^rm -f '\/var\/lib\/reconcile\/owed\//);
  });

  it('performs an owed restart even though no file differs any more', () => {
    const facts = converged();
    facts.owed.set('unit:app.service', ['file:/srv/app/app.env changed']);
    expect(ids(facts)).toEqual(['restart app.service']);
  });

  it('forgets a restart owed to a service that is declared stopped, instead of keeping it forever', () => {
    const stopped: HostSpec = { ...host, resources: resources.map((r) => (r.spec.kind === 'systemd_service' ? { ...r, spec: { ...r.spec, state: 'stopped' as const } } : r)) };
    const facts = converged();
    facts.actual.set('systemd_service:app.service', service('inactive'));
    facts.owed.set('unit:app.service', ['file:/srv/app/app.env changed']);
    const plan = planHost(stopped, facts, '/');
    expect(plan.actions.map((a) => a.id)).toEqual(['forget owed systemd_service:app.service']);
    expect(scriptOf(plan.actions[0]!.steps[0])).toMatch(/^rm -f '\/var\/lib\/reconcile\/owed\//);
    facts.owed.clear();
    expect(planHost(stopped, facts, '/').actions).toEqual([]);
  });

  it('starts a stopped service instead of restarting it, and reloads systemd once for a changed unit', () => {
    const facts = converged();
    facts.actual.set('systemd_service:app.service', service('inactive', '[Service]\nExecStart=/bin/false\n'));
    expect(ids(facts)).toEqual(['systemd_service:app.service', 'daemon-reload', 'start app.service']);
  });

  it('only fixes metadata when only the mode differs', () => {
    const facts = converged();
    facts.actual.set('file:/srv/app/app.env', fileFacts('A=1\n', '600'));
    const plan = planHost(host, facts, '/');
    expect(plan.actions[0]!.fields).toEqual([{ field: 'mode', before: '0600', after: '0644' }]);
    expect(plan.actions[0]!.content).toBeUndefined();
    expect(scriptOf(plan.actions[0]!.steps.at(-1))).toBe(`chown 'root:' '/srv/app/app.env' && chmod '0644' '/srv/app/app.env'`);
  });
});

