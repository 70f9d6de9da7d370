import { escapeRegExp } from '../../../model/text.js';

/**
 * What `prefect deploy` learns by importing a flow (`load_flow_from_entrypoint`), read from the
 * source instead: importing Prefect on the host costs seconds, far too much for a drift check. Only
 * literal decorator arguments are understood; anything else is reported as not knowable.
 */
export interface FlowFacts {
  /** `@flow(name=...)`, else the function's name with `_` as `-` (src/prefect/flows.py). */
  name: string | Unknowable;
  /** `@flow(description=...)`, else the docstring as `inspect.getdoc` gives it; null when neither. */
  description: string | null | Unknowable;
  /** `@flow(version=...)`; undefined when not given (Prefect then hashes the file or asks git). */
  version?: string | Unknowable;
}

/** A value `prefect deploy` decides at deploy time (a block, a step output, code it runs). */
export class Unknowable {
  constructor(readonly why: string) {}
  toString(): string {
    return `(decided at deploy time: ${this.why})`;
  }
}

export function flowFacts(source: string, functionName: string): FlowFacts | undefined {
  const def = new RegExp(`^([ \\t]*)(?:async[ \\t]+)?def[ \\t]+${escapeRegExp(functionName)}[ \\t]*\\(`, 'm').exec(source);
  if (!def) return undefined;
  const decorator = flowDecoratorArguments(source.slice(0, def.index));
  const kwarg = (key: string): string | Unknowable | undefined => {
    if (decorator === undefined) return undefined;
    const found = new RegExp(`(?:^|[(,\\s])${key}\\s*=\\s*`).exec(decorator);
    if (!found) return undefined;
    const literal = stringLiteral(decorator.slice(found.index + found[0].length));
    return literal?.value ?? new Unknowable(`@flow(${key}=...) is not a string literal`);
  };
  const body = afterSignature(source, def.index + def[0].length);
  const docstring = body === undefined ? undefined : stringLiteral(body.replace(/^(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*/, ''))?.value;
  return {
    name: kwarg('name') ?? functionName.replace(/_/g, '-'),
    description: kwarg('description') ?? (docstring === undefined ? null : cleandoc(docstring)),
    version: kwarg('version'),
  };
}

/**
 * The argument text of the `@flow(...)` / `@prefect.flow(...)` among the decorators right above the
 * def ('' for a bare `@flow`); undefined when the function has none.
 */
function flowDecoratorArguments(before: string): string | undefined {
  const at = [...before.matchAll(/^[ \t]*@(?:prefect\.)?flow\b/gm)].at(-1);
  if (!at) return undefined;
  let rest = before.slice(at.index + at[0].length);
  let args = '';
  if (rest.trimStart().startsWith('(')) {
    rest = rest.trimStart();
    const end = matchingParen(rest, 0);
    if (end < 0) return undefined;
    args = rest.slice(1, end);
    rest = rest.slice(end + 1);
  }
  // Only other decorators (and comments) may stand between it and the def.
  for (;;) {
    rest = rest.replace(/^(?:\s|#[^\n]*)+/, '');
    if (rest === '') return args;
    const other = /^@[\w.]+/.exec(rest);
    if (!other) return undefined;
    rest = rest.slice(other[0].length);
    if (rest.startsWith('(')) {
      const end = matchingParen(rest, 0);
      if (end < 0) return undefined;
      rest = rest.slice(end + 1);
    }
  }
}

/** The text after the `:` that ends a def's signature (parameters may hold parens, strings, annotations). */
function afterSignature(source: string, openParenNext: number): string | undefined {
  const close = matchingParen(source, openParenNext - 1);
  if (close < 0) return undefined;
  const colon = source.indexOf(':', close);
  if (colon < 0) return undefined;
  const rest = source.slice(colon + 1);
  // A one-line body (`def f(): "doc"`) keeps its docstring on the same line.
  return rest.replace(/^[ \t]*(?:#[^\n]*)?/, '');
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      const literal = stringLiteral(text.slice(i));
      if (!literal) return -1;
      i += literal.length - 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    } else if (c === '#') {
      i = text.indexOf('\n', i);
      if (i < 0) return -1;
    }
  }
  return -1;
}

/** A Python string literal at the start of `text` (prefixes r/u, single or triple quotes); f- and b-strings are not one. */
function stringLiteral(text: string): { value: string; length: number } | undefined {
  const m = /^([rRuU]?)('''|"""|'|")/.exec(text);
  if (!m) return undefined;
  const raw = m[1]!.toLowerCase() === 'r';
  const quote = m[2]!;
  let i = m[0].length;
  let value = '';
  while (i < text.length) {
    if (text.startsWith(quote, i)) return { value, length: i + quote.length };
    const c = text[i]!;
    if (c === '\n' && quote.length === 1) return undefined;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      value += raw ? c + next : unescape(next);
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  return undefined;
}

function unescape(c: string): string {
  const simple: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '\\': '\\',
    "'": "'",
    '"': '"',
    '\n': '',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
    '0': '\0',
  };
  return simple[c] ?? `\\${c}`;
}

/** Python's inspect.cleandoc: tabs expanded, the common indent of lines after the first removed, blank ends dropped. */
export function cleandoc(doc: string): string {
  const lines = doc.split('\n').map(expandTabs);
  let margin = Infinity;
  for (const line of lines.slice(1)) {
    const content = line.trimStart().length;
    if (content) margin = Math.min(margin, line.length - content);
  }
  lines[0] = lines[0]!.trimStart();
  if (margin < Infinity) for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(margin);
  while (lines.length > 0 && !lines.at(-1)) lines.pop();
  while (lines.length > 0 && !lines[0]) lines.shift();
  return lines.join('\n');
}

function expandTabs(line: string): string {
  let out = '';
  for (const c of line) out += c === '\t' ? ' '.repeat(8 - (out.length % 8)) : c;
  return out;
}
