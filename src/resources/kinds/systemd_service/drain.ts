import type { Action, HttpRequest } from '../../../model/plan.js';
import type { SystemdService } from '../../../model/generated/setup.js';
import type { HttpCall } from '../../../transport/http.js';
import { apiBase, readServerObject } from '../../server-object.js';

/** The work pool a service's restarts drain (see the schema's `drain`). */
export type Drain = NonNullable<SystemdService['drain']>;

/** What a drain needs to know: whether the pool is paused already; undefined when the server does not answer. */
export interface DrainFacts {
  paused: boolean;
}

/** Flow runs that a restart of the server would cut short (orchestration/core_policy.py counts the same as active). */
const IN_FLIGHT = ['PENDING', 'RUNNING', 'CANCELLING'];

const poolUrl = (drain: Drain) => `${apiBase(drain)}/work_pools/${encodeURIComponent(drain.pool)}`;

export async function observeDrain(drain: Drain, http: HttpCall): Promise<DrainFacts | undefined> {
  const read = await readServerObject<{ is_paused: boolean }>(http, poolUrl(drain)).catch(() => ({ unreachable: 'no answer' }));
  if ('unreachable' in read || !read.found) return undefined;
  return { paused: read.found.is_paused };
}

const pausing = (drain: Drain, paused: boolean): HttpRequest => ({ method: 'PATCH', url: poolUrl(drain), body: { is_paused: paused } });

/**
 * The action before a restart: pause the pool (unless it is paused already) and wait for its runs in
 * flight to end. It opens a transaction whose rollback and commit both resume the pool: the commit
 * once every host of the run is done (the workers this server notifies restart while it is paused,
 * so they cut no run short either), the rollback at any failure or interrupt of this host from here on.
 */
export function drainAction(resource: string, drain: Drain, facts: DrainFacts): Action {
  const wait = {
    waitUntilEmpty: {
      url: `${apiBase(drain)}/flow_runs/filter`,
      body: { flow_runs: { state: { type: { any_: IN_FLIGHT } } }, work_pools: { name: { any_: [drain.pool] } } },
      timeoutSeconds: drain.timeout ?? 600,
      what: `flow runs of pool ${drain.pool} in flight`,
    },
  };
  const resume = [{ request: pausing(drain, false) }];
  // A failed restart's rollback restarts the server on its previous unit and does not wait for it: the
  // resume does, for as long as a restart may take, or the pool would stay paused.
  const resumeOnceUp = [{ waitForHealth: { url: `${apiBase(drain)}/health`, timeoutSeconds: 120 } }, ...resume];
  return {
    id: `drain ${drain.pool}`,
    resource,
    verb: 'update',
    title: `drain work pool ${drain.pool}`,
    fields: facts.paused ? [] : [{ field: 'is_paused', before: 'false', after: 'true, until the restart is done' }],
    because: 'a restart of the server would cut its runs in flight short',
    steps: facts.paused ? [wait] : [{ request: pausing(drain, true) }, wait],
    ...(facts.paused
      ? {}
      : {
          transaction: {
            undo: `resume work pool ${drain.pool}`,
            rollback: resumeOnceUp,
            restarts: [],
            commit: { title: `resume work pool ${drain.pool}`, steps: resume, atRunEnd: true },
          },
        }),
  };
}
