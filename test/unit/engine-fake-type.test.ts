import { testContext } from '../plan-context.js';
import { describe, expect, it } from 'vitest';
import type { DeclaredResource, HostSpec } from '../../src/model/spec.js';
import { factScript } from '../../src/engine/gather.js';
import { planHost } from '../../src/engine/plan.js';
import type { Resource } from '../../src/model/generated/setup.js';
import type { ResourceType, ResourceTypes } from '../../src/resources/types.js';

/**
 * The engine knows no resource type: built here with one of its own, a "marker" that makes a
 * directory-like place and a "note" inside it, it reads, orders and plans them like any kind.
 */
interface Fake {
  kind: string;
  name?: string;
  at: string;
  container?: boolean;
}
const fake: ResourceType = {
  kind: 'file',
  defaultName: (spec) => `fake:${(spec as unknown as Fake).at}`,
  location: (spec) => ({
    path: (spec as unknown as Fake).at,
    ...((spec as unknown as Fake).container ? { directory: true as const } : {}),
  }),
  probe: (spec) => `fake_probe ${(spec as unknown as Fake).at}`,
  parse: (_spec, output) => output.trim() === 'present',
  plan: (spec, present) => {
    const at = (spec as unknown as Fake).at;
    if (present) return { now: [], late: [], notifies: [] };
    return {
      now: [
        { id: `make ${at}`, resource: `fake:${at}`, verb: 'create', title: `make ${at}`, fields: [], steps: [{ script: `make ${at}` }] },
      ],
      late: [],
      notifies: [],
    };
  },
};
const types: ResourceTypes = { of: () => fake, prelude: 'fake_probe() { :; }' };

const declared = (at: string, container = false): DeclaredResource => ({
  name: `fake:${at}`,
  spec: { kind: 'file', at, container } as unknown as Resource,
  dependsOn: [],
});
// Declared inside-out: the engine puts the container first because of where they say they live.
const host: HostSpec = {
  target: {
    name: 'h',
    address: 'h',
    port: 22,
    user: 'u',
    identityFiles: [],
    identitiesOnly: false,
    knownHosts: '',
    become: false,
    connection: 'local',
    connectTimeoutMs: 1000,
  },
  groups: [],
  vars: {},
  resources: [declared('/srv/box/note'), declared('/srv/box', true)],
};

describe('the engine with a resource type of its own', () => {
  it("sends the types' prelude and probes in one script", () => {
    const script = factScript(host.resources, 'n0nce', types);
    expect(script).toContain('fake_probe() { :; }');
    expect(script.indexOf('fake_probe /srv/box/note')).toBeGreaterThan(script.indexOf('fake_probe() { :; }'));
  });

  it('orders by location and plans what differs; converged means no actions', () => {
    const facts = (present: boolean) => ({
      actual: new Map<string, unknown>(host.resources.map((r) => [r.name, present])),
      owed: new Map(),
      bootId: 'b',
    });
    expect(planHost(host, facts(false), { specDir: '/', types }).actions.map((a) => a.id)).toEqual(['make /srv/box', 'make /srv/box/note']);
    expect(planHost(host, facts(true), { specDir: '/', types }).actions).toEqual([]);
  });
});

describe('notifications, by what a kind declares', () => {
  // A "listener" provides listen:NAME and, notified while up, reloads; the fake notifies it when it makes its place.
  const listener: ResourceType = {
    kind: 'line',
    defaultName: () => 'listener',
    provides: () => ['listen:box'],
    probe: () => 'true',
    parse: (_spec, output) => output.trim() === 'up',
    plan: () => ({ now: [], late: [], notifies: [] }),
    onNotify: (_spec, up, because) =>
      up
        ? {
            now: [],
            late: [
              { id: 'reload', resource: 'listener', verb: 'restart', title: 'reload', fields: [], because: because.join('; '), steps: [] },
            ],
            notifies: [],
          }
        : undefined,
  };
  const notifying: ResourceType = {
    ...fake,
    plan: (spec, present) => ({ ...fake.plan(spec, present, testContext()), notifies: present ? [] : ['listen:box'] }),
  };
  const both: ResourceTypes = { of: (kind) => (kind === 'line' ? listener : notifying), prelude: '' };
  const withListener: HostSpec = {
    ...host,
    resources: [declared('/srv/box', true), { name: 'listener', spec: { kind: 'line' } as unknown as Resource, dependsOn: [] }],
  };
  const facts = (made: boolean, up: boolean, owed = new Map<string, string[]>()) => ({
    actual: new Map<string, unknown>([
      ['fake:/srv/box', made],
      ['listener', up],
    ]),
    owed,
    bootId: 'b',
  });
  const plan = (made: boolean, up: boolean, owed?: Map<string, string[]>) =>
    planHost(withListener, facts(made, up, owed), { specDir: '/', types: both }).actions;

  it('a change notifies what it names; the notification is journalled first, since it adds a reload', () => {
    const actions = plan(false, true);
    expect(actions.map((a) => a.id)).toContain('reload');
    expect(actions.find((a) => a.id === 'reload')?.because).toBe('fake:/srv/box changed');
    expect(actions.findIndex((a) => a.id === 'reload')).toBeGreaterThan(actions.findIndex((a) => a.id === 'make /srv/box'));
    // Owed from the moment the change is made: written on the host before it, so a cut run still reloads.
    const make = actions.find((a) => a.id === 'make /srv/box')!;
    expect(JSON.stringify(make.steps[0])).toContain('/var/lib/reconcile/owed');
  });

  it('a notification that adds nothing (the listener is down) plans nothing for it, and nothing is journalled', () => {
    const actions = plan(false, false);
    expect(actions.map((a) => a.id)).not.toContain('reload');
    expect(JSON.stringify(actions)).not.toContain('/var/lib/reconcile/owed');
  });

  it('a notification an interrupted run still owes is acted on though nothing changed now', () => {
    const actions = plan(true, true, new Map([['listen:box', ['fake:/srv/box changed (owed)']]]));
    expect(actions.find((a) => a.id === 'reload')?.because).toBe('fake:/srv/box changed (owed)');
  });
});
