import { parse as parseYaml } from 'yaml';
import type { Action, FieldChange } from '../engine/model.js';
import type { PrefectDeployments } from '../spec/generated/setup.js';
import { quote } from '../shell/quote.js';
import { ServiceUnreachable } from '../transport/http.js';
import { fileProbe, parsePathFacts, type PathFacts } from './facts.js';
import { asUser } from './steps.js';
import { afterReferences, noChanges, type ResourceType } from './types.js';

/** A deployment as prefect.yaml declares it (the fields reconcile compares). */
interface Declared {
  name: string;
  entrypoint?: string;
  description?: string;
  tags?: string[];
  parameters?: Record<string, unknown>;
  concurrency_limit?: number | { limit: number };
  work_pool?: { name?: string; work_queue_name?: string; job_variables?: Record<string, unknown> };
  schedules?: Record<string, unknown>[];
  pull?: unknown[];
}

/** A deployment as the server returns it. */
interface Registered {
  id: string;
  name: string;
  entrypoint: string | null;
  description: string | null;
  tags: string[];
  parameters: Record<string, unknown>;
  global_concurrency_limit: { limit: number } | null;
  work_pool_name: string | null;
  work_queue_name: string | null;
  job_variables: Record<string, unknown>;
  schedules: { schedule: Record<string, unknown>; active: boolean }[];
  pull_steps: Record<string, { directory?: string }>[] | null;
}

interface DeploymentsFacts {
  file: PathFacts;
  /** undefined when the server did not answer. */
  registered?: Registered[];
  unreachable?: string;
}

const api = (spec: PrefectDeployments) => spec.api_url.replace(/\/$/, '');
const fileOf = (spec: PrefectDeployments) => `${spec.project_dir}/${spec.prefect_file ?? 'prefect.yaml'}`;

/**
 * prefect_deployments: the deployments a project's prefect.yaml declares, as registered on the server.
 * Reads prefect.yaml on the host and the server's deployments through the API. Converged when each
 * declared deployment is registered with the same entrypoint, pool, queue, schedules, parameters,
 * tags, description, concurrency limit and job variables. Missing or changed ones are redeployed
 * with `prefect deploy -n NAME`, run in the project directory as its user, with the venv and profile.
 * Deployments of this project the file no longer declares are reported, and deleted with prune: true.
 */
export const prefectDeployments: ResourceType<PrefectDeployments, DeploymentsFacts> = {
  kind: 'prefect_deployments',
  defaultName: (spec) => `prefect_deployments:${spec.project_dir}`,
  references: (spec) => afterReferences(spec.after),
  probe: (spec) => fileProbe(fileOf(spec)),
  parse: (_spec, output) => ({ file: parsePathFacts(output) }),
  async observe(spec, http) {
    try {
      const response = await http('POST', `${api(spec)}/deployments/filter`, {});
      if (response.status !== 200) throw new Error(`POST ${api(spec)}/deployments/filter: HTTP ${response.status} ${JSON.stringify(response.body)}`);
      return { into: (actual) => ({ ...actual, registered: response.body as Registered[] }) };
    } catch (error) {
      if (error instanceof ServiceUnreachable) return { into: (actual) => ({ ...actual, unreachable: (error as Error).message }) };
      throw error;
    }
  },
  plan(spec, actual) {
    const name = spec.name ?? prefectDeployments.defaultName(spec);
    const declared = selected(spec, actual);
    const late: Action[] = [];
    const problems: string[] = [];
    for (const wanted of declared) {
      const current = actual.registered && pick(actual.registered, wanted);
      if (current && wanted.schedules?.length === 0 && current.schedules.length > 0) {
        // `prefect deploy` keeps the old schedules when the file has none: redeploying cannot fix this.
        problems.push(`${wanted.name}: prefect.yaml has no schedules but the server has ${current.schedules.length}; clear them with prefect deployment schedule clear`);
      }
      const fields = current ? differences(wanted, current) : [];
      if (current && fields.length === 0) continue;
      late.push({
        id: `deploy ${wanted.name}`, resource: name, verb: current ? 'update' : 'create', title: `deployment ${wanted.name}`,
        because: actual.unreachable ? `the server does not answer yet (${actual.unreachable}); deployed once it is up` : current ? undefined : 'not registered',
        fields, steps: [{ script: deployScript(spec, wanted.name) }],
      });
    }
    for (const stray of strays(spec, actual, declared)) {
      if (spec.prune) {
        late.push({ id: `delete deployment ${stray.name}`, resource: name, verb: 'remove', title: `deployment ${stray.name}`, because: `not in ${fileOf(spec)}`, fields: [], steps: [{ request: { method: 'DELETE', url: `${api(spec)}/deployments/${stray.id}` } }] });
      } else {
        problems.push(`deployment ${stray.name} is on the server but not in ${fileOf(spec)} (prune: true removes it)`);
      }
    }
    return late.length === 0 && problems.length === 0 ? noChanges() : { now: [], late, notifies: [], problems };
  },
};

