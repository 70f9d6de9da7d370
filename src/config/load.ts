import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { isAlias, visit } from 'yaml';
import { resourceType } from '../resources/registry.js';
import type { FieldPath } from '../model/diagnostic.js';
import { sortDiagnostics, SpecError, type Diagnostic } from '../model/diagnostic.js';
import type { HostTarget } from '../model/target.js';
import { resolveTargets } from './connection.js';
import { resolveGroups, type Groups } from './groups.js';
import type { Host, ReconcileInventoryHostsYaml as Inventory } from '../model/generated/hosts.js';
import type { ReconcileDesiredStateSetupYaml as Setup, Resource } from '../model/generated/setup.js';
import { validateAgainstSchema } from './schema-validator.js';
import { resolveSecrets, withoutSecrets, type Secret, type SecretMode } from './secrets.js';
import { didYouMean } from './suggest.js';
import { interpolateValue, interpolateVariables, stringifyVariables, type InterpolationProblem, type Variables } from './variables.js';
import { loadYaml, positionAt, type YamlSource } from './yaml-source.js';

/** A resource as it applies to one host: variables filled in, name and dependencies known. */
export interface DeclaredResource {
  name: string;
  spec: Resource;
  /** Names of the resources this one needs converged first. */
  dependsOn: string[];
  /** Resources on other hosts it comes after (`after: [HOST:UNIT]`): apply waits for those hosts. */
  waitsFor?: HostResource[];
}

/** A resource of another host, as `after: [HOST:UNIT]` names it. */
export interface HostResource {
  host: string;
  /** e.g. "prefect-server:prefect-server.service", for messages. */
  label: string;
  /** What the other host's resource provides, e.g. "unit:prefect-server.service". */
  token: string;
  /** How to name what is referred to, e.g. "a systemd_service" (the reference says). */
  what: string;
  /** Where setup.yaml names it. */
  at: FieldPath;
}

export interface HostSpec {
  target: HostTarget;
  /** The groups of hosts.yaml the host is in, directly or not. */
  groups: string[];
  vars: Variables;
  resources: DeclaredResource[];
}

export interface Spec {
  inventoryFile: string;
  setupFile: string;
  /** sha256 of both files' bytes: run records and saved plans name the spec they came from. */
  specHash: string;
  hosts: HostSpec[];
  /** Values to keep out of every output (see SecretMask). */
  secrets: Secret[];
}

/** An anchor/alias bomb expands a few lines into gigabytes; far fewer aliases suffice for any real spec. */
const MAX_ALIAS_EXPANSIONS = 100;

/** Loads, validates and resolves both spec files; throws SpecError with every problem found. */
export async function loadSpec(inventoryFile: string, setupFile: string, secretMode: SecretMode = 'resolve'): Promise<Spec> {
  const [inventorySource, setupSource] = await Promise.all([loadYaml(inventoryFile), loadYaml(setupFile)]);
  const problems: Diagnostic[] = [];
  if (!inventorySource.ok) problems.push(...inventorySource.diagnostics);
  if (!setupSource.ok) problems.push(...setupSource.diagnostics);
  const inventory = inventorySource.ok ? toPlain(inventorySource.value, 'hosts', problems) : undefined;
  const setup = setupSource.ok ? toPlain(setupSource.value, 'setup', problems) : undefined;
  if (!inventory || !setup || problems.length > 0 || !inventorySource.ok || !setupSource.ok) throw new SpecError(sortDiagnostics(problems));

  const secrets = resolveSecrets(setup.secrets, secretMode, setupSource.value, problems);
  const targets = await resolveTargets(inventory, secrets, inventorySource.value, problems);
  const groups = resolveGroups(inventory, inventorySource.value, problems);
  checkTargeting(setup, groups, setupSource.value, problems);
  const others = inventoryValues(inventory, targets, groups);
  const hosts = Object.entries(inventory.hosts).map(([name, host], i) =>
    resolveHost(name, host, targets[i]!, { inventory, setup, secrets, groups, others }, inventorySource.value, setupSource.value, problems),
  );
  checkCrossHostReferences(hosts, setupSource.value, problems);
  // A message may quote a filled-in value (a resource named by its line): no secret in it.
  if (problems.length > 0)
    throw new SpecError(sortDiagnostics(problems).map((p) => ({ ...p, message: withoutSecrets(p.message, secrets) })));
  return {
    inventoryFile,
    setupFile,
    specHash: hashSources([inventorySource.value, setupSource.value]),
    hosts,
    secrets,
  };
}

/** What each schema describes once a document has passed it. */
interface SchemaShapes {
  hosts: Inventory;
  setup: Setup;
}

