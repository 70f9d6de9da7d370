import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  {
    drift: 'an older release installed',
    probe: { replace: 'package:prefect=3.8.3', with: 'package:prefect=3.8.2' },
    expected: (r) => [`download ${r.name}`, `snapshot ${r.name}`, r.name],
  },
]);
