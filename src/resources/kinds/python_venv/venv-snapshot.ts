import type { Transaction } from '../../../model/plan.js';
import type { PythonVenv } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { unitToken } from '../../types.js';
import { HOST_STATE } from '../../../model/host-state.js';
import { DEFAULT_PORT, pgDump } from '../../postgres.js';

/**
 * Snapshots of a venv (and the SQLite databases its programs migrate), taken before its packages
 * change, so a failed upgrade can be put back exactly. Layout, readable by a person restoring by hand:
 *
 *   /var/lib/reconcile/upgrades/VENV_PATH/open            the snapshot of an upgrade not yet ended
 *   /var/lib/reconcile/upgrades/VENV_PATH/ID/venv/        a copy of the venv (cp -a)
 *   /var/lib/reconcile/upgrades/VENV_PATH/ID/database-N   database N of `upgrade.databases`, or database-N.absent
 *   /var/lib/reconcile/upgrades/VENV_PATH/ID/postgres-N.dump   pg_dump of database N of `upgrade.postgres`
 *   /var/lib/reconcile/upgrades/VENV_PATH/ID/running      the services that were running
 *   /var/lib/reconcile/upgrades/VENV_PATH/ID/manifest     what, when, from which versions to which, how it ended
 */
export const UPGRADES_DIR = HOST_STATE.upgrades;

const DEFAULT_KEEP = 3;

/** SQLite's online backup: a consistent copy even while a server writes (WAL included). */
const SQLITE_BACKUP =
  'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close(); s.close()';

export const snapshotRoot = (spec: PythonVenv) => `${UPGRADES_DIR}${spec.path}`;

/** PostgreSQL's tools as the postgres user, on the cluster the upgrade names. */
const postgresTool = (spec: PythonVenv, tool: string) => `runuser -u postgres -- ${tool} -p ${spec.upgrade?.postgres_port ?? DEFAULT_PORT}`;

/** What the snapshot holds besides the venv, for messages: the SQLite files and the PostgreSQL databases. */
export const snapshotDatabases = (spec: PythonVenv) => [
  ...(spec.upgrade?.databases ?? []),
  ...(spec.upgrade?.postgres ?? []).map((db) => `PostgreSQL database ${db}`),
];

/**
 * Beside the snapshots, one line each:
 *   failed     the pins of the last upgrade that was rolled back, and when: not tried again until they change
 *   migrated   the pins of the last upgrade that ended well on a venv with databases: they migrated them
 *   downloads/ what pip downloaded for an upgrade under way (resolved before anything stops)
 */
const recordOf = (spec: PythonVenv, name: 'open' | 'failed' | 'migrated') => quote(`${snapshotRoot(spec)}/${name}`);
export const downloadsDir = (spec: PythonVenv) => `${snapshotRoot(spec)}/downloads`;

/** `failed` holds `PINS rolled back at TIME`: the rollback writes it, the plan reads it back here. */
const FAILED_SEPARATOR = ' rolled back at ';
export function failedUpgrade(record: string | undefined): { pins: string; when: string } | undefined {
  if (!record?.includes(FAILED_SEPARATOR)) return undefined;
  const [pins = '', when = ''] = record.split(FAILED_SEPARATOR);
  return { pins, when };
}

/**
 * Prints `upgrade-open=ID` when an upgrade of this venv was begun and never ended (a cut connection),
 * `upgrade-failed=PINS` for the last one rolled back and `upgrade-migrated=PINS` for the last one ended.
 */
export const upgradeRecordsProbe = (spec: PythonVenv) =>
  (['open', 'failed', 'migrated'] as const)
    .map((name) => `if [ -f ${recordOf(spec, name)} ]; then echo "upgrade-${name}=$(head -n 1 ${recordOf(spec, name)})"; fi`)
    .join('\n');

interface Change {
  /** `name==version` pins before and after, for the manifest. */
  before: string[];
  after: string[];
}

/**
 * The transaction of an upgrade: `take` copies the venv and databases into a new snapshot and marks
 * it open, as its last act (a cut before that leaves no open snapshot and nothing changed).
 */