/** YAML document to plain data, refusing alias bombs, then checked against its schema. */
function toPlain<K extends keyof SchemaShapes>(source: YamlSource, schema: K, problems: Diagnostic[]): SchemaShapes[K] | undefined {
  let value: unknown;
  try {
    value = source.doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    const at = firstAliasOffset(source);
    problems.push({
      file: source.file,
      ...source.position(at),
      message: `YAML: ${(error as Error).message} (aliases may expand at most ${MAX_ALIAS_EXPANSIONS} times)`,
    });
    return undefined;
  }
  const diagnostics = validateAgainstSchema(schema, value, source);
  problems.push(...diagnostics);
  return diagnostics.length === 0 ? (value as SchemaShapes[K]) : undefined;
}

function firstAliasOffset(source: YamlSource): number {
  let offset = 0;
  visit(source.doc, {
    Alias(_key, node) {
      if (isAlias(node) && node.range) offset = node.range[0];
      return visit.BREAK;
    },
  });
  return offset;
}

interface HostContext {
  inventory: Inventory;
  setup: Setup;
  secrets: Secret[];
  groups: Groups;
  /** Every host's inventory values as `hosts.NAME.KEY` variables. */
  others: Variables;
}

function resolveHost(
  name: string,
  host: Host,
  target: HostTarget,
  context: HostContext,
  inventorySource: YamlSource,
  setupSource: YamlSource,
  problems: Diagnostic[],
): HostSpec {
  const { setup, secrets, groups } = context;
  const vars = resolveVariables(name, { ...host, address: target.address }, context, inventorySource, setupSource, problems);
  const applies = (r: Resource) => r.hosts === undefined || groups.hosts(r.hosts).includes(name);
  const resources = resolveResources(
    name,
    setup,
    applies,
    withSecrets(vars, secrets, setupSource, problems),
    setupSource,
    problems,
    groups,
  );
  for (const [index, r] of resources.entries()) checkSecretExposure(r, index, secrets, setupSource, problems);
  return { target, groups: groups.of(name), vars, resources };
}

/**
 * setup.yaml's vars, then the host's groups' group_vars (farthest first), then its own vars; the
 * built-ins last. A value may use the built-ins, other hosts' values and the host's other variables
 * as layered: `project_dir: "{{ home }}/app"` follows a `home` that hosts.yaml overrides.
 */
