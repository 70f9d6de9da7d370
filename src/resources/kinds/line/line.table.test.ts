import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [{ drift: 'file gone', probe: { replace: /^[^]*$/, with: 'type=absent\n' }, expected: (r) => [r.name] }]);
