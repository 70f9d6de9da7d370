import type { FieldChange } from '../../../model/plan.js';
import type { StoredDeployment, StoredSchedule } from './deploy-config.js';
import { Unknowable } from './flow-source.js';
import { textOf } from './json-text.js';
import { canonicalJson } from '../../canonical-json.js';
import { covers, deploymentTriggerAutomation, type AutomationBody } from '../../automation-shape.js';
import { escapeRegExp } from '../../../model/text.js';

/**
 * A deployment as the server returns it (the fields a prefect.yaml can set). Fields with a server
 * default are optional: the answer is JSON we do not control, compared with the default filled in.
 */
export interface Registered {
  id: string;
  name: string;
  entrypoint: string | null;
  description: string | null;
  version: string | null;
  tags?: string[];
  parameters?: Record<string, unknown>;
  paused?: boolean;
  enforce_parameter_schema?: boolean;
  global_concurrency_limit: { limit: number } | null;
  concurrency_options: { collision_strategy?: string | null; grace_period_seconds?: number | null } | null;
  work_pool_name: string | null;
  work_queue_name: string | null;
  job_variables: Record<string, unknown> | null;
  schedules: RegisteredSchedule[];
  pull_steps: Record<string, unknown>[] | null;
  /** Automations that run this deployment (read beside the deployments; undefined: not read). */
  automations?: (AutomationBody & { id: string })[];
}

interface RegisteredSchedule {
  id: string;
  schedule: Record<string, unknown>;
  active: boolean;
  parameters?: Record<string, unknown>;
  slug?: string | null;
  max_scheduled_runs?: number | null;
}

/** How a person fixes what a redeploy cannot (see prefect-deployments' fixCommand). */
export type Fix = 'delete' | 'clear-schedules' | { deleteSchedule: string };

export interface Comparison {
  fields: FieldChange[];
  /** What a redeploy cannot change: the server keeps it (see deploy-config's sources). */
  problems: string[];
}

/** A deployment the server does not have: every field as the server's default for it. */
const NOTHING: Omit<Registered, 'name'> = {
  id: '',
  entrypoint: null,
  description: null,
  version: null,
  global_concurrency_limit: null,
  concurrency_options: null,
  work_pool_name: null,
  work_queue_name: null,
  job_variables: null,
  schedules: [],
  pull_steps: null,
};

/**
 * What creating the deployment will store: each field that differs from the server's default, as a
 * change from nothing, so a plan shows what a create sends as it shows what an update changes.
 */
export function createdFields(wanted: StoredDeployment): FieldChange[] {
  return compareDeployment(wanted, { ...NOTHING, name: wanted.name }, () => '').fields.map((f) => ({ ...f, before: null }));
}

