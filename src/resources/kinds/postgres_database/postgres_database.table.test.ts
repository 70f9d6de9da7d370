import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  { drift: 'owner changed by hand', probe: { replace: 'database=prefect ', with: 'database=postgres ' }, expected: (r) => [r.name] },
  { drift: 'dropped', probe: { replace: /database=.*\n/, with: '' }, expected: (r) => [r.name] },
  // An encoding cannot change in place: a problem, not an action that would drop the data.
  { drift: 'another encoding', probe: { replace: ' UTF8', with: ' SQL_ASCII' }, expected: () => [] },
  {
    drift: 'PostgreSQL not installed: compared once it is',
    probe: { replace: /^postgres=up\n[^]*$/, with: 'postgres=absent\n' },
    expected: (r) => [`compare ${r.name}`],
  },
]);
