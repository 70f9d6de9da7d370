import { flowFacts, Unknowable } from './flow-source.js';
import { intervalSeconds } from '../../durations.js';
import { textOf } from './json-text.js';

/**
 * What `prefect deploy -n FUNCTION/NAME` (Prefect 3.8.3, src/prefect/cli/deploy/) would store on the
 * server for one entry of prefect.yaml, computed without running it: the file's models and their
 * validation (`_models.py`), the defaults (`_config.py _merge_with_default_deploy_config`), templating
 * (`_core.py _run_single_deploy`, `utilities/templating`), schedules (`_schedules.py`) and the flow's
 * own defaults (`deployments/runner.py _set_defaults_from_flow`). Values only known once deployed
 * (blocks, build step outputs) are `Unknowable`, and are never compared.
 */

/** A deployment as the server stores it, normalised for comparison. */
export interface StoredDeployment {
  name: string;
  /** The function in the entrypoint: `prefect deploy -n FUNCTION/NAME` selects one entry by it. */
  functionName: string;
  flowName: string | Unknowable;
  entrypoint: Value;
  description: Value;
  version: Value;
  tags: Value;
  parameters: Value;
  paused: Value;
  enforceParameterSchema: Value;
  workPool: Value;
  workQueue: Value;
  jobVariables: Value;
  concurrencyLimit: Value;
  collisionStrategy: Value;
  gracePeriodSeconds: Value;
  pullSteps: Value;
  /** Each schedule as the server stores it; undefined when the file sets none (a redeploy keeps the old ones). */
  schedules?: StoredSchedule[];
  /** The deployment's `triggers:`, templates resolved: each becomes an automation that runs it (none: its automations go). */
  triggers: Record<string, unknown>[];
}

export type Value = unknown;

export interface StoredSchedule {
  schedule: Record<string, unknown>;
  active: Value;
  parameters: Value;
  slug: Value;
  max_scheduled_runs: null;
}

/** What the host and the server tell about the project, beyond prefect.yaml itself. */
export interface ProjectContext {
  projectDir: string;
  /** The environment `prefect deploy` runs with; undefined when the file uses no `{{ $VAR }}`. */
  env?: Map<string, string>;
  /** Prefect variables on the server; undefined when the server did not answer. */
  variables?: Map<string, unknown>;
  /** Flow files by their path relative to the project: source text and md5. */
  flowFiles: Map<string, { source: string; md5: string }>;
  /** `git rev-parse HEAD` of the project, when it is a git checkout with an origin (Prefect then versions by it). */
  gitCommit?: string;
}

export class PrefectYamlProblem extends Error {}

const ACTIONS = ['build', 'push', 'pull'] as const;
const SCHEDULE_KEYS = new Set([
  'cron',
  'interval',
  'rrule',
  'timezone',
  'anchor_date',
  'active',
  'parameters',
  'slug',
  'replaces',
  'day_or',
]);

/** The deployments of a parsed prefect.yaml, validated as Prefect validates it: one bad key rejects the whole file, as it does for `prefect deploy`. */
export function deploymentEntries(file: string, project: unknown): Record<string, unknown>[] {
  const reject = (where: string, what: string) => {
    throw new PrefectYamlProblem(
      `${file}: ${where}: ${what}; Prefect rejects this too (\`prefect deploy\` prints a validation error and deploys nothing from this file)`,
    );
  };
  if (project === null || project === undefined) return [];
  if (!isMapping(project))
    throw new PrefectYamlProblem(`${file}: the file is not a mapping of keys; \`prefect deploy\` cannot parse it either`);
  for (const key of ['prefect-version', 'name'])
    if (project[key] != null && !isString(project[key]))
      reject(key, `must be a string, not ${typeName(project[key])} ${JSON.stringify(project[key])} (put the value in quotes, as written)`);
  for (const action of ACTIONS) checkSteps(project[action], action, reject);
  const deployments = project.deployments ?? [];
  if (!Array.isArray(deployments))
    reject('deployments', `must be a list of deployments (a '- name: ...' item each), not ${typeName(deployments)}`);
  (deployments as unknown[]).forEach((entry, i) => checkDeployment(entry, i, reject));
  return deployments as Record<string, unknown>[];
}

