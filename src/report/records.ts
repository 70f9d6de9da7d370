import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import type { Report } from './report.js';

/**
 * Run records: one JSON file per apply or check, a durable history beside the host (like the flow
 * runs' manifests), under $XDG_STATE_HOME/reconcile/runs/YYYY-MM-DD/ (default ~/.local/state).
 */
export function defaultStateDir(): string {
  return (
    process.env.RECONCILE_STATE_DIR ?? join(process.env.XDG_STATE_HOME ?? join(process.env.HOME ?? homedir(), '.local/state'), 'reconcile')
  );
}

const runsDir = (stateDir: string) => join(stateDir, 'runs');

export async function writeRunRecord(stateDir: string, report: Report): Promise<string> {
  const path = join(runsDir(stateDir), report.startedAt.slice(0, 10), `${report.id}.json`);
  await writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`, 0o600);
  return path;
}

/** Removes the day directories older than `keepDays`. */
export async function pruneRunRecords(stateDir: string, keepDays: number, now = new Date()): Promise<void> {
  if (!existsSync(runsDir(stateDir))) return;
  const oldest = new Date(now.getTime() - keepDays * 86_400_000).toISOString().slice(0, 10);
  for (const day of await readdir(runsDir(stateDir))) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(day) && day < oldest) await rm(join(runsDir(stateDir), day), { recursive: true, force: true });
  }
}

/** The newest records first; with a filter, the newest that pass it. */
export async function listRunRecords(stateDir: string, limit: number, keep: (record: Report) => boolean = () => true): Promise<Report[]> {
  if (!existsSync(runsDir(stateDir))) return [];
  const days = (await readdir(runsDir(stateDir)))
    .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))
    .sort()
    .reverse();
  const records: Report[] = [];
  for (const day of days) {
    const files = (await readdir(join(runsDir(stateDir), day)))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .reverse();
    for (const file of files) {
      if (records.length >= limit) return records;
      const record = await readRecordFile(join(runsDir(stateDir), day, file));
      if (keep(record)) records.push(record);
    }
  }
  return records;
}

export async function readRunRecord(stateDir: string, id: string): Promise<Report | undefined> {
  if (!/^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(id)) return undefined;
  const day = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;
  const path = join(runsDir(stateDir), day, `${id}.json`);
  return existsSync(path) ? readRecordFile(path) : undefined;
}

/** Records written before hosts had groups carry none; they read back as an empty list. */
async function readRecordFile(path: string): Promise<Report> {
  const record = JSON.parse(await readFile(path, 'utf8')) as Report;
  for (const host of record.hosts) (host as Partial<typeof host>).groups ??= [];
  return record;
}
