/** Options every command accepts (commander's optsWithGlobals merges them). */
export interface GlobalOptions {
  /** -i and -f as given, and as commands receive them: located (see spec-location.ts). */
  inventory: string;
  file: string;
  /** Set when neither file was given nor found: why, and how to get them. */
  missingSpec?: string;
  limit?: string[];
  json?: boolean;
  color: boolean;
  concurrency: number;
  acceptNewHostKeys?: boolean;
  /** Ask the sudo password once on the terminal (for hosts with become: true). */
  askBecomePass?: boolean;
  lockTimeout: number;
  /** Connect timeout in seconds for every host, over the inventory's connect_timeout. */
  timeout?: number;
  stateDir?: string;
  keepRuns: number;
  metricsFile?: string;
  onDrift?: string;
  /** Run again an upgrade whose target was rolled back (apply, plan). */
  retryFailed?: boolean;
  /** apply: show the plan only; schedule install/remove: print what would change. */
  dryRun?: boolean;
  /** -v: 1, -vv: 2 (see model/trace.ts). */
  verbose: number;
}

export function parseLimit(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive whole number, got '${value}'`);
  return n;
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a number of seconds, got '${value}'`);
  return n;
}

/** Colour only for people: not with --no-color, NO_COLOR, --json or a pipe. */
export function useColor(options: GlobalOptions): boolean {
  return options.color && !options.json && !('NO_COLOR' in process.env) && process.stdout.isTTY;
}

/** A wait that must end: 0 would mean no limit at all, so it is refused. */
export function parsePositiveSeconds(value: string): number {
  const n = parseSeconds(value);
  if (n === 0) throw new Error(`expected more than 0 seconds, got '${value}'`);
  return n;
}
