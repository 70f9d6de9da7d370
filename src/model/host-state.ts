/**
 * Everything reconcile keeps on a managed host, in one place. Under /var/lib what must outlive a
 * reboot; under /run what belongs to the processes of this boot (a lock, a gate's baseline).
 */
export const HOST_STATE = {
  /** flock(1) here: shared by plan and check, exclusive for apply. */
  lockFile: '/run/lock/reconcile.lock',
  /** The exclusive holder's note: its shell's pid, then who. */
  lockOwner: '/run/lock/reconcile.owner',
  /** One note per shared holder, named by its shell's pid. */
  lockReaders: '/run/lock/reconcile.readers',
  /** Restarts a run owed when it stopped, one file per service. */
  owed: '/var/lib/reconcile/owed',
  /** Earlier versions of files with `backup: true`, by path. */
  backups: '/var/lib/reconcile/backups',
  /** Venv snapshots, by venv path (see resources/venv-snapshot.ts). */
  upgrades: '/var/lib/reconcile/upgrades',
  /** A changed unit's previous version, until the new one passes its health gate. */
  keptUnits: '/var/lib/reconcile/units',
  /** The restart count a health gate starts from, by unit. */
  gates: '/run/reconcile/gates',
} as const;
