import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { homedir, hostname, userInfo } from 'node:os';
import { patternListMatches } from './known-hosts.js';
import { expandHome } from '../shell/home.js';

/** What an OpenSSH client config says about one host, for the keywords reconcile uses. */
export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  /** In the order ssh tries them; `~` and %-tokens expanded. */
  identityFiles?: string[];
  userKnownHostsFile?: string;
  identitiesOnly?: boolean;
  /** ProxyJump as written: `[user@]host[:port]`, comma-separated hops. */
  proxyJump?: string;
  connectTimeoutSeconds?: number;
  serverAliveIntervalSeconds?: number;
}

/** What `ssh -G` is asked with: hosts.yaml's user and port, so Match and %r see what ssh would. */
export interface SshQuery {
  host: string;
  configFile?: string;
  user?: string;
  port?: number;
}

/**
 * ssh_config resolved by OpenSSH itself: `ssh -G` prints the configuration ssh would use for a host
 * (Include, Match, wildcards, negations and defaults, exactly as the user's ssh sees them). Resolves
 * to undefined when there is no ssh binary; the caller then falls back to `sshConfigFor`.
 */
export function sshConfigFromSsh(query: SshQuery): Promise<SshConfigHost | undefined> {
  const args = [
    '-G',
    ...(query.configFile ? ['-F', query.configFile] : []),
    ...(query.user ? ['-l', query.user] : []),
    ...(query.port ? ['-p', String(query.port)] : []),
    '--',
    query.host,
  ];
  return new Promise((resolve, reject) => {
    execFile('ssh', args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve(undefined);
      else if (error) reject(new Error(`ssh -G ${query.host}: ${stderr.trim() || error.message}`));
      else resolve(parseSshG(stdout, query.host));
    });
  });
}

/** `ssh -G` output: one `keyword value` per line, keywords in lower case, IdentityFile repeated. */
export function parseSshG(output: string, asked: string): SshConfigHost {
  const values = new Map<string, string[]>();
  for (const line of output.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) values.set(line.slice(0, at), [...(values.get(line.slice(0, at)) ?? []), line.slice(at + 1)]);
  }
  const first = (keyword: string) => values.get(keyword)?.[0];
  const seconds = (keyword: string) =>
    /^\d+$/.test(first(keyword) ?? '') && Number(first(keyword)) > 0 ? Number(first(keyword)) : undefined;
  const found: SshConfigHost = {
    hostName: first('hostname'),
    user: first('user'),
    port: seconds('port'),
    identitiesOnly: first('identitiesonly') === 'yes',
    userKnownHostsFile: first('userknownhostsfile')?.split(' ')[0],
    proxyJump: first('proxyjump') === 'none' ? undefined : first('proxyjump'),
    connectTimeoutSeconds: seconds('connecttimeout'),
    serverAliveIntervalSeconds: seconds('serveraliveinterval'),
  };
  // Older ssh prints IdentityFile as written: its ~ and tokens are expanded here, as ssh expands them.
  const identityFiles = (values.get('identityfile') ?? []).map((file) => expandTokens(file, { ...found, asked }));
  return {
    ...found,
    identityFiles,
    userKnownHostsFile: found.userKnownHostsFile && expandTokens(found.userKnownHostsFile, { ...found, asked }),
  };
}

/** ssh_config(5) TOKENS for the keywords above, and a leading `~`. */
function expandTokens(value: string, host: SshConfigHost & { asked: string }): string {
  const tokens: Record<string, string> = {
    '%': '%',
    h: host.hostName ?? host.asked,
    n: host.asked,
    r: host.user ?? '',
    p: String(host.port ?? 22),
    u: userInfo().username,
    d: homedir(),
    i: String(userInfo().uid),
    l: hostname().split('.')[0]!,
    L: hostname(),
  };
  return expandHome(value).replace(/%([%hnrpudilL])/g, (_m, t: string) => tokens[t]!);
}

