import type { Line } from '../../../model/generated/setup.js';
import { fileProbe, parsePathFacts, type PathFacts } from '../../facts.js';
import { contentChange, writeFileStep } from '../../steps.js';
import { noChanges, notifyReferences, unitToken, type ResourceType } from '../../types.js';

/**
 * line: one line in a file, every other line left alone. Reads the file's content. Converged when
 * the exact line is present (and, with `match`, no other line matches instead). With `match` the
 * first matching line is replaced; else the line is appended. A missing file is created with the
 * given owner and mode; an existing file keeps its own. Notifies the services in `notifies` when it changes.
 */
export const line: ResourceType<Line, PathFacts> = {
  kind: 'line',
  // Several lines may live in one file (~/.bashrc), so the line itself is part of the name.
  defaultName: (spec) => `line:${spec.path}:${spec.match ?? spec.line}`,
  location: (spec) => ({ path: spec.path }),
  references: (spec) => notifyReferences(spec.notifies),
  check: (spec) => {
    if (spec.match === undefined) return [];
    try {
      new RegExp(spec.match);
      return [];
    } catch (error) {
      return [
        {
          field: ['match'],
          message: `match: ${(error as Error).message.replace(/^Invalid regular expression: /, 'not a valid regular expression: ')}`,
        },
      ];
    }
  },
  // An existing file keeps its own mode (often 0644, like ~/.bashrc): nothing here can keep a secret private.
  exposure: () => ({
    field: ['line'],
    message:
      'a line leaves an existing file\'s mode as it is, so the secret could end up readable by every user; keep it in a file resource with mode "0600" and source or include that file',
  }),
  probe: (spec) => fileProbe(spec.path),
  parse: (_spec, output) => parsePathFacts(output),
  plan(spec, actual) {
    const name = spec.name ?? line.defaultName(spec);
    if (actual.type !== 'absent' && actual.type !== 'file') {
      throw new Error(`${spec.path} is a ${actual.type}; a line can only be kept in a regular file`);
    }
    if (actual.type === 'file' && actual.content === undefined) {
      throw new Error(`${spec.path} is larger than reconcile reads for line edits (${actual.size} bytes)`);
    }
    const before = actual.content?.toString('utf8') ?? '';
    const after = withLine(before, spec.line, spec.match);
    if (actual.type === 'file' && after === before) return noChanges();
    const ownership = actual.type === 'file' ? { owner: actual.owner, group: actual.group, mode: actual.mode } : spec;
    return {
      now: [
        {
          id: name,
          resource: name,
          verb: actual.type === 'file' ? 'update' : 'create',
          title: `line in ${spec.path}`,
          fields: [],
          content: contentChange(spec.path, actual.content, Buffer.from(after)),
          steps: [writeFileStep({ path: spec.path, content: Buffer.from(after), ...ownership, defaultMode: '0644' })],
        },
      ],
      late: [],
      notifies: (spec.notifies ?? []).map(unitToken),
    };
  },
};

/** The file's text with the line in place; line ends (LF or CRLF) and the rest are kept exactly. */
export function withLine(text: string, wanted: string, match?: string): string {
  const lines = text.split('\n');
  const bare = (l: string) => l.replace(/\r$/, '');
  if (match !== undefined) {
    const pattern = new RegExp(match);
    const at = lines.findIndex((l) => pattern.test(bare(l)));
    if (at >= 0) {
      lines[at] = wanted + (lines[at]!.endsWith('\r') ? '\r' : '');
      return lines.join('\n');
    }
  }
  if (lines.some((l) => bare(l) === wanted)) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return text === '' ? `${wanted}\n` : `${text}${text.endsWith('\n') ? '' : eol}${wanted}${eol}`;
}
