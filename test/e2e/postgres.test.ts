import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { quote } from '../../src/shell/quote.js';
import { reconcileWithEnv, workspace } from './helpers.js';

// Characters a connection URL would need escaped, and a shell would expand: the settings file takes them as they are.
const FIRST_PASSWORD = 's3cr3t/p@ss:w$rd!';
const SECOND_PASSWORD = 'an0ther#p@ss w0rd';

describe('examples/postgres on a bare host: Prefect on PostgreSQL from Debian’s packages', () => {
  const hosts = useTestHosts(1, 'pg');
  let host: TestHost;
  let dir: string;
  let password = FIRST_PASSWORD;
  const run = (...args: string[]) => reconcileWithEnv({ PREFECT_DB_PASSWORD: password }, dir, ...args, '--state-dir', join(dir, 'state'));
  const json = async (...args: string[]) => {
    const result = await run(...args, '--json');
    return { code: result.code, report: JSON.parse(result.stdout) as { hosts: { actions: { title: string }[]; error?: string }[] } };
  };
  const api = () => `http://${host.address}:4200/api`;
  const ready = async () => (await fetch(`${api()}/ready`).catch(() => undefined))?.status;
  /** SQL as the postgres user, in Prefect's database. */
  const sql = async (query: string) => (await ssh(host, `sudo -n -u postgres psql -XAtq -d prefect`, { input: query })).stdout.trim();

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
    // The stand-in reads PostgreSQL through Debian's psycopg2 (real Prefect brings asyncpg in its wheel).
    const setup = readFileSync('examples/postgres/setup.yaml', 'utf8').replace(
      'packages: [python3-venv, postgresql]',
      'packages: [python3-venv, postgresql, python3-psycopg2]',
    );
    expect(setup).toContain('python3-psycopg2');
    writeFileSync(join(dir, 'setup.yaml'), setup);
  });

  it('one apply brings up PostgreSQL, the role, the database and the server on it; check is then in sync', async () => {
    expect((await ssh(host, 'command -v psql || echo none')).stdout.trim()).toBe('none');
    const plan = await run('plan');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('postgres role prefect');
    expect(plan.stdout).toContain('PostgreSQL is not installed yet: compared once it does');
    const applied = await json('apply');
    expect(applied.code, JSON.stringify(applied.report.hosts.map((h) => h.error))).toBe(0);
    expect(await ready()).toBe(200);
    expect(await sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'prefect'")).toBe('t');
    expect(await sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'prefect'")).toBe('prefect');
    // The server's tables are in PostgreSQL: the deployments apply made, and a flow run made now.
    expect(await sql("SELECT doc::json->>'name' FROM deployments ORDER BY 1")).toBe('live-score\nnightly-projections');
    const live = (await (await fetch(`${api()}/deployments/name/live-score/live-score`)).json()) as { id: string };
    const created = (await (await fetch(`${api()}/deployments/${live.id}/create_flow_run`, { method: 'POST', body: '{}' })).json()) as {
      id: string;
    };
    expect(await sql(`SELECT count(*) FROM flow_runs WHERE doc::json->>'id' = '${created.id}'`)).toBe('1');
    expect((await ssh(host, 'ls /home/daniel/.prefect/prefect.db 2>/dev/null || echo none')).stdout.trim()).toBe('none');
    const check = await json('check');
    expect(check.code, JSON.stringify(check.report.hosts[0]!.actions)).toBe(0);
  }, 300_000);

  it('no password in any unit file, setting, output, run record, journal or process list; the settings file is its user’s alone', async () => {
    const outputs = [await run('plan'), await run('check', '-v')];
    for (const o of outputs) expect(o.stdout + o.stderr).not.toContain(password);
    expect(readdirSync(join(dir, 'state', 'runs')).length).toBeGreaterThan(0);
    // grep exits 1 when it finds nothing, 0 with the files it found.
    const records = spawnSync('grep', ['-rlF', '--', password, join(dir, 'state')], { encoding: 'utf8' });
    expect([records.status, records.stdout]).toEqual([1, '']);
    // The password reaches this script on its stdin, so that no process of the search itself shows it.
    const search = [
      'read -r pw',
      'ps -eo args > /tmp/processes',
      'grep -rlF -- "$pw" /etc/systemd /home/daniel/.prefect/profiles.toml /var/lib/reconcile /tmp/processes',
      'journalctl --no-pager | grep -cF -- "$pw"',
      'systemctl show -p Environment prefect-server.service',
    ].join('; ');
    const onHost = (await ssh(host, `sudo -n sh -c ${quote(search)}`, { input: `${password}\n`, allowFailure: true })).stdout;
    expect(onHost).not.toContain(password);
    expect(onHost).toMatch(/^0$/m);
    expect((await ssh(host, 'stat -c "%U %a" /home/daniel/.prefect/server-database.env')).stdout.trim()).toBe('daniel 600');
  }, 120_000);

  it('PostgreSQL stopped is drift (the server stops with it); apply starts both, and the data is still there', async () => {
    await ssh(host, 'sudo -n systemctl stop postgresql.service');
    await waitFor(async () => (await ssh(host, 'systemctl is-active prefect-server.service || true')).stdout.trim() !== 'active');
    const check = await json('check');
    expect(check.code).toBe(2);
    const titles = check.report.hosts[0]!.actions.map((a) => a.title);
    expect(titles).toEqual(expect.arrayContaining(['start postgresql.service', 'start prefect-server.service']));
    const applied = await json('apply');
    expect(applied.code, JSON.stringify(applied.report.hosts.map((h) => h.error))).toBe(0);
    expect(await ready()).toBe(200);
    expect(((await (await fetch(`${api()}/deployments/name/live-score/live-score`)).json()) as { name: string }).name).toBe('live-score');
    expect((await json('check')).code).toBe(0);
  }, 180_000);

  it('a new password: the plan shows it changed without showing it; apply sets it and restarts the server, which connects with it', async () => {
    password = SECOND_PASSWORD;
    const plan = await run('plan');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('password: [hidden] -> [hidden]');
    expect(plan.stdout).toContain('restart prefect-server.service');
    expect(plan.stdout).not.toContain(SECOND_PASSWORD);
    expect(plan.stdout).not.toContain(FIRST_PASSWORD);
    const applied = await json('apply');
    expect(applied.code, JSON.stringify(applied.report.hosts.map((h) => h.error))).toBe(0);
    expect(await ready()).toBe(200);
    // The server's connection is the new password's: the old one no longer logs in.
    const login = (pw: string) =>
      ssh(host, `read -r PGPASSWORD; export PGPASSWORD; psql -XAtq -h 127.0.0.1 -U prefect -d prefect -c 'SELECT 1'`, {
        input: `${pw}\n`,
        allowFailure: true,
      });
    expect((await login(SECOND_PASSWORD)).code).toBe(0);
    expect((await login(FIRST_PASSWORD)).code).not.toBe(0);
    expect((await json('check')).code).toBe(0);
  }, 180_000);

  it('an upgrade that never gets healthy puts the PostgreSQL database back as it was before the new release migrated it', async () => {
    const revision = () => sql('SELECT version_num FROM alembic_version');
    const madeRuns = () => sql("SELECT count(*) FROM flow_runs WHERE doc::json->>'auto_scheduled' = 'false'");
    expect(await revision()).toBe('0001_standin_383');
    const runsBefore = await madeRuns();
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    // 3.9.1 (a test release) migrates the database to its revision, then fails every start.
    writeFileSync(join(dir, 'setup.yaml'), setup.replace('prefect==3.8.3', 'prefect==3.9.1').replace('timeout: 90', 'timeout: 20'));
    const plan = await run('plan');
    expect(plan.stdout).toContain('and PostgreSQL database prefect before the upgrade');
    const failed = await run('apply');
    expect(failed.code, failed.stdout).toBe(1);
    expect(failed.stdout).toMatch(/put back: \S+\.venv and PostgreSQL database prefect from/);
    // Back on the revision 3.8.3 knows (it refuses any other), with what was written before.
    expect(await revision()).toBe('0001_standin_383');
    expect(await madeRuns()).toBe(runsBefore);
    expect(
      await sql("SELECT pg_get_userbyid(datdba) || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'prefect'"),
    ).toBe('prefect UTF8');
    expect(await ready()).toBe(200);
    expect(await (await fetch(`${api()}/admin/version`)).json()).toBe('3.8.3');
    writeFileSync(join(dir, 'setup.yaml'), setup);
    expect((await json('check')).code).toBe(0);
  }, 240_000);

  it('the data lives in PostgreSQL: with the database dropped it is gone from the server; apply makes the database and the declared objects again', async () => {
    const live = (await (await fetch(`${api()}/deployments/name/live-score/live-score`)).json()) as { id: string };
    const made = (await (await fetch(`${api()}/deployments/${live.id}/create_flow_run`, { method: 'POST', body: '{}' })).json()) as {
      id: string;
    };
    expect((await fetch(`${api()}/flow_runs/${made.id}`)).status).toBe(200);
    await ssh(host, 'sudo -n systemctl stop prefect-worker.service prefect-server.service && sudo -n -u postgres dropdb prefect');
    const check = await json('check');
    expect(check.code).toBe(2);
    expect(check.report.hosts[0]!.actions.map((a) => a.title)).toEqual(
      expect.arrayContaining(['postgres database prefect', 'start prefect-server.service']),
    );
    const applied = await json('apply');
    expect(applied.code, JSON.stringify(applied.report.hosts.map((h) => h.error))).toBe(0);
    // A new, empty database: the run made before is gone with the old one; what the setup declares is back.
    expect((await fetch(`${api()}/flow_runs/${made.id}`)).status).toBe(404);
    expect(await sql(`SELECT count(*) FROM flow_runs WHERE key = '${made.id}'`)).toBe('0');
    expect(await sql("SELECT string_agg(doc::json->>'name', ',' ORDER BY 1) FROM deployments")).toBe('live-score,nightly-projections');
    expect((await json('check')).code).toBe(0);
  }, 240_000);
});
