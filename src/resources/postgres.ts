import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Action, Step } from '../model/plan.js';
import { quote } from '../shell/quote.js';
import { keyValues } from './facts.js';
import { compareAgain, type ResourcePlan } from './types.js';

/**
 * What the PostgreSQL kinds share: SQL run as the cluster's superuser (the `postgres` system user,
 * over the local socket, as Debian's packages set it up), values passed as psql variables and
 * interpolated by psql itself (`:'name'` a quoted literal, `:"name"` a quoted identifier), so no
 * value is ever spliced into SQL text; and the SCRAM-SHA-256 verifier a role's password is kept as.
 */

/** Debian's first cluster listens here. */
export const DEFAULT_PORT = 5432;

/** What a probe found: no PostgreSQL here yet, one that does not answer, or the rows of its query. */
export type ClusterFacts = { state: 'absent' } | { state: 'down'; why: string } | { state: 'up'; rows: Map<string, string> };

/** psql as the postgres user, its SQL read from the heredoc that follows; stops at the first error. */
function psql(port: number, variables: Record<string, string>): string {
  const vars = Object.entries(variables).map(([name, value]) => `-v ${name}=${quote(value)}`);
  return ['runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1', `-p ${port}`, '-d postgres', ...vars].join(' ');
}

/**
 * A probe printing `postgres=absent`, `postgres=down WHY` or `postgres=up` then the query's rows,
 * each a `key=value` line the query builds. The SQL is the kind's own constant text; values reach it
 * only as psql variables.
 */
export function clusterProbe(port: number, variables: Record<string, string>, sql: string): string {
  return [
    'if ! command -v psql >/dev/null 2>&1 || ! id -u postgres >/dev/null 2>&1; then echo postgres=absent; else',
    `if rc_pg=$(${psql(port, variables)} 2>&1 <<'RC_SQL'`,
    sql,
    'RC_SQL',
    `); then echo postgres=up; printf '%s\\n' "$rc_pg"; else echo "postgres=down $(printf '%s' "$rc_pg" | head -n 1)"; fi`,
    'fi',
  ].join('\n');
}

export function parseCluster(output: string): ClusterFacts {
  const [first = '', ...rest] = output.split('\n');
  if (first === 'postgres=absent') return { state: 'absent' };
  if (first.startsWith('postgres=down')) return { state: 'down', why: first.slice('postgres=down'.length).trim() };
  return { state: 'up', rows: keyValues(rest.join('\n')) };
}

/** The space-separated fields of the probe's `key=` row, when PostgreSQL answered and has the row. */
export function clusterRow(facts: ClusterFacts, key: string): string[] | undefined {
  return facts.state === 'up' ? facts.rows.get(key)?.split(' ') : undefined;
}

/** pg_dump of one database in its custom format, as the postgres user, to standard output. */
export const pgDump = (database: string, port = DEFAULT_PORT) =>
  `runuser -u postgres -- pg_dump --format=custom -p ${port} -d ${quote(database)}`;

/** A plan of one action in the resource's own place. */
export const actionNow = (action: Action): ResourcePlan => ({ now: [action], late: [], notifies: [] });

/** A step running SQL as the postgres user; psql's own error fails it. */
export function sqlStep(port: number, variables: Record<string, string>, sql: string): Step {
  return { script: `${psql(port, variables)} <<'RC_SQL'\n${sql}\nRC_SQL` };
}

/**
 * When the cluster cannot be read yet (its package not installed, its service not started, both
 * coming earlier in this apply), the resource is compared once it can; for a resource that should
 * be absent, no PostgreSQL means nothing to remove.
 */
export function whenClusterReadable(facts: ClusterFacts, resource: string, title: string, absent: boolean): ResourcePlan | undefined {
  if (facts.state === 'up') return undefined;
  if (facts.state === 'absent' && absent) return { now: [], late: [], notifies: [] };
  const because = facts.state === 'absent' ? 'PostgreSQL is not installed yet' : `PostgreSQL does not answer (${facts.why})`;
  // Late, as starts are: after the service this resource comes `after` has been started.
  return { now: [], late: [compareAgain(resource, title, `${because}: compared once it does`)], notifies: [] };
}

const SCRAM = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, as libpq's
 * PQencryptPasswordConn builds it): reconcile sends this, never the password, so the password is in
 * no SQL text, server log or process list on the host. Passwords are taken as NFKC-normalised
 * UTF-8, which is what SASLprep does to every password without unusual spaces or control characters.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const { storedKey, serverKey } = scramKeys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether a stored verifier is the one of this password (same salt and iterations): no password is ever read back. */
export function verifierMatches(password: string, stored: string): boolean {
  const parts = SCRAM.exec(stored);
  if (!parts) return false;
  const { storedKey, serverKey } = scramKeys(password, Buffer.from(parts[2]!, 'base64'), Number(parts[1]));
  const expected = Buffer.concat([Buffer.from(parts[3]!, 'base64'), Buffer.from(parts[4]!, 'base64')]);
  const actual = Buffer.concat([storedKey, serverKey]);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function scramKeys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** A verifier is base64 and punctuation only: safe inside an SQL literal, which this checks rather than assumes. */
export function verifierLiteral(verifier: string): string {
  if (!SCRAM.test(verifier)) throw new Error('not a SCRAM-SHA-256 verifier');
  return `'${verifier}'`;
}