type Reject = (where: string, what: string) => never;

function checkDeployment(entry: unknown, index: number, reject: Reject): void {
  if (!isMapping(entry)) return reject(`deployments[${index}]`, `must be a mapping, not ${typeName(entry)}`);
  const where = `deployment '${typeof entry.name === 'string' ? entry.name : `#${index}`}'`;
  const expect = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (key in entry && entry[key] !== null && !ok(entry[key]))
      reject(
        `${where}: ${key}`,
        `must be ${what}, not ${typeName(entry[key])} ${JSON.stringify(entry[key])}${key === 'version' ? ' (quote it: version: "1.0")' : ''}`,
      );
  };
  for (const key of ['name', 'version', 'version_type', 'description', 'flow_name', 'entrypoint']) expect(key, isString, 'a string');
  expect('tags', (v) => isString(v) || Array.isArray(v), 'a list of strings');
  expect('paused', isLaxBool, 'true or false');
  expect('enforce_parameter_schema', isLaxBool, 'true or false');
  expect('parameters', isMapping, 'a mapping');
  expect('work_pool', isMapping, 'a mapping with name, work_queue_name and job_variables');
  expect(
    'concurrency_limit',
    (v) =>
      isInt(v) ||
      (isMapping(v) &&
        ['limit', 'grace_period_seconds'].every((k) => v[k] == null || isInt(v[k])) &&
        (v.collision_strategy == null || isString(v.collision_strategy))),
    'a whole number or a mapping {limit, collision_strategy, grace_period_seconds}',
  );
  if (isMapping(entry.work_pool)) {
    const pool = entry.work_pool;
    for (const key of ['name', 'work_queue_name'])
      if (pool[key] != null && !isString(pool[key])) reject(`${where}: work_pool.${key}`, `must be a string, not ${typeName(pool[key])}`);
    if ('job_variables' in pool && !isMapping(pool.job_variables))
      reject(`${where}: work_pool.job_variables`, `must be a mapping, not ${typeName(pool.job_variables)}`);
  }
  if (entry.triggers != null && (!Array.isArray(entry.triggers) || entry.triggers.some((t) => !isMapping(t))))
    reject(`${where}: triggers`, 'must be a list of triggers, each a mapping');
  if ('schedules' in entry && entry.schedules !== null && !Array.isArray(entry.schedules))
    reject(`${where}: schedules`, 'must be a list of schedules');
  // `schedule: {}` passes Prefect's validation (`Dict[None, None]`) and is then ignored as falsy.
  const legacy = isMapping(entry.schedule) && Object.keys(entry.schedule).length === 0 ? null : entry.schedule;
  const schedules = [...((entry.schedules as unknown[] | null) ?? []), ...(legacy != null ? [legacy] : [])];
  for (const schedule of schedules) checkSchedule(schedule, where, reject);
  for (const action of ACTIONS) checkSteps(entry[action], `${where}: ${action}`, reject);
}

function checkSchedule(schedule: unknown, where: string, reject: Reject): void {
  if (!isMapping(schedule)) return reject(`${where}: schedules`, `each schedule must be a mapping, not ${typeName(schedule)}`);
  const unknown = Object.keys(schedule).filter((k) => !SCHEDULE_KEYS.has(k));
  if (unknown.length > 0)
    reject(
      `${where}: schedules`,
      `unknown key ${unknown.map((k) => `'${k}'`).join(', ')} (a schedule takes ${[...SCHEDULE_KEYS].join(', ')})`,
    );
  const kinds = ['cron', 'interval', 'rrule'].filter((k) => schedule[k] != null);
  if (kinds.length !== 1)
    reject(`${where}: schedules`, `exactly one of 'cron', 'interval' or 'rrule' must be given (found ${kinds.length})`);
  if (schedule.interval != null && intervalSeconds(schedule.interval) === undefined)
    reject(
      `${where}: schedules`,
      `interval ${JSON.stringify(schedule.interval)} is neither seconds nor an ISO 8601 duration (PT1H) nor HH:MM:SS`,
    );
}

