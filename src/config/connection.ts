import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mayDifferByHost, sshConfigFor, sshConfigFromSsh, type SshConfigHost, type SshQuery } from '../transport/ssh-config.js';
import type { FieldPath } from '../model/diagnostic.js';
import type { HostTarget } from '../model/target.js';
import type { Diagnostic } from '../model/diagnostic.js';
import type { Connection, Host, ReconcileInventoryHostsYaml as Inventory } from '../model/generated/hosts.js';
import type { Secret } from '../model/spec.js';
import { didYouMean } from './suggest.js';
import type { SpecFiles } from './spec-files.js';
import { positionAt, type YamlSource } from './yaml-source.js';
import { expandHome } from '../shell/home.js';

/** A connection to resolve: hosts.yaml's entry with the defaults under it, and where it is written. */
interface Entry {
  name: string;
  address: string;
  connection: Connection;
  /** Where in hosts.yaml the entry is, for problems (e.g. ['hosts', 'web-1']). */
  at: FieldPath;
  /** Whether a key was given on the entry itself (else it came from defaults). */
  own: (key: keyof Connection) => boolean;
}

/**
 * Every host's connection target, in inventory order. ssh_config is resolved for all of them (and
 * for their jump hosts) at once: one short `ssh -G` each, in parallel.
 */
export async function resolveTargets(inventory: Inventory, secrets: Secret[], files: SpecFiles): Promise<HostTarget[]> {
  const read = readOnce();
  const { inventory: source, problems, warnings } = files;
  const context = { source, problems, warnings, read, answers: new Map<string, Promise<SshConfigHost | undefined>>() };
  const entries = Object.entries(inventory.hosts).map(([name, host]) => entryOf(name, host, inventory.defaults ?? {}, ['hosts', name]));
  const configs = await Promise.all(entries.map((e) => sshConfigOf(e, context)));
  const hops = new Map<string, Promise<HostTarget>>();
  const hopTarget = (hop: string, sshConfig: string | undefined) => {
    const key = `${hop}\0${sshConfig ?? ''}`;
    if (!hops.has(key)) hops.set(key, resolveHop(hop, sshConfig, inventory, context));
    return hops.get(key)!;
  };
  return Promise.all(
    entries.map(async (entry, i) => {
      const target = connectionTarget(entry, configs[i]!, secrets, context);
      const chain = jumpChain(entry, configs[i]!);
      return chain.length === 0
        ? target
        : { ...target, jumps: await Promise.all(chain.map((hop) => hopTarget(hop, entry.connection.ssh_config))) };
    }),
  );
}

interface Context {
  source: YamlSource;
  problems: Diagnostic[];
  warnings: Diagnostic[];
  read: (path: string) => string;
  /** `ssh -G` answers that serve every host asking with the same config, user and port (see askSsh). */
  answers: Map<string, Promise<SshConfigHost | undefined>>;
}

function entryOf(name: string, host: Host | (Connection & { address: string }), defaults: Connection, at: FieldPath): Entry {
  return { name, address: host.address, connection: { ...defaults, ...host }, at, own: (key) => (host as Connection)[key] !== undefined };
}

/** hosts.yaml's jump, else ssh_config's ProxyJump: the hops in order. */
function jumpChain(entry: Entry, ssh: SshConfigHost): string[] {
  const jump = entry.connection.jump;
  if (jump !== undefined) return Array.isArray(jump) ? jump : [jump];
  return ssh.proxyJump ? ssh.proxyJump.split(',') : [];
}

/**
 * A hop by name (jump_hosts, then hosts) or as `[user@]host[:port]`, completed by defaults and
 * ssh_config like any host; a written-out hop reads the ssh_config of the host behind it, as ssh's
 * ProxyJump passes its -F on. A hop's own jump is not followed: list every hop, in order.
 */
async function resolveHop(hop: string, sshConfig: string | undefined, inventory: Inventory, context: Context): Promise<HostTarget> {
  const defaults = { ...inventory.defaults, jump: undefined };
  const named = inventory.jump_hosts?.[hop] ?? inventory.hosts[hop];
  const entry = named
    ? entryOf(hop, { ...named, jump: undefined }, defaults, [inventory.jump_hosts?.[hop] ? 'jump_hosts' : 'hosts', hop])
    : entryOf(hop, { ...parseHop(hop), ...(sshConfig ? { ssh_config: sshConfig } : {}) }, defaults, ['defaults']);
  return connectionTarget(entry, await sshConfigOf(entry, context), [], context);
}

/** `[user@]host[:port]` as ProxyJump writes it; `[v6]:port` for an IPv6 address with a port. */
function parseHop(hop: string): Connection & { address: string } {
  const at = hop.lastIndexOf('@');
  const user = at > 0 ? hop.slice(0, at) : undefined;
  const rest = hop.slice(at + 1);
  const withPort = /^\[(.+)\]:(\d+)$/.exec(rest) ?? /^([^:]+):(\d+)$/.exec(rest);
  return {
    address: withPort ? withPort[1]! : rest.replace(/^\[(.*)\]$/, '$1'),
    ...(user ? { user } : {}),
    ...(withPort ? { port: Number(withPort[2]) } : {}),
  };
}

