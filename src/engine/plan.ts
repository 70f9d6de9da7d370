import { createHash } from 'node:crypto';
import type { ResourcePlan, ResourceTypes } from '../resources/types.js';
import { quote } from '../shell/quote.js';
import type { DeclaredResource, HostSpec } from '../config/load.js';
import { OWED_DIR, owedFileName, type HostFacts } from './gather.js';
import type { Action, HostPlan, Step } from '../model/plan.js';

export interface PlanSettings {
  /** The directory of setup.yaml, against which relative local paths resolve. */
  specDir: string;
  /** Plan again an upgrade whose target was rolled back before. */
  retryFailed?: boolean;
  types: ResourceTypes;
}

/**
 * The pure planner: desired + actual -> ordered actions. First every resource's own changes, in
 * dependency order (directories before what is in them, `after` targets first); then the late
 * actions (daemon-reload once, starts, restarts) in the same order. A resource notified by another's
 * change (or by a notification an interrupted run still owed) plans its restart in the second pass.
 */
export function planHost(host: HostSpec, facts: HostFacts, { specDir, retryFailed, types }: PlanSettings): HostPlan {
  const ordered = dependencyOrder(host.resources, types);
  const resourceType = types.of;
  const planOf = (r: DeclaredResource, notifiedBecause: string[]): ResourcePlan => {
    try {
      return resourceType(r.spec.kind).plan(r.spec, facts.actual.get(r.name), { notifiedBecause, specDir, retryFailed: retryFailed ?? false });
    } catch (error) {
      throw new Error(`${r.name}: ${(error as Error).message}`);
    }
  };

  const tokensOf = (r: DeclaredResource) => resourceType(r.spec.kind).provides?.(r.spec) ?? [];
  const firstPass = new Map(ordered.map((r) => [r.name, planOf(r, tokensOf(r).flatMap((t) => facts.owed.get(t) ?? []))]));
  const reasons = new Map<string, string[]>();
  for (const [token, owed] of facts.owed) reasons.set(token, [...owed]);
  for (const r of ordered) {
    for (const token of firstPass.get(r.name)!.notifies) reasons.set(token, [...(reasons.get(token) ?? []), `${r.name} changed`]);
  }

  // A notification is written down on the host only when it adds an action (a restart): a service
  // that is stopped is started anyway, by this run or the next, and a journal entry would cost an exec.
  const lateIds = (r: DeclaredResource, because: string[]) => planOf(r, because).late.map((a) => a.id).join();
  const addsAction = (token: string) => ordered.some((r) => tokensOf(r).includes(token) && lateIds(r, ['notified']) !== lateIds(r, []));
  const journalled = (token: string) => facts.owed.has(token) || (reasons.has(token) && addsAction(token));

  const now: Action[] = [];
  const late: Action[] = [];
  const problems: string[] = [];
  const unreachable = new Map<string, { why: string; resources: string[] }>();
  for (const r of ordered) {
    const because = tokensOf(r).flatMap((t) => reasons.get(t) ?? []);
    const plan = because.length > 0 ? planOf(r, because) : firstPass.get(r.name)!;
    problems.push(...(plan.problems ?? []).map((p) => `${r.name}: ${p}`));
    if (plan.unreachable) {
      const service = unreachable.get(plan.unreachable.url) ?? { why: plan.unreachable.why, resources: [] };
      unreachable.set(plan.unreachable.url, { ...service, resources: [...service.resources, r.name] });
    }
    now.push(...withOwedRecorded(plan, firstPass.get(r.name)!.notifies.filter(addsAction), reasons));
    late.push(...withOwedCleared(plan.late, tokensOf(r).filter(journalled)));
    late.push(...owedButIdle(r, plan, tokensOf(r).filter((t) => facts.owed.has(t))));
  }
  const providers = (token: string) => ordered.filter((r) => tokensOf(r).includes(token));
  const gatesAfterRollback = (token: string) =>
    providers(token).flatMap((r) => planOf(r, ['the upgrade was rolled back']).late.flatMap((a) => a.steps.filter((step) => 'waitForHealth' in step)));
  const actions = withTransactionsCompleted([...now, ...uniqueById(late)], gatesAfterRollback);
  return {
    host: host.target.name,
    address: host.target.address,
    factsDigest: factsDigest(facts),
    bootId: facts.bootId,
    actions,
    problems,
    // One note per service that does not answer, however many resources are read through it.
    deferred: [...unreachable].map(([url, s]) => `server not answering: ${url} (${s.why}); ${s.resources.join(', ')} compared once it is up`),
  };
}

/**
 * Notifications are written down on the host before the change that causes them (see gather's
 * OWED_DIR): in the resource's first action that changes something, after those that only prepare.
 */
