import { patternListMatches } from './known-hosts.js';

/** What an OpenSSH client config says about one host, for the keywords reconcile uses. */
export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  userKnownHostsFile?: string;
}

const KEYWORDS: Record<string, keyof SshConfigHost> = {
  hostname: 'hostName',
  user: 'user',
  port: 'port',
  identityfile: 'identityFile',
  userknownhostsfile: 'userKnownHostsFile',
};

/**
 * Reads ssh_config(5) as ssh(1) does for the keywords above: for each, the first value given in a
 * `Host` block whose patterns match `host` wins. `Match` blocks are not evaluated (their settings are
 * skipped) and `Include` is not followed; `%h` in HostName is the name asked for.
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
    else if (applies && field && found[field] === undefined && words[0] !== undefined) {
      if (field === 'port') found.port = /^\d+$/.test(words[0]) && Number(words[0]) > 0 ? Number(words[0]) : undefined;
      else found[field] = field === 'hostName' ? words[0].replace(/%h/g, host) : words[0];
    }
  }
  return found;
}