/** Field by field, every field a prefect.yaml can set, both sides as the server stores them. */
export function compareDeployment(wanted: StoredDeployment, current: Registered, fixCommand: (how: Fix) => string): Comparison {
  const problems: string[] = [];
  const pairs: [string, unknown, unknown][] = [
    ['entrypoint', wanted.entrypoint, current.entrypoint],
    // With neither a description nor a docstring, Prefect 3.8.3 stores the text "None" on create, null on update.
    ['description', wanted.description ?? null, current.description === 'None' ? null : current.description],
    ['version', wanted.version, current.version],
    ['tags', sorted(wanted.tags), sorted(current.tags ?? [])],
    ['parameters', wanted.parameters, current.parameters ?? {}],
    ['paused', wanted.paused, current.paused ?? false],
    ['enforce_parameter_schema', wanted.enforceParameterSchema, current.enforce_parameter_schema ?? true],
    ['work pool', wanted.workPool, current.work_pool_name],
    ['work queue', wanted.workQueue, current.work_queue_name],
    ['concurrency limit', wanted.concurrencyLimit, current.global_concurrency_limit?.limit ?? null],
    ['collision_strategy', wanted.collisionStrategy, current.concurrency_options?.collision_strategy ?? null],
    ['grace_period_seconds', wanted.gracePeriodSeconds, current.concurrency_options?.grace_period_seconds ?? null],
    ['pull steps', wanted.pullSteps, current.pull_steps ?? []],
  ];
  const jobVariables = current.job_variables ?? {};
  if (isEmptyObject(wanted.jobVariables) && !isEmptyObject(jobVariables)) {
    // The server ignores an empty job_variables (server/models/deployments.py update_deployment: `if job_variables:`).
    problems.push(
      `${wanted.name}: prefect.yaml sets no job variables but the server keeps ${Object.keys(jobVariables).join(', ')} (a redeploy cannot clear them: ${fixCommand('delete')})`,
    );
  } else {
    pairs.push(['job variables', wanted.jobVariables, jobVariables]);
  }
  if (wanted.schedules === undefined) {
    // `prefect deploy` sends schedules only when the file has some (deployments/runner.py _update).
    if (current.schedules.length > 0)
      problems.push(
        `${wanted.name}: prefect.yaml has no schedules but the server has ${current.schedules.length} (a redeploy keeps them: ${fixCommand('clear-schedules')})`,
      );
  } else {
    const schedules = compareSchedules(wanted.name, wanted.schedules, current.schedules, fixCommand);
    problems.push(...schedules.problems);
    if (schedules.compared && !sameSchedules(wanted.schedules, schedules.compared)) {
      // The server's parameters hold what a block reference resolved to (a secret): hidden wherever the file has one.
      const resolvedAtDeploy = mergedShape(wanted.schedules.map((w) => w.parameters));
      const text = (list: Parameters<typeof scheduleText>[0][]) =>
        list
          .map((one) => scheduleText(one, resolvedAtDeploy))
          .sort()
          .join(' | ');
      pairs.push(['schedule', text(wanted.schedules), text(schedules.compared)]);
    }
  }
  const fields = pairs
    .filter(([, want, have]) => !matches(want, have))
    .map(([field, want, have]) => ({ field: `${wanted.name}: ${field}`, before: show(have, want), after: show(want, want) }));
  const triggers = triggersDiffer(wanted, current);
  if (triggers) fields.push({ field: `${wanted.name}: triggers`, ...triggers });
  return { fields, problems };
}

/**
 * The automations `prefect deploy` keeps for the file's triggers (it deletes the deployment's own and
 * makes one per trigger), against those on the server that are the deployment's: named as the file
 * names them, or as Prefect names them by default. Undefined when they match; else their names.
 */
function triggersDiffer(wanted: StoredDeployment, current: Registered): { before: string; after: string } | undefined {
  if (!current.automations) return undefined;
  const bodies = wanted.triggers.map((spec, i) => deploymentTriggerAutomation(spec, wanted.name, i + 1, current.id));
  const ownDefault = new RegExp(`^${escapeRegExp(wanted.name)}__automation_\\d+$`);
  const owned = current.automations.filter((a) => ownDefault.test(a.name) || bodies.some((b) => b.name === a.name));
  const same =
    owned.length === bodies.length &&
    bodies.every((body) => {
      const found = owned.find((a) => a.name === body.name);
      if (!found) return false;
      return (
        found.description === body.description &&
        found.enabled === body.enabled &&
        covers(body.trigger, found.trigger, true) &&
        covers(body.actions, found.actions, false)
      );
    });
  if (same) return undefined;
  const text = (list: AutomationBody[]) =>
    list
      .map((a) => canonicalJson({ name: a.name, enabled: a.enabled, trigger: a.trigger, actions: a.actions }))
      .sort()
      .join(' | ') || '(none)';
  return { before: text(owned), after: text(bodies) };
}

/** Equal as JSON values; an `Unknowable` on the wanted side matches anything. */
function matches(want: unknown, have: unknown): boolean {
  if (want instanceof Unknowable) return true;
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => matches(w, have[i]));
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object' || Array.isArray(have)) return false;
    const keys = Object.keys(want);
    return (
      keys.length === Object.keys(have).length &&
      keys.every((k) => k in have && matches((want as Record<string, unknown>)[k], (have as Record<string, unknown>)[k]))
    );
  }
  return want === have || (want === undefined && have === null) || (want === null && have === undefined);
}

