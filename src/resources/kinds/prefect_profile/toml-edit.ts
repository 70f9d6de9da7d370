/**
 * Line-level reading and editing of simple TOML files such as Prefect's profiles.toml: top-level
 * string keys and [a.b] tables of string keys. Edits touch only the lines of the keys they change,
 * so other tables, other keys and comments survive (Prefect itself rewrites the whole file).
 */

const HEADER = /^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$/;
const KEY_VALUE = /^\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$/;

/** The string values of one table ('' for top level), by key. */
export function readTable(text: string, table: string): Map<string, string> | undefined {
  const values = new Map<string, string>();
  let current = '';
  let seen = table === '';
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      current = normalizeTableName(header[1]!);
      if (current === table) seen = true;
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (kv && current === table) values.set(unquoteKey(kv[1]!), parseValue(kv[2]!));
  }
  return seen ? values : undefined;
}

/** Sets keys of one table, editing lines in place, appending missing keys to the table, or the table to the file. */
export function setKeys(text: string, table: string, updates: Map<string, string>): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const pending = new Map(updates);
  let current = '';
  let lastLineOfTable = table === '' ? -1 : undefined;
  for (let i = 0; i < lines.length; i++) {
    const header = HEADER.exec(lines[i]!);
    if (header) {
      current = normalizeTableName(header[1]!);
      if (current === table) lastLineOfTable = i;
      continue;
    }
    if (current !== table) continue;
    if (lines[i]!.trim() !== '') lastLineOfTable = i;
    const kv = KEY_VALUE.exec(lines[i]!);
    const key = kv && unquoteKey(kv[1]!);
    if (key && pending.has(key)) {
      lines[i] = `${kv[1]} = ${tomlString(pending.get(key)!)}`;
      pending.delete(key);
    }
  }
  const added = [...pending].map(([k, v]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k)} = ${tomlString(v)}`);
  if (added.length > 0) {
    if (lastLineOfTable === undefined) {
      if (lines.length > 0 && lines.at(-1)!.trim() !== '') lines.push('');
      lines.push(`[${table}]`, ...added);
    } else if (table === '' && lastLineOfTable === -1) {
      // Top-level keys must precede the first table.
      lines.unshift(...added, ...(lines.length > 0 && lines[0]!.trim() !== '' ? [''] : []));
    } else {
      lines.splice(lastLineOfTable + 1, 0, ...added);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function tomlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')}"`;
}

function normalizeTableName(name: string): string {
  return name
    .split('.')
    .map((part) => unquoteKey(part.trim()))
    .join('.');
}

function unquoteKey(key: string): string {
  return key.startsWith('"') ? parseValue(key) : key;
}

/** A basic "…" or literal '…' string (other values are returned as written). */
function parseValue(raw: string): string {
  const value = raw.replace(/\s+#.*$/, '');
  if (value.startsWith("'")) return value.slice(1, value.lastIndexOf("'"));
  if (!value.startsWith('"')) return value;
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i]!;
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', b: '\b', f: '\f' };
    if (next === 'u' || next === 'U') {
      const length = next === 'u' ? 4 : 8;
      out += String.fromCodePoint(parseInt(value.slice(i + 1, i + 1 + length), 16));
      i += length;
    } else out += escapes[next] ?? next;
  }
  return out;
}
