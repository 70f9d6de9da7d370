import type { Action } from '../../../model/plan.js';
import type { DatabaseBackup } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { fileProbe, keyValues, parsePathFacts, type PathFacts } from '../../facts.js';
import { contentChange, sha256, writeFileStep } from '../../steps.js';
import { pgDump } from '../../postgres.js';
import { daemonReload, journal, VERIFY_UNIT } from '../../systemd-units.js';
import { afterReferences, postgresDatabaseToken, type ResourcePlan, type ResourceType } from '../../types.js';

const DEFAULT_KEEP = 7;
const DEFAULT_CALENDAR = 'daily';
const DEFAULT_MAX_AGE = 26 * 3600;
const SECTION = '@@backup';

/** The script, the service that runs it and the timer that starts the service: what apply writes. */
interface Installed {
  script: PathFacts;
  service: PathFacts;
  timer: PathFacts;
}

interface BackupFacts extends Installed {
  timerEnabled: boolean;
  timerActive: boolean;
  /** The newest whole backup's file name and age in seconds, if there is one. */
  newest?: { file: string; ageSeconds: number };
}

const unitName = (spec: DatabaseBackup) => `reconcile-backup-${spec.backup}`;
const paths = (spec: DatabaseBackup) => ({
  script: `/usr/local/sbin/${unitName(spec)}`,
  service: `/etc/systemd/system/${unitName(spec)}.service`,
  timer: `/etc/systemd/system/${unitName(spec)}.timer`,
});
const extension = (spec: DatabaseBackup) => (spec.postgres ? 'dump' : 'db');
/** A finished backup's name: NAME-UTCTIME.EXT (a partial one starts with a dot, and never matches). */
const finishedPattern = (spec: DatabaseBackup) => `^${spec.backup}-[0-9]{8}T[0-9]{6}Z\\.${extension(spec)}$`;

/**
 * database_backup: a consistent copy of a database, taken while its server runs, by a systemd timer
 * the setup installs. SQLite through its online backup API (as the file's owner, so its -wal and -shm
 * stay theirs), PostgreSQL with pg_dump's custom format (as the postgres user). Each copy is written
 * aside and renamed into place whole; the newest `keep` are kept. Check drifts when the newest is
 * older than `max_age` (or there is none), and apply then takes one at once.
 */
export const databaseBackup: ResourceType<DatabaseBackup, BackupFacts> = {
  kind: 'database_backup',
  defaultName: (spec) => `database_backup:${spec.backup}`,
  references: (spec) => [
    ...afterReferences(spec.after),
    // Its database, when a resource of this setup makes it, is made first.
    ...(spec.postgres
      ? [{ field: ['postgres'], token: postgresDatabaseToken(spec.postgres), what: 'a postgres_database', ifDeclared: true as const }]
      : []),
  ],
  check: (spec) =>
    (spec.sqlite === undefined) === (spec.postgres === undefined)
      ? [{ field: [], message: 'give the database to back up as either sqlite: PATH or postgres: NAME (one of them)' }]
      : [],
  probe(spec) {
    const wanted = files(spec);
    const where = paths(spec);
    const dir = quote(spec.directory);
    return [
      fileProbe(where.script, sha256(wanted.script)),
      `echo ${SECTION}`,
      fileProbe(where.service, sha256(wanted.service)),
      `echo ${SECTION}`,
      fileProbe(where.timer, sha256(wanted.timer)),
      `echo ${SECTION}`,
      `systemctl show ${quote(`${unitName(spec)}.timer`)} -p UnitFileState -p ActiveState`,
      `rc_newest=$(ls -1 ${dir} 2>/dev/null | grep -E ${quote(finishedPattern(spec))} | sort | tail -n 1)`,
      `if [ -n "$rc_newest" ]; then echo "newest=$rc_newest"; echo "age=$(( $(date +%s) - $(stat -c %Y ${dir}/"$rc_newest") ))"; fi`,
    ].join('\n');
  },
  parse(_spec, output) {
    const [script = '', service = '', timer = '', state = ''] = output.split(`${SECTION}\n`);
    const props = keyValues(state);
    const newest = props.get('newest');
    return {
      script: parsePathFacts(script),
      service: parsePathFacts(service),
      timer: parsePathFacts(timer),
      timerEnabled: props.get('UnitFileState') === 'enabled',
      timerActive: props.get('ActiveState') === 'active',
      ...(newest ? { newest: { file: newest, ageSeconds: Number(props.get('age')) } } : {}),
    };
  },
  plan: (spec, actual) => planBackup(spec, actual),
};

