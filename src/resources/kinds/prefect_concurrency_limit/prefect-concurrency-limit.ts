import type { PrefectConcurrencyLimit } from '../../../model/generated/setup.js';
import {
  apiBase,
  comparedAgainOnServer,
  changedFields,
  listedByName,
  observeServerObject,
  planServerObject,
  type ServerObjectFacts,
  serverWide,
  strayRemovals,
} from '../../server-object.js';
import { afterReferences, prefectServerDataToken, type ResourceType } from '../../types.js';

/** What the server stores of a global limit that a spec can set (ConcurrencyLimitV2, server/schemas/core.py). */
interface StoredLimit {
  limit: number;
  active: boolean;
  slot_decay_per_second: number;
}

const limitUrl = (spec: PrefectConcurrencyLimit, name = spec.concurrency_limit) =>
  `${apiBase(spec)}/v2/concurrency_limits/${encodeURIComponent(name)}`;

/**
 * prefect_concurrency_limit: a global (v2) concurrency limit on the Prefect server, read and changed
 * through the REST API from the host (server/api/concurrency_limits_v2.py, by name). Converged when
 * it exists with the limit, active state and (when given) slot decay wanted. Its slots in use are
 * the flows' business: never compared, never sent.
 */
export const prefectConcurrencyLimit: ResourceType<PrefectConcurrencyLimit, ServerObjectFacts<StoredLimit>> = {
  kind: 'prefect_concurrency_limit',
  defaultName: (spec) => `prefect_concurrency_limit:${spec.concurrency_limit}`,
  references: (spec) => afterReferences(spec.after),
  provides: (spec) => [prefectServerDataToken(apiBase(spec))],
  onNotify: (spec, _actual, because) =>
    comparedAgainOnServer(spec.name ?? prefectConcurrencyLimit.defaultName(spec), `concurrency limit ${spec.concurrency_limit}`, because),
  probe: () => 'true',
  parse: () => ({}),
  observe: (spec, http) =>
    observeServerObject<StoredLimit>(
      http,
      limitUrl(spec),
      spec.prune ? () => listedByName(http, `${apiBase(spec)}/v2/concurrency_limits/filter`, (name) => limitUrl(spec, name)) : undefined,
    ),
  plan(spec, actual, context) {
    const wanted: Partial<StoredLimit> = {
      limit: spec.limit,
      active: spec.active ?? true,
      ...(spec.slot_decay_per_second !== undefined ? { slot_decay_per_second: spec.slot_decay_per_second } : {}),
    };
    return planServerObject(actual, {
      resource: spec.name ?? prefectConcurrencyLimit.defaultName(spec),
      title: `concurrency limit ${spec.concurrency_limit}`,
      api: apiBase(spec),
      url: limitUrl(spec),
      create: { url: `${apiBase(spec)}/v2/concurrency_limits/`, body: { name: spec.concurrency_limit, ...wanted } },
      wanted,
      removals: strayRemovals(
        spec,
        context,
        actual,
        serverWide(spec, 'concurrency limit', (peer) => peer.concurrency_limit),
      ),
      differences: (current) => changedFields(current, wanted),
    });
  },
};
