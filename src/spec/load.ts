import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { isAlias, visit } from 'yaml';
import { resourceType } from '../resources/registry.js';
import type { FieldPath } from '../resources/types.js';
import { sortDiagnostics, SpecError, type Diagnostic } from './diagnostic.js';
import { resolveTargets, type HostTarget } from './connection.js';
import type { Host, ReconcileInventoryHostsYaml as Inventory } from './generated/hosts.js';
import type { ReconcileDesiredStateSetupYaml as Setup, Resource } from './generated/setup.js';
import { validateAgainstSchema } from './schema-validator.js';
import { resolveSecrets, withoutSecrets, type Secret, type SecretMode } from './secrets.js';
import { didYouMean } from './suggest.js';
import { interpolateValue, stringifyVariables, type InterpolationProblem, type Variables } from './variables.js';
import { loadYaml, positionAt, type YamlSource } from './yaml-source.js';

export type { HostTarget };

/** A resource as it applies to one host: variables filled in, name and dependencies known. */
export interface DeclaredResource {
  name: string;
  spec: Resource;
  /** Names of the resources this one needs converged first. */
  dependsOn: string[];
}

export interface HostSpec {
  target: HostTarget;
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
  const inventory = inventorySource.ok ? toPlain<Inventory>(inventorySource.value, 'hosts', problems) : fail(inventorySource.diagnostics, problems);
  const setup = setupSource.ok ? toPlain<Setup>(setupSource.value, 'setup', problems) : fail(setupSource.diagnostics, problems);
  if (!inventory || !setup || problems.length > 0 || !inventorySource.ok || !setupSource.ok) throw new SpecError(sortDiagnostics(problems));

  const secrets = resolveSecrets(setup.secrets, secretMode, setupSource.value, problems);
  const targets = await resolveTargets(inventory, secrets, inventorySource.value, problems);
  const hosts = Object.entries(inventory.hosts).map(([name, host], i) =>
    resolveHost(name, host, targets[i]!, { setup, secrets }, inventorySource.value, setupSource.value, problems),
  );
  // A message may quote a filled-in value (a resource named by its line): no secret in it.
  if (problems.length > 0) throw new SpecError(sortDiagnostics(problems).map((p) => ({ ...p, message: withoutSecrets(p.message, secrets) })));
  return {
    inventoryFile,
    setupFile,
    specHash: hashSources([inventorySource.value, setupSource.value]),
    hosts,
    secrets,
  };
}

function fail(diagnostics: Diagnostic[], problems: Diagnostic[]): undefined {
  problems.push(...diagnostics);
  return undefined;
}