function planBackup(spec: DatabaseBackup, actual: BackupFacts): ResourcePlan {
  const name = spec.name ?? databaseBackup.defaultName(spec);
  const wanted = files(spec);
  const where = paths(spec);
  const timer = quote(`${unitName(spec)}.timer`);
  const now: Action[] = (['script', 'service', 'timer'] as const)
    .filter((part) => actual[part].type !== 'file' || actual[part].sha256 !== sha256(wanted[part]))
    .map((part) => ({
      id: `${name} ${part}`,
      resource: name,
      verb: actual[part].type === 'file' ? 'update' : 'create',
      title: `${part === 'script' ? 'backup script' : 'unit'} ${where[part]}`,
      fields: [],
      content: contentChange(where[part], actual[part].type === 'file' ? actual[part].content : undefined, wanted[part]),
      steps: [
        writeFileStep({
          path: where[part],
          content: wanted[part],
          owner: 'root',
          mode: part === 'script' ? '0700' : '0644',
          defaultMode: part === 'script' ? '0700' : '0644',
          ...(part === 'script' ? {} : { validate: VERIFY_UNIT }),
        }),
      ],
    }));
  const late: Action[] = [];
  if (now.some((a) => a.id !== `${name} script`)) late.push(daemonReload);
  if (!actual.timerEnabled || !actual.timerActive) {
    const state = `${actual.timerEnabled ? 'enabled' : 'not enabled'}, ${actual.timerActive ? 'active' : 'not active'}`;
    late.push(lateAction(name, 'enable', `enable and start ${unitName(spec)}.timer`, `is ${state}`, `systemctl enable --now ${timer}`));
  } else if (now.some((a) => a.id === `${name} timer`)) {
    // A running timer keeps its old schedule until it is restarted.
    late.push(lateAction(name, 'restart', `restart ${unitName(spec)}.timer`, 'its schedule changed', `systemctl restart ${timer}`));
  }
  const maxAge = spec.max_age ?? DEFAULT_MAX_AGE;
  const stale = !actual.newest || actual.newest.ageSeconds > maxAge;
  if (stale) {
    const because = actual.newest
      ? `the newest, ${actual.newest.file}, is ${hours(actual.newest.ageSeconds)} old (max_age ${hours(maxAge)})`
      : `there is none in ${spec.directory}`;
    // systemctl start waits for a oneshot service to finish, and fails when the backup does.
    const service = `${unitName(spec)}.service`;
    const take = lateAction(name, 'start', `take a backup now (${service})`, because, `systemctl start ${quote(service)}`);
    late.push({ ...take, diagnose: journal(service) });
  }
  return { now, late, notifies: [] };
}

function lateAction(name: string, verb: Action['verb'], title: string, because: string, script: string): Action {
  return { id: `${name} ${title}`, resource: name, verb, title, fields: [], because, steps: [{ script }] };
}

const hours = (seconds: number) => (seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${Math.round(seconds)} s`);

/** The script and the two units, as apply writes them. */
function files(spec: DatabaseBackup): Record<keyof Installed, Buffer> {
  const what = spec.postgres ? `PostgreSQL database ${spec.postgres}` : `SQLite database ${spec.sqlite}`;
  const service = [
    '[Unit]',
    `Description=Backup of the ${what} (reconcile database_backup ${spec.backup})`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${paths(spec).script}`,
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    `Description=Backups of the ${what} (reconcile database_backup ${spec.backup})`,
    '',
    '[Timer]',
    `OnCalendar=${spec.on_calendar ?? DEFAULT_CALENDAR}`,
    // A backup missed while the host was off is taken when it is back.
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { script: Buffer.from(backupScript(spec, what)), service: Buffer.from(service), timer: Buffer.from(timer) };
}

/**
 * The copy is written by root from what the database's own user streams out: pg_dump as postgres,
 * or SQLite's backup API (a consistent copy while the server writes, WAL included) as the file's
 * owner, serialised. It lands in a hidden partial file, is synced, and renamed into place.
 */
function backupScript(spec: DatabaseBackup, what: string): string {
  const dump = spec.postgres
    ? pgDump(spec.postgres, spec.port)
    : `runuser -u "$(stat -c %U ${quote(spec.sqlite!)})" -- python3 -c ${quote(SQLITE_TO_STDOUT)} ${quote(spec.sqlite!)}`;
  return [
    '#!/bin/sh',
    `# Written by reconcile (database_backup ${spec.backup}): a backup of the ${what}.`,
    'set -eu',
    `dir=${quote(spec.directory)}`,
    'umask 077',
    'mkdir -p "$dir"',
    'stamp=$(date -u +%Y%m%dT%H%M%SZ)',
    `partial="$dir/.${spec.backup}-$stamp.partial"`,
    `trap 'rm -f "$partial"' EXIT`,
    `${dump} > "$partial"`,
    'sync "$partial"',
    `mv "$partial" "$dir/${spec.backup}-$stamp.${extension(spec)}"`,
    'trap - EXIT',
    'sync "$dir"',
    `ls -1 "$dir" | grep -E ${quote(finishedPattern(spec))} | sort -r | tail -n +${(spec.keep ?? DEFAULT_KEEP) + 1} | while read -r old; do rm -f "$dir/$old"; done`,
    '',
  ].join('\n');
}

/** SQLite's online backup into memory, then out as one database file (Python 3.11's Connection.serialize). */
const SQLITE_TO_STDOUT =
  'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(":memory:"); s.backup(d); sys.stdout.buffer.write(d.serialize()); s.close()';
