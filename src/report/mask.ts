import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceSecrets } from '../config/secrets.js';
import type { Secret } from '../model/spec.js';
import { escapeRegExp } from '../model/text.js';

/**
 * Keeps secret values out of everything reconcile shows or stores. A value is replaced by
 * `[secret:name #hash]`; the hash is an HMAC with a key kept on this machine, so a changed value shows
 * as a changed hash while a leaked report cannot be used to guess a weak secret offline.
 */
export class SecretMask {
  constructor(
    private readonly secrets: Secret[],
    private readonly key: Buffer,
  ) {}

  get empty(): boolean {
    return this.secrets.length === 0;
  }

  private marker(name: string, value: string): string {
    return `[secret:${name} #${createHmac('sha256', this.key).update(value).digest('hex').slice(0, 8)}]`;
  }

  /** Every occurrence of every secret value replaced by its marker. */
  text(value: string): string {
    return replaceSecrets(value, this.secrets, (s) => this.marker(s.name, s.value));
  }

  /**
   * A before/after pair, where `before` comes from the host and may hold an older value of a secret
   * that nothing here knows. Each line of `after` that holds a secret becomes a pattern (the text around
   * it); whatever stands in that place in a `before` line is masked too, under its own hash.
   */
  pair(before: string | null, after: string | null): [string | null, string | null] {
    if (after === null || this.text(after) === after) return [before === null ? null : this.text(before), after];
    const places = after.split('\n').flatMap((line) => this.placeOf(line));
    const maskLine = (line: string) => {
      for (const { name, pattern } of places) {
        const found = pattern.exec(line);
        if (found && !isMarker(found[2]!)) return `${found[1]}${this.marker(name, found[2]!)}${found[3]}`;
      }
      return line;
    };
    return [before === null ? null : this.text(before).split('\n').map(maskLine).join('\n'), this.text(after)];
  }

  /** Where a secret sits in one line: the literal text before and after it, as a pattern. */
  private placeOf(line: string): { name: string; pattern: RegExp }[] {
    const hits = this.secrets.flatMap((s) =>
      line.includes(s.value) ? [{ s, at: line.indexOf(s.value), end: line.lastIndexOf(s.value) + s.value.length }] : [],
    );
    if (hits.length === 0) return [];
    const first = hits.reduce((a, b) => (b.at < a.at ? b : a));
    const end = Math.max(...hits.map((h) => h.end));
    return [
      {
        name: first.s.name,
        pattern: new RegExp(`^(${escapeRegExp(line.slice(0, first.at))})(.+?)(${escapeRegExp(line.slice(end))})$`, 's'),
      },
    ];
  }

  /** Bytes (a file's content on its way to the host) with each secret's UTF-8 bytes masked. */
  bytes(content: Buffer): Buffer {
    // latin1 maps bytes to characters one to one, so the UTF-8 bytes of a secret are found as text.
    const asLatin1 = (value: string) => Buffer.from(value).toString('latin1');
    return Buffer.from(
      replaceSecrets(content.toString('latin1'), this.secrets, (s) => this.marker(s.name, s.value), asLatin1),
      'latin1',
    );
  }

  /** A copy of plain data with every string masked; before/after pairs and base64 stdin as above. */
  deep<T>(value: T): T {
    if (this.empty) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value === null || typeof value !== 'object') return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] =
        key === 'stdinBase64' && typeof item === 'string' ? this.bytes(Buffer.from(item, 'base64')).toString('base64') : this.walk(item);
    }
    if ('before' in copy && 'after' in copy && isTextOrNull(copy.before) && isTextOrNull(copy.after)) {
      const raw = value as { before: string | null; after: string | null };
      [copy.before, copy.after] = this.pair(raw.before, raw.after);
    }
    return copy;
  }
}

const isTextOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isMarker = (text: string) => /^\[secret:[A-Za-z0-9_]+ #[0-9a-f]{8}\]$/.test(text);

/** The per-machine hash key, made on first use (mode 0600) in reconcile's state directory. */
export function maskKey(stateDir: string): Buffer {
  const file = join(stateDir, 'secret-mask.key');
  try {
    return readFileSync(file);
  } catch {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return readFileSync(file);
  }
}
