import { quote } from '../shell/quote.js';

/**
 * Shared fact readers for resource probes. `factPrelude` is defined once at the top of the host's
 * fact script; probes call its functions. Only POSIX sh and coreutils are needed on the host.
 */
export const MAX_DIFF_BYTES = 1024 * 1024;

export const factPrelude = `
rc_file() {
  if [ -L "$1" ]; then printf 'type=symlink\\ntarget=%s\\n' "$(readlink "$1")"; return 0; fi
  if [ ! -e "$1" ]; then echo type=absent; return 0; fi
  # Few processes per file: this runs for every managed path on every check.
  rc_stat=$(stat --printf '%F|%a|%U|%G|%s' "$1")
  IFS='|' read -r rc_type rc_mode rc_owner rc_group rc_size <<RC_EOF
$rc_stat
RC_EOF
  printf 'type=%s\\nmode=%s\\nowner=%s\\ngroup=%s\\nsize=%s\\n' "$rc_type" "$rc_mode" "$rc_owner" "$rc_group" "$rc_size"
  [ -f "$1" ] || return 0
  read -r rc_sha rc_rest <<RC_EOF
$(sha256sum < "$1")
RC_EOF
  echo "sha256=$rc_sha"
  # Content only when it differs from what is wanted (and is small enough to diff).
  if [ "$rc_sha" != "$2" ] && [ "$rc_size" -le ${MAX_DIFF_BYTES} ]; then printf 'content='; base64 -w0 < "$1"; echo; fi
}
`;

/** Reads a path's type, mode, owner, group, size, sha256, and its content when it differs from `wantedSha256`. */
export function fileProbe(path: string, wantedSha256 = ''): string {
  return fileProbeOf(quote(path), wantedSha256);
}

/** The same for a path that is a shell expression, such as "$rc_home/profiles.toml". */
export function fileProbeOf(pathWord: string, wantedSha256 = ''): string {
  return `rc_file ${pathWord} ${quote(wantedSha256)}`;
}

export interface PathFacts {
  type: 'absent' | 'file' | 'directory' | 'symlink' | 'other';
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  sha256?: string;
  /** Present when the content differs from the wanted one (and was small enough). */
  content?: Buffer;
  target?: string;
}

/** `key=value` lines as a map (the first `=` splits). */
export function keyValues(output: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of output.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) map.set(line.slice(0, at), line.slice(at + 1));
  }
  return map;
}

export function parsePathFacts(output: string): PathFacts {
  const facts = keyValues(output);
  const rawType = facts.get('type') ?? 'absent';
  const type = rawType.startsWith('regular')
    ? 'file'
    : ((['absent', 'directory', 'symlink'].includes(rawType) ? rawType : 'other') as PathFacts['type']);
  const content = facts.get('content');
  return {
    type,
    mode: facts.has('mode') ? normalizeMode(facts.get('mode')!) : undefined,
    owner: facts.get('owner'),
    group: facts.get('group'),
    size: facts.has('size') ? Number(facts.get('size')) : undefined,
    sha256: facts.get('sha256'),
    content: content === undefined ? undefined : Buffer.from(content, 'base64'),
    target: facts.get('target'),
  };
}

/** "0644" from "644" or "0644", so modes compare as the host reports them. */
export function normalizeMode(mode: string): string {
  return mode.padStart(4, '0');
}
