import { defaultStateDir, listRunRecords, readRunRecord } from '../../report/records.js';
import type { Report } from '../../report/report.js';
import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';
import { currentProject, ranFor } from '../project.js';
import { UsageError } from '../usage-error.js';

interface HistoryOptions extends GlobalOptions {
  /** From `history -n`; absent for `history show`. */
  count?: number;
}

/** `reconcile history`: one line per recent run, newest first. */
export async function historyCommand(options: HistoryOptions): Promise<ExitCode> {
  const records = await listRunRecords(
    options.stateDir ?? defaultStateDir(),
    options.count ?? 20,
    ofThisProject(options, touching(options.limit)),
  );
  if (options.json) {
    const summary = records.map(({ hosts, ...run }) => ({
      ...run,
      hosts: hosts.map((h) => ({ host: h.host, groups: h.groups, status: h.status })),
    }));
    console.log(JSON.stringify(summary, null, 2));
    return ExitCode.ok;
  }
  if (records.length === 0) console.log('no runs recorded yet');
  for (const r of records) {
    const hosts = r.hosts.map((h) => `${h.host}${h.groups.length > 0 ? `[${h.groups.join(',')}]` : ''}:${h.status}`).join(' ');
    console.log(
      `${r.id}  ${r.startedAt.slice(0, 19).replace('T', ' ')}  ${r.command.padEnd(5)}  ${r.result.padEnd(7)}  ${(r.durationMs / 1000).toFixed(1)}s  ${hosts}`,
    );
  }
  return ExitCode.ok;
}

/**
 * The runs of the project -i and -f name (or that reconcile finds from here), and with --limit only
 * those; where there is no project, every project's.
 */
function ofThisProject(options: HistoryOptions, also?: (record: Report) => boolean): ((record: Report) => boolean) | undefined {
  if (options.missingSpec) return also;
  const ours = ranFor(currentProject(options));
  return (record) => ours(record) && (also?.(record) ?? true);
}

/** With --limit: only the runs that worked on one of those hosts, or on a host of one of those groups. */
function touching(limit: string[] | undefined): ((record: Report) => boolean) | undefined {
  if (!limit) return undefined;
  return (record) => record.hosts.some((h) => limit.includes(h.host) || h.groups.some((g) => limit.includes(g)));
}

/** `reconcile history show ID|latest`: the whole record. */
export async function showRunCommand(options: HistoryOptions, id: string): Promise<ExitCode> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const record = id === 'latest' ? (await listRunRecords(stateDir, 1, ofThisProject(options)))[0] : await readRunRecord(stateDir, id);
  if (!record) throw new UsageError(`no run '${id}' in ${options.stateDir ?? defaultStateDir()} (see reconcile history)`);
  console.log(JSON.stringify(record, null, 2));
  return ExitCode.ok;
}
