import { describe, expect, it } from 'vitest';
import { kindTable, recordingsIn, resourcePlan } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'one deployment paused by hand',
    answer: {
      url: /deployments\/filter$/,
      change: (all: { name: string; paused: boolean }[]) => all.map((d) => (d.name === 'live-score' ? { ...d, paused: true } : d)),
    },
    expected: () => ['deploy live-score'],
  },
]);

describe('prefect_deployments: creating', () => {
  it('shows the fields the new deployment will store, as an update shows the ones it changes', async () => {
    const r = recordingsIn(import.meta.dirname).get('')!;
    const none = (r.http ?? []).map((a) => (a.url.endsWith('deployments/filter') ? { ...a, answer: [] } : a));
    const plan = await resourcePlan(r, r.probe, none);
    const create = plan.late.find((a) => a.id === 'deploy live-score')!;
    expect(create.verb).toBe('create');
    const fields = Object.fromEntries(create.fields.map((f) => [f.field, [f.before, f.after]]));
    expect(fields['live-score: entrypoint']).toEqual([null, expect.stringMatching(/\.py:\w+$/)]);
    expect(fields['live-score: work pool']).toEqual([null, 'projections-local']);
    expect(create.fields.every((f) => f.before === null)).toBe(true);
  });
});
