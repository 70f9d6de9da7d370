import type { DeclaredResource, HostSpec } from '../model/spec.js';
import { comparesLater, type Action, type HostPlan } from '../model/plan.js';
import type { Resource } from '../model/generated/setup.js';
import type { ResourcePlan, ResourceTypes } from '../resources/types.js';
import { factsDigest } from './digest.js';
import type { HostFacts } from './gather.js';
import { dependencyOrder } from './order.js';
import { owedButIdle, withOwedCleared, withOwedRecorded } from './owed.js';
import { withTransactionsCompleted } from './transactions.js';

export interface PlanSettings {
  /** The directory of setup.yaml, against which relative local paths resolve. */
  specDir: string;
  /** Plan again an upgrade whose target was rolled back before. */
  retryFailed?: boolean;
  types: ResourceTypes;
  /** Every resource the host declares, when only some are planned (a replan of one). */
  declared?: readonly Resource[];
  /** Masks secrets in a copy of plain data (none: the spec has no secrets). */
  mask?: <T>(value: T) => T;
  /** Notifications from other hosts' resources that changed in this run, by token, with their reasons. */
  elsewhere?: Map<string, string[]>;
}

/**
 * The pure planner: desired + actual -> ordered actions. First every resource's own changes, in
 * dependency order (directories before what is in them, `after` targets first); then the late
 * actions (daemon-reload once, starts, restarts) in the same order. A resource notified by another's
 * change (or by a notification an interrupted run still owed) plans its restart in the second pass.
 */
export function planHost(
  host: HostSpec,
  facts: HostFacts,
  { specDir, retryFailed, types, declared, mask, elsewhere }: PlanSettings,
): HostPlan {
  const ordered = dependencyOrder(host.resources, types);
  const context = {
    specDir,
    retryFailed: retryFailed ?? false,
    declared: declared ?? host.resources.map((r) => r.spec),
    isSecret: (text: string) => mask !== undefined && mask(text) !== text,
  };
  const named = <T>(r: DeclaredResource, plan: () => T): T => {
    try {
      return plan();
    } catch (error) {
      throw new Error(`${r.name}: ${(error as Error).message}`, { cause: error });
    }
  };
  /** The resource's plan when notified (with reasons); undefined when that adds nothing or nobody notifies it. */
  const asNotified = (r: DeclaredResource, because: string[]): ResourcePlan | undefined =>
    because.length > 0 ? named(r, () => types.of(r.spec.kind).onNotify?.(r.spec, facts.actual.get(r.name), because, context)) : undefined;
  const planOf = (r: DeclaredResource, because: string[] = []): ResourcePlan =>
    asNotified(r, because) ?? named(r, () => types.of(r.spec.kind).plan(r.spec, facts.actual.get(r.name), context));

  const tokensOf = (r: DeclaredResource) => types.of(r.spec.kind).provides?.(r.spec) ?? [];
  const firstPass = new Map(
    ordered.map((r) => [
      r.name,
      planOf(
        r,
        tokensOf(r).flatMap((t) => facts.owed.get(t) ?? []),
      ),
    ]),
  );
  // Notifications flow in dependency order (what is notified comes after what notifies it), so a
  // resource restarted because it was notified notifies in turn (a server restarted by its venv's
  // upgrade restarts its workers). Each notified resource is asked once for its plan as notified,
  // undefined when that adds nothing.
  const reasons = new Map<string, string[]>();
  const because = (token: string, why: string[]) => reasons.set(token, [...(reasons.get(token) ?? []), ...why]);
  for (const [token, owed] of facts.owed) because(token, owed);
  for (const [token, why] of elsewhere ?? []) because(token, why);
  for (const r of ordered) for (const token of firstPass.get(r.name)!.notifies) because(token, [`${r.name} changed`]);
  const notified = new Map<string, ResourcePlan | undefined>();
  for (const r of ordered) {
    const plan = asNotified(
      r,
      tokensOf(r).flatMap((t) => reasons.get(t) ?? []),
    );
    notified.set(r.name, plan);
    const added = (plan?.notifies ?? []).filter((t) => !firstPass.get(r.name)!.notifies.includes(t));
    for (const token of added) because(token, [`${r.name} changed`]);
  }
  // A notification is written down on the host only when it adds an action (a restart): a service
  // that is stopped is started anyway, by this run or the next, and a journal entry would cost an exec.
  // Nor is a compare (of a checkout's reader): the next run's plan compares afresh anyway.
  const addsAction = (token: string) =>
    ordered.some((r) => tokensOf(r).includes(token) && notified.get(r.name)?.late.some((a) => !comparesLater(a)));
  // What other hosts notify is not journalled here: their next run notifies again if this one dies.
  const journalled = (token: string) => facts.owed.has(token) || (reasons.has(token) && !elsewhere?.has(token) && addsAction(token));

  const now: Action[] = [];
  const late: Action[] = [];
  const problems: string[] = [];
  const unreachable = new Map<string, { why: string; resources: string[] }>();
  for (const r of ordered) {
    const plan = notified.get(r.name) ?? firstPass.get(r.name)!;
    problems.push(...(plan.problems ?? []).map((p) => `${r.name}: ${p}`));
    if (plan.unreachable) {
      const service = unreachable.get(plan.unreachable.url) ?? { why: plan.unreachable.why, resources: [] };
      unreachable.set(plan.unreachable.url, { ...service, resources: [...service.resources, r.name] });
    }
    now.push(...withOwedRecorded(plan, firstPass.get(r.name)!.notifies.filter(addsAction), reasons));
    late.push(...withOwedCleared(plan.late, tokensOf(r).filter(journalled)));
    late.push(
      ...owedButIdle(
        r,
        plan,
        tokensOf(r).filter((t) => facts.owed.has(t)),
      ),
    );
  }
  const providers = (token: string) => ordered.filter((r) => tokensOf(r).includes(token));
  const gatesAfterRollback = (token: string) =>
    providers(token).flatMap((r) =>
      planOf(r, ['the upgrade was rolled back']).late.flatMap((a) => a.steps.filter((step) => 'waitForHealth' in step)),
    );
  const { actions, atRunEnd } = withTransactionsCompleted([...now, ...uniqueById(late)], gatesAfterRollback);
  const notifiesElsewhere = ordered.flatMap((r) =>
    (r.notifiesElsewhere ?? [])
      .filter((n) => (notified.get(r.name) ?? firstPass.get(r.name)!).notifies.includes(n.notified))
      .map((n) => ({ host: n.host, token: n.token, because: `${host.target.name}: ${r.name} changed` })),
  );
  return {
    host: host.target.name,
    address: host.target.address,
    factsDigest: factsDigest(facts),
    bootId: facts.bootId,
    actions,
    problems,
    ...(notifiesElsewhere.length > 0 ? { notifiesElsewhere } : {}),
    ...(atRunEnd.length > 0 ? { atRunEnd } : {}),
    // One note per service that does not answer, however many resources are read through it.
    deferred: [...unreachable].map(
      ([url, s]) => `server not answering: ${url} (${s.why}); ${s.resources.join(', ')} compared once it is up`,
    ),
  };
}

function uniqueById(actions: Action[]): Action[] {
  const seen = new Set<string>();
  return actions.filter((a) => !seen.has(a.id) && seen.add(a.id));
}
