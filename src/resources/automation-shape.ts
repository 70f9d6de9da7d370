import type { PrefectAutomation } from '../model/generated/setup.js';
import { canonicalJson } from './canonical-json.js';
import { intervalSeconds } from './durations.js';

/** An automation as Prefect's client sends it (events/schemas/automations.py AutomationCore, dumped). */
export interface AutomationBody {
  name: string;
  description: string;
  enabled: boolean;
  tags: string[];
  trigger: Record<string, unknown>;
  actions: Record<string, unknown>[];
  actions_on_trigger: Record<string, unknown>[];
  actions_on_resolve: Record<string, unknown>[];
}

/** The body `prefect automation create --from-file` would send for the spec: the client's defaults filled in. */
export function automationBody(spec: PrefectAutomation): AutomationBody {
  return {
    name: spec.automation,
    description: spec.description ?? '',
    enabled: spec.enabled ?? true,
    tags: spec.tags ?? [],
    trigger: clientTrigger(spec.trigger),
    actions: spec.actions,
    actions_on_trigger: spec.actions_on_trigger ?? [],
    actions_on_resolve: spec.actions_on_resolve ?? [],
  };
}

/**
 * A trigger with the client's defaults (EventTrigger: match and match_related {}, after, expect and
 * for_each empty, posture Reactive, threshold 1, within 0 seconds or 10 when Proactive), `within` in
 * seconds as Prefect serialises a timedelta (`ser_json_timedelta="float"`).
 */
function clientTrigger(trigger: Record<string, unknown>): Record<string, unknown> {
  const within = (value: unknown) => (value === undefined || value === null ? value : (intervalSeconds(value) ?? value));
  if (trigger.type !== 'event') {
    const children = Array.isArray(trigger.triggers) ? (trigger.triggers as Record<string, unknown>[]) : [];
    return { ...trigger, triggers: children.map(clientTrigger), within: within(trigger.within) ?? null };
  }
  const posture = trigger.posture ?? 'Reactive';
  const seconds = within(trigger.within) ?? 0;
  return {
    match: {},
    match_related: {},
    after: [],
    expect: [],
    for_each: [],
    threshold: 1,
    ...trigger,
    posture,
    within: posture === 'Proactive' && seconds === 0 ? 10 : seconds,
  };
}

/** Fields of a prefect.yaml trigger that are its automation's or its run-deployment action's, not the trigger's. */
const DEPLOYMENT_TRIGGER_FIELDS = new Set(['name', 'description', 'enabled', 'parameters', 'job_variables', 'schedule_after']);

/**
 * The automation `prefect deploy` makes for the `index`-th (from 1) trigger of a deployment
 * (cli/deploy/_triggers.py, events/schemas/deployment_triggers.py as_automation): named
 * DEPLOYMENT__automation_INDEX unless the trigger names it, running the deployment with the
 * trigger's parameters and job variables.
 */
export function deploymentTriggerAutomation(
  spec: Record<string, unknown>,
  deployment: string,
  index: number,
  deploymentId: string,
): AutomationBody {
  const trigger = Object.fromEntries(Object.entries(spec).filter(([key]) => !DEPLOYMENT_TRIGGER_FIELDS.has(key)));
  return {
    name: typeof spec.name === 'string' ? spec.name : `${deployment}__automation_${index}`,
    description: typeof spec.description === 'string' ? spec.description : '',
    enabled: spec.enabled !== false,
    tags: [],
    trigger: clientTrigger({ ...trigger, type: triggerType(spec) }),
    actions: [
      {
        type: 'run-deployment',
        source: 'selected',
        deployment_id: deploymentId,
        parameters: spec.parameters ?? null,
        job_variables: spec.job_variables ?? null,
        schedule_after: intervalSeconds(spec.schedule_after ?? 0) ?? 0,
      },
    ],
    actions_on_trigger: [],
    actions_on_resolve: [],
  };
}

/** deployment_trigger_discriminator: the type given, else what the fields say. */
function triggerType(spec: Record<string, unknown>): unknown {
  if (spec.type !== undefined) return spec.type;
  if (spec.posture === 'Metric') return 'metric';
  if (spec.require !== undefined) return 'compound';
  return spec.triggers !== undefined ? 'sequence' : 'event';
}

/**
 * Whether an automation runs a deployment. A deployment's `triggers:` in prefect.yaml make such
 * automations, and Prefect's API does not say which automations a deployment owns: prune and import
 * leave them to the prefect.yaml.
 */
export const runsDeployment = (a: Pick<AutomationBody, 'actions' | 'actions_on_trigger' | 'actions_on_resolve'>) =>
  [...a.actions, ...a.actions_on_trigger, ...a.actions_on_resolve].some((action) => action.type === 'run-deployment');

/** Fields Prefect keeps as sets: their order on the server is not drift. */
const SETS = new Set(['after', 'expect', 'for_each', 'tags']);

/**
 * Whether the server's value is what is wanted: each key wanted has the same value (a number as a
 * number, a set in any order, lists item by item). `exact`: the server may add nothing but ids (a
 * trigger, which the client sends whole); else keys the server adds are its own (an action's defaults).
 */
export function covers(wanted: unknown, stored: unknown, exact: boolean, key = ''): boolean {
  if (Array.isArray(wanted)) {
    const have: unknown = stored;
    if (!Array.isArray(have) || have.length !== wanted.length) return false;
    const sorted = (list: unknown[]) => canonicalJson(list.map((item) => canonicalJson(item)).sort());
    if (SETS.has(key)) return sorted(wanted) === sorted(have);
    return wanted.every((item, i) => covers(item, have[i], exact));
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
    const have = stored as Record<string, unknown>;
    if (exact && Object.keys(have).some((k) => k !== 'id' && !(k in wanted))) return false;
    return Object.entries(wanted).every(([k, v]) => covers(v, have[k], exact, k));
  }
  return canonicalJson(wanted) === canonicalJson(stored ?? null);
}
