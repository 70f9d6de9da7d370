import { dirname, resolve } from 'node:path';
import type { FieldPath } from '../model/diagnostic.js';
import type { ReconcileDesiredStateSetupYaml as Setup, Resource } from '../model/generated/setup.js';
import { dependenciesFirst } from '../model/graph.js';
import type { DeclaredResource, HostResource, Secret, Variables } from '../model/spec.js';
import { resourceType } from '../resources/registry.js';
import type { Groups } from './groups.js';
import { reportInterpolation } from './host-variables.js';
import { validateAgainstSchema } from './schema-validator.js';
import type { SpecFiles } from './spec-files.js';
import { didYouMean } from './suggest.js';
import { interpolateValue, type InterpolationProblem } from './variables.js';
import { positionAt } from './yaml-source.js';

/** One host's view of setup.yaml's resources list: who it is, what applies to it, its variables. */
export interface HostView {
  host: string;
  applies: (r: Resource) => boolean;
  vars: Variables;
  groups: Groups;
  secrets: Secret[];
}

interface Named {
  spec: Resource;
  index: number;
  name: string;
}

/**
 * The resources that apply to a host, filled in with its variables and checked again against the
 * schema, each with its name, the resources it depends on and those of other hosts it waits for.
 */
export function resolveResources(setup: Setup, view: HostView, files: SpecFiles): DeclaredResource[] {
  const found: InterpolationProblem[] = [];
  // Resources for other hosts stay as written (they passed the schema so), keeping every index in place.
  const specs = setup.resources.map((r, i) => (view.applies(r) ? interpolateValue(r, view.vars, found, [i]) : r));
  reportInterpolation(found, files.setup, ['resources'], files, view.host);
  // Filled-in values must still fit the schema: "{{ dir }}/x" may not turn into a relative path.
  const schemaProblems = validateAgainstSchema('setup', { ...setup, resources: specs }, files.setup);
  files.problems.push(...schemaProblems);
  if (schemaProblems.length > 0) return [];

  const named = specs
    .map((spec, index) => ({ spec, index, name: spec.name ?? resourceType(spec.kind).defaultName(spec) }))
    .filter(({ index }) => view.applies(setup.resources[index]!));
  checkNamesAndFields(named, files);
  const { dependencies, waits, notices } = references(named, view, files);
  const declared = named.map(({ spec, name }) => ({ name, spec, dependsOn: dependencies.get(name)! }));
  reportCycles(named, dependencies, files);
  for (const r of named) checkSecretExposure(r, view.secrets, files);
  return declared.map((r) => ({
    ...r,
    ...(waits.get(r.name)!.length > 0 ? { waitsFor: waits.get(r.name)! } : {}),
    ...(notices.get(r.name)!.length > 0 ? { notifiesElsewhere: notices.get(r.name)! } : {}),
  }));
}

const at = (index: number, field: FieldPath = []): FieldPath => ['resources', index, ...field];

/** Names are unique on a host; each kind checks its own fields (`check`). */
function checkNamesAndFields(named: Named[], files: SpecFiles): void {
  const specDir = dirname(resolve(files.setup.file));
  const firstIndex = new Map<string, number>();
  for (const { name, index, spec } of named) {
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, index);
    else {
      const firstLine = positionAt(files.setup, at(first)).line;
      const message = `duplicate resource '${name}' (first declared at line ${firstLine}); give one of them a different name`;
      files.problem(files.setup, at(index, spec.name ? ['name'] : []), message);
    }
    for (const problem of resourceType(spec.kind).check?.(spec, { specDir }) ?? []) {
      files.problem(files.setup, at(index, problem.field), problem.message);
    }
  }
}

/**
 * What each resource refers to: a resource of this host that provides it (a dependency, or a
 * dependent for `before` references), or one of another host (a wait); anything else is a problem.
 */
