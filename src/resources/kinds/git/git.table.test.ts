import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  { drift: 'another commit checked out', probe: { replace: /head=[0-9a-f]+/, with: `head=${'1'.repeat(40)}` }, expected: (r) => [r.name] },
]);
