import type { DeclaredResource } from '../model/spec.js';
import { HOST_STATE } from '../model/host-state.js';
import type { Action } from '../model/plan.js';
import type { ResourcePlan } from '../resources/types.js';
import { quote } from '../shell/quote.js';

/**
 * The owed-restart journal: a restart that a change makes necessary is written down on the host
 * before the change, read back by the next run's fact script, and cleared once the restart is done.
 */
/** Where a notification that was owed when a run died is kept on the host, until it is acted on. */
const OWED_DIR = HOST_STATE.owed;

/** A fact-script fragment listing what is owed: `FILE<TAB>REASONS` per line. */
export const owedProbe = `for rc_f in ${OWED_DIR}/*; do [ -f "$rc_f" ] && printf '%s\\t%s\\n' "\${rc_f##*/}" "$(cat "$rc_f")"; done; true`;

/** Owed notifications are files named by the base64url of their target token, holding the reasons. */
function owedFileName(token: string): string {
  return Buffer.from(token).toString('base64url');
}

export function parseOwed(output: string): Map<string, string[]> {
  const owed = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const [file, reasons] = line.split('\t');
    if (!file || reasons === undefined) continue;
    owed.set(Buffer.from(file, 'base64url').toString(), reasons.split('; ').filter(Boolean));
  }
  return owed;
}

/**
 * Notifications are written down on the host before the change that causes them (see gather's
 * OWED_DIR): in the resource's first action that changes something, after those that only prepare.
 */
export function withOwedRecorded(plan: ResourcePlan, tokens: string[], reasons: Map<string, string[]>): Action[] {
  const at = plan.now.findIndex((a) => !a.prepares);
  if (tokens.length === 0 || at < 0) return plan.now;
  const record = tokens
    .map((t) => `printf '%s' ${quote((reasons.get(t) ?? []).join('; '))} > ${quote(`${OWED_DIR}/${owedFileName(t)}`)}`)
    .join(' && ');
  return plan.now.map((a, i) => (i === at ? { ...a, steps: [{ script: `mkdir -p ${quote(OWED_DIR)} && ${record}` }, ...a.steps] } : a));
}

/** Once a notified resource has acted, what it owed is forgotten. */
export function withOwedCleared(late: Action[], tokens: string[]): Action[] {
  if (tokens.length === 0 || late.length === 0) return late;
  const clear = clearOwed(tokens);
  const last = late.at(-1)!;
  // A rollback restarts the resource on its previous version: that settles what it owed too.
  const onFailure = last.onFailure && [...last.onFailure, { script: clear }];
  return [...late.slice(0, -1), { ...last, steps: [...last.steps, { script: clear }], ...(onFailure ? { onFailure } : {}) }];
}

export const clearOwed = (tokens: string[]) => `rm -f ${tokens.map((t) => quote(`${OWED_DIR}/${owedFileName(t)}`)).join(' ')}`;

/**
 * A notification owed by an interrupted run to a resource that has nothing to do now (a service
 * declared stopped): forget it, or it would stay on the host and fire once the service runs again.
 */
export function owedButIdle(r: DeclaredResource, plan: ResourcePlan, owedTokens: string[]): Action[] {
  if (owedTokens.length === 0 || plan.late.length > 0) return [];
  return [
    {
      id: `forget owed ${r.name}`,
      resource: r.name,
      verb: 'update',
      title: `forget what was owed to ${r.name}`,
      fields: [],
      because: 'an interrupted run owed it a restart, and it has nothing to restart now',
      steps: [{ script: clearOwed(owedTokens) }],
    },
  ];
}