function checkSteps(steps: unknown, where: string, reject: Reject): void {
  if (steps == null || isMapping(steps)) return;
  if (!Array.isArray(steps) || steps.some((s) => !isMapping(s))) reject(where, 'must be a list of steps, each a mapping');
}

/**
 * The entry as the server will store it after `prefect deploy -n FUNCTION/NAME`: defaults merged,
 * templates resolved in Prefect's order (blocks, variables, environment, then step outputs).
 */
export function storedDeployment(
  entry: Record<string, unknown>,
  project: Record<string, unknown>,
  context: ProjectContext,
): StoredDeployment {
  const hasStepOutputs = [entry.build ?? project.build, entry.push ?? project.push].some((s) =>
    Array.isArray(s) ? s.length > 0 : isMapping(s) && Object.keys(s).length > 0,
  );
  const rawPull = 'pull' in entry ? entry.pull : project.pull;
  const config = resolveTemplates(withDefaults(entry), context, hasStepOutputs) as Record<string, unknown>;
  const entrypoint = config.entrypoint;
  const functionName =
    textOf(entry.entrypoint ?? '')
      .split(':')
      .at(-1) ?? '';
  const flowPath = typeof entrypoint === 'string' ? entrypoint.slice(0, entrypoint.lastIndexOf(':')) : '';
  const flowFile = context.flowFiles.get(flowPath);
  const flow = flowFile && typeof entrypoint === 'string' ? flowFacts(flowFile.source, entrypoint.split(':').at(-1)!) : undefined;
  const notReadable = new Unknowable(`the flow in ${flowPath || 'the entrypoint'} could not be read`);
  const pool = config.work_pool as Record<string, unknown>;
  const limit = config.concurrency_limit;
  const limitOptions = isMapping(limit) ? limit : undefined;
  return {
    name: String(config.name),
    functionName,
    flowName: flow?.name ?? notReadable,
    entrypoint,
    description: config.description || (flow ? flow.description : notReadable),
    version: config.version || (flow ? (flow.version ?? context.gitCommit?.slice(0, 8) ?? flowFile!.md5) : notReadable),
    tags: listOfNonEmptyStrings(config.tags),
    parameters: config.parameters ?? {},
    paused: laxBool(config.paused ?? false),
    enforceParameterSchema: laxBool(config.enforce_parameter_schema ?? true),
    workPool: pool.name ?? null,
    workQueue: pool.work_queue_name ?? 'default',
    jobVariables: pool.job_variables ?? {},
    concurrencyLimit: limitOptions ? (limitOptions.limit ?? null) : (limit ?? null),
    collisionStrategy: limitOptions ? (limitOptions.collision_strategy ?? null) : null,
    gracePeriodSeconds: limitOptions ? (limitOptions.grace_period_seconds ?? null) : null,
    pullSteps: pullSteps(rawPull, config, context, hasStepOutputs),
    schedules: schedulesOf(config),
    triggers: Array.isArray(config.triggers) ? (config.triggers as Record<string, unknown>[]) : [],
  };
}

/**
 * Prefect's `ListOfNonEmptyStrings`: `[str(s) for s in x if str(s).strip()]`, so text (`tags: dev`) becomes
 * its characters, as the server then stores it.
 */
function listOfNonEmptyStrings(tags: unknown): Value {
  if (tags instanceof Unknowable) return tags;
  const items: unknown[] =
    typeof tags === 'string' ? Array.from(tags) /* code points, as Python's list(str) */ : Array.isArray(tags) ? tags : [];
  return items
    .map((item) => (item instanceof Unknowable ? item : pythonStr(item)))
    .filter((tag) => tag instanceof Unknowable || tag.trim() !== '');
}