function references(named: Named[], view: HostView, files: SpecFiles) {
  // A token several resources provide (every variable and block of a server) makes a reference wait for all of them.
  const providers = new Map<string, string[]>();
  for (const { spec, name } of named)
    for (const token of resourceType(spec.kind).provides?.(spec) ?? []) providers.set(token, [...(providers.get(token) ?? []), name]);
  const dependencies = new Map(named.map(({ name }) => [name, [] as string[]]));
  const waits = new Map(named.map(({ name }) => [name, [] as HostResource[]]));
  const notices = new Map(named.map(({ name }) => [name, [] as (HostResource & { notified: string })[]]));
  for (const { spec, index, name } of named) {
    for (const ref of resourceType(spec.kind).references?.(spec) ?? []) {
      const provider = providers.get(ref.token);
      const elsewhere = provider ? undefined : otherHostsOf(ref.token, view.groups, view.host);
      const there = elsewhere?.map((e) => ({ ...e, what: ref.what, at: at(index, ref.field) }));
      if (provider && ref.before) for (const p of provider) dependencies.get(p)!.push(name);
      else if (provider) dependencies.get(name)!.push(...provider);
      else if (there && ref.before) notices.get(name)!.push(...there.map((e) => ({ ...e, notified: ref.token })));
      else if (there) waits.get(name)!.push(...there);
      else if (!ref.ifDeclared) {
        const value = ref.token.replace(/^[a-z]+:/, '');
        const sameKind = [...providers.keys()].filter((t) => t.startsWith(`${ref.token.split(':')[0]!}:`));
        const candidates = sameKind.map((t) => t.replace(/^[a-z]+:/, ''));
        files.problem(
          files.setup,
          at(index, ref.field),
          `'${value}' is not ${ref.what} declared in this file${didYouMean(value, candidates)}`,
        );
      }
    }
  }
  return { dependencies, waits, notices };
}

/**
 * `unit:HOST:UNIT` where HOST is another inventory host, or a group (each of its hosts but this
 * one): a reference across hosts. Undefined when the token names no other host.
 */
function otherHostsOf(token: string, groups: Groups, self: string): Omit<HostResource, 'at' | 'what'>[] | undefined {
  const [kind, value] = [token.slice(0, token.indexOf(':')), token.slice(token.indexOf(':') + 1)];
  const prefix = value.slice(0, value.indexOf(':'));
  const hosts = prefix && prefix !== self ? groups.hosts([prefix]).filter((h) => h !== self) : [];
  if (hosts.length === 0) return undefined;
  const local = value.slice(prefix.length + 1);
  return hosts.map((host) => ({ host, label: `${host}:${local}`, token: `${kind}:${local}` }));
}

function reportCycles(named: Named[], dependencies: Map<string, string[]>, files: SpecFiles): void {
  const indexOf = new Map(named.map((r) => [r.name, r.index]));
  const { cycles } = dependenciesFirst(
    named.map((r) => r.name),
    (name) => dependencies.get(name) ?? [],
  );
  for (const cycle of cycles) {
    files.problem(files.setup, at(indexOf.get(cycle[0]!)!), `ordering cycle: ${cycle.join(' -> ')} (each waits for the next)`);
  }
}

/** A resource holding a secret must not leave it readable by every user on the host. */
function checkSecretExposure({ spec, index, name }: Named, secrets: Secret[], files: SpecFiles): void {
  const text = JSON.stringify(spec);
  const held = secrets.find((s) => text.includes(JSON.stringify(s.value).slice(1, -1)));
  const exposure = held && resourceType(spec.kind).exposure?.(spec);
  if (!held || !exposure) return;
  const position = positionAt(files.setup, at(index, exposure.field));
  const message = `secret '${held.name}' in ${name}: ${exposure.message}`;
  // Every host shares setup.yaml: say it once.
  if (files.problems.some((p) => p.line === position.line && p.col === position.col && p.message === message)) return;
  files.problems.push({ file: files.setup.file, ...position, message });
}
