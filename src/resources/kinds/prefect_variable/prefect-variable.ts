import type { Action, FieldChange, HttpRequest } from '../../../model/plan.js';
import type { PrefectVariable } from '../../../model/generated/setup.js';
import { canonicalJson } from '../../canonical-json.js';
import { readServerObject } from '../../server-object.js';
import { afterReferences, compareWhenUp, noChanges, type ResourceType } from '../../types.js';

interface VariableFacts {
  /** undefined: the server did not answer (e.g. not started yet on a fresh host). */
  server?: { variable?: { value: unknown; tags: string[] } };
  unreachable?: string;
}

/** Prefect refuses a value whose JSON is longer (MAX_VARIABLE_VALUE_LENGTH, prefect/types). */
const MAX_VALUE_LENGTH = 5000;

const apiOf = (spec: PrefectVariable) => spec.api_url.replace(/\/$/, '');
const variableUrl = (spec: PrefectVariable) => `${apiOf(spec)}/variables/name/${encodeURIComponent(spec.variable)}`;

/**
 * prefect_variable: a variable on the Prefect server, read and changed through the REST API from
 * the host (tunnelled over SSH), as the work pool is. Converged when it exists with the value (as
 * JSON) and the tags (as a set) wanted.
 */
export const prefectVariable: ResourceType<PrefectVariable, VariableFacts> = {
  kind: 'prefect_variable',
  defaultName: (spec) => `prefect_variable:${spec.variable}`,
  references: (spec) => afterReferences(spec.after),
  check: (spec) =>
    JSON.stringify(spec.value).length > MAX_VALUE_LENGTH
      ? [{ field: ['value'], message: `the value is over ${MAX_VALUE_LENGTH} characters as JSON, which Prefect refuses` }]
      : [],
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    const read = await readServerObject<{ value: unknown; tags: string[] | null }>(http, variableUrl(spec));
    const facts: VariableFacts =
      'unreachable' in read
        ? { unreachable: read.unreachable }
        : { server: read.found ? { variable: { value: read.found.value, tags: read.found.tags ?? [] } } : {} };
    return { into: () => facts };
  },
  plan(spec, actual) {
    const name = spec.name ?? prefectVariable.defaultName(spec);
    const title = `variable ${spec.variable}`;
    if (actual.unreachable) return compareWhenUp(name, title, { url: apiOf(spec), why: actual.unreachable });
    const current = actual.server?.variable;
    const wanted = { value: spec.value ?? null, tags: spec.tags ?? [] };
    const fields: FieldChange[] = [
      ...(sameJson(current?.value, wanted.value) && current
        ? []
        : [{ field: 'value', before: current ? json(current.value) : null, after: json(wanted.value) }]),
      ...(current && sameJson(sorted(current.tags), sorted(wanted.tags))
        ? []
        : [{ field: 'tags', before: current ? json(current.tags) : null, after: json(wanted.tags) }]),
    ];
    if (current && fields.length === 0) return noChanges();
    const update: HttpRequest = { method: 'PATCH', url: variableUrl(spec), body: wanted };
    const create: HttpRequest = { method: 'POST', url: `${apiOf(spec)}/variables/`, body: { name: spec.variable, ...wanted } };
    const action: Action = current
      ? { id: name, resource: name, verb: 'update', title, fields, steps: [{ request: update }] }
      : // Made meanwhile by someone else (409): then it is updated instead.
        { id: name, resource: name, verb: 'create', title, fields, steps: [{ request: create, onConflict: update }] };
    return { now: [], late: [action], notifies: [], problems: [] };
  },
};

const json = (value: unknown) => JSON.stringify(value);
const sorted = (tags: string[]) => [...tags].sort();

/** Equal as JSON values: key order aside, and 1 and 1.0 alike (JSON has one number type). */
const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
