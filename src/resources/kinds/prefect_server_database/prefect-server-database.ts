import type { Action } from '../../../model/plan.js';
import type { PrefectServerDatabase } from '../../../model/generated/setup.js';
import { apiBase, readServerObject } from '../../server-object.js';
import {
  afterReferences,
  compareWhenUp,
  noChanges,
  notifyReferences,
  prefectServerDataToken,
  type ResourceType,
  unitToken,
} from '../../types.js';

/** The part of GET /api/admin/settings read here (secrets are '**********' in it). */
interface ServerSettings {
  home: string;
  server: { database: { driver: string | null; name: string | null } };
}

interface DatabaseFacts {
  /** The database the server says it runs on, as plans name it; undefined when it did not answer. */
  database?: string;
  unreachable?: string;
}

const POSTGRES_DRIVER = 'postgresql+asyncpg';

const postgresLabel = (database: string) => `PostgreSQL database ${database}`;
const sqliteLabel = (path: string) => `SQLite ${path}`;

/** The database the spec names, as plans name it. */
const wantedLabel = (spec: PrefectServerDatabase) => (spec.postgres ? postgresLabel(spec.postgres) : sqliteLabel(spec.sqlite!));

/**
 * Where the server keeps its state, from its settings as default_database_connection_url reads them:
 * the PostgreSQL driver with a database name, the SQLite driver with a file, or else SQLite's default
 * file in PREFECT_HOME (a connection URL alone is hidden by the server, so it reads as the default).
 */
function serverDatabase(settings: ServerSettings): string {
  const { driver, name } = settings.server.database;
  if (driver === POSTGRES_DRIVER) return postgresLabel(name ?? '(no name)');
  if (driver === 'sqlite+aiosqlite' && name) return sqliteLabel(name);
  return sqliteLabel(`${settings.home.replace(/\/$/, '')}/prefect.db`);
}

/**
 * prefect_server_database: which database the Prefect server runs on, as the server says. It writes
 * nothing: the server's settings move it. When the server is on another database than the spec's,
 * the plan says what the move does and does not carry (Prefect has no migrator), the objects kept on
 * that server are compared again once it has moved, and apply checks that it did.
 */
export const prefectServerDatabase: ResourceType<PrefectServerDatabase, DatabaseFacts> = {
  kind: 'prefect_server_database',
  defaultName: (spec) => `prefect_server_database:${apiBase(spec)}`,
  references: (spec) => [
    ...afterReferences(spec.after),
    ...notifyReferences(spec.notifies),
    // Every object this setup keeps on the server is compared after it, so that it can tell them the server moved.
    { field: ['api_url'], token: prefectServerDataToken(apiBase(spec)), what: 'a Prefect object', before: true, ifDeclared: true },
  ],
  check: (spec) =>
    (spec.sqlite === undefined) === (spec.postgres === undefined)
      ? [{ field: [], message: 'give the server’s database as either postgres: NAME or sqlite: PATH (one of them)' }]
      : [],
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    const url = `${apiBase(spec)}/admin/settings`;
    const read = await readServerObject<ServerSettings>(http, url);
    if ('unreachable' in read) return { into: () => ({ unreachable: read.unreachable }) };
    if (!read.found) throw new Error(`${url} answered 404: not the API of a Prefect 3 server`);
    const facts: DatabaseFacts = { database: serverDatabase(read.found) };
    return { into: () => facts };
  },
  plan(spec, actual) {
    const resource = spec.name ?? prefectServerDatabase.defaultName(spec);
    const title = `database of the Prefect server at ${apiBase(spec)}`;
    if (actual.unreachable) return compareWhenUp(resource, title, { url: apiBase(spec), why: actual.unreachable });
    const wanted = wantedLabel(spec);
    if (actual.database === wanted) return noChanges();
    const move: Action = {
      id: resource,
      resource,
      verb: 'update',
      title,
      fields: [{ field: 'database', before: actual.database ?? null, after: wanted }],
      because:
        'Prefect has no migrator: the deployments, work pools, queues, variables, blocks, automations and concurrency limits ' +
        `this setup declares are made again there once the server has moved; flow runs, their logs and what the setup does not declare stay in ${actual.database}, which is kept as it is`,
      // Read again once the server has restarted on its new settings: it must then say the wanted database.
      steps: [{ replan: { resource } }],
    };
    return { now: [], late: [move], notifies: [prefectServerDataToken(apiBase(spec)), ...(spec.notifies ?? []).map(unitToken)] };
  },
};
