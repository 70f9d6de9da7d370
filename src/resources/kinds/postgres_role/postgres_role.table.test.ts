import { kindTable } from '../../../../test/kind-table.js';

// Another password's verifier, made by PostgreSQL (see postgres.test.ts).
const OTHER =
  'SCRAM-SHA-256$4096:SDT9ZBTCrlxrhFhayXdCJA==$KH3l1XKrNrvel6CRVGVvWUJl3JdreqEO/ew5PI5seEw=:EfUV1PiiFLHtWIr9UzGiDIoUxndKg0giqNA52JdwoKs=';

kindTable(import.meta.dirname, [
  { drift: 'password changed by hand', probe: { replace: /SCRAM-SHA-256\S+/, with: OTHER }, expected: (r) => [r.name] },
  { drift: 'password removed', probe: { replace: / SCRAM-SHA-256\S+/, with: ' ' }, expected: (r) => [r.name] },
  { drift: 'no longer allowed to log in', probe: { replace: 'role=true', with: 'role=false' }, expected: (r) => [r.name] },
  { drift: 'dropped', probe: { replace: /role=.*\n/, with: '' }, expected: (r) => [r.name] },
  {
    drift: 'PostgreSQL stopped: compared once it is started',
    probe: { replace: /^postgres=up\n[^]*$/, with: 'postgres=down psql: error: connection to server on socket failed\n' },
    expected: (r) => [`compare ${r.name}`],
  },
]);
