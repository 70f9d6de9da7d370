import { kindTable } from '../../../../test/kind-table.js';

interface Settings {
  home: string;
  server: { database: { driver: string | null; name: string | null } };
}
const SETTINGS = /\/admin\/settings$/;
const onDatabase = (driver: string | null, name: string | null) => (s: Settings) => ({
  ...s,
  server: { database: { ...s.server.database, driver, name } },
});

kindTable(import.meta.dirname, [
  {
    drift: 'the server still on the seed’s SQLite (Prefect’s default: no driver, no name)',
    answer: { url: SETTINGS, change: onDatabase(null, null) },
    expected: (r) => [r.name],
  },
  {
    drift: 'the server on another PostgreSQL database',
    answer: { url: SETTINGS, change: onDatabase('postgresql+asyncpg', 'projections') },
    expected: (r) => [r.name],
  },
  {
    drift: 'the server moved to PostgreSQL from the SQLite the spec names',
    from: 'sqlite',
    answer: { url: SETTINGS, change: onDatabase('postgresql+asyncpg', 'prefect') },
    expected: (r) => [r.name],
  },
  {
    drift: 'none: SQLite named by its driver and file, the same file as the default',
    from: 'sqlite',
    answer: { url: SETTINGS, change: onDatabase('sqlite+aiosqlite', '/home/daniel/.prefect/prefect.db') },
    expected: () => [],
  },
]);