/** What hosts.yaml says, completed by what ssh_config says (as for ssh(1)); hosts.yaml wins. */
function connectionTarget(entry: Entry, ssh: SshConfigHost, secrets: Secret[], context: Context): HostTarget {
  const { connection } = entry;
  const identityFiles =
    connection.identity_file !== undefined
      ? [namedIdentityFile(entry, connection.identity_file, context)]
      : (ssh.identityFiles ?? []).map(expandHome);
  return {
    name: entry.name,
    address: ssh.hostName ?? entry.address,
    port: connection.port ?? ssh.port ?? 22,
    user: connection.user ?? ssh.user ?? process.env.USER ?? 'root',
    identityFiles,
    identitiesOnly: ssh.identitiesOnly ?? false,
    keepaliveSeconds: ssh.serverAliveIntervalSeconds,
    knownHosts:
      connection.known_hosts !== undefined
        ? fromInventory(context.source, connection.known_hosts)
        : expandHome(ssh.userKnownHostsFile ?? '~/.ssh/known_hosts'),
    become: connection.become ?? false,
    becomePassword: becomePasswordOf(entry, secrets, context),
    connection: connection.connection ?? 'ssh',
    connectTimeoutMs: (connection.connect_timeout ?? ssh.connectTimeoutSeconds ?? 10) * 1000,
  };
}

/** A path hosts.yaml gives: `~` expanded, relative to hosts.yaml's directory (not to wherever reconcile runs). */
const fromInventory = (source: YamlSource, file: string) => resolve(dirname(source.file), expandHome(file));

/**
 * hosts.yaml's identity_file, from hosts.yaml's directory. One that is not there is said, as OpenSSH
 * warns of it: the connection may still work with ssh-agent's keys, but it is likely a mistake.
 */
function namedIdentityFile(entry: Entry, file: string, { source, warnings }: Context): string {
  const path = fromInventory(source, file);
  if (!existsSync(path)) {
    const at = entry.own('identity_file') ? [...entry.at, 'identity_file'] : ['defaults', 'identity_file'];
    warnings.push({
      file: source.file,
      ...positionAt(source, at),
      message: `identity_file ${path} does not exist (ssh-agent's keys are still tried)`,
    });
  }
  return path;
}

/** The value of the secret `become_password_secret` names, or a located problem when no such secret is declared. */
function becomePasswordOf(entry: Entry, secrets: Secret[], { source, problems }: Context): string | undefined {
  const wanted = entry.connection.become_password_secret;
  if (wanted === undefined || !entry.connection.become) return undefined;
  const secret = secrets.find((s) => s.name === wanted);
  if (!secret) {
    const at = entry.own('become_password_secret') ? [...entry.at, 'become_password_secret'] : ['defaults', 'become_password_secret'];
    const message = `'${wanted}' is not a secret declared in setup.yaml's secrets${didYouMean(
      wanted,
      secrets.map((s) => s.name),
    )}`;
    problems.push({ file: source.file, ...positionAt(source, at), message });
  }
  return secret?.value;
}

/**
 * What ssh_config says of a host, as `ssh -G` resolves it (with hosts.yaml's user and port, as ssh
 * would be run); without an ssh binary, reconcile's own reader of the file. Nothing for a local connection.
 */
async function sshConfigOf(entry: Entry, context: Context): Promise<SshConfigHost> {
  const { source, problems, read } = context;
  const { connection } = entry;
  if (connection.connection === 'local') return {};
  const explicit = connection.ssh_config === undefined ? undefined : expandHome(connection.ssh_config);
  const problem = (message: string) => {
    const at = entry.own('ssh_config')
      ? [...entry.at, 'ssh_config']
      : connection.ssh_config !== undefined
        ? ['defaults', 'ssh_config']
        : entry.at;
    problems.push({ file: source.file, ...positionAt(source, at), message });
  };
  const path = explicit ?? expandHome('~/.ssh/config');
  let text: string | undefined;
  try {
    text = read(path);
  } catch (error) {
    if (explicit)
      return (problem(`cannot read ssh_config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`), {});
  }
  try {
    return (
      (await askSsh({ host: entry.address, configFile: explicit, user: connection.user, port: connection.port }, context)) ??
      sshConfigFor(text ?? '', entry.address)
    );
  } catch (error) {
    return (problem((error as Error).message), {});
  }
}

/**
 * `ssh -G` for one host. A fleet's hosts usually share a config that says nothing host-specific:
 * then one answer serves every host asking with the same config file, user and port, with the
 * host's own name in it as ssh would print it (lower case), instead of one ssh process per host.
 */
function askSsh(query: SshQuery, { read, answers }: Context): Promise<SshConfigHost | undefined> {
  const files = query.configFile
    ? [{ path: query.configFile, system: false }]
    : [
        { path: expandHome('~/.ssh/config'), system: false },
        { path: '/etc/ssh/ssh_config', system: true },
      ];
  if (mayDifferByHost(files, read)) return sshConfigFromSsh(query);
  const key = JSON.stringify([query.configFile, query.user, query.port]);
  if (!answers.has(key)) answers.set(key, sshConfigFromSsh(query));
  return answers.get(key)!.then((answer) => answer && { ...answer, hostName: query.host.toLowerCase() });
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
