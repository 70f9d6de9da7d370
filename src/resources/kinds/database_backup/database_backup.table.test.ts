import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'the backup script edited by hand',
    // The script's section comes first: its sha256 is the first one.
    probe: { replace: /sha256=[0-9a-f]{64}/, with: `sha256=${'0'.repeat(64)}` },
    expected: (r) => [`${r.name} script`],
  },
  {
    drift: 'the timer stopped and disabled',
    probe: { replace: /ActiveState=active\nUnitFileState=enabled/, with: 'ActiveState=inactive\nUnitFileState=disabled' },
    expected: (r) => [`${r.name} enable and start reconcile-backup-prefect.timer`],
  },
  {
    drift: "the timer's unit edited by hand: written again, and the running timer restarted to take its schedule",
    probe: { replace: /(@@backup\n[^@]*@@backup\n[^@]*sha256=)[0-9a-f]{64}/, with: `$1${'0'.repeat(64)}` },
    expected: (r) => [`${r.name} timer`, 'daemon-reload', `${r.name} restart reconcile-backup-prefect.timer`],
  },
  {
    drift: 'the newest backup older than max_age',
    probe: { replace: /age=\d+/, with: 'age=999999' },
    expected: (r) => [`${r.name} take a backup now (reconcile-backup-prefect.service)`],
  },
  {
    drift: 'no backup left',
    probe: { replace: /newest=.*\nage=\d+\n/, with: '' },
    expected: (r) => [`${r.name} take a backup now (reconcile-backup-prefect.service)`],
  },
]);