/** YAML document to plain data, refusing alias bombs, then checked against its schema. */
function toPlain<T>(source: YamlSource, schema: 'hosts' | 'setup', problems: Diagnostic[]): T | undefined {
  let value: unknown;
  try {
    value = source.doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    const at = firstAliasOffset(source);
    problems.push({ file: source.file, ...source.position(at), message: `YAML: ${(error as Error).message} (aliases may expand at most ${MAX_ALIAS_EXPANSIONS} times)` });
    return undefined;
  }
  const diagnostics = validateAgainstSchema(schema, value, source);
  problems.push(...diagnostics);
  return diagnostics.length === 0 ? (value as T) : undefined;
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

function resolveHost(
  name: string,
  host: Host,
  target: HostTarget,
  { setup, secrets }: { setup: Setup; secrets: Secret[] },
  inventorySource: YamlSource,
  setupSource: YamlSource,
  problems: Diagnostic[],
): HostSpec {
  const vars = resolveVariables(name, { ...host, address: target.address }, setup, inventorySource, setupSource, problems);
  const resources = resolveResources(name, setup, withSecrets(vars, secrets, setupSource, problems), setupSource, problems);
  for (const [index, r] of resources.entries()) checkSecretExposure(r, index, secrets, setupSource, problems);
  return { target, vars, resources };
}


/** Built-ins, then setup.yaml's defaults, then the host's own; the last two may use the built-ins. */
function resolveVariables(name: string, host: Host, setup: Setup, inventorySource: YamlSource, setupSource: YamlSource, problems: Diagnostic[]): Variables {
  const builtins = { address: host.address, host_name: name };
  const resolve = (vars: Record<string, string | number | boolean> | undefined, source: YamlSource, at: FieldPath) => {
    const found: InterpolationProblem[] = [];
    const values = interpolateValue(stringifyVariables(vars), builtins, found);
    report(found, source, at, problems, name);
    return values;
  };
  return {
    ...resolve(setup.vars, setupSource, ['vars']),
    ...resolve(host.vars, inventorySource, ['hosts', name, 'vars']),
    ...builtins,
  };
}

/** Secrets are used like variables; a name cannot be both. */
function withSecrets(vars: Variables, secrets: Secret[], source: YamlSource, problems: Diagnostic[]): Variables {
  for (const { name } of secrets) {
    if (name in vars) problems.push({ file: source.file, ...positionAt(source, ['secrets', name]), message: `'${name}' is both a variable and a secret; rename one of them` });
  }
  return { ...vars, ...Object.fromEntries(secrets.map((s) => [s.name, s.value])) };
}

/** A resource holding a secret must not leave it readable by every user on the host. */
function checkSecretExposure(resource: DeclaredResource, index: number, secrets: Secret[], source: YamlSource, problems: Diagnostic[]): void {
  const text = JSON.stringify(resource.spec);
  const held = secrets.find((s) => text.includes(JSON.stringify(s.value).slice(1, -1)));
  const exposure = held && resourceType(resource.spec.kind).exposure?.(resource.spec);
  if (!held || !exposure) return;
  const problem = { file: source.file, ...positionAt(source, ['resources', index, ...exposure.field]), message: `secret '${held.name}' in ${resource.name}: ${exposure.message}` };
  // Every host shares setup.yaml: say it once.
  if (!problems.some((p) => p.line === problem.line && p.col === problem.col && p.message === problem.message)) problems.push(problem);
}

function resolveResources(hostName: string, setup: Setup, vars: Variables, source: YamlSource, problems: Diagnostic[]): DeclaredResource[] {
  const found: InterpolationProblem[] = [];
  const specs = setup.resources.map((r, i) => interpolateValue(r, vars, found, [i]));
  report(found, source, ['resources'], problems, hostName);
  // Filled-in values must still fit the schema: "{{ dir }}/x" may not turn into a relative path.
  const schemaProblems = validateAgainstSchema('setup', { ...setup, resources: specs }, source);
  problems.push(...schemaProblems);
  if (schemaProblems.length > 0) return [];

  const specDir = dirname(resolve(source.file));
  const named = specs.map((spec, i) => ({ spec, index: i, name: spec.name ?? resourceType(spec.kind).defaultName(spec) }));
  const at = (index: number, field: FieldPath) => ({ file: source.file, ...positionAt(source, ['resources', index, ...field]) });

  const firstIndex = new Map<string, number>();
  for (const { name, index, spec } of named) {
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, index);
    else {
      const firstLine = positionAt(source, ['resources', first]).line;
      problems.push({ ...at(index, spec.name ? ['name'] : []), message: `duplicate resource '${name}' (first declared at line ${firstLine}); give one of them a different name` });
    }
    for (const problem of resourceType(spec.kind).check?.(spec, { specDir }) ?? []) {
      problems.push({ ...at(index, problem.field), message: problem.message });
    }
  }

  const providers = new Map<string, string>();
  for (const { spec, name } of named) for (const token of resourceType(spec.kind).provides?.(spec) ?? []) providers.set(token, name);
  const dependencies = new Map(named.map(({ name }) => [name, [] as string[]]));
  for (const { spec, index, name } of named) {
    for (const ref of resourceType(spec.kind).references?.(spec) ?? []) {
      const provider = providers.get(ref.token);
      if (provider && ref.before) dependencies.get(provider)!.push(name);
      else if (provider) dependencies.get(name)!.push(provider);
      else {
        const value = ref.token.replace(/^[a-z]+:/, '');
        const candidates = [...providers.keys()].filter((t) => t.startsWith(ref.token.split(':')[0] + ':')).map((t) => t.replace(/^[a-z]+:/, ''));
        problems.push({ ...at(index, ref.field), message: `'${value}' is not ${ref.what} declared in this file${didYouMean(value, candidates)}` });
      }
    }
  }
  const declared = named.map(({ spec, index, name }) => ({ name, spec, dependsOn: dependencies.get(name)!, index }));
  reportCycles(declared, at, problems);
  return declared.map(({ name, spec, dependsOn }) => ({ name, spec, dependsOn }));
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
