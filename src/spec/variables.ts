import type { FieldPath } from '../resources/types.js';
import { didYouMean } from './suggest.js';

export type Variables = Readonly<Record<string, string>>;

/** `{{ name }}`: collides with neither systemd specifiers (%h) nor shell expansions ($VAR, ${VAR}). */
const REFERENCE = /\{\{(.*?)\}\}/g;
/** A name, or a dotted path into another host's values: hosts.prefect-server.address. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*$/;

export interface InterpolationProblem {
  field: FieldPath;
  message: string;
}

/** Fills `{{ name }}` in one string; problems name the variable and the defined ones. */
export function interpolateString(text: string, vars: Variables, field: FieldPath, problems: InterpolationProblem[]): string {
  return text.replace(REFERENCE, (whole, inner: string) => {
    const name = inner.trim();
    if (!VARIABLE_NAME.test(name)) {
      problems.push({ field, message: `'${whole}' is not a variable reference; write {{ name }} with a variable name` });
      return whole;
    }
    const value = vars[name];
    if (value === undefined) {
      // Other hosts' values are many: suggested, but summed up in the list.
      const known = Object.keys(vars).sort();
      const listed = known.filter((k) => !k.startsWith('hosts.'));
      const more = known.length > listed.length ? ['hosts.NAME.KEY'] : [];
      problems.push({ field, message: `undefined variable '${name}'${didYouMean(name, known)}; defined: ${[...listed, ...more].join(', ') || 'none'}` });
      return whole;
    }
    return value;
  });
}

/** Fills variables in every string of a plain value (mapping keys are left alone). */
export function interpolateValue<T>(value: T, vars: Variables, problems: InterpolationProblem[], field: FieldPath = []): T {
  if (typeof value === 'string') return interpolateString(value, vars, field, problems) as T;
  if (Array.isArray(value)) return value.map((item, i) => interpolateValue(item, vars, problems, [...field, i])) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateValue(item, vars, problems, [...field, key])]),
    ) as T;
  }
  return value;
}

/** Variable values are text once filled in; numbers and booleans print as YAML wrote them. */
export function stringifyVariables(vars: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, String(v)]));
}
