import { posix } from 'node:path';
import { quote } from '../shell/quote.js';
import type { Transport } from '../transport/transport.js';

/**
 * What `reconcile import` reads from a host set up by hand: the Prefect units under
 * /etc/systemd/system, the venvs they run Prefect from, and the profiles their users keep.
 */

/** A systemd unit whose ExecStart runs Prefect. */
export interface FoundUnit {
  unit: string;
  content: string;
  enabled: boolean;
  active: boolean;
  user: string;
  /** The venv of `.../bin/prefect` in ExecStart. */
  venv?: string;
  /** `prefect server start`: the address it serves the API on. */
  serves?: string;
  /** PREFECT_PROFILE and PREFECT_API_URL from Environment= lines. */
  profile?: string;
  apiUrl?: string;
}

export interface FoundVenv {
  path: string;
  owner: string;
  prefectVersion?: string;
}

export interface HostFindings {
  units: FoundUnit[];
  venvs: FoundVenv[];
  /** profiles.toml of each unit's user, by user. */
  profiles: Map<string, { home: string; text: string }>;
  /** python3-venv installed (a venv needs it on Debian). */
  venvPackage: boolean;
}

const UNITS = `for rc_f in /etc/systemd/system/*.service; do
  [ -f "$rc_f" ] && grep -q '^ExecStart=.*/prefect ' "$rc_f" || continue
  rc_u=$(basename "$rc_f")
  printf 'unit\\t%s\\t%s\\t%s\\t%s\\n' "$rc_u" "$(systemctl is-enabled "$rc_u" 2>/dev/null)" "$(systemctl is-active "$rc_u" 2>/dev/null)" "$(base64 -w0 < "$rc_f")"
done
true`;

/** Reads the host in two scripts: the units, then the venvs and profiles they name. */
export async function readHost(transport: Transport, sudo: boolean): Promise<HostFindings> {
  const units = rows(await run(transport, UNITS, sudo))
    .filter((r) => r[0] === 'unit')
    .map(([, unit, enabled, active, content]) => parseUnit(unit!, enabled === 'enabled', active === 'active', decode(content)));
  const venvs = [...new Set(units.flatMap((u) => (u.venv ? [u.venv] : [])))];
  const users = [...new Set(units.map((u) => u.user))];
  const script = [
    ...venvs.map(
      (v) =>
        `printf 'venv\\t%s\\t%s\\t%s\\n' ${quote(v)} "$(stat -c %U ${quote(v)})" "$(${quote(`${v}/bin/python`)} -c 'import importlib.metadata as m; print(m.version("prefect"))' 2>/dev/null)"`,
    ),
    ...users.map(
      (u) =>
        `rc_h=$(getent passwd ${quote(u)} | cut -d: -f6); printf 'profiles\\t%s\\t%s\\t%s\\n' ${quote(u)} "$rc_h" "$(base64 -w0 < "$rc_h/.prefect/profiles.toml" 2>/dev/null)"`,
    ),
    `printf 'package\\t%s\\n' "$(dpkg-query -W -f='\${Status}' python3-venv 2>/dev/null)"`,
  ].join('\n');
  const found = rows(await run(transport, script, sudo));
  return {
    units,
    venvs: found
      .filter((r) => r[0] === 'venv')
      .map(([, path, owner, version]) => ({ path: path!, owner: owner!, prefectVersion: version || undefined })),
    profiles: new Map(found.filter((r) => r[0] === 'profiles').map(([, user, home, text]) => [user!, { home: home!, text: decode(text) }])),
    venvPackage: found.some((r) => r[0] === 'package' && r[1] === 'install ok installed'),
  };
}

/** Which of these project directories hold a prefect.yaml. */
export async function projectsWithPrefectYaml(transport: Transport, sudo: boolean, dirs: string[]): Promise<string[]> {
  if (dirs.length === 0) return [];
  const script = dirs.map((d) => `[ -f ${quote(`${d}/prefect.yaml`)} ] && printf 'project\\t%s\\n' ${quote(d)}`).join('\n');
  return rows(await run(transport, `${script}\ntrue`, sudo)).map((r) => r[1]!);
}

async function run(transport: Transport, script: string, sudo: boolean): Promise<string> {
  const result = await transport.run(`export LC_ALL=C\n${script}`, { sudo });
  if (result.code !== 0) throw new Error(`reading the host failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

const rows = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
const decode = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString('utf8');

/** The facts of a unit file that tell what it runs, as whom, with which profile. */
export function parseUnit(unit: string, enabled: boolean, active: boolean, content: string): FoundUnit {
  const values = (key: string) =>
    content
      .split('\n')
      .filter((line) => line.startsWith(`${key}=`))
      .map((line) => line.slice(key.length + 1).trim());
  const environment = new Map(
    values('Environment').flatMap((v) =>
      v.split(/\s+/).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    ),
  );
  const exec = values('ExecStart')[0] ?? '';
  const [binary = '', ...args] = exec.split(/\s+/);
  const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const serves =
    args[0] === 'server' && args[1] === 'start' ? `http://${option('--host') ?? '127.0.0.1'}:${option('--port') ?? '4200'}/api` : undefined;
  return {
    unit,
    content,
    enabled,
    active,
    user: values('User')[0] ?? 'root',
    venv: binary.endsWith('/bin/prefect') ? posix.dirname(posix.dirname(binary)) : undefined,
    serves,
    profile: environment.get('PREFECT_PROFILE'),
    apiUrl: environment.get('PREFECT_API_URL'),
  };
}
