import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../model/diagnostic.js';
import type { SecretSource } from '../model/generated/setup.js';
import { positionAt, type YamlSource } from './yaml-source.js';
import type { Secret } from '../model/spec.js';
import { expandHome } from '../shell/home.js';

/**
 * `resolve` reads each value from its environment variable or file; `placeholder` reads nothing and
 * stands a marker in for each value, so `validate` checks a spec on a machine without the secrets.
 */
export type SecretMode = 'resolve' | 'placeholder';

/** Every declared secret, or a located problem for each one that cannot be read. */
export function resolveSecrets(
  sources: Record<string, SecretSource> | undefined,
  mode: SecretMode,
  setup: YamlSource,
  problems: Diagnostic[],
): Secret[] {
  const secrets: Secret[] = [];
  for (const [name, source] of Object.entries(sources ?? {})) {
    const at = (key: string) => ({ file: setup.file, ...positionAt(setup, ['secrets', name, key]) });
    const value = mode === 'placeholder' ? `[secret:${name}]` : readSecret(source, dirname(resolve(setup.file)));
    const problem = typeof value !== 'string' ? value.problem : value === '' ? 'the value is empty' : undefined;
    if (problem) problems.push({ ...at(Object.keys(source)[0]!), message: `secret '${name}': ${problem}` });
    // An unreadable secret still counts as defined, so its uses are not reported as undefined variables too.
    secrets.push({ name, value: problem ? `[secret:${name}]` : (value as string) });
  }
  return secrets;
}

function readSecret(source: SecretSource, specDir: string): string | { problem: string } {
  if (source.env !== undefined) {
    return (
      process.env[source.env] ?? {
        problem: `environment variable ${source.env} is not set (export it before running reconcile; cron jobs need it in their environment)`,
      }
    );
  }
  if (source.command !== undefined) return commandOutput(source.command, specDir);
  const path = resolve(specDir, expandHome(source.file!));
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    return { problem: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
}

/**
 * Every occurrence of every secret's value (as `encode` spells it) replaced. Longest first: a secret
 * that contains another is replaced whole.
 */
export function replaceSecrets(
  text: string,
  secrets: Secret[],
  replacement: (s: Secret) => string,
  encode = (value: string) => value,
): string {
  return [...secrets]
    .sort((a, b) => b.value.length - a.value.length)
    .reduce((t, s) => (t.includes(encode(s.value)) ? t.split(encode(s.value)).join(replacement(s)) : t), text);
}

/** A text with each secret's value replaced by its name, for messages made before any report (spec errors). */
export function withoutSecrets(text: string, secrets: Secret[]): string {
  return replaceSecrets(text, secrets, (s) => `[secret:${s.name}]`);
}

/** A command's output as the value (a password manager's `pass show`, a vault's CLI); its failure says why, never the output. */
function commandOutput(command: string, specDir: string): string | { problem: string } {
  const ran = spawnSync('sh', ['-c', command], { cwd: specDir, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (ran.error) return { problem: `command \`${command}\` could not run: ${ran.error.message}` };
  if (ran.status !== 0)
    return { problem: `command \`${command}\` exited ${ran.status ?? ran.signal}: ${ran.stderr.trim().split('\n')[0] ?? ''}`.trimEnd() };
  return ran.stdout.replace(/\r?\n$/, '');
}
