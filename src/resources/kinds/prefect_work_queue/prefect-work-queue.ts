import type { PrefectWorkQueue } from '../../../model/generated/setup.js';
import {
  apiBase,
  comparedAgainOnServer,
  changedFields,
  observeServerObject,
  planServerObject,
  readAll,
  readServerObject,
  strayRemovals,
  type ListedObject,
  type PruneScope,
  type ServerObjectFacts,
} from '../../server-object.js';
import type { HttpCall } from '../../../transport/http.js';
import { afterReferences, poolToken, prefectServerDataToken, type ResourceType } from '../../types.js';

/** What the server stores of a queue that a spec can set (WorkQueueResponse, server/schemas/responses.py). */
interface StoredQueue {
  priority: number;
  concurrency_limit: number | null;
  is_paused: boolean;
  description: string | null;
}

const queuesUrl = (spec: PrefectWorkQueue) => `${apiBase(spec)}/work_pools/${encodeURIComponent(spec.pool)}/queues`;
const queueUrl = (spec: PrefectWorkQueue, queue = spec.queue) => `${queuesUrl(spec)}/${encodeURIComponent(queue)}`;

/** A pool's queues are one namespace. */
const pruneScope = (spec: PrefectWorkQueue): PruneScope<PrefectWorkQueue> => ({
  noun: 'work queue',
  sameScope: (peer) => apiBase(peer) === apiBase(spec) && peer.pool === spec.pool,
  key: (peer) => peer.queue,
});

/** The pool's queues but its default one, which Prefect never deletes (it answers 500); none while there is no pool. */
async function poolQueues(spec: PrefectWorkQueue, http: HttpCall): Promise<ListedObject[]> {
  const pool = await readServerObject<{ default_queue_id: string }>(http, `${apiBase(spec)}/work_pools/${encodeURIComponent(spec.pool)}`);
  if (!('found' in pool) || !pool.found) return [];
  const queues = (await readAll(http, `${queuesUrl(spec)}/filter`)) as { id: string; name: string }[];
  return queues.filter((q) => q.id !== pool.found!.default_queue_id).map((q) => ({ key: q.name, url: queueUrl(spec, q.name) }));
}

/** The fields the spec manages, as the server names them: a field left out of the spec is the server's. */
function wanted(spec: PrefectWorkQueue): Partial<StoredQueue> {
  return {
    is_paused: spec.paused ?? false,
    ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
    ...('concurrency_limit' in spec ? { concurrency_limit: spec.concurrency_limit ?? null } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
  };
}

/**
 * prefect_work_queue: a queue of a work pool on the Prefect server, read and changed through the
 * REST API from the host, as the pool is (server/api/workers.py: /work_pools/POOL/queues). Converged
 * when it exists with the priority, limit, paused state and description the spec gives. A queue a
 * worker made meanwhile (it creates the queues it is told to poll) is updated instead of created.
 */
export const prefectWorkQueue: ResourceType<PrefectWorkQueue, ServerObjectFacts<StoredQueue>> = {
  kind: 'prefect_work_queue',
  defaultName: (spec) => `prefect_work_queue:${spec.pool}/${spec.queue}`,
  // The pool first when this file declares it; a pool made elsewhere (by a worker) is fine too.
  references: (spec) => [
    ...afterReferences(spec.after),
    { field: ['pool'], token: poolToken(spec.pool), what: 'a prefect_work_pool', ifDeclared: true },
  ],
  provides: (spec) => [prefectServerDataToken(apiBase(spec))],
  onNotify: (spec, _actual, because) =>
    comparedAgainOnServer(spec.name ?? prefectWorkQueue.defaultName(spec), `work queue ${spec.pool}/${spec.queue}`, because),
  probe: () => 'true',
  parse: () => ({}),
  observe: (spec, http) => observeServerObject<StoredQueue>(http, queueUrl(spec), spec.prune ? () => poolQueues(spec, http) : undefined),
  plan(spec, actual, context) {
    const want = wanted(spec);
    return planServerObject(actual, {
      resource: spec.name ?? prefectWorkQueue.defaultName(spec),
      title: `work queue ${spec.pool}/${spec.queue}`,
      api: apiBase(spec),
      url: queueUrl(spec),
      create: { url: queuesUrl(spec), body: { name: spec.queue, ...want } },
      wanted: want,
      removals: strayRemovals(spec, context, actual, pruneScope(spec)),
      differences: (current) => changedFields(current, want),
    });
  },
};
