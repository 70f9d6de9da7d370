import { kindTable } from '../../../../test/kind-table.js';

kindTable(import.meta.dirname, [
  { drift: 'profiles.toml gone', probe: { replace: /@@profiles\n[^]*$/, with: '@@profiles\ntype=absent\n' }, expected: (r) => [r.name] },
]);