/** `_merge_with_default_deploy_config`, then the legacy single `schedule` key (an empty one is ignored, as Prefect ignores it). */
function withDefaults(entry: Record<string, unknown>): Record<string, unknown> {
  const pool = isMapping(entry.work_pool) ? entry.work_pool : {};
  const config: Record<string, unknown> = {
    version: null,
    tags: [],
    concurrency_limit: null,
    description: null,
    parameters: {},
    ...entry,
    work_pool: { name: null, work_queue_name: null, job_variables: {}, ...pool },
  };
  if (isMapping(entry.schedule) && Object.keys(entry.schedule).length > 0) {
    if ('schedules' in entry)
      throw new PrefectYamlProblem(
        `deployment '${String(entry.name)}': both 'schedule' and 'schedules' are given; Prefect refuses that (use only 'schedules')`,
      );
    config.schedules = [entry.schedule];
  }
  return config;
}

/** Pull steps are stored as written, with only `{{ $VAR }}` and step outputs filled in; none given: work in the project directory. */
function pullSteps(raw: unknown, config: Record<string, unknown>, context: ProjectContext, hasStepOutputs: boolean): Value {
  const steps = isMapping(raw) && Object.keys(raw).length > 0 ? [raw] : raw;
  if (Array.isArray(steps) && steps.length === 0 && raw !== null) return [];
  if (Array.isArray(steps) && steps.length > 0) {
    return applyTemplates(
      steps,
      (name) => {
        const env = envOrKeep(name, context);
        if (env !== 'keep' || !hasStepOutputs || name.startsWith('$') || name.startsWith('prefect.')) return env;
        return { value: new Unknowable(`the build or push step output ${name}`) };
      },
      false,
    );
  }
  const image = (config.work_pool as Record<string, Record<string, unknown>>).job_variables?.image;
  if (image !== undefined) return new Unknowable('the default pull step for a custom image');
  return [{ 'prefect.deployments.steps.set_working_directory': { directory: context.projectDir } }];
}

function schedulesOf(config: Record<string, unknown>): StoredSchedule[] | undefined {
  const list = config.schedules;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.map((raw) => {
    const s = raw as Record<string, unknown>;
    return {
      schedule: scheduleBody(s),
      active: laxBool(s.active ?? true),
      parameters: s.parameters ?? {},
      slug: s.slug ?? null,
      max_scheduled_runs: null,
    };
  });
}

/** CronSchedule / IntervalSchedule / RRuleSchedule as the server stores them (client/schemas/schedules.py). */
function scheduleBody(s: Record<string, unknown>): Record<string, unknown> {
  if (s.cron != null) return { cron: s.cron, timezone: s.timezone ?? null, day_or: laxBool(s.day_or ?? true) };
  if (s.interval != null) {
    const anchor = typeof s.anchor_date === 'string' ? s.anchor_date : undefined;
    return {
      interval: intervalSeconds(s.interval),
      ...(anchor ? { anchor_date: anchor } : {}),
      timezone: s.timezone ?? anchorZone(anchor) ?? 'UTC',
    };
  }
  const rrule = String(s.rrule);
  if (rrule.trimStart().startsWith('{')) {
    try {
      const json = JSON.parse(rrule) as Record<string, unknown>;
      return { rrule: json.rrule, timezone: s.timezone ?? json.timezone ?? 'UTC' };
    } catch {
      // Not JSON: Prefect takes the text as the rule.
    }
  }
  return { rrule, timezone: s.timezone ?? 'UTC' };
}

/** A UTC offset in an anchor date names no zone; Prefect then uses UTC. */
function anchorZone(anchor: string | undefined): string | undefined {
  return anchor && /(?:Z|[+-]00:?00)$/.test(anchor) ? 'UTC' : undefined;
}

// --- templating (src/prefect/utilities/templating/__init__.py) ---

const PLACEHOLDER = /({{\s*([\w.\-[\]$]+)\s*}})/g;

type Resolver = (name: string) => { value: unknown } | 'keep' | 'drop';

/**
 * Prefect's passes over the config, in its order: block references, then variables, then the
 * environment (unset ones kept), then step outputs (none without build or push steps: what is left
 * is dropped, as `apply_values` with `remove_notset` does).
 */
