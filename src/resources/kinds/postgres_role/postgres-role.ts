import type { FieldChange, Step } from '../../../model/plan.js';
import type { PostgresRole } from '../../../model/generated/setup.js';
import {
  actionNow,
  clusterProbe,
  clusterRow,
  DEFAULT_PORT,
  parseCluster,
  scramVerifier,
  sqlStep,
  verifierLiteral,
  verifierMatches,
  whenClusterReadable,
  type ClusterFacts,
} from '../../postgres.js';
import { afterReferences, noChanges, postgresRoleToken, type ResourceType } from '../../types.js';

const HIDDEN = '[hidden]';

/** The role as pg_authid has it, or null when there is none. */
interface RoleFacts {
  cluster: ClusterFacts;
  role: { login: boolean; verifier: string } | null;
}

/**
 * postgres_role: a role of the host's PostgreSQL cluster, able to log in or not, with a password
 * from `secrets:`. Read from pg_authid as the postgres user; the stored SCRAM verifier is compared
 * with one computed here from the secret and the stored salt, so the password is never read back,
 * shown, or sent: a changed one is set by sending a new verifier.
 */
export const postgresRole: ResourceType<PostgresRole, RoleFacts> = {
  kind: 'postgres_role',
  defaultName: (spec) => `postgres_role:${spec.role}`,
  provides: (spec) => [postgresRoleToken(spec.role)],
  references: (spec) => afterReferences(spec.after),
  probe: (spec) =>
    clusterProbe(
      spec.port ?? DEFAULT_PORT,
      { role: spec.role },
      "SELECT 'role=' || rolcanlogin::text || ' ' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname = :'role';",
    ),
  parse(_spec, output) {
    const cluster = parseCluster(output);
    const row = clusterRow(cluster, 'role');
    if (!row) return { cluster, role: null };
    const [login = '', verifier = ''] = row;
    return { cluster, role: { login: login === 'true', verifier } };
  },
  plan(spec, actual, context) {
    const name = spec.name ?? postgresRole.defaultName(spec);
    const absent = spec.state === 'absent';
    const title = `postgres role ${spec.role}`;
    const waiting = whenClusterReadable(actual.cluster, name, title, absent);
    if (waiting) return waiting;
    if (spec.password !== undefined && !context.isSecret(spec.password))
      return { ...noChanges(), problems: ['the password is given in clear: put it under secrets: and write {{ NAME }} here'] };
    const port = spec.port ?? DEFAULT_PORT;
    const role = actual.role;
    if (absent) {
      if (!role) return noChanges();
      const drop = sqlStep(port, { role: spec.role }, 'DROP ROLE :"role";');
      return actionNow({ id: name, resource: name, verb: 'remove', title: `drop ${title}`, fields: [], steps: [drop] });
    }
    const login = spec.login ?? true;
    const passwordDiffers = spec.password !== undefined && !(role && verifierMatches(spec.password, role.verifier));
    const fields: FieldChange[] = [
      ...(role?.login !== login ? [{ field: 'login', before: role ? String(role.login) : null, after: String(login) }] : []),
      ...(passwordDiffers ? [{ field: 'password', before: role?.verifier ? HIDDEN : null, after: HIDDEN }] : []),
    ];
    if (role && fields.length === 0) return noChanges();
    const steps: Step[] = [
      sqlStep(port, { role: spec.role }, `${role ? 'ALTER' : 'CREATE'} ROLE :"role" WITH ${login ? 'LOGIN' : 'NOLOGIN'};`),
      // The verifier travels in the script, never the password, and never as a command-line argument.
      ...(passwordDiffers
        ? [sqlStep(port, { role: spec.role }, `ALTER ROLE :"role" PASSWORD ${verifierLiteral(scramVerifier(spec.password!))};`)]
        : []),
    ];
    return actionNow({ id: name, resource: name, verb: role ? 'update' : 'create', title, fields: role ? fields : [], steps });
  },
};
