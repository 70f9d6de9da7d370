import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  { drift: 'removed', probe: { replace: /pkg=python3-venv\tii [^\n]*\n/, with: '' }, expected: () => ['package:python3-venv'] },
]);
