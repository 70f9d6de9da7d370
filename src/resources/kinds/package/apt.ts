import { command, quote } from '../../../shell/quote.js';

/** What a package manager reads on a host, for the package resource. */
export interface PackageFacts {
  /** Which manager the host has ('none' when none reconcile knows). */
  manager: string;
  /** Packages dpkg knows, installed or half so: version and state. */
  installed: Map<string, { version: string; state: string; complete: boolean }>;
  /** Versions the sources offer, for packages not (completely) installed; read only when the lists exist. */
  available: Map<string, string[]>;
  /** When the package lists were last refreshed (epoch seconds); undefined when there are none. */
  listsUpdated?: number;
  /** The host's clock when read; under `live`, which a saved plan's facts digest leaves out (it moves every second). */
  live: { now: number };
}

/** Seconds since the lists were refreshed; undefined when there are none. */
export const listsAge = (facts: PackageFacts) => (facts.listsUpdated === undefined ? undefined : facts.live.now - facts.listsUpdated);

export interface InstallOptions {
  lockTimeout: number;
  recommends: boolean;
  /** A package is half-installed (an interrupted run): finish configuring first, or apt refuses to go on. */
  repair?: boolean;
}

/** One package manager: how to read its facts and the scripts that change packages. */
export interface PackageManager {
  probe(names: string[]): string;
  parse(output: string): PackageFacts;
  refresh(options: InstallOptions): string;
  install(requests: string[], options: InstallOptions): string;
  remove(requests: string[], options: InstallOptions): string;
}

/** dpkg's abbreviated status: "ii " is installed and configured; anything else starting with i is half done. */
const STATES: Record<string, string> = {
  ii: 'installed',
  iU: 'unpacked, not configured',
  iF: 'failed to configure',
  iH: 'half-installed',
  rc: 'removed, config files left',
};

/** Non-interactive, waiting a bounded time for another apt or dpkg; conffile questions keep the local file. */
const aptGet = (options: InstallOptions) =>
  `DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=${options.lockTimeout} -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`;

/**
 * apt on Debian and Ubuntu. Facts: dpkg-query for the named packages; the lists' age; and, only for
 * packages not installed yet, `apt-cache policy` (so a dry-run can say a name does not exist). A
 * converged host costs two processes. Changes: apt-get, whose own lock waiting (DPkg::Lock::Timeout)
 * ends with the holder's pid and name when it runs out.
 */
export const apt: PackageManager = {
  probe(names) {
    const list = names.map(quote).join(' ');
    return [
      'command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 || { echo manager=none; exit 0; }',
      'echo manager=apt',
      `dpkg-query -W -f='pkg=\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' ${list} 2>/dev/null`,
      `rc_lists=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -printf '%T@\\n' 2>/dev/null | sort -n | tail -1)`,
      'echo "now=$(date +%s)"',
      '[ -z "$rc_lists" ] || echo "lists_updated=${rc_lists%.*}"',
      `rc_missing=; for rc_p in ${list}; do [ "$(dpkg-query -W -f='\${db:Status-Abbrev}' "$rc_p" 2>/dev/null)" = "ii " ] || rc_missing="$rc_missing $rc_p"; done`,
      // Unquoted on purpose: the names are words already checked by the schema's pattern.
      '[ -z "$rc_lists" ] || [ -z "$rc_missing" ] || apt-cache policy $rc_missing 2>/dev/null | sed -n "s/^\\([^ ].*\\):$/policy=\\1/p; s/^ *\\(\\*\\*\\* \\)\\{0,1\\}\\([^ ]*\\) [0-9]*$/version=\\2/p"',
      'true',
    ].join('\n');
  },
  parse(output) {
    const facts: PackageFacts = { manager: 'none', installed: new Map(), available: new Map(), live: { now: 0 } };
    let current: string[] | undefined;
    for (const line of output.split('\n')) {
      const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      if (key === 'manager') facts.manager = value;
      else if (key === 'lists_updated') facts.listsUpdated = Number(value);
      else if (key === 'now') facts.live.now = Number(value);
      else if (key === 'pkg') {
        const [name = '', status = '', version = ''] = value.split('\t');
        const abbreviation = status.slice(0, 2);
        // "un" (known, never installed) and "rc" (removed) count as not installed.
        if (abbreviation.startsWith('i'))
          facts.installed.set(name, { version, state: STATES[abbreviation] ?? status.trim(), complete: abbreviation === 'ii' });
      } else if (key === 'policy') facts.available.set(value, (current = []));
      else if (key === 'version' && current && !current.includes(value)) current.push(value);
    }
    return facts;
  },
  refresh: (options) => `${aptGet(options)} update`,
  install: (requests, options) =>
    // dpkg takes the frontend lock without waiting for it, so it runs only when there is something to repair.
    `${options.repair ? 'dpkg --configure -a && ' : ''}${aptGet(options)}${options.recommends ? '' : ' --no-install-recommends'} install ${command(...requests)}`,
  remove: (requests, options) => `${aptGet(options)} remove ${command(...requests)}`,
};