function resolveVariables(
  name: string,
  host: Host,
  { inventory, setup, groups, others }: HostContext,
  inventorySource: YamlSource,
  setupSource: YamlSource,
  problems: Diagnostic[],
): Variables {
  const builtins = { address: host.address, host_name: name, groups: groups.of(name).join(',') };
  const layers = [
    { vars: setup.vars, source: setupSource, at: ['vars'] },
    ...groups.of(name).map((g) => ({ vars: inventory.group_vars?.[g], source: inventorySource, at: ['group_vars', g] })),
    { vars: host.vars, source: inventorySource, at: ['hosts', name, 'vars'] },
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
  for (const layer of layers)
    report(
      found.filter((p) => origin.get(String(p.field[0])) === layer),
      layer.source,
      layer.at,
      problems,
      name,
    );
  return { ...others, ...values, ...builtins };
}

/**
 * Another host's values, for `{{ hosts.NAME.KEY }}`: its address, host_name, and its group_vars
 * and vars from hosts.yaml (filled in with its own built-ins). setup.yaml's vars are not among them:
 * what differs between hosts is written in hosts.yaml.
 */
function inventoryValues(inventory: Inventory, targets: HostTarget[], groups: Groups): Variables {
  const values: Record<string, string> = {};
  Object.entries(inventory.hosts).forEach(([name, host], i) => {
    const builtins = { address: targets[i]!.address, host_name: name };
    const raw = Object.assign({}, ...groups.of(name).map((g) => inventory.group_vars?.[g] ?? {}), host.vars) as Record<
      string,
      string | number | boolean
    >;
    // Problems in these values are reported where the host itself is resolved.
    const own = interpolateValue(stringifyVariables(raw), builtins, []);
    for (const [key, value] of Object.entries({ ...own, ...builtins })) values[`hosts.${name}.${key}`] = value;
  });
  return values;
}

/** Secrets are used like variables; a name cannot be both. */
function withSecrets(vars: Variables, secrets: Secret[], source: YamlSource, problems: Diagnostic[]): Variables {
  for (const { name } of secrets) {
    if (name in vars)
      problems.push({
        file: source.file,
        ...positionAt(source, ['secrets', name]),
        message: `'${name}' is both a variable and a secret; rename one of them`,
      });
  }
  return { ...vars, ...Object.fromEntries(secrets.map((s) => [s.name, s.value])) };
}

/** A resource holding a secret must not leave it readable by every user on the host. */
function checkSecretExposure(
  resource: DeclaredResource,
  index: number,
  secrets: Secret[],
  source: YamlSource,
  problems: Diagnostic[],
): void {
  const text = JSON.stringify(resource.spec);
  const held = secrets.find((s) => text.includes(JSON.stringify(s.value).slice(1, -1)));
  const exposure = held && resourceType(resource.spec.kind).exposure?.(resource.spec);
  if (!held || !exposure) return;
  const problem = {
    file: source.file,
    ...positionAt(source, ['resources', index, ...exposure.field]),
    message: `secret '${held.name}' in ${resource.name}: ${exposure.message}`,
  };
  // Every host shares setup.yaml: say it once.
  if (!problems.some((p) => p.line === problem.line && p.col === problem.col && p.message === problem.message)) problems.push(problem);
}

/** `unit:HOST:UNIT` where HOST is another inventory host: a reference across hosts. */
function otherHostOf(token: string, groups: Groups, self: string): Omit<HostResource, 'at' | 'what'> | undefined {
  const [kind, value] = [token.slice(0, token.indexOf(':')), token.slice(token.indexOf(':') + 1)];
  const host = value.slice(0, value.indexOf(':'));
  if (!host || host === self || !groups.isHost(host)) return undefined;
  return { host, label: value, token: `${kind}:${value.slice(host.length + 1)}` };
}

/** Every name in a resource's `hosts:` must be a host or a group, and the list must match some host. */
function checkTargeting(setup: Setup, groups: Groups, source: YamlSource, problems: Diagnostic[]): void {
  setup.resources.forEach((r, i) => {
    if (r.hosts === undefined) return;
    const at = (path: FieldPath, message: string) =>
      problems.push({ file: source.file, ...positionAt(source, ['resources', i, 'hosts', ...path]), message });
    const unknown = r.hosts.filter((name) => !groups.names().includes(name));
    for (const name of unknown)
      at([r.hosts.indexOf(name)], `'${name}' is neither a host nor a group of hosts.yaml${didYouMean(name, groups.names())}`);
    if (unknown.length === 0 && groups.hosts(r.hosts).length === 0)
      at([], `${r.hosts.join(', ')} holds no host: this resource would go nowhere`);
  });
}

/**
 * A resource of another host named in `after` must exist there, and hosts may not wait for each
 * other in a circle (each would wait for the other to converge first).
 */
function checkCrossHostReferences(hosts: HostSpec[], source: YamlSource, problems: Diagnostic[]): void {
  const waitsOf = (h: HostSpec) => h.resources.flatMap((r) => r.waitsFor ?? []);
  for (const host of hosts) {
    for (const wait of waitsOf(host)) {
      const there = hosts.find((h) => h.target.name === wait.host)!;
      const tokens = there.resources.flatMap((r) => resourceType(r.spec.kind).provides?.(r.spec) ?? []);
      if (tokens.includes(wait.token)) continue;
      // Tokens are KIND:VALUE; the candidates are the other host's tokens of the same kind.
      const kind = wait.token.slice(0, wait.token.indexOf(':') + 1);
      const value = wait.token.slice(kind.length);
      const candidates = tokens.filter((t) => t.startsWith(kind)).map((t) => t.slice(kind.length));
      problems.push({
        file: source.file,
        ...positionAt(source, wait.at),
        message: `'${value}' is not ${wait.what} of host '${wait.host}' (its resources' hosts: leave it out?)${didYouMean(value, candidates)}`,
      });
    }
  }
  const waitsFor = new Map(hosts.map((h) => [h.target.name, [...new Set(waitsOf(h).map((w) => w.host))]]));
  for (const host of hosts) {
    const trail = hostCycle(host.target.name, waitsFor);
    if (trail && trail[0] === [...trail].sort()[0]) {
      const first = waitsOf(host)[0]!;
      problems.push({
        file: source.file,
        ...positionAt(source, first.at),
        message: `hosts wait for each other in a circle: ${trail.join(' -> ')} -> ${trail[0]}`,
      });
    }
  }
}

function hostCycle(start: string, waitsFor: Map<string, string[]>): string[] | undefined {
  const walk = (host: string, trail: string[]): string[] | undefined => {
    for (const next of waitsFor.get(host) ?? []) {
      if (next === start) return trail;
      if (!trail.includes(next)) {
        const found = walk(next, [...trail, next]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(start, [start]);
}

function resolveResources(
  hostName: string,
  setup: Setup,
  applies: (r: Resource) => boolean,
  vars: Variables,
  source: YamlSource,
  problems: Diagnostic[],
  groups: Groups,
): DeclaredResource[] {
  const found: InterpolationProblem[] = [];
  // Resources for other hosts stay as written (they passed the schema so), keeping every index in place.
  const specs = setup.resources.map((r, i) => (applies(r) ? interpolateValue(r, vars, found, [i]) : r));
  report(found, source, ['resources'], problems, hostName);
  // Filled-in values must still fit the schema: "{{ dir }}/x" may not turn into a relative path.
  const schemaProblems = validateAgainstSchema('setup', { ...setup, resources: specs }, source);
  problems.push(...schemaProblems);
  if (schemaProblems.length > 0) return [];

  const specDir = dirname(resolve(source.file));
  const named = specs
    .map((spec, i) => ({ spec, index: i, name: spec.name ?? resourceType(spec.kind).defaultName(spec) }))
    .filter(({ index }) => applies(setup.resources[index]!));
  const at = (index: number, field: FieldPath) => ({ file: source.file, ...positionAt(source, ['resources', index, ...field]) });

  const firstIndex = new Map<string, number>();
  for (const { name, index, spec } of named) {
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, index);
    else {
      const firstLine = positionAt(source, ['resources', first]).line;
      problems.push({
        ...at(index, spec.name ? ['name'] : []),
        message: `duplicate resource '${name}' (first declared at line ${firstLine}); give one of them a different name`,
      });
    }
    for (const problem of resourceType(spec.kind).check?.(spec, { specDir }) ?? []) {
      problems.push({ ...at(index, problem.field), message: problem.message });
    }
  }

  const providers = new Map<string, string>();
  for (const { spec, name } of named) for (const token of resourceType(spec.kind).provides?.(spec) ?? []) providers.set(token, name);
  const dependencies = new Map(named.map(({ name }) => [name, [] as string[]]));
  const waits = new Map(named.map(({ name }) => [name, [] as HostResource[]]));
  for (const { spec, index, name } of named) {
    for (const ref of resourceType(spec.kind).references?.(spec) ?? []) {
      const provider = providers.get(ref.token);
      const elsewhere = provider ? undefined : otherHostOf(ref.token, groups, hostName);
      if (provider && ref.before) dependencies.get(provider)!.push(name);
      else if (provider) dependencies.get(name)!.push(provider);
      else if (elsewhere) waits.get(name)!.push({ ...elsewhere, what: ref.what, at: ['resources', index, ...ref.field] });
      else {
        const value = ref.token.replace(/^[a-z]+:/, '');
        const candidates = [...providers.keys()]
          .filter((t) => t.startsWith(`${ref.token.split(':')[0]!}:`))
          .map((t) => t.replace(/^[a-z]+:/, ''));
        problems.push({
          ...at(index, ref.field),
          message: `'${value}' is not ${ref.what} declared in this file${didYouMean(value, candidates)}`,
        });
      }
    }
  }
  const declared = named.map(({ spec, index, name }) => ({ name, spec, dependsOn: dependencies.get(name)!, index }));
  reportCycles(declared, at, problems);
  return declared.map(({ name, spec, dependsOn }) => ({
    name,
    spec,
    dependsOn,
    ...(waits.get(name)!.length > 0 ? { waitsFor: waits.get(name)! } : {}),
  }));
}

function reportCycles(
  resources: { name: string; dependsOn: string[]; index: number }[],
  at: (index: number, field: FieldPath) => Omit<Diagnostic, 'message'>,
  problems: Diagnostic[],
): void {
  const byName = new Map(resources.map((r) => [r.name, r]));
  const state = new Map<string, 'visiting' | 'done'>();
  const walk = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      const start = byName.get(name)!;
      problems.push({ ...at(start.index, []), message: `ordering cycle: ${cycle.join(' -> ')} (each waits for the next)` });
      return;
    }
    state.set(name, 'visiting');
    for (const next of byName.get(name)?.dependsOn ?? []) walk(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const r of resources) walk(r.name, []);
}

function report(found: InterpolationProblem[], source: YamlSource, prefix: FieldPath, problems: Diagnostic[], hostName: string): void {
  for (const p of found) {
    problems.push({ file: source.file, ...positionAt(source, [...prefix, ...p.field]), message: `${p.message} (host '${hostName}')` });
  }
}

function hashSources(sources: YamlSource[]): string {
  const hash = createHash('sha256');
  for (const s of sources) hash.update(s.doc.toString()).update('\0');
  return hash.digest('hex');
}
