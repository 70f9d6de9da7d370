import type { ReconcileInventoryHostsYaml as Inventory, Host } from '../model/generated/hosts.js';
import type { ReconcileDesiredStateSetupYaml as Setup } from '../model/generated/setup.js';
import type { FieldPath } from '../model/diagnostic.js';
import type { HostTarget } from '../model/target.js';
import type { Secret, Variables } from '../model/spec.js';
import type { Groups } from './groups.js';
import type { SpecFiles } from './spec-files.js';
import { interpolateValue, interpolateVariables, stringifyVariables, type InterpolationProblem } from './variables.js';
import type { YamlSource } from './yaml-source.js';

/** What resolving one host's variables reads besides the host itself. */
export interface VariableSources {
  inventory: Inventory;
  setup: Setup;
  groups: Groups;
  /** Every host's inventory values as `hosts.NAME.KEY` variables (see inventoryValues). */
  others: Variables;
}

/**
 * setup.yaml's vars, then the host's groups' group_vars (farthest first), then its own vars; the
 * built-ins last. A value may use the built-ins, other hosts' values and the host's other variables
 * as layered: `project_dir: "{{ home }}/app"` follows a `home` that hosts.yaml overrides.
 */
export function resolveVariables(
  name: string,
  host: Host,
  { inventory, setup, groups, others }: VariableSources,
  files: SpecFiles,
): Variables {
  const builtins = { address: host.address, host_name: name, groups: groups.of(name).join(',') };
  const layers = [
    { vars: setup.vars, source: files.setup, at: ['vars'] },
    ...groups.of(name).map((g) => ({ vars: inventory.group_vars?.[g], source: files.inventory, at: ['group_vars', g] })),
    { vars: host.vars, source: files.inventory, at: ['hosts', name, 'vars'] },
  ];
  const raw: Record<string, string> = {};
  const origin = new Map<string, (typeof layers)[number]>();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(stringifyVariables(layer.vars))) {
      raw[key] = value;
      origin.set(key, layer);
    }
  }
  const found: InterpolationProblem[] = [];
  const values = interpolateVariables(raw, { ...others, ...builtins }, found);
  for (const layer of layers) {
    const mine = found.filter((p) => origin.get(String(p.field[0])) === layer);
    reportInterpolation(mine, layer.source, layer.at, files, name);
  }
  return { ...others, ...values, ...builtins };
}

/**
 * Another host's values, for `{{ hosts.NAME.KEY }}`: its address, host_name, and its group_vars
 * and vars from hosts.yaml (filled in with its own built-ins). setup.yaml's vars are not among them:
 * what differs between hosts is written in hosts.yaml.
 */
export function inventoryValues(inventory: Inventory, targets: HostTarget[], groups: Groups): Variables {
  const values: Record<string, string> = {};
  Object.entries(inventory.hosts).forEach(([name, host], i) => {
    const builtins = { address: targets[i]!.address, host_name: name };
    const groupVars = groups.of(name).map((g) => inventory.group_vars?.[g] ?? {});
    const raw = Object.assign({}, ...groupVars, host.vars) as Record<string, string | number | boolean>;
    // Problems in these values are reported where the host itself is resolved.
    const own = interpolateValue(stringifyVariables(raw), builtins, []);
    for (const [key, value] of Object.entries({ ...own, ...builtins })) values[`hosts.${name}.${key}`] = value;
  });
  return values;
}

/** Secrets are used like variables; a name cannot be both. */
export function withSecrets(vars: Variables, secrets: Secret[], files: SpecFiles): Variables {
  for (const { name } of secrets) {
    if (name in vars) files.problem(files.setup, ['secrets', name], `'${name}' is both a variable and a secret; rename one of them`);
  }
  return { ...vars, ...Object.fromEntries(secrets.map((s) => [s.name, s.value])) };
}

/** Interpolation problems, located under `prefix` in `source`, naming the host they were found for. */
export function reportInterpolation(
  found: InterpolationProblem[],
  source: YamlSource,
  prefix: FieldPath,
  files: SpecFiles,
  host: string,
): void {
  for (const p of found) files.problem(source, [...prefix, ...p.field], `${p.message} (host '${host}')`);
}
