import { kindTable } from '../../../../test/kind-table.js';

interface Stored {
  name: string;
  enabled: boolean;
  trigger: { expect: string[]; match: Record<string, unknown>; within: number };
  actions: Record<string, unknown>[];
}
const ALL = /automations\/filter$/;
const ours = (list: Stored[], change: (a: Stored) => Stored) => list.map((a) => (a.name === 'cancel-hung-runs' ? change(a) : a));

kindTable(import.meta.dirname, [
  {
    drift: 'disabled by hand',
    answer: { url: ALL, change: (list: Stored[]) => ours(list, (a) => ({ ...a, enabled: false })) },
    expected: (r) => [r.name],
  },
  {
    drift: "the trigger's window changed",
    answer: { url: ALL, change: (list: Stored[]) => ours(list, (a) => ({ ...a, trigger: { ...a.trigger, within: 60 } })) },
    expected: (r) => [r.name],
  },
  {
    drift: 'a label added to what the trigger matches',
    answer: {
      url: ALL,
      change: (list: Stored[]) =>
        ours(list, (a) => ({ ...a, trigger: { ...a.trigger, match: { ...a.trigger.match, 'prefect.resource.name': 'x' } } })),
    },
    expected: (r) => [r.name],
  },
  {
    drift: 'an action added in the UI',
    answer: { url: ALL, change: (list: Stored[]) => ours(list, (a) => ({ ...a, actions: [...a.actions, { type: 'do-nothing' }] })) },
    expected: (r) => [r.name],
  },
  {
    drift: 'deleted',
    answer: { url: ALL, change: (list: Stored[]) => list.filter((a) => a.name !== 'cancel-hung-runs') },
    expected: (r) => [r.name],
  },
  // Prefect keeps expect, after and for_each as sets, and fills in an action's defaults: neither is drift.
  {
    drift: "none: the trigger's events in another order",
    answer: {
      url: ALL,
      change: (list: Stored[]) => ours(list, (a) => ({ ...a, trigger: { ...a.trigger, expect: [...a.trigger.expect].reverse() } })),
    },
    expected: () => [],
  },
  {
    drift: 'none: a default the server gave an action',
    answer: {
      url: ALL,
      change: (list: Stored[]) => ours(list, (a) => ({ ...a, actions: a.actions.map((x) => ({ ...x, extra_default: null })) })),
    },
    expected: () => [],
  },
]);
