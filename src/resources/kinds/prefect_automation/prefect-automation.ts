import type { Action, FieldChange, HttpRequest } from '../../../model/plan.js';
import type { PrefectAutomation } from '../../../model/generated/setup.js';
import { ServiceUnreachable } from '../../../transport/http.js';
import { canonicalJson } from '../../canonical-json.js';
import { apiBase, comparedAgainOnServer, type ListedObject, readAll, serverWide, strayRemovals } from '../../server-object.js';
import { afterReferences, compareWhenUp, noChanges, prefectServerDataToken, type ResourceType } from '../../types.js';
import { automationBody, covers, runsDeployment, type AutomationBody } from '../../automation-shape.js';

/** An automation as the server gives it (server/events/schemas/automations.py Automation). */
type StoredAutomation = AutomationBody & { id: string };

interface AutomationFacts {
  unreachable?: string;
  /** Every automation on the server: Prefect finds them by id only, so a name is looked up among all. */
  all?: StoredAutomation[];
  listed?: ListedObject[];
}

const automationUrl = (spec: PrefectAutomation, id: string) => `${apiBase(spec)}/automations/${id}`;

/**
 * prefect_automation: an automation on the Prefect server (server/api/automations.py), kept by name,
 * its trigger and actions in Prefect's own schema. The trigger is compared whole, as the client sends
 * it with its defaults; an action's fields left out of the spec are the server's defaults. Only
 * `enabled` changed: a PATCH; anything else: the automation is replaced (PUT), as
 * `prefect automation update --from-file` does.
 */
export const prefectAutomation: ResourceType<PrefectAutomation, AutomationFacts> = {
  kind: 'prefect_automation',
  defaultName: (spec) => `prefect_automation:${spec.automation}`,
  references: (spec) => afterReferences(spec.after),
  provides: (spec) => [prefectServerDataToken(apiBase(spec))],
  onNotify: (spec, _actual, because) =>
    comparedAgainOnServer(spec.name ?? prefectAutomation.defaultName(spec), `automation ${spec.automation}`, because),
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    try {
      // Prune leaves automations that run a deployment: a prefect.yaml's triggers make those.
      const all = (await readAll(http, `${apiBase(spec)}/automations/filter`)) as StoredAutomation[];
      const listed = all.filter((a) => !runsDeployment(a)).map((a) => ({ key: a.name, url: automationUrl(spec, a.id) }));
      return { into: () => ({ all, listed }) };
    } catch (error) {
      if (error instanceof ServiceUnreachable) return { into: () => ({ unreachable: error.message }) };
      throw error;
    }
  },
  plan(spec, actual, context) {
    const resource = spec.name ?? prefectAutomation.defaultName(spec);
    const title = `automation ${spec.automation}`;
    if (actual.unreachable) return compareWhenUp(resource, title, { url: apiBase(spec), why: actual.unreachable });
    const named = (actual.all ?? []).filter((a) => a.name === spec.automation);
    if (named.length > 1) {
      const ids = named.map((a) => a.id).join(', ');
      return {
        ...noChanges(),
        problems: [
          `${named.length} automations are named ${spec.automation} (ids ${ids}); reconcile keeps one per name: delete the others (prefect automation delete --id ID)`,
        ],
      };
    }
    const wanted = automationBody(spec);
    const current = named[0];
    const fields = differences(wanted, current);
    const removals = strayRemovals(
      spec,
      context,
      actual,
      serverWide(spec, 'automation', (peer) => peer.automation),
    );
    if (current && fields.length === 0) return removals.length === 0 ? noChanges() : { now: [], late: removals, notifies: [] };
    const action: Action = {
      id: resource,
      resource,
      verb: current ? 'update' : 'create',
      title,
      fields,
      steps: [{ request: write(spec, wanted, current, fields) }],
    };
    return { now: [], late: [action, ...removals], notifies: [] };
  },
};

/** A create; `enabled` alone: the PATCH Prefect has for it; else the whole automation, replaced. */
function write(spec: PrefectAutomation, wanted: AutomationBody, current: StoredAutomation | undefined, fields: FieldChange[]): HttpRequest {
  if (!current) return { method: 'POST', url: `${apiBase(spec)}/automations/`, body: wanted };
  if (fields.every((f) => f.field === 'enabled'))
    return { method: 'PATCH', url: automationUrl(spec, current.id), body: { enabled: wanted.enabled } };
  return { method: 'PUT', url: automationUrl(spec, current.id), body: wanted };
}

/** Field by field, as compact JSON; the trigger exactly (ids aside), actions as far as the spec says. */
function differences(wanted: AutomationBody, current: StoredAutomation | undefined): FieldChange[] {
  const keys = ['description', 'enabled', 'tags', 'trigger', 'actions', 'actions_on_trigger', 'actions_on_resolve'] as const;
  return keys
    .filter((key) => !current || !covers(wanted[key], current[key], key === 'trigger', key))
    .map((key) => ({ field: key, before: current ? canonicalJson(current[key]) : null, after: canonicalJson(wanted[key]) }));
}