const KEYWORDS: Record<string, 'hostName' | 'user' | 'port' | 'identityFiles' | 'userKnownHostsFile'> = {
  hostname: 'hostName',
  user: 'user',
  port: 'port',
  identityfile: 'identityFiles',
  userknownhostsfile: 'userKnownHostsFile',
};

/**
 * Where no `ssh` binary exists: ssh_config(5) read by reconcile itself, for the keywords above only.
 * For each, the first value given in a `Host` block whose patterns match `host` wins (IdentityFile
 * accumulates). `Match` blocks are not evaluated (their settings are skipped) and `Include` is not
 * followed; `%h` in HostName is the name asked for.
 */
export function sshConfigFor(text: string, host: string): SshConfigHost {
  const found: SshConfigHost = {};
  let applies = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = /^\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*?)\s*$/.exec(raw);
    if (!line || raw.trim().startsWith('#')) continue;
    const keyword = line[1]!.toLowerCase();
    // Arguments are separated by spaces; double quotes keep one together.
    const words = [...line[2]!.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    const field = KEYWORDS[keyword];
    if (keyword === 'host') applies = patternListMatches(words, host);
    else if (keyword === 'match') applies = false;
    else if (applies && field && words[0] !== undefined) {
      if (field === 'identityFiles') found.identityFiles = [...(found.identityFiles ?? []), words[0]];
      else if (found[field] !== undefined) continue;
      else if (field === 'port') found.port = /^\d+$/.test(words[0]) && Number(words[0]) > 0 ? Number(words[0]) : undefined;
      else found[field] = field === 'hostName' ? words[0].replace(/%h/g, host) : words[0];
    }
  }
  return found;
}

/**
 * ssh_config keywords after which one host's `ssh -G` answer may differ from another's in what
 * reconcile reads (those above, and what renames or routes a host); `Match` may scope anything.
 */
const HOST_SPECIFIC =
  /^\s*(hostname|user|port|identityfile|userknownhostsfile|identitiesonly|proxyjump|proxycommand|connecttimeout|serveralliveinterval|canonicalizehostname|canonicaldomains|match)\b/im;

/**
 * Whether the ssh_config files ssh would read (following Include) may answer differently for
 * different hosts. When none of them names a keyword of HOST_SPECIFIC, every host gets the same
 * answer but for its own lower-cased name, and one `ssh -G` serves them all. Anything this cannot
 * follow (an Include with tokens, or a wildcard before the last path component) counts as "may".
 */
export function mayDifferByHost(files: { path: string; system: boolean }[], read: (path: string) => string, depth = 0): boolean {
  if (depth > 16) return true;
  for (const { path, system } of files) {
    let text: string;
    try {
      text = read(path);
    } catch {
      continue; // ssh skips a config file that is not there
    }
    if (HOST_SPECIFIC.test(text)) return true;
    for (const [, args] of text.matchAll(/^\s*include(?:\s*=\s*|\s+)(.*)$/gim)) {
      const included = (args ?? '')
        .trim()
        .split(/\s+/)
        .map((arg) => includedFiles(arg, system));
      if (included.some((f) => f === undefined)) return true;
      const next = included.flat().map((p) => ({ path: p!, system }));
      if (mayDifferByHost(next, read, depth + 1)) return true;
    }
  }
  return false;
}

/** The files an Include argument names (ssh_config(5): relative to ~/.ssh, or /etc/ssh for the system file). */
function includedFiles(arg: string, system: boolean): string[] | undefined {
  if (/[%$[]/.test(arg)) return undefined;
  const expanded = expandHome(arg);
  const path = isAbsolute(expanded) ? expanded : join(system ? '/etc/ssh' : join(homedir(), '.ssh'), expanded);
  if (!/[*?]/.test(path)) return [path];
  if (/[*?]/.test(dirname(path))) return undefined;
  try {
    return readdirSync(dirname(path))
      .filter((name) => patternListMatches([basename(path)], name))
      .sort()
      .map((name) => join(dirname(path), name));
  } catch {
    return [];
  }
}