/**
 * Which of the server's schedules a redeploy replaces, and what it cannot change. When every schedule
 * on the server and in the file has a slug, Prefect updates them in place by slug instead of replacing
 * the list (server/api/deployments.py update_deployment): schedules whose slug the file lacks stay,
 * and so does a max_scheduled_runs (the update skips None). When only the server's all have slugs,
 * Prefect refuses the update (422).
 */
function compareSchedules(
  name: string,
  wanted: StoredSchedule[],
  current: RegisteredSchedule[],
  fixCommand: (how: Fix) => string,
): { compared?: RegisteredSchedule[]; problems: string[] } {
  const slugged = (list: { slug?: unknown }[]) => list.length > 0 && list.every((s) => typeof s.slug === 'string' && s.slug !== '');
  if (!slugged(current)) return { compared: current, problems: [] };
  if (!slugged(wanted)) {
    return {
      problems: [
        `${name}: every schedule on the server has a slug but not every schedule in prefect.yaml does, so Prefect refuses a redeploy ("Please provide a slug for each schedule"); give each schedule a slug`,
      ],
    };
  }
  const problems: string[] = [];
  const compared: RegisteredSchedule[] = [];
  for (const schedule of current) {
    const fix = fixCommand({ deleteSchedule: schedule.id });
    if (!wanted.some((w) => w.slug === schedule.slug)) {
      problems.push(`${name}: schedule ${String(schedule.slug)} is on the server but not in prefect.yaml (a redeploy keeps it: ${fix})`);
      continue;
    }
    if (schedule.max_scheduled_runs != null) {
      problems.push(
        `${name}: schedule ${String(schedule.slug)} has max_scheduled_runs ${schedule.max_scheduled_runs} on the server, which prefect.yaml cannot set and a redeploy keeps (${fix})`,
      );
    }
    // The rest of it a redeploy does update in place.
    compared.push({ ...schedule, max_scheduled_runs: null });
  }
  return { compared, problems };
}

function sameSchedules(wanted: StoredSchedule[], current: RegisteredSchedule[]): boolean {
  if (wanted.length !== current.length) return false;
  const left = [...current];
  return wanted.every((w) => {
    const at = left.findIndex((c) => sameSchedule(w, c));
    return at >= 0 && left.splice(at, 1).length === 1;
  });
}

function sameSchedule(w: StoredSchedule, c: RegisteredSchedule): boolean {
  const { anchor_date: anchor, ...body } = w.schedule;
  const { anchor_date: currentAnchor, ...currentBody } = c.schedule;
  // An rrule gains a DTSTART line on the server (validators.py normalize_rrule_string).
  if (typeof currentBody.rrule === 'string') currentBody.rrule = withoutDtstart(currentBody.rrule);
  if (typeof body.rrule === 'string') body.rrule = withoutDtstart(body.rrule);
  if (anchor !== undefined && !sameInstant(textOf(anchor), textOf(currentAnchor), textOf(w.schedule.timezone ?? 'UTC'))) return false;
  return (
    matches(body, currentBody) &&
    matches(w.active, c.active) &&
    matches(w.parameters, c.parameters ?? {}) &&
    matches(w.slug, c.slug ?? null) &&
    matches(w.max_scheduled_runs, c.max_scheduled_runs ?? null)
  );
}

const withoutDtstart = (rrule: string) => rrule.replace(/^DTSTART[^\n]*\n/, '');

/** An anchor date without an offset is wall-clock time in the schedule's timezone (client/schemas/schedules.py). */
function sameInstant(wanted: string, current: string, timezone: string): boolean {
  const at = Date.parse(current);
  if (/(?:Z|[+-]\d{2}:?\d{2})$/.test(wanted)) return Date.parse(wanted) === at;
  return zonedInstant(wanted, timezone) === at;
}

