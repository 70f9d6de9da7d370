import type { Action, HostPlan, Step } from '../model/plan.js';
import { clearOwed } from './owed.js';

/**
 * A transaction's rollback restarts the services that run from what it restores: it also settles
 * the restarts they were owed, and ends with their health gates. Its commit runs after every other
 * action of the host, so that any failure in the run can still undo it.
 */
export function withTransactionsCompleted(
  actions: Action[],
  gatesAfterRollback: (token: string) => Step[],
): { actions: Action[]; atRunEnd: NonNullable<HostPlan['atRunEnd']> } {
  const commits: Action[] = [];
  const atRunEnd: NonNullable<HostPlan['atRunEnd']> = [];
  const completed = actions.map((action) => {
    const t = action.transaction;
    if (!t) return action;
    if (t.commit.atRunEnd) atRunEnd.push({ after: action.id, title: t.commit.title, steps: t.commit.steps });
    else
      commits.push({
        id: `commit ${action.resource}`,
        resource: action.resource,
        verb: 'update',
        title: t.commit.title,
        fields: [],
        steps: t.commit.steps,
      });
    const settle = t.restarts.length > 0 ? [{ script: clearOwed(t.restarts) }] : [];
    return { ...action, transaction: { ...t, rollback: [...t.rollback, ...settle, ...t.restarts.flatMap(gatesAfterRollback)] } };
  });
  return { actions: [...completed, ...commits], atRunEnd };
}