function resolveTemplates(config: unknown, context: ProjectContext, hasStepOutputs: boolean): unknown {
  const blocks = applyTemplates(
    blockReferences(config),
    (name) => (name.startsWith('prefect.blocks.') ? { value: new Unknowable(`the block ${name}`) } : 'keep'),
    false,
  );
  const variables = applyTemplates(blocks, (name) => variable(name, context), false);
  const env = applyTemplates(variables, (name) => envOrKeep(name, context), false);
  return applyTemplates(
    env,
    (name) => {
      if (name.startsWith('ctx.')) return 'keep';
      if (hasStepOutputs) return { value: new Unknowable(`the build or push step output ${name}`) };
      return name.startsWith('$') ? { value: '' } : 'drop';
    },
    true,
  );
}

/** `{"$ref": {"block_document_id": ...}}` is replaced by the block's data: not knowable here either. */
function blockReferences(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(blockReferences);
  if (!isMapping(value)) return value;
  const ref = value.$ref;
  if (isMapping(ref) && ref.block_document_id) return new Unknowable(`the block ${textOf(ref.block_document_id)}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blockReferences(v)]));
}

function variable(name: string, context: ProjectContext): ReturnType<Resolver> {
  if (!name.startsWith('prefect.variables.')) return 'keep';
  if (!context.variables) return { value: new Unknowable(`the variable ${name} (the server did not answer)`) };
  const found = context.variables.get(name.slice('prefect.variables.'.length));
  return { value: found === undefined ? '' : found };
}

function envOrKeep(name: string, context: ProjectContext): ReturnType<Resolver> {
  if (name.startsWith('prefect.') || name.startsWith('ctx.')) return 'keep';
  const key = name.startsWith('$') ? name.slice(1) : name;
  if (!context.env) return name.startsWith('$') ? { value: new Unknowable(`the environment variable ${key}`) } : 'keep';
  const value = context.env.get(key);
  return value === undefined ? 'keep' : { value };
}

/**
 * `apply_values`: a string that is one placeholder becomes its value (typed); placeholders inside
 * longer text are replaced by their text. With `drop`, a key or item whose whole value is an
 * unresolved placeholder is removed, and unresolved placeholders in text become ''.
 */
function applyTemplates(template: unknown, resolve: Resolver, drop: boolean): unknown {
  if (typeof template === 'string') {
    const found = [...template.matchAll(PLACEHOLDER)];
    if (found.length === 0) return template;
    if (found.length === 1 && found[0]![1] === template) {
      const answer = resolve(found[0]![2]!);
      if (answer === 'keep') return template;
      if (answer === 'drop') return drop ? DROPPED : template;
      return answer.value;
    }
    let text = template;
    for (const [, whole, name] of found) {
      const answer = resolve(name!);
      if (answer === 'keep') continue;
      if (answer === 'drop') {
        if (drop) text = text.split(whole!).join('');
        continue;
      }
      if (answer.value instanceof Unknowable) return answer.value;
      text = text.split(whole!).join(pythonStr(answer.value));
    }
    return text;
  }
  if (Array.isArray(template)) return template.map((item) => applyTemplates(item, resolve, drop)).filter((v) => v !== DROPPED);
  if (isMapping(template)) {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) {
      const applied = applyTemplates(value, resolve, drop);
      if (applied !== DROPPED) out[key] = applied;
    }
    return out;
  }
  return template;
}

const DROPPED = Symbol('dropped');

/** Python's str() of a JSON value, as Prefect puts a variable into longer text. */
function pythonStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value).replace(/"/g, "'").replace(/:/g, ': ').replace(/,/g, ', ');
}

// --- pydantic's lax types ---

function isLaxBool(v: unknown): boolean {
  return laxBool(v) !== undefined;
}

/** pydantic's bool in lax mode; template text not known yet stays as it is. */
function laxBool(v: unknown): unknown {
  if (typeof v === 'boolean' || v instanceof Unknowable) return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const text = v.trim().toLowerCase();
    if (['true', 't', 'yes', 'y', 'on', '1'].includes(text)) return true;
    if (['false', 'f', 'no', 'n', 'off', '0'].includes(text)) return false;
    if (/{{.*}}/.test(v)) return v;
  }
  return undefined;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Unknowable);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v === 'number' ? (Number.isInteger(v) ? 'number' : 'decimal number') : typeof v}`;
}
