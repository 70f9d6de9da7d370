import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'paused by hand',
    answer: { url: /work_pools\/projections-local$/, change: (pool: { is_paused: boolean }) => ({ ...pool, is_paused: true }) },
    expected: (r) => [r.name],
  },
]);
