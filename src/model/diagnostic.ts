/** A path inside a spec value, e.g. ['after', 0] in a resource, ['hosts', 'web-1'] in hosts.yaml. */
export type FieldPath = (string | number)[];

/** A problem with a spec file, located at the YAML node it concerns. */
export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file (unreadable, empty). */
  line: number;
  col: number;
  message: string;
}

/** `FILE:LINE:COL: message`, the form editors and compilers use, so terminals make it clickable. */
export function formatDiagnostic(d: Diagnostic): string {
  return d.line > 0 ? `${d.file}:${d.line}:${d.col}: ${d.message}` : `${d.file}: ${d.message}`;
}

/** Orders diagnostics as they appear in the files, and drops exact repeats (a problem shared by several hosts). */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const unique = new Map(diagnostics.map((d) => [formatDiagnostic(d), d]));
  return [...unique.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}

/** Thrown to the CLI's error boundary when a spec cannot be used; carries every problem found. */
export class SpecError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'SpecError';
  }
}
