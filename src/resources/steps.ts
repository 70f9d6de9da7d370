import { createHash } from 'node:crypto';
import type { ContentChange, FieldChange, Step } from '../model/plan.js';
import { quote } from '../shell/quote.js';
import type { PathFacts } from './facts.js';
import { normalizeMode } from './facts.js';
import type { SpecProblem } from './types.js';
import { HOST_STATE } from '../model/host-state.js';

/** Where previous versions go with `backup: true`: never beside the file, where an include glob could load them. */
export const BACKUP_DIR = HOST_STATE.backups;

export interface Ownership {
  owner?: string;
  group?: string;
  mode?: string;
}

/** `chown owner:group` (group defaulting to the owner's login group) and `chmod`, on a quoted path expression. */
export function ownershipCommands(target: string, wanted: Ownership, defaultMode: string): string {
  const owner = wanted.owner ?? 'root';
  return `chown ${quote(`${owner}:${wanted.group ?? ''}`)} ${target} && chmod ${quote(wanted.mode ?? defaultMode)} ${target}`;
}

/** For a file that holds a secret: a problem when its mode lets every user read it. */
export function readableByAll(mode: string | undefined, defaultMode: string): SpecProblem | undefined {
  if ((parseInt(mode ?? defaultMode, 8) & 0o004) === 0) return undefined;
  return {
    field: mode === undefined ? [] : ['mode'],
    message: `mode ${mode ?? `${defaultMode} (the default)`} lets every user on the host read it; set mode: "0600" (or "0640" with a group)`,
  };
}

export interface WriteFile extends Ownership {
  path: string;
  content: Buffer;
  defaultMode: string;
  /** A command with %s, run on a copy of the new file under its final name in a private temp dir. */
  validate?: string;
  backup?: boolean;
}

/**
 * Atomic, binary-safe write: a temp file in the same directory gets its final owner and mode before
 * any content lands, the content arrives on stdin, is checked against its sha256, fsynced, optionally
 * validated, and is renamed over the old file. A failure at any point leaves the old file as it was. A symlink at the path is
 * replaced, never followed.
 */
export function writeFileStep(file: WriteFile): Step {
  const copy = `"$rc_check/"${quote(basename(file.path))}`;
  const validate = file.validate
    ? `rc_check=$(mktemp -d) && cp "$rc_tmp" ${copy}\n` +
      `if ( ${file.validate.split('%s').join(copy)} ) >&2; then rm -rf "$rc_check"; else rc_valid=$?; rm -rf "$rc_check"; ` +
      `echo "validation of the new content failed (exit $rc_valid); the old file is unchanged" >&2; exit 65; fi`
    : ':';
  const backup = file.backup
    ? `if [ -f "$rc_path" ] && [ ! -L "$rc_path" ]; then mkdir -p ${quote(BACKUP_DIR + dirname(file.path))} && cp -p "$rc_path" ${quote(BACKUP_DIR + file.path)}".$(date +%Y%m%dT%H%M%S)"; fi`
    : ':';
  const script = [
    'set -e',
    `rc_path=${quote(file.path)}`,
    `rc_tmp=$(mktemp ${quote(`${dirname(file.path)}/.reconcile.XXXXXX`)})`,
    `trap 'rm -f "$rc_tmp"' EXIT`,
    `trap 'exit 129' HUP INT TERM PIPE`,
    ownershipCommands('"$rc_tmp"', file, file.defaultMode),
    'cat > "$rc_tmp"',
    // A connection cut mid-transfer ends stdin early: cat succeeds on a truncated file. Only the exact bytes go in.
    `[ "$(sha256sum < "$rc_tmp")" = ${quote(`${sha256(file.content)}  -`)} ] || { echo 'the new content arrived incomplete (connection cut?); the old file is unchanged' >&2; exit 75; }`,
    'sync "$rc_tmp"',
    validate,
    backup,
    'mv -f "$rc_tmp" "$rc_path"',
    'trap - EXIT',
    `sync ${quote(dirname(file.path))}`,
  ].join('\n');
  return { script, stdinBase64: file.content.toString('base64') };
}

/**
 * Runs a script as a user in their login shell: their own environment (~/.profile), as when they run
 * a command themselves, not the caller's.
 */
export function inLoginShell(user: string, script: string): string {
  return `runuser -l ${quote(user)} -c ${quote(script)}`;
}

/** Runs a script as another user, with that user's HOME (pip caches, ~/.prefect). */
export function asUser(user: string, script: string): string {
  return `runuser -u ${quote(user)} -- env HOME="$(getent passwd ${quote(user)} | cut -d: -f6)" sh -c ${quote(script)}`;
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Owner, group and mode differences between a path on the host and what is wanted. */
export function ownershipChanges(actual: PathFacts, wanted: Ownership, defaultMode: string): FieldChange[] {
  const changes: FieldChange[] = [];
  const mode = normalizeMode(wanted.mode ?? defaultMode);
  if (actual.mode !== mode) changes.push({ field: 'mode', before: actual.mode ?? null, after: mode });
  const owner = wanted.owner ?? 'root';
  if (actual.owner !== owner) changes.push({ field: 'owner', before: actual.owner ?? null, after: owner });
  if (wanted.group !== undefined && actual.group !== wanted.group)
    changes.push({ field: 'group', before: actual.group ?? null, after: wanted.group });
  return changes;
}

/** The content change to show: text when both sides are UTF-8, a note otherwise. */
export function contentChange(path: string, before: Buffer | undefined, after: Buffer): ContentChange {
  const text = (b: Buffer) => {
    if (b.includes(0)) return undefined;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return undefined;
    }
  };
  const beforeText = before === undefined ? null : text(before);
  const afterText = text(after);
  if (beforeText === undefined || afterText === undefined) {
    const describe = (b: Buffer) => `(binary, ${b.length} bytes, sha256 ${sha256(b).slice(0, 12)})`;
    return { path, before: before === undefined ? null : describe(before), after: describe(after), binary: true };
  }
  return { path, before: beforeText, after: afterText };
}

export function dirname(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
