import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  { drift: 'mode changed', from: 'manifests', probe: { replace: 'mode=755', with: 'mode=700' }, expected: (r) => [r.name] },
]);
