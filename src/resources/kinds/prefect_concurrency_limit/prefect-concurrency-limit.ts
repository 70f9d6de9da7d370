import type { Action, FieldChange, HttpRequest } from '../../../model/plan.js';
import type { PrefectConcurrencyLimit } from '../../../model/generated/setup.js';
import { readServerObject } from '../../server-object.js';
import { afterReferences, compareWhenUp, noChanges, type ResourceType } from '../../types.js';

/** What the server stores of a global limit that a spec can set (ConcurrencyLimitV2, server/schemas/core.py). */
interface StoredLimit {
  limit: number;
  active: boolean;
  slot_decay_per_second: number;
}

interface LimitFacts {
  /** undefined: the server did not answer (e.g. not started yet on a fresh host). */
  server?: { limit?: StoredLimit };
  unreachable?: string;
}

const apiOf = (spec: PrefectConcurrencyLimit) => spec.api_url.replace(/\/$/, '');
const limitUrl = (spec: PrefectConcurrencyLimit) => `${apiOf(spec)}/v2/concurrency_limits/${encodeURIComponent(spec.concurrency_limit)}`;

/**
 * prefect_concurrency_limit: a global (v2) concurrency limit on the Prefect server, read and changed
 * through the REST API from the host (server/api/concurrency_limits_v2.py, by name). Converged when
 * it exists with the limit, active state and (when given) slot decay wanted. Its slots in use are
 * the flows' business: never compared, never sent.
 */
export const prefectConcurrencyLimit: ResourceType<PrefectConcurrencyLimit, LimitFacts> = {
  kind: 'prefect_concurrency_limit',
  defaultName: (spec) => `prefect_concurrency_limit:${spec.concurrency_limit}`,
  references: (spec) => afterReferences(spec.after),
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    const read = await readServerObject<StoredLimit>(http, limitUrl(spec));
    const facts: LimitFacts =
      'unreachable' in read ? { unreachable: read.unreachable } : { server: read.found ? { limit: read.found } : {} };
    return { into: () => facts };
  },
  plan(spec, actual) {
    const name = spec.name ?? prefectConcurrencyLimit.defaultName(spec);
    const title = `concurrency limit ${spec.concurrency_limit}`;
    if (actual.unreachable) return compareWhenUp(name, title, { url: apiOf(spec), why: actual.unreachable });
    const current = actual.server?.limit;
    const wanted: Partial<StoredLimit> = {
      limit: spec.limit,
      active: spec.active ?? true,
      ...(spec.slot_decay_per_second !== undefined ? { slot_decay_per_second: spec.slot_decay_per_second } : {}),
    };
    const fields: FieldChange[] = Object.entries(wanted)
      .filter(([key, value]) => current?.[key as keyof StoredLimit] !== value)
      .map(([key, value]) => ({ field: key, before: current ? String(current[key as keyof StoredLimit]) : null, after: String(value) }));
    if (current && fields.length === 0) return noChanges();
    const update: HttpRequest = { method: 'PATCH', url: limitUrl(spec), body: wanted };
    const create: HttpRequest = {
      method: 'POST',
      url: `${apiOf(spec)}/v2/concurrency_limits/`,
      body: { name: spec.concurrency_limit, ...wanted },
    };
    const action: Action = current
      ? { id: name, resource: name, verb: 'update', title, fields, steps: [{ request: update }] }
      : // Made meanwhile by someone else (409): then it is updated instead.
        { id: name, resource: name, verb: 'create', title, fields, steps: [{ request: create, onConflict: update }] };
    return { now: [], late: [action], notifies: [], problems: [] };
  },
};