function withOwedRecorded(plan: ResourcePlan, tokens: string[], reasons: Map<string, string[]>): Action[] {
  const at = plan.now.findIndex((a) => !a.prepares);
  if (tokens.length === 0 || at < 0) return plan.now;
  const record = tokens
    .map((t) => `printf '%s' ${quote((reasons.get(t) ?? []).join('; '))} > ${quote(`${OWED_DIR}/${owedFileName(t)}`)}`)
    .join(' && ');
  return plan.now.map((a, i) => (i === at ? { ...a, steps: [{ script: `mkdir -p ${quote(OWED_DIR)} && ${record}` }, ...a.steps] } : a));
}

/** Once a notified resource has acted, what it owed is forgotten. */
function withOwedCleared(late: Action[], tokens: string[]): Action[] {
  if (tokens.length === 0 || late.length === 0) return late;
  const clear = clearOwed(tokens);
  const last = late.at(-1)!;
  // A rollback restarts the resource on its previous version: that settles what it owed too.
  const onFailure = last.onFailure && [...last.onFailure, { script: clear }];
  return [...late.slice(0, -1), { ...last, steps: [...last.steps, { script: clear }], ...(onFailure ? { onFailure } : {}) }];
}

const clearOwed = (tokens: string[]) => `rm -f ${tokens.map((t) => quote(`${OWED_DIR}/${owedFileName(t)}`)).join(' ')}`;

/**
 * A notification owed by an interrupted run to a resource that has nothing to do now (a service
 * declared stopped): forget it, or it would stay on the host and fire once the service runs again.
 */
function owedButIdle(r: DeclaredResource, plan: ResourcePlan, owedTokens: string[]): Action[] {
  if (owedTokens.length === 0 || plan.late.length > 0) return [];
  return [{
    id: `forget owed ${r.name}`, resource: r.name, verb: 'update', title: `forget what was owed to ${r.name}`, fields: [],
    because: 'an interrupted run owed it a restart, and it has nothing to restart now', steps: [{ script: clearOwed(owedTokens) }],
  }];
}

/**
 * A transaction's rollback restarts the services that run from what it restores: it also settles
 * the restarts they were owed, and ends with their health gates. Its commit runs after every other
 * action of the host, so that any failure in the run can still undo it.
 */
function withTransactionsCompleted(actions: Action[], gatesAfterRollback: (token: string) => Step[]): Action[] {
  const commits: Action[] = [];
  const completed = actions.map((action) => {
    const t = action.transaction;
    if (!t) return action;
    commits.push({ id: `commit ${action.resource}`, resource: action.resource, verb: 'update', title: t.commit.title, fields: [], steps: t.commit.steps });
    const settle = t.restarts.length > 0 ? [{ script: clearOwed(t.restarts) }] : [];
    return { ...action, transaction: { ...t, rollback: [...t.rollback, ...settle, ...t.restarts.flatMap(gatesAfterRollback)] } };
  });
  return [...completed, ...commits];
}

function uniqueById(actions: Action[]): Action[] {
  const seen = new Set<string>();
  return actions.filter((a) => !seen.has(a.id) && seen.add(a.id));
}

/**
 * Declaration order, except that a resource comes after everything it depends on: the resources
 * it names (`after`, `notifies`) and those that make a directory its location lies in.
 */
export function dependencyOrder(resources: DeclaredResource[], types: ResourceTypes): DeclaredResource[] {
  const locationOf = (r: DeclaredResource) => types.of(r.spec.kind).location?.(r.spec);
  const directories = resources.filter((r) => locationOf(r)?.directory);
  const needs = new Map(
    resources.map((r) => {
      const path = locationOf(r)?.path;
      const parents = path ? directories.filter((d) => d !== r && path.startsWith(`${locationOf(d)!.path}/`)).map((d) => d.name) : [];
      return [r.name, new Set([...r.dependsOn, ...parents])];
    }),
  );
  const ordered: DeclaredResource[] = [];
  const placed = new Set<string>();
  const visit = (r: DeclaredResource) => {
    if (placed.has(r.name)) return;
    placed.add(r.name);
    for (const name of needs.get(r.name) ?? []) {
      const dependency = resources.find((d) => d.name === name);
      if (dependency) visit(dependency);
    }
    ordered.push(r);
  };
  resources.forEach(visit);
  return ordered;
}

/**
 * What the plan was computed from; a saved plan is stale when this changed. Observations kept under
 * a `live` key (health answers, heartbeat times) change by the second and are left out.
 */
export function factsDigest(facts: HostFacts): string {
  const replacer = (key: string, value: unknown) => {
    if (key === 'live') return undefined;
    if (value instanceof Map) return [...value];
    if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') return Buffer.from((value as { data: number[] }).data).toString('base64');
    return value;
  };
  return createHash('sha256').update(JSON.stringify([[...facts.actual], [...facts.owed], facts.bootId], replacer)).digest('hex');
}
