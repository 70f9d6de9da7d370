import { stat, readFile } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Diagnostic } from '../model/diagnostic.js';

/** A parsed YAML file that can still say where each value came from. */
export interface YamlSource {
  file: string;
  /** The file's text as read. */
  text: string;
  doc: Document;
  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; col: number };
}

/** Spec files are small; anything larger is a mistake (or an attack) and is refused before parsing. */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;

export type Located<T> = { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

/** Reads and parses a YAML file; never throws for anything the file contains. */
export async function loadYaml(file: string): Promise<Located<YamlSource>> {
  const text = await readText(file);
  if (!text.ok) return text;
  const lines = new LineCounter();
  // logLevel 'error': yaml's own warnings (a mapping used as a key) would reach the user as Node
  // warnings; the ones that matter are diagnostics below, with a position and a fix.
  const doc = parseDocument(text.value, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  const position = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, col };
  };
  const problems = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    ...position(e.pos[0]),
    message: yamlMessage(e.code, e.message),
  }));
  problems.push(
    ...unquotedTemplates(doc).map((offset) => ({
      file,
      ...position(offset),
      message: 'YAML read this {{ … }} as a mapping, not text: a value that starts with {{ must be quoted, e.g. owner: "{{ user }}"',
    })),
  );
  if (problems.length > 0) return { ok: false, diagnostics: problems };
  if (doc.contents === null) return { ok: false, diagnostics: [{ file, line: 0, col: 0, message: 'the file is empty' }] };
  return { ok: true, value: { file, text: text.value, doc, position } };
}

/** Where a mapping has a mapping as a key: `key: {{ name }}` unquoted is a flow mapping inside one. */
function unquotedTemplates(doc: Document): number[] {
  const offsets: number[] = [];
  visit(doc, {
    Pair(_key, pair, path) {
      // The place to point at is the value that holds it: where the quotes go.
      const outer = path.at(-1);
      if (isMap(pair.key) && isMap(outer) && outer.range) offsets.push(outer.range[0]);
    },
  });
  return offsets;
}

async function readText(file: string): Promise<Located<string>> {
  const fail = (message: string): Located<string> => ({ ok: false, diagnostics: [{ file, line: 0, col: 0, message }] });
  try {
    const info = await stat(file);
    if (info.isDirectory()) return fail('is a directory, not a YAML file');
    if (!info.isFile()) return fail('is not a regular file');
    if (info.size > MAX_SPEC_BYTES) {
      return fail(`is ${(info.size / 1024 / 1024).toFixed(1)} MiB; a spec file may be at most ${MAX_SPEC_BYTES / 1024 / 1024} MiB`);
    }
    const bytes = await readFile(file);
    if (bytes.includes(0)) return fail('is not a text file (it contains NUL bytes)');
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { ok: true, value: text };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('no such file');
    if (code === 'EACCES') return fail('permission denied');
    if (error instanceof TypeError) return fail('is not valid UTF-8 text');
    return fail(`cannot be read: ${(error as Error).message}`);
  }
}

/** yaml's messages carry a code and sometimes a source excerpt; keep the first sentence, add advice. */
function yamlMessage(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const advice: Record<string, string> = {
    DUPLICATE_KEY: ' (each key may appear once in a mapping)',
    TAB_AS_INDENT: ' (indent with spaces)',
    TAG_RESOLVE_FAILED: ' (reconcile knows no such tag)',
  };
  if (code === 'MULTIPLE_DOCS') return 'YAML: a spec file holds one document; remove the --- separator and merge the two';
  return `YAML: ${first}${advice[code] ?? ''}`;
}

/** The node at a JSON-pointer-like path, and the key node when its parent is a mapping. */
export function nodeAt(source: YamlSource, path: readonly (string | number)[]): { node?: Node; key?: Node } {
  let node: unknown = source.doc.contents;
  let key: Node | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(source.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return {};
      key = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
      key = undefined;
    } else {
      return {};
    }
  }
  return { node: (node ?? undefined) as Node | undefined, key };
}

/** The position of a node (or of the nearest ancestor on the path that exists). */
export function positionAt(source: YamlSource, path: readonly (string | number)[], at: 'value' | 'key' = 'value') {
  for (let n = path.length; n >= 0; n--) {
    const { node, key } = nodeAt(source, path.slice(0, n));
    const target = at === 'key' && n === path.length && key ? key : node;
    if (target?.range) return source.position(target.range[0]);
  }
  return { line: 1, col: 1 };
}
