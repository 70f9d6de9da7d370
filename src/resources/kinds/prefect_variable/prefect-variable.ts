import type { PrefectVariable } from '../../../model/generated/setup.js';
import { canonicalJson } from '../../canonical-json.js';
import {
  apiBase,
  comparedAgainOnServer,
  listedByName,
  observeServerObject,
  planServerObject,
  type ServerObjectFacts,
  serverWide,
  strayRemovals,
} from '../../server-object.js';
import { afterReferences, prefectObjectsToken, prefectServerDataToken, type ResourceType } from '../../types.js';

interface StoredVariable {
  value: unknown;
  tags: string[] | null;
}

/** Prefect refuses a value whose JSON is longer (MAX_VARIABLE_VALUE_LENGTH, prefect/types). */
const MAX_VALUE_LENGTH = 5000;

const variableUrl = (spec: PrefectVariable, name = spec.variable) => `${apiBase(spec)}/variables/name/${encodeURIComponent(name)}`;

/**
 * prefect_variable: a variable on the Prefect server, read and changed through the REST API from
 * the host (tunnelled over SSH), as the work pool is. Converged when it exists with the value (as
 * JSON) and the tags (as a set) wanted.
 */
export const prefectVariable: ResourceType<PrefectVariable, ServerObjectFacts<StoredVariable>> = {
  kind: 'prefect_variable',
  defaultName: (spec) => `prefect_variable:${spec.variable}`,
  provides: (spec) => [prefectObjectsToken(apiBase(spec)), prefectServerDataToken(apiBase(spec))],
  onNotify: (spec, _actual, because) =>
    comparedAgainOnServer(spec.name ?? prefectVariable.defaultName(spec), `variable ${spec.variable}`, because),
  references: (spec) => afterReferences(spec.after),
  check: (spec) =>
    JSON.stringify(spec.value).length > MAX_VALUE_LENGTH
      ? [{ field: ['value'], message: `the value is over ${MAX_VALUE_LENGTH} characters as JSON, which Prefect refuses` }]
      : [],
  probe: () => 'true',
  parse: () => ({}),
  observe: (spec, http) =>
    observeServerObject<StoredVariable>(
      http,
      variableUrl(spec),
      spec.prune ? () => listedByName(http, `${apiBase(spec)}/variables/filter`, (name) => variableUrl(spec, name)) : undefined,
    ),
  plan(spec, actual, context) {
    const wanted = { value: spec.value ?? null, tags: spec.tags ?? [] };
    return planServerObject(actual, {
      resource: spec.name ?? prefectVariable.defaultName(spec),
      title: `variable ${spec.variable}`,
      api: apiBase(spec),
      url: variableUrl(spec),
      create: { url: `${apiBase(spec)}/variables/`, body: { name: spec.variable, ...wanted } },
      wanted,
      removals: strayRemovals(
        spec,
        context,
        actual,
        serverWide(spec, 'variable', (peer) => peer.variable),
      ),
      differences: (current) => [
        ...(current && sameJson(current.value, wanted.value)
          ? []
          : [{ field: 'value', before: current ? json(current.value) : null, after: json(wanted.value) }]),
        ...(current && sameJson(sorted(current.tags ?? []), sorted(wanted.tags))
          ? []
          : [{ field: 'tags', before: current ? json(current.tags ?? []) : null, after: json(wanted.tags) }]),
      ],
    });
  },
};

const json = (value: unknown) => JSON.stringify(value);
const sorted = (tags: string[]) => [...tags].sort();

/** Equal as JSON values: key order aside, and 1 and 1.0 alike (JSON has one number type). */
const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
