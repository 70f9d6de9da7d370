import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'stopped',
    from: 'prefect-server',
    probe: { replace: 'ActiveState=active', with: 'ActiveState=inactive' },
    expected: () => ['start prefect-server.service'],
  },
]);