function selected(spec: PrefectDeployments, actual: DeploymentsFacts): Declared[] {
  if (actual.file.type !== 'file' || !actual.file.content) throw new Error(`${fileOf(spec)} is not a readable file on the host`);
  let project: { deployments?: Declared[]; pull?: unknown[] };
  try {
    project = (parseYaml(actual.file.content.toString('utf8')) ?? {}) as typeof project;
  } catch (error) {
    throw new Error(`${fileOf(spec)} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const all = (project.deployments ?? []).filter((d) => typeof d?.name === 'string');
  if (spec.names === undefined || spec.names === 'all') return all;
  const missing = spec.names.filter((n) => !all.some((d) => d.name === n));
  if (missing.length > 0) throw new Error(`${fileOf(spec)} declares no deployment named ${missing.join(', ')}`);
  return all.filter((d) => (spec.names as string[]).includes(d.name));
}

/** The server's deployment of that name; with several (other flows), the one with the same entrypoint. */
function pick(registered: Registered[], wanted: Declared): Registered | undefined {
  const named = registered.filter((r) => r.name === wanted.name);
  return named.find((r) => r.entrypoint === wanted.entrypoint) ?? named[0];
}

/** Deployments of this project (their pull step works in project_dir) that the file does not declare. */
function strays(spec: PrefectDeployments, actual: DeploymentsFacts, declared: Declared[]): Registered[] {
  if (!actual.registered || (spec.names !== undefined && spec.names !== 'all')) return [];
  return actual.registered.filter(
    (r) => !declared.some((d) => d.name === r.name) && (r.pull_steps ?? []).some((step) => Object.values(step).some((s) => s?.directory === spec.project_dir)),
  );
}

/** Field by field, both sides normalised as the server stores them (see shared/prefect-reference.md). */
export function differences(wanted: Declared, current: Registered): FieldChange[] {
  const limit = typeof wanted.concurrency_limit === 'object' ? wanted.concurrency_limit.limit : wanted.concurrency_limit;
  const pairs: [string, unknown, unknown][] = [
    ['entrypoint', wanted.entrypoint ?? null, current.entrypoint],
    ['work pool', wanted.work_pool?.name ?? null, current.work_pool_name],
    ['work queue', wanted.work_pool?.name ? (wanted.work_pool.work_queue_name ?? 'default') : null, current.work_queue_name],
    ['parameters', canonical(wanted.parameters ?? {}), canonical(current.parameters ?? {})],
    ['tags', [...(wanted.tags ?? [])].sort().join(', '), [...(current.tags ?? [])].sort().join(', ')],
    ['description', wanted.description ?? null, current.description],
    ['concurrency limit', limit ?? null, current.global_concurrency_limit?.limit ?? null],
    ['job variables', canonical(wanted.work_pool?.job_variables ?? {}), canonical(current.job_variables ?? {})],
  ];
  // Emptied schedules are reported as a problem instead: a redeploy keeps the old ones.
  if ((wanted.schedules ?? []).length > 0) {
    pairs.push(['schedule', (wanted.schedules ?? []).map(fromFile).sort().join(' | '), current.schedules.map(fromServer).sort().join(' | ')]);
  }
  return pairs
    .filter(([, want, have]) => JSON.stringify(want) !== JSON.stringify(have))
    .map(([field, want, have]) => ({ field: `${wanted.name}: ${field}`, before: show(have), after: show(want) }));
}

function fromFile(s: Record<string, unknown>): string {
  return scheduleText({ ...s, active: s.active ?? true });
}

function fromServer(s: { schedule: Record<string, unknown>; active: boolean }): string {
  return scheduleText({ ...s.schedule, active: s.active });
}

/** One comparable line per schedule: cron keeps its timezone; rrule loses the DTSTART the server adds. */
function scheduleText(s: Record<string, unknown>): string {
  const inactive = s.active === false ? ' (inactive)' : '';
  if (typeof s.cron === 'string') return `cron "${s.cron}"${s.timezone ? ` ${String(s.timezone)}` : ''}${s.day_or === false ? ' day_or=false' : ''}${inactive}`;
  if (s.interval !== undefined) return `interval ${Number(s.interval)}s${inactive}`;
  return `rrule "${String(s.rrule ?? '').replace(/^DTSTART[^\n]*\n/, '')}"${inactive}`;
}

function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sort(x)])) : v;
  return JSON.stringify(sort(value));
}

function show(value: unknown): string | null {
  return value === null || value === '' ? null : String(value);
}

function deployScript(spec: PrefectDeployments, deployment: string): string {
  const env = [`PREFECT_API_URL=${quote(spec.api_url)}`, ...(spec.profile ? [`PREFECT_PROFILE=${quote(spec.profile)}`] : [])];
  const deploy = `cd ${quote(spec.project_dir)} && env ${env.join(' ')} ${quote(`${spec.venv}/bin/prefect`)} --no-prompt deploy -n ${quote(deployment)} --prefect-file ${quote(spec.prefect_file ?? 'prefect.yaml')}`;
  return asUser(spec.user, deploy);
}
