import { testContext } from '../../test/plan-context.js';
import { describe, expect, it } from 'vitest';
import type { PrefectWorkQueue } from '../model/generated/setup.js';
import { strayRemovals, type PruneScope } from './server-object.js';

describe('prune: what no resource declares is removed, planned once', () => {
  const queue = (pool: string, name: string, prune?: boolean): PrefectWorkQueue => ({
    kind: 'prefect_work_queue',
    pool,
    queue: name,
    api_url: 'http://127.0.0.1:4200/api',
    ...(prune ? { prune } : {}),
  });
  const scope = (spec: PrefectWorkQueue): PruneScope<PrefectWorkQueue> => ({
    noun: 'work queue',
    sameScope: (peer) => peer.pool === spec.pool,
    key: (peer) => peer.queue,
  });
  const listed = { listed: ['a', 'b', 'c'].map((key) => ({ key, url: `/q/${key}` })) };

  it('removes from the scope what none of its resources declares, by the first that sets prune, and only there', () => {
    const declared = [queue('p', 'a'), queue('p', 'b', true), queue('p', 'x', true), queue('other', 'c', true)];
    const ids = (spec: PrefectWorkQueue) => strayRemovals(spec, testContext({ declared }), listed, scope(spec)).map((a) => a.id);
    expect(ids(declared[1]!)).toEqual(['remove work queue c']);
    // A second resource asking for prune in the same pool plans nothing more; nor does one that does not ask.
    expect(ids(declared[2]!)).toEqual([]);
    expect(ids(declared[0]!)).toEqual([]);
    // Another pool is another namespace: its own declared queues only.
    expect(ids(declared[3]!)).toEqual(['remove work queue a', 'remove work queue b']);
  });

  it('plans nothing without the list (the server did not answer, or prune is off)', () => {
    const spec = queue('p', 'a', true);
    expect(strayRemovals(spec, testContext({ declared: [spec] }), {}, scope(spec))).toEqual([]);
  });
});
