import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { quote } from '../../src/shell/quote.js';
import { reconcileWithEnv, repoSetup, workspace } from './helpers.js';

const PASSWORD = 'm0ve:d@ta/s';
const SQLITE = '/home/daniel/.prefect/prefect.db';

// A variable both setups declare: the move must bring it to PostgreSQL from the spec.
const variable = (host: TestHost) =>
  [
    '  - kind: prefect_variable',
    '    variable: default_league',
    '    value: {league: nba}',
    `    api_url: http://${host.address}:4200/api`,
    '    after: [prefect-server.service]',
    '',
  ].join('\n');

describe('the move from SQLite to PostgreSQL in one apply (examples/postgres over the seed’s setup)', () => {
  const hosts = useTestHosts(1, 'mv');
  let host: TestHost;
  let dir: string;
  const run = (...args: string[]) => reconcileWithEnv({ PREFECT_DB_PASSWORD: PASSWORD }, dir, ...args, '--state-dir', join(dir, 'state'));
  const api = () => `http://${host.address}:4200/api`;
  const get = async (path: string) => {
    const response = await fetch(`${api()}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const names = async (path: string) =>
    ((await (await fetch(`${api()}${path}`, { method: 'POST', body: '{}' })).json()) as { name: string }[]).map((o) => o.name).sort();
  /** SQL as the postgres user, in Prefect's database. */
  const sql = async (query: string) => (await ssh(host, 'sudo -n -u postgres psql -XAtq -d prefect', { input: query })).stdout.trim();
  /** A query of the SQLite file, read-only, through Python's sqlite3 (the host has no sqlite3 CLI). */
  const sqlite = async (query: string) =>
    (
      await ssh(
        host,
        `python3 -c ${quote(`import sqlite3,sys; print(sqlite3.connect("file:${SQLITE}?mode=ro", uri=True).execute(sys.stdin.read()).fetchone()[0])`)}`,
        { input: query },
      )
    ).stdout.trim();

  beforeAll(async () => {
    host = hosts[0]!;
    dir = workspace(hosts);
    writeFileSync(join(dir, 'setup.yaml'), repoSetup() + variable(host));
    const first = await run('apply');
    expect(first.code, first.stdout + first.stderr).toBe(0);
  }, 300_000);

  it('the plan says what moves and what stays; one apply moves the server, the objects follow from the spec, history stays in the kept SQLite file', async () => {
    const before = { deployments: await names('/deployments/filter'), pools: await names('/work_pools/filter') };
    expect(before.deployments).toEqual(['live-score', 'nightly-projections']);
    const live = (await get('/deployments/name/live-score/live-score')).body as { id: string };
    const made = (await (await fetch(`${api()}/deployments/${live.id}/create_flow_run`, { method: 'POST', body: '{}' })).json()) as {
      id: string;
    };

    // The seed's setup, as a user edits it: examples/postgres (plus the package the stand-in needs, and the variable).
    const postgres = readFileSync('examples/postgres/setup.yaml', 'utf8').replace(
      'packages: [python3-venv, postgresql]',
      'packages: [python3-venv, postgresql, python3-psycopg2]',
    );
    writeFileSync(join(dir, 'setup.yaml'), postgres + variable(host));

    const plan = await run('plan');
    expect(plan.code, plan.stdout).toBe(2);
    expect(plan.stdout).toContain(`database: SQLite ${SQLITE} -> PostgreSQL database prefect`);
    expect(plan.stdout).toContain(
      `flow runs, their logs and what the setup does not declare stay in SQLite ${SQLITE}, which is kept as it is`,
    );
    for (const what of ['work pool projections-local', 'variable default_league', 'deployments of']) {
      expect(plan.stdout).toMatch(new RegExp(`${what}.*compared again when apply reaches it`));
    }
    expect(plan.stdout).toContain('restart prefect-worker.service');
    expect(plan.stdout).not.toContain(PASSWORD);

    const applied = await run('apply');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    // Every action the log named as running (still at it after 2 s) is said to be done later: none is left running.
    const named = [...applied.stdout.matchAll(/^(.*): running$/gm)].map((m) => m[1]!);
    for (const label of named) expect(applied.stdout.slice(applied.stdout.indexOf(`${label}: running`))).toContain(`${label} done`);
    // The server answers from PostgreSQL: the same deployments, pool and variable, in PostgreSQL's tables.
    expect(await names('/deployments/filter')).toEqual(before.deployments);
    expect(await names('/work_pools/filter')).toEqual(before.pools);
    expect((await get('/variables/name/default_league')).body.value).toEqual({ league: 'nba' });
    expect(await sql("SELECT string_agg(doc::json->>'name', ',' ORDER BY 1) FROM deployments")).toBe('live-score,nightly-projections');
    expect(await sql("SELECT count(*) FROM work_pools WHERE doc::json->>'name' = 'projections-local'")).toBe('1');
    expect(await sql("SELECT count(*) FROM variables WHERE doc::json->>'name' = 'default_league'")).toBe('1');
    // The flow run made before stays where it was: not on the server now, still in the SQLite file, which is kept.
    expect((await get(`/flow_runs/${made.id}`)).status).toBe(404);
    expect(await sqlite(`SELECT count(*) FROM flow_runs WHERE key = '${made.id}'`)).toBe('1');
    const check = await run('check');
    expect(check.code, check.stdout).toBe(0);
  }, 400_000);

  it('a server that does not move as declared fails the apply, saying what still differs', async () => {
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    // The declaration names another database than the one the server's settings give it.
    writeFileSync(join(dir, 'setup.yaml'), setup.replace(/(kind: prefect_server_database[^]*?postgres: )prefect/, '$1projections'));
    const applied = await run('apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(
      'still differs when read again: database: PostgreSQL database prefect -> PostgreSQL database projections',
    );
    writeFileSync(join(dir, 'setup.yaml'), setup);
    expect((await run('check')).code).toBe(0);
  }, 120_000);
});
