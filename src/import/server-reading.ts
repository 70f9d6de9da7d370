import type {
  PrefectAutomation,
  PrefectBlock,
  PrefectConcurrencyLimit,
  PrefectVariable,
  PrefectWorkPool,
  PrefectWorkQueue,
} from '../model/generated/setup.js';
import { runsDeployment, type AutomationBody } from '../resources/automation-shape.js';
import { readAll } from '../resources/server-object.js';
import type { HttpCall } from '../transport/http.js';

/**
 * What `reconcile import` reads from a Prefect server: every object a setup can keep, as the
 * resources that keep it. A block's secret fields are never read (the server obfuscates them): each
 * becomes a reference to a secret the user fills in.
 */

/** A value the import cannot write: its secret's name, and where it came from. */
export interface SecretToFill {
  name: string;
  what: string;
}

export interface ServerFindings {
  resources: (PrefectWorkPool | PrefectWorkQueue | PrefectVariable | PrefectBlock | PrefectConcurrencyLimit | PrefectAutomation)[];
  secrets: SecretToFill[];
  /** The directories deployments work in (their set_working_directory pull step). */
  projectDirs: string[];
  /** What is on the server but not imported, and why. */
  leftOut: string[];
}

type Json = Record<string, unknown>;

/** Reads every kind from the server at `api` (through the host); `after` is the server's unit, when on this host. */
export async function readServer(http: HttpCall, api: string, after: string[]): Promise<ServerFindings> {
  const list = async (path: string, filter: object = {}) => (await readAll(http, `${api}${path}`, filter)) as Json[];
  const [pools, variables, blocks, limits, stored, deployments] = await Promise.all([
    list('/work_pools/filter'),
    list('/variables/filter'),
    list('/block_documents/filter', { block_documents: { is_anonymous: { eq_: false } } }),
    list('/v2/concurrency_limits/filter'),
    list('/automations/filter'),
    list('/deployments/filter'),
  ]);
  const automations = stored as (Json & AutomationBody)[];
  const common = { api_url: api, ...(after.length > 0 ? { after } : {}) };
  const secrets: SecretToFill[] = [];
  const queues = await Promise.all(pools.map((pool) => poolQueues(http, api, pool, common)));
  return {
    resources: [
      ...pools.map((p): PrefectWorkPool => ({
        kind: 'prefect_work_pool',
        pool: p.name as string,
        type: p.type as string,
        concurrency_limit: (p.concurrency_limit as number | null) ?? null,
        paused: p.is_paused as boolean,
        ...common,
      })),
      ...queues.flat(),
      ...variables.map((v): PrefectVariable => ({
        kind: 'prefect_variable',
        variable: v.name as string,
        value: v.value,
        ...((v.tags as string[]).length > 0 ? { tags: v.tags as string[] } : {}),
        ...common,
      })),
      ...blocks.map((b) => block(b, common, secrets)),
      ...limits.map((l): PrefectConcurrencyLimit => ({
        kind: 'prefect_concurrency_limit',
        concurrency_limit: l.name as string,
        limit: l.limit as number,
        active: l.active as boolean,
        slot_decay_per_second: l.slot_decay_per_second as number,
        ...common,
      })),
      ...automations.filter((a) => !runsDeployment(a)).map((a) => automation(a, common)),
    ],
    secrets,
    projectDirs: [...new Set(deployments.flatMap(workingDirectories))],
    leftOut: automations
      .filter(runsDeployment)
      .map((a) => `automation ${a.name}: it runs a deployment; a prefect.yaml's triggers make those (declare it by hand if you made it)`),
  };
}

/** A pool's queues but its default one, which comes with the pool. */
async function poolQueues(http: HttpCall, api: string, pool: Json, common: object): Promise<PrefectWorkQueue[]> {
  const queues = (await readAll(http, `${api}/work_pools/${encodeURIComponent(pool.name as string)}/queues/filter`)) as Json[];
  return queues
    .filter((q) => q.id !== pool.default_queue_id)
    .map((q) => ({
      kind: 'prefect_work_queue',
      queue: q.name as string,
      pool: pool.name as string,
      priority: q.priority as number,
      concurrency_limit: (q.concurrency_limit as number | null) ?? null,
      paused: q.is_paused as boolean,
      ...(q.description ? { description: q.description as string } : {}),
      ...common,
    })) as PrefectWorkQueue[];
}

/** A block with each secret field as a reference to a secret named after the block and the field. */
function block(b: Json, common: object, secrets: SecretToFill[]): PrefectBlock {
  const type = (b.block_type as Json).slug as string;
  const paths = (((b.block_schema as Json).fields as Json).secret_fields as string[] | undefined) ?? [];
  const reference = (path: string[]) => {
    const name = `${b.name as string}_${path.join('_')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    secrets.push({ name, what: `the ${path.join('.')} of the ${type} block ${b.name as string}` });
    return `{{ ${name} }}`;
  };
  const data = Object.fromEntries(
    Object.entries(b.data as Json).map(([field, value]) => {
      // `headers.*`: every value under the field is secret, its keys are not.
      if (paths.includes(`${field}.*`) && value !== null && typeof value === 'object')
        return [field, Object.fromEntries(Object.keys(value).map((key) => [key, reference([field, key])]))];
      return [field, paths.includes(field) ? reference([field]) : value];
    }),
  );
  return { kind: 'prefect_block', block_type: type, block: b.name as string, data, ...common } as PrefectBlock;
}

function automation(a: Json, common: object): PrefectAutomation {
  const withoutIds = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(withoutIds);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'id')
        .map(([k, v]) => [k, withoutIds(v)]),
    );
  };
  return {
    kind: 'prefect_automation',
    automation: a.name as string,
    ...(a.description ? { description: a.description as string } : {}),
    enabled: a.enabled as boolean,
    ...((a.tags as string[]).length > 0 ? { tags: a.tags as string[] } : {}),
    trigger: withoutIds(a.trigger) as PrefectAutomation['trigger'],
    actions: a.actions as PrefectAutomation['actions'],
    ...((a.actions_on_trigger as Json[]).length > 0 ? { actions_on_trigger: a.actions_on_trigger as PrefectAutomation['actions'] } : {}),
    ...((a.actions_on_resolve as Json[]).length > 0 ? { actions_on_resolve: a.actions_on_resolve as PrefectAutomation['actions'] } : {}),
    ...common,
  } as PrefectAutomation;
}

function workingDirectories(deployment: Json): string[] {
  return ((deployment.pull_steps as Json[] | null) ?? []).flatMap((step) =>
    Object.values(step).flatMap((args) => {
      const directory = (args as { directory?: unknown } | null)?.directory;
      return typeof directory === 'string' ? [directory] : [];
    }),
  );
}
