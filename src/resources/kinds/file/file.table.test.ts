import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  { drift: 'content changed', probe: { replace: /sha256=[0-9a-f]+/, with: `sha256=${'0'.repeat(64)}` }, expected: (r) => [r.name] },
]);
