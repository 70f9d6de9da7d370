import type { Action, FieldChange, HttpRequest } from '../../../model/plan.js';
import type { PrefectWorkQueue } from '../../../model/generated/setup.js';
import { readServerObject } from '../../server-object.js';
import { afterReferences, compareWhenUp, noChanges, poolToken, type ResourceType } from '../../types.js';

/** What the server stores of a queue that a spec can set (WorkQueueResponse, server/schemas/responses.py). */
interface StoredQueue {
  priority: number;
  concurrency_limit: number | null;
  is_paused: boolean;
  description: string | null;
}

interface QueueFacts {
  /** undefined: the server did not answer (e.g. not started yet on a fresh host). */
  server?: { queue?: StoredQueue };
  unreachable?: string;
}

const apiOf = (spec: PrefectWorkQueue) => spec.api_url.replace(/\/$/, '');
const queuesUrl = (spec: PrefectWorkQueue) => `${apiOf(spec)}/work_pools/${encodeURIComponent(spec.pool)}/queues`;
const queueUrl = (spec: PrefectWorkQueue) => `${queuesUrl(spec)}/${encodeURIComponent(spec.queue)}`;

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
 * when it exists with the priority, limit, paused state and description the spec gives.
 */
export const prefectWorkQueue: ResourceType<PrefectWorkQueue, QueueFacts> = {
  kind: 'prefect_work_queue',
  defaultName: (spec) => `prefect_work_queue:${spec.pool}/${spec.queue}`,
  // The pool first when this file declares it; a pool made elsewhere (by a worker) is fine too.
  references: (spec) => [
    ...afterReferences(spec.after),
    { field: ['pool'], token: poolToken(spec.pool), what: 'a prefect_work_pool', ifDeclared: true },
  ],
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    const read = await readServerObject<StoredQueue>(http, queueUrl(spec));
    const facts: QueueFacts =
      'unreachable' in read ? { unreachable: read.unreachable } : { server: read.found ? { queue: read.found } : {} };
    return { into: () => facts };
  },
  plan(spec, actual) {
    const name = spec.name ?? prefectWorkQueue.defaultName(spec);
    const title = `work queue ${spec.pool}/${spec.queue}`;
    if (actual.unreachable) return compareWhenUp(name, title, { url: apiOf(spec), why: actual.unreachable });
    const current = actual.server?.queue;
    const want = wanted(spec);
    const fields: FieldChange[] = Object.entries(want)
      .filter(([key, value]) => current?.[key as keyof StoredQueue] !== value)
      .map(([key, value]) => ({
        field: key,
        before: current ? String(current[key as keyof StoredQueue]) : null,
        after: String(value),
      }));
    if (current && fields.length === 0) return noChanges();
    const update: HttpRequest = { method: 'PATCH', url: queueUrl(spec), body: want };
    const create: HttpRequest = { method: 'POST', url: queuesUrl(spec), body: { name: spec.queue, ...want } };
    const action: Action = current
      ? { id: name, resource: name, verb: 'update', title, fields, steps: [{ request: update }] }
      : // Made meanwhile (a worker creates the queues it is told to poll): then it is updated instead.
        { id: name, resource: name, verb: 'create', title, fields, steps: [{ request: create, onConflict: update }] };
    return { now: [], late: [action], notifies: [], problems: [] };
  },
};
