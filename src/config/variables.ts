import type { FieldPath } from '../model/diagnostic.js';
import { didYouMean } from './suggest.js';
import type { Variables } from '../model/spec.js';

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
  const unclosed = /\{\{(?:(?!\}\}).)*$/s.exec(text.replace(REFERENCE, ''));
  if (unclosed) {
    problems.push({ field, message: `'${unclosed[0].split('\n')[0]!.slice(0, 40)}' opens {{ and never closes it; write {{ name }}` });
    return text;
  }
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
      problems.push({
        field,
        message: `undefined variable '${name}'${didYouMean(name, known)}; defined: ${[...listed, ...more].join(', ') || 'none'}`,
      });
      return whole;
    }
    return value;
  });
}

/** Fills variables in every string of a plain value (mapping keys are left alone). */
export function interpolateValue<T>(value: T, vars: Variables, problems: InterpolationProblem[], field: FieldPath = []): T {
  if (typeof value === 'string') return interpolateString(value, vars, field, problems) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((item, i) => interpolateValue(item, vars, problems, [...field, i])) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, interpolateValue(item, vars, problems, [...field, key])]),
    ) as T;
  }
  return value;
}

/**
 * Fills variables that use other variables (`project_dir: "{{ home }}/app"`), each after those it
 * uses; built-ins in `base` win over a variable of the same name. A circle is a problem.
 */
export function interpolateVariables(
  vars: Record<string, string>,
  base: Variables,
  problems: InterpolationProblem[],
): Record<string, string> {
  const done: Record<string, string> = {};
  const trail: string[] = [];
  const resolve = (name: string): void => {
    if (name in done) return;
    if (trail.includes(name)) {
      problems.push({
        field: [name],
        message: `variables refer to each other in a circle: ${[...trail.slice(trail.indexOf(name)), name].join(' -> ')}`,
      });
      done[name] = vars[name]!;
      return;
    }
    trail.push(name);
    for (const match of vars[name]!.matchAll(REFERENCE)) {
      const used = match[1]!.trim();
      if (used in vars && !(used in base)) resolve(used);
    }
    trail.pop();
    if (!(name in done)) done[name] = interpolateString(vars[name]!, { ...done, ...base }, [name], problems);
  };
  Object.keys(vars).forEach(resolve);
  return done;
}

/** Variable values are text once filled in; numbers and booleans print as YAML wrote them. */
export function stringifyVariables(vars: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(vars ?? {}).map(([k, v]) => [k, String(v)]));
}
