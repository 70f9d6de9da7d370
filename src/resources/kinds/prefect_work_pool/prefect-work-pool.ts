import type { Action, FieldChange, HttpRequest } from '../../../model/plan.js';
import type { PrefectWorkPool } from '../../../model/generated/setup.js';
import type { HttpCall } from '../../../transport/http.js';
import { apiBase, comparedAgainOnServer, readServerObject } from '../../server-object.js';
import { afterReferences, compareWhenUp, noChanges, poolToken, prefectServerDataToken, type ResourceType } from '../../types.js';

interface PoolFacts {
  /** undefined: the server did not answer (e.g. not started yet on a fresh host). */
  server?: { pool?: { type: string; concurrency_limit: number | null; is_paused: boolean } };
  unreachable?: string;
  /** Seconds since the newest worker heartbeat; left out of the facts digest. */
  live?: { heartbeatAge?: number };
}

const poolUrl = (spec: PrefectWorkPool) => `${apiBase(spec)}/work_pools/${encodeURIComponent(spec.pool)}`;

/**
 * prefect_work_pool: a work pool on the Prefect server, read and changed through the REST API from
 * the host (tunnelled over SSH). Converged when it exists with the type, concurrency limit and
 * paused state wanted. With worker_heartbeat_within, a pool without a recent worker heartbeat is a
 * problem that check reports. A server that is not up yet (a fresh host) is planned for, not an error.
 */
export const prefectWorkPool: ResourceType<PrefectWorkPool, PoolFacts> = {
  kind: 'prefect_work_pool',
  defaultName: (spec) => `prefect_work_pool:${spec.pool}`,
  references: (spec) => afterReferences(spec.after),
  provides: (spec) => [poolToken(spec.pool), prefectServerDataToken(apiBase(spec))],
  onNotify: (spec, _actual, because) =>
    comparedAgainOnServer(spec.name ?? prefectWorkPool.defaultName(spec), `work pool ${spec.pool}`, because),
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    const facts = await poolFacts(spec, http);
    return { into: () => facts };
  },
  plan(spec, actual) {
    const name = spec.name ?? prefectWorkPool.defaultName(spec);
    if (actual.unreachable) return compareWhenUp(name, `work pool ${spec.pool}`, { url: apiBase(spec), why: actual.unreachable });
    const pool = actual.server?.pool;
    if (pool && pool.type !== spec.type) {
      throw new Error(
        `pool ${spec.pool} has type ${pool.type} on the server, not ${spec.type}; a pool's type cannot change: delete it by hand (prefect work-pool delete ${spec.pool}) to let reconcile create it`,
      );
    }
    const wanted = {
      is_paused: spec.paused ?? false,
      ...('concurrency_limit' in spec ? { concurrency_limit: spec.concurrency_limit ?? null } : {}),
    };
    const fields: FieldChange[] = Object.entries(wanted)
      .filter(([key, value]) => pool?.[key as keyof typeof wanted] !== value)
      .map(([key, value]) => ({ field: key, before: pool ? String(pool[key as keyof typeof wanted]) : null, after: String(value) }));
    const problems = heartbeatProblems(spec, actual);
    if (pool && fields.length === 0) return { ...noChanges(), problems };
    const patch: HttpRequest = { method: 'PATCH', url: poolUrl(spec), body: wanted };
    const create: HttpRequest = {
      method: 'POST',
      url: `${apiBase(spec)}/work_pools/`,
      body: { name: spec.pool, type: spec.type, ...wanted },
    };
    const action: Action = pool
      ? { id: name, resource: name, verb: 'update', title: `work pool ${spec.pool}`, fields, steps: [{ request: patch }] }
      : {
          id: name,
          resource: name,
          verb: 'create',
          title: `work pool ${spec.pool}`,
          fields: [{ field: 'type', before: null, after: spec.type }, ...fields],
          // A worker started first may have created the pool already: then it is updated instead.
          steps: [{ request: create, onConflict: patch }],
        };
    return { now: [], late: [action], notifies: [], problems };
  },
};

async function newestHeartbeatAge(spec: PrefectWorkPool, http: HttpCall): Promise<number | undefined> {
  const response = await http('POST', `${poolUrl(spec)}/workers/filter`, {});
  if (response.status !== 200 || !Array.isArray(response.body)) return undefined;
  const times = (response.body as { last_heartbeat_time?: string }[])
    .map((w) => Date.parse(w.last_heartbeat_time ?? ''))
    .filter(Number.isFinite);
  return times.length === 0 ? undefined : Math.max(0, (Date.now() - Math.max(...times)) / 1000);
}

function heartbeatProblems(spec: PrefectWorkPool, actual: PoolFacts): string[] {
  const within = spec.worker_heartbeat_within;
  if (within === undefined || !actual.server?.pool) return [];
  const age = actual.live?.heartbeatAge;
  if (age !== undefined && age <= within) return [];
  return [
    `no worker heartbeat in pool ${spec.pool} within ${within}s (${age === undefined ? 'none ever' : `last ${Math.round(age)}s ago`})`,
  ];
}

/** The pool as the server has it (and, when asked, its newest worker heartbeat). */
async function poolFacts(spec: PrefectWorkPool, http: HttpCall): Promise<PoolFacts> {
  const read = await readServerObject<{ type: string; concurrency_limit: number | null; is_paused: boolean }>(http, poolUrl(spec));
  if ('unreachable' in read) return { unreachable: read.unreachable };
  const pool = read.found;
  if (!pool) return { server: {} };
  const facts: PoolFacts = { server: { pool: { type: pool.type, concurrency_limit: pool.concurrency_limit, is_paused: pool.is_paused } } };
  return spec.worker_heartbeat_within === undefined ? facts : { ...facts, live: { heartbeatAge: await newestHeartbeatAge(spec, http) } };
}