export function takeSnapshot(spec: PythonVenv, change: Change): string {
  const root = quote(snapshotRoot(spec));
  const databases = (spec.upgrade?.databases ?? []).map((db, i) => {
    const n = i + 1;
    // As the file's owner: opening a WAL database as root would leave root-owned -wal/-shm files behind.
    return `if [ -e ${quote(db)} ]; then
  rc_owner=$(stat -c %U ${quote(db)}); rc_tmp=$(runuser -u "$rc_owner" -- mktemp -d)
  runuser -u "$rc_owner" -- ${quote(`${spec.path}/bin/python`)} -c ${quote(SQLITE_BACKUP)} ${quote(db)} "$rc_tmp/copy"
  mv "$rc_tmp/copy" "$rc_new/database-${n}" && rmdir "$rc_tmp"
else : > "$rc_new/database-${n}.absent"; fi`;
  });
  // A dump is consistent while the server writes (one transaction's snapshot), and owner, encoding and all.
  const dumps = (spec.upgrade?.postgres ?? []).map(
    (db, i) => `${pgDump(db, spec.upgrade?.postgres_port)} > "$rc_new/postgres-${i + 1}.dump"`,
  );
  const manifest = [
    `venv=${spec.path}`,
    `before=${change.before.join(' ')}`,
    `after=${change.after.join(' ')}`,
    ...(spec.upgrade?.databases ?? []).map((db, i) => `database-${i + 1}=${db}`),
    ...(spec.upgrade?.postgres ?? []).map((db, i) => `postgres-${i + 1}=${db}`),
    `services=${(spec.notifies ?? []).join(' ')}`,
  ].join('\n');
  return [
    'set -e',
    `rc_id=$(date -u +%Y%m%dT%H%M%SZ); [ ! -e ${root}/"$rc_id" ] || rc_id="$rc_id-$$"`,
    `rc_new=${root}/".partial-$rc_id"`,
    `rm -rf ${root}/.partial-* && mkdir -p "$rc_new"`,
    `cp -a ${quote(spec.path)} "$rc_new/venv"`,
    ...databases,
    ...dumps,
    `for rc_unit in ${(spec.notifies ?? []).map(quote).join(' ')}; do systemctl is-active --quiet "$rc_unit" && echo "$rc_unit"; done > "$rc_new/running" || true`,
    `printf '%s\\ntaken=%s\\n' ${quote(manifest)} "$(date -u +%FT%TZ)" > "$rc_new/manifest"`,
    `mv "$rc_new" ${root}/"$rc_id"`,
    `printf '%s\\n' "$rc_id" > ${root}/open.new && mv ${root}/open.new ${root}/open`,
    `echo "snapshot ${snapshotRoot(spec)}/$rc_id"`,
  ].join('\n');
}

/**
 * Keeps the newest `keep` snapshots of upgrades that ended well, and only the newest of those rolled
 * back: failed attempts never push out the snapshot of a version that worked.
 */
const prune = (spec: PythonVenv) => {
  const root = quote(snapshotRoot(spec));
  return `rc_kept=0; rc_failed=0; for rc_s in $(ls -1 ${root} | grep '^[0-9]' | sort -r); do
  if grep -q '^rolled-back=' ${root}/"$rc_s"/manifest 2>/dev/null; then rc_failed=$((rc_failed + 1)); [ "$rc_failed" -le 1 ] || rm -rf ${root}/"$rc_s"
  elif grep -q '^committed=' ${root}/"$rc_s"/manifest 2>/dev/null; then rc_kept=$((rc_kept + 1)); [ "$rc_kept" -le ${spec.upgrade?.keep ?? DEFAULT_KEEP} ] || rm -rf ${root}/"$rc_s"; fi
done`;
};

/** pip's downloads for the upgrade that ends: the venv has them now, or is back without them. */
const dropDownloads = (spec: PythonVenv) => `rm -rf ${quote(downloadsDir(spec))}`;

/**
 * Resolves and downloads the new pins as the venv's owner, into the venv's downloads directory: a pin
 * pip cannot resolve fails here, before any snapshot is open or any service is touched.
 */
export function downloadScript(spec: PythonVenv, owner: string, pipDownload: string): string {
  const dir = quote(downloadsDir(spec));
  return `rm -rf ${dir} && mkdir -p ${quote(snapshotRoot(spec))} && install -d -o ${quote(owner)} -m 0700 ${dir}\n${pipDownload}`;
}

/** Reads the open snapshot's id into $rc_snap, or ends the script: there is nothing to undo or end. */
const openSnapshot = (spec: PythonVenv, otherwise: string) => {
  const root = quote(snapshotRoot(spec));
  return `rc_id=$(cat ${root}/open 2>/dev/null) || { echo ${quote(otherwise)}; exit 0; }\nrc_snap=${root}/"$rc_id"`;
};