/** The instant at which the wall clock in `timezone` shows `local` (ISO without offset). */
export function zonedInstant(local: string, timezone: string): number {
  const asUtc = Date.parse(`${local}Z`);
  const offsetAt = (instant: number) => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
        .formatToParts(instant)
        .map((p) => [p.type, p.value]),
    );
    const wall = Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
      Number(parts.second),
    );
    return wall - Math.floor(instant / 1000) * 1000;
  };
  let guess = asUtc - offsetAt(asUtc);
  guess = asUtc - offsetAt(guess);
  return guess + (asUtc % 1000);
}

/**
 * One shape for several wanted values: at each key, what any of them holds there, an Unknowable (a
 * value decided at deploy time) winning, so that `redact` hides the server's value in every schedule.
 */
function mergedShape(values: unknown[]): unknown {
  const objects = values.filter(
    (v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Unknowable),
  );
  if (values.some((v) => v instanceof Unknowable)) return values.find((v) => v instanceof Unknowable);
  if (objects.length === 0) return values[0];
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return Object.fromEntries(keys.map((k) => [k, mergedShape(objects.filter((o) => k in o).map((o) => o[k]))]));
}

/** One readable line per schedule, with every stored field that is not its default; `wanted` shapes what is hidden. */
function scheduleText(
  s: { schedule: Record<string, unknown>; active: unknown; parameters?: unknown; slug?: unknown; max_scheduled_runs?: number | null },
  wanted: unknown,
): string {
  const body = s.schedule;
  const zone = body.timezone ? ` ${textOf(body.timezone)}` : '';
  const kind =
    typeof body.cron === 'string'
      ? `cron "${body.cron}"${zone}${body.day_or === false ? ' day_or=false' : ''}`
      : body.interval !== undefined
        ? `interval ${Number(body.interval)}s${zone}${body.anchor_date ? ` from ${textOf(body.anchor_date)}` : ''}`
        : `rrule "${withoutDtstart(textOf(body.rrule ?? ''))}"${zone}`;
  const extras = [
    s.active === false ? '(inactive)' : '',
    s.parameters && !isEmptyObject(s.parameters) ? `parameters ${canonical(redact(s.parameters, wanted))}` : '',
    s.slug ? `slug ${textOf(s.slug)}` : '',
    s.max_scheduled_runs != null ? `max_scheduled_runs ${s.max_scheduled_runs}` : '',
  ].filter(Boolean);
  return [kind, ...extras].join(' ');
}

const SECRET_KEY = /(secret|password|passwd|token|api[_-]?key|credential|private[_-]?key|auth)/i;

/**
 * A value for a plan line. Values under secret-like keys are never printed (the server holds what
 * `{{ prefect.blocks.secret.x }}` and API-key job variables resolved to, and reports go to cron mail);
 * a value decided at deploy time says so.
 */
function show(value: unknown, wanted: unknown): string | null {
  if (value instanceof Unknowable) return value.toString();
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'object') return canonical(redact(value, wanted));
  return textOf(value);
}

function redact(value: unknown, wanted: unknown): unknown {
  if (wanted instanceof Unknowable) return '[decided at deploy time]';
  if (Array.isArray(value)) return value.map((v, i) => redact(v, Array.isArray(wanted) ? wanted[i] : undefined));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const w = wanted && typeof wanted === 'object' ? (wanted as Record<string, unknown>)[k] : undefined;
        return [k, SECRET_KEY.test(k) && typeof v !== 'object' ? '[hidden]' : redact(v, w)];
      }),
    );
  }
  return value;
}

function canonical(value: unknown): string {
  return canonicalJson(value, (v) => (v instanceof Unknowable ? v.toString() : undefined));
}

function sorted(tags: unknown): unknown {
  return Array.isArray(tags) ? tags.map(textOf).sort() : tags;
}

function isEmptyObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !(v instanceof Unknowable) && Object.keys(v).length === 0;
}
