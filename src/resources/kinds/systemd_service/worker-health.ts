import type { Action, WaitStep } from '../../../model/plan.js';
import type { ServiceHealth } from '../../../model/generated/setup.js';
import { escapeRegExp } from '../../../model/text.js';
import { quote } from '../../../shell/quote.js';
import { ServiceUnreachable, type HttpCall } from '../../../transport/http.js';
import { apiBase, readAll } from '../../server-object.js';
import type { SpecProblem } from '../../types.js';

/** The health of a Prefect worker, told by its server: the worker's own record in its pool. */
export type WorkerHealth = NonNullable<ServiceHealth['prefect_worker']>;

interface WorkerRecord {
  name: string;
  status?: string;
  last_heartbeat_time?: string | null;
}

/**
 * What a worker logs when its cancellation watcher gives up for good, after its server was unreachable
 * for about 30 s (_internal/observers.py): from then on a flow run set to CANCELLING runs to its end,
 * and the worker stays ONLINE and healthy, until it restarts.
 */
const CANCELLATION_LOST = 'flow run cancellation will fail';

/** Whether a unit runs a Prefect worker (`prefect worker start` in its ExecStart). */
export const runsPrefectWorker = (content: string | undefined) => /^ExecStart=.*\bprefect worker start\b/m.test(content ?? '');

/** A probe fragment: `CancellationLost=N`, how often the unit's current run (its invocation) logged that. */
export const cancellationProbe = (unit: string) =>
  `rc_inv=$(systemctl show -p InvocationID --value ${quote(unit)}); [ -z "$rc_inv" ] || ` +
  `echo "CancellationLost=$(journalctl _SYSTEMD_INVOCATION_ID="$rc_inv" -o cat --no-pager 2>/dev/null | grep -cF ${quote(CANCELLATION_LOST)})"`;

/** Why a worker whose run logged it is restarted. */
export const cancellationLost = `its cancellation watcher gave up while its server was unreachable ('${CANCELLATION_LOST}' in its journal since it started): only a restart restores cancellation`;

/** What a worker started without --name calls itself (workers/base.py: f"{type(self).__name__} {uuid4()}"). */
const ANONYMOUS = /^[A-Za-z]+Worker [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const workersUrl = (worker: WorkerHealth) => `${apiBase(worker)}/work_pools/${encodeURIComponent(worker.pool)}/workers`;

/** What the server says of the worker, and the pool's records that workers without a name left behind. */
export interface WorkerFindings {
  live: { healthy: boolean; detail: string };
  /** OFFLINE records of anonymous workers: no named worker can be one of them, and each restart added one. */
  stale: string[];
}

export async function observeWorker(worker: WorkerHealth, http: HttpCall): Promise<WorkerFindings> {
  let records: WorkerRecord[];
  try {
    records = (await readAll(http, `${workersUrl(worker)}/filter`)) as WorkerRecord[];
  } catch (error) {
    const why = error instanceof ServiceUnreachable ? `its server does not answer: ${error.message}` : (error as Error).message;
    return { live: { healthy: false, detail: why }, stale: [] };
  }
  const stale = records.filter((r) => r.status !== 'ONLINE' && ANONYMOUS.test(r.name)).map((r) => r.name);
  const own = records.find((r) => r.name === worker.name);
  if (!own) return { live: { healthy: false, detail: `no worker named ${worker.name} in pool ${worker.pool}` }, stale };
  if (own.status === 'ONLINE') return { live: { healthy: true, detail: 'ONLINE' }, stale };
  const age = Date.parse(own.last_heartbeat_time ?? '');
  const last = Number.isFinite(age) ? `last heartbeat ${Math.round((Date.now() - age) / 1000)}s ago` : 'no heartbeat ever';
  return {
    live: { healthy: false, detail: `worker ${worker.name} is ${own.status ?? 'not ONLINE'} in pool ${worker.pool} (${last})` },
    stale,
  };
}

/** A start or restart is healthy once the server has a heartbeat of the new process. */
export function workerGate(worker: WorkerHealth, timeoutSeconds: number, failFast: string): WaitStep {
  return {
    waitForHealth: {
      url: `${workersUrl(worker)}/filter`,
      timeoutSeconds,
      failFast,
      newRecord: { key: 'name', value: worker.name, stamp: 'last_heartbeat_time' },
    },
  };
}

/** Removes the stale records; one another host removed first is gone as wanted. */
export function staleRemoval(resource: string, worker: WorkerHealth, stale: string[]): Action {
  return {
    id: `remove stale workers of ${worker.pool}`,
    resource,
    verb: 'remove',
    title: `${stale.length} OFFLINE worker record${stale.length === 1 ? '' : 's'} without a name in pool ${worker.pool}`,
    fields: [],
    because: 'left by workers started without --name (each start added one)',
    steps: stale.map((name) => ({
      request: { method: 'DELETE', url: `${workersUrl(worker)}/${encodeURIComponent(name)}` },
      absentOk: true,
    })),
  };
}

/** The unit must start the worker under the name its health is read by. */
export function unnamedWorker(worker: WorkerHealth, content: string): SpecProblem[] {
  const named = new RegExp(`(?:--name[ =]|-n )(["']?)${escapeRegExp(worker.name)}\\1(?:\\s|$)`);
  if (named.test(content)) return [];
  return [
    {
      field: ['health', 'prefect_worker', 'name'],
      message: `the unit does not start the worker as ${worker.name}: add --name ${worker.name} to its prefect worker start (without it, the worker registers as 'ProcessWorker <uuid>' and its health cannot be read)`,
    },
  ];
}
