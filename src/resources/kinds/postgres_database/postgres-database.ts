import type { FieldChange } from '../../../model/plan.js';
import type { PostgresDatabase } from '../../../model/generated/setup.js';
import {
  actionNow,
  clusterProbe,
  clusterRow,
  DEFAULT_PORT,
  parseCluster,
  sqlStep,
  whenClusterReadable,
  type ClusterFacts,
} from '../../postgres.js';
import { afterReferences, noChanges, postgresDatabaseToken, postgresRoleToken, type ResourceType } from '../../types.js';

const DEFAULT_ENCODING = 'UTF8';

/** The database as pg_database has it, or null when there is none. */
interface DatabaseFacts {
  cluster: ClusterFacts;
  database: { owner: string; encoding: string } | null;
}

/**
 * postgres_database: a database of the host's PostgreSQL cluster, its owner and encoding. Made from
 * template0 (so any encoding the cluster's locale allows); a changed owner is handed over; an
 * encoding cannot change in place, which the plan says rather than dropping data. Its owner's
 * postgres_role, when declared, comes first.
 */
export const postgresDatabase: ResourceType<PostgresDatabase, DatabaseFacts> = {
  kind: 'postgres_database',
  defaultName: (spec) => `postgres_database:${spec.database}`,
  provides: (spec) => [postgresDatabaseToken(spec.database)],
  references: (spec) => [
    ...afterReferences(spec.after),
    ...(spec.owner ? [{ field: ['owner'], token: postgresRoleToken(spec.owner), what: 'a postgres_role', ifDeclared: true as const }] : []),
  ],
  probe: (spec) =>
    clusterProbe(
      spec.port ?? DEFAULT_PORT,
      { database: spec.database },
      "SELECT 'database=' || pg_get_userbyid(datdba) || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = :'database';",
    ),
  parse(_spec, output) {
    const cluster = parseCluster(output);
    const row = clusterRow(cluster, 'database');
    if (!row) return { cluster, database: null };
    const [owner = '', encoding = ''] = row;
    return { cluster, database: { owner, encoding } };
  },
  plan(spec, actual) {
    const name = spec.name ?? postgresDatabase.defaultName(spec);
    const absent = spec.state === 'absent';
    const title = `postgres database ${spec.database}`;
    const waiting = whenClusterReadable(actual.cluster, name, title, absent);
    if (waiting) return waiting;
    const port = spec.port ?? DEFAULT_PORT;
    const found = actual.database;
    const vars = { database: spec.database, owner: spec.owner ?? 'postgres', encoding: spec.encoding ?? DEFAULT_ENCODING };
    if (absent) {
      if (!found) return noChanges();
      const drop = sqlStep(port, vars, 'DROP DATABASE :"database";');
      return actionNow({ id: name, resource: name, verb: 'remove', title: `drop ${title}`, fields: [], steps: [drop] });
    }
    if (!found) {
      const create = sqlStep(port, vars, `CREATE DATABASE :"database" OWNER :"owner" ENCODING :'encoding' TEMPLATE template0;`);
      return actionNow({ id: name, resource: name, verb: 'create', title, fields: [], steps: [create] });
    }
    if (encodingKey(found.encoding) !== encodingKey(vars.encoding))
      return {
        ...noChanges(),
        problems: [
          `${title} is encoded ${found.encoding}, not ${vars.encoding}: an encoding cannot change in place (dump it, drop it, let apply make it again, restore)`,
        ],
      };
    if (found.owner === vars.owner) return noChanges();
    const fields: FieldChange[] = [{ field: 'owner', before: found.owner, after: vars.owner }];
    const hand = sqlStep(port, vars, 'ALTER DATABASE :"database" OWNER TO :"owner";');
    return actionNow({ id: name, resource: name, verb: 'update', title, fields, steps: [hand] });
  },
};

/** UTF8, utf-8 and UTF_8 are one encoding to PostgreSQL. */
const encodingKey = (encoding: string) => encoding.toUpperCase().replace(/[-_]/g, '');
