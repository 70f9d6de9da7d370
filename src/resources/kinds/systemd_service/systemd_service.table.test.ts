import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'stopped',
    from: 'prefect-server',
    probe: { replace: 'ActiveState=active', with: 'ActiveState=inactive' },
    expected: () => ['start prefect-server.service'],
  },
  {
    drift: 'a worker whose cancellation watcher gave up (its server was unreachable too long)',
    from: 'prefect-worker',
    probe: { replace: 'NeedDaemonReload=no\n', with: 'NeedDaemonReload=no\nCancellationLost=1\n' },
    expected: () => ['restart prefect-worker.service'],
  },
  {
    drift: 'none: a worker whose current run logged nothing of the kind',
    from: 'prefect-worker',
    probe: { replace: 'NeedDaemonReload=no\n', with: 'NeedDaemonReload=no\nCancellationLost=0\n' },
    expected: () => [],
  },
]);
