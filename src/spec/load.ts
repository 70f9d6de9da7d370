import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isAlias, visit } from 'yaml';
import { resourceType } from '../resources/registry.js';
import type { FieldPath } from '../resources/types.js';
import { sortDiagnostics, SpecError, type Diagnostic } from './diagnostic.js';
import type { Host, ReconcileInventoryHostsYaml as Inventory } from './generated/hosts.js';
import type { ReconcileDesiredStateSetupYaml as Setup, Resource } from './generated/setup.js';
import { validateAgainstSchema } from './schema-validator.js';
import { sshConfigFor, sshConfigFromSsh, type SshConfigHost } from '../transport/ssh-config.js';
import { resolveSecrets, withoutSecrets, type Secret, type SecretMode } from './secrets.js';
import { didYouMean } from './suggest.js';
import { interpolateValue, stringifyVariables, type InterpolationProblem, type Variables } from './variables.js';
import { loadYaml, positionAt, type YamlSource } from './yaml-source.js';

/** How to reach one host, with every default filled in. */
export interface HostTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** Tried in this order after the agent's keys for them (see transport/identities.ts). */
  identityFiles: string[];
  /** Of the agent's keys, offer only those of identityFiles. */
  identitiesOnly: boolean;
  /** ServerAliveInterval: a keepalive every so many seconds, so a dead connection is noticed. */
  keepaliveSeconds?: number;
  knownHosts: string;
  become: boolean;
  /** The login user's sudo password (a secret, or asked with --ask-become-pass); sent on sudo's stdin only. */
  becomePassword?: string;
  connection: 'ssh' | 'local';
  connectTimeoutMs: number;
}

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
  const readSshConfig = readOnce();
  const sshConfigs = await Promise.all(Object.entries(inventory.hosts).map(([name, host]) =>
    sshConfigOf(name, host, { ...inventory.defaults, ...host }, readSshConfig, inventorySource.value, problems)));
  const hosts = Object.entries(inventory.hosts).map(([name, host], i) =>
    resolveHost(name, host, { inventory, setup, secrets, ssh: sshConfigs[i]! }, inventorySource.value, setupSource.value, problems),
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
  { inventory, setup, secrets, ssh }: { inventory: Inventory; setup: Setup; secrets: Secret[]; ssh: SshConfigHost },
  inventorySource: YamlSource,
  setupSource: YamlSource,
  problems: Diagnostic[],
): HostSpec {
  const connection = { ...inventory.defaults, ...host };
  // What hosts.yaml leaves out, ssh_config may say (as for ssh(1)); hosts.yaml wins.
  const identityFiles = connection.identity_file !== undefined ? [connection.identity_file] : (ssh.identityFiles ?? []);
  const target: HostTarget = {
    name,
    address: ssh.hostName ?? host.address,
    port: connection.port ?? ssh.port ?? 22,
    user: connection.user ?? ssh.user ?? process.env.USER ?? 'root',
    identityFiles: identityFiles.map(expandHome),
    identitiesOnly: ssh.identitiesOnly ?? false,
    keepaliveSeconds: ssh.serverAliveIntervalSeconds,
    knownHosts: expandHome(connection.known_hosts ?? ssh.userKnownHostsFile ?? '~/.ssh/known_hosts'),
    become: connection.become ?? false,
    becomePassword: becomePasswordOf(name, host, connection, secrets, inventorySource, problems),
    connection: connection.connection ?? 'ssh',
    connectTimeoutMs: (connection.connect_timeout ?? ssh.connectTimeoutSeconds ?? 10) * 1000,
  };
  const vars = resolveVariables(name, { ...host, address: target.address }, setup, inventorySource, setupSource, problems);
  const resources = resolveResources(name, setup, withSecrets(vars, secrets, setupSource, problems), setupSource, problems);
  for (const [index, r] of resources.entries()) checkSecretExposure(r, index, secrets, setupSource, problems);
  return { target, vars, resources };
}

/** The value of the secret `become_password_secret` names, or a located problem when no such secret is declared. */
function becomePasswordOf(name: string, host: Host, connection: Host, secrets: Secret[], source: YamlSource, problems: Diagnostic[]): string | undefined {
  const wanted = connection.become_password_secret;
  if (wanted === undefined) return undefined;
  const secret = secrets.find((s) => s.name === wanted);
  if (!secret) {
    const at = host.become_password_secret !== undefined ? ['hosts', name, 'become_password_secret'] : ['defaults', 'become_password_secret'];
    const names = secrets.map((s) => s.name);
    problems.push({ file: source.file, ...positionAt(source, at), message: `'${wanted}' is not a secret declared in setup.yaml's secrets${didYouMean(wanted, names)}` });
  }
  return secret?.value;
}

/**
 * What ssh_config says of a host, as `ssh -G` resolves it (with hosts.yaml's user and port, as ssh
 * would be run); without an ssh binary, reconcile's own reader of the file. Nothing for a local connection.
 */
async function sshConfigOf(name: string, host: Host, connection: Host, read: (path: string) => string, source: YamlSource, problems: Diagnostic[]): Promise<SshConfigHost> {
  if (connection.connection === 'local') return {};
  const explicit = connection.ssh_config === undefined ? undefined : expandHome(connection.ssh_config);
  const problem = (message: string) => {
    const at = host.ssh_config !== undefined ? ['hosts', name, 'ssh_config'] : connection.ssh_config !== undefined ? ['defaults', 'ssh_config'] : ['hosts', name];
    problems.push({ file: source.file, ...positionAt(source, at), message });
  };
  const path = explicit ?? expandHome('~/.ssh/config');
  let text: string | undefined;
  try {
    text = read(path);
  } catch (error) {
    if (explicit) return (problem(`cannot read ssh_config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`), {});
  }
  try {
    return (await sshConfigFromSsh({ host: host.address, configFile: explicit, user: connection.user, port: connection.port })) ?? sshConfigFor(text ?? '', host.address);
  } catch (error) {
    return (problem((error as Error).message), {});
  }
}

/** A file reader that reads each file once (an ssh_config serves every host); a failure is remembered too. */
function readOnce(): (path: string) => string {
  const read = new Map<string, { text: string } | { error: unknown }>();
  return (path) => {
    if (!read.has(path)) {
      try {
        read.set(path, { text: readFileSync(path, 'utf8') });
      } catch (error) {
        read.set(path, { error });
      }
    }
    const result = read.get(path)!;
    if ('error' in result) throw result.error;
    return result.text;
  };
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

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

function hashSources(sources: YamlSource[]): string {
  const hash = createHash('sha256');
  for (const s of sources) hash.update(s.doc.toString()).update('\0');
  return hash.digest('hex');
}