/**
 * Stops the services, puts the venv and the databases back as the snapshot has them, starts again
 * the services that were running, and closes the snapshot. Each step can run again after a cut.
 */
function rollbackScript(spec: PythonVenv): string {
  const venv = quote(spec.path);
  const units = spec.notifies ?? [];
  const databases = (spec.upgrade?.databases ?? []).map((db, i) => {
    const [file, copy] = [quote(db), `"$rc_snap/database-${i + 1}"`];
    // The -wal and -shm files belong to the database being replaced: left beside the copy, they would be replayed into it.
    return `if [ -e ${copy} ]; then cp -p ${copy} ${quote(`${db}.reconcile-restore`)} && rm -f ${quote(`${db}-wal`)} ${quote(`${db}-shm`)} && mv ${quote(`${db}.reconcile-restore`)} ${file}
else rm -f ${file} ${quote(`${db}-wal`)} ${quote(`${db}-shm`)}; fi`;
  });
  return [
    'set -e',
    openSnapshot(spec, 'no upgrade snapshot is open: nothing to put back'),
    ...(units.length > 0 ? [`systemctl stop ${[...units].reverse().map(quote).join(' ')}`] : []),
    `rm -rf ${quote(`${spec.path}.reconcile-restore`)} ${quote(`${spec.path}.reconcile-old`)}`,
    `cp -a "$rc_snap/venv" ${quote(`${spec.path}.reconcile-restore`)}`,
    `if [ -e ${venv} ]; then mv ${venv} ${quote(`${spec.path}.reconcile-old`)}; fi`,
    `mv ${quote(`${spec.path}.reconcile-restore`)} ${venv} && rm -rf ${quote(`${spec.path}.reconcile-old`)}`,
    ...databases,
    // Dropped (its connections ended: the services are stopped, a stray client is not waited for) and
    // made again from the dump, as it was: its owner, encoding and everything in it.
    ...(spec.upgrade?.postgres ?? []).map(
      (db, i) =>
        `${postgresTool(spec, 'dropdb')} --force --if-exists ${quote(db)}\n${postgresTool(spec, 'pg_restore')} --create --dbname=postgres < "$rc_snap/postgres-${i + 1}.dump"`,
    ),
    `if [ -s "$rc_snap/running" ]; then systemctl start $(cat "$rc_snap/running"); fi`,
    `echo "rolled-back=$(date -u +%FT%TZ)" >> "$rc_snap/manifest"`,
    // Remembered, so that a scheduled apply does not try (and roll back) the same pins every run.
    `printf '%s${FAILED_SEPARATOR}%s\\n' "$(sed -n 's/^after=//p' "$rc_snap/manifest")" "$(date -u +%FT%TZ)" > ${recordOf(spec, 'failed')}`,
    `rm -f ${recordOf(spec, 'open')}`,
    dropDownloads(spec),
    prune(spec),
    `echo ${quote(
      `put back: ${spec.path}${snapshotDatabases(spec)
        .map((db) => ` and ${db}`)
        .join('')} from`,
    )} "$rc_snap"`,
  ].join('\n');
}

function commitScript(spec: PythonVenv): string {
  return [
    openSnapshot(spec, 'no upgrade snapshot is open'),
    `echo "committed=$(date -u +%FT%TZ)" >> "$rc_snap/manifest"`,
    ...(snapshotDatabases(spec).length > 0 ? [`sed -n 's/^after=//p' "$rc_snap/manifest" > ${recordOf(spec, 'migrated')}`] : []),
    `rm -f ${recordOf(spec, 'open')} ${recordOf(spec, 'failed')}`,
    dropDownloads(spec),
    prune(spec),
  ].join('\n');
}

export function upgradeTransaction(spec: PythonVenv): Transaction {
  const databases = snapshotDatabases(spec);
  const services = spec.notifies ?? [];
  return {
    undo: `stop ${services.join(', ') || 'nothing'}; put back ${spec.path}${databases.map((db) => ` and ${db}`).join('')} from the snapshot in ${snapshotRoot(spec)}/; start ${services.length > 0 ? 'them again, health-checked' : 'nothing'}`,
    rollback: [{ script: rollbackScript(spec) }],
    restarts: services.map(unitToken),
    commit: {
      title: `end the upgrade of ${spec.path} (keep the newest ${spec.upgrade?.keep ?? DEFAULT_KEEP} snapshots)`,
      steps: [{ script: commitScript(spec) }],
    },
  };
}
