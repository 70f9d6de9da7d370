import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { quote } from '../../src/shell/quote.js';
import { reconcileWithEnv, workspace } from './helpers.js';

const PASSWORD = 'backup-test-password';
const SQLITE_BACKUP = `
  - kind: database_backup
    backup: notes
    sqlite: /home/daniel/notes.db
    directory: /var/backups/notes
    keep: 2
`;

/**
 * examples/postgres (with the stand-in's psycopg2), its nightly backup's keep and max_age made to fit
 * a test, and more resources, on one host.
 */
function setupWith(...more: string[]): string {
  const setup = readFileSync('examples/postgres/setup.yaml', 'utf8')
    .replace('packages: [python3-venv, postgresql]', 'packages: [python3-venv, postgresql, python3-psycopg2]')
    .replace('    keep: 7\n', '    keep: 3\n')
    .replace('    max_age: 93600\n', '    max_age: 600\n');
  if (!setup.includes('python3-psycopg2') || !setup.includes('keep: 3') || !setup.includes('max_age: 600'))
    throw new Error('examples/postgres/setup.yaml no longer reads as this test expects');
  return `${setup}${more.join('')}`;
}

describe('database_backup: backups taken while the server writes, kept N, that restore on a fresh host', () => {
  const hosts = useTestHosts(2, 'bk');
  let first: TestHost;
  let fresh: TestHost;
  let firstDir: string;
  let freshDir: string;
  const run = (dir: string, ...args: string[]) => reconcileWithEnv({ PREFECT_DB_PASSWORD: PASSWORD }, dir, ...args);
  const api = (host: TestHost) => `http://${host.address}:4200/api`;
  const backups = async (host: TestHost, dir = '/var/backups/prefect') =>
    (await ssh(host, `sudo -n ls -1A ${dir}`)).stdout.split('\n').filter(Boolean);
  /**
   * A server's deployments (id and name) and flow runs: those made through the API, and those its
   * scheduler made ahead (which a restored server's scheduler may add to).
   */
  const contents = async (host: TestHost) => {
    const post = async (path: string, body: unknown) =>
      (await (await fetch(`${api(host)}${path}`, { method: 'POST', body: JSON.stringify(body) })).json()) as {
        id: string;
        name: string;
        auto_scheduled: boolean;
      }[];
    const runs: { id: string; auto_scheduled: boolean }[] = [];
    for (let offset = 0; ; offset += 200) {
      const page = await post('/flow_runs/filter', { offset });
      runs.push(...page);
      if (page.length < 200) break;
    }
    const ids = (auto: boolean) =>
      runs
        .filter((r) => r.auto_scheduled === auto)
        .map((r) => r.id)
        .sort();
    const deployments = (await post('/deployments/filter', {})).map((d) => `${d.id} ${d.name}`).sort();
    return { deployments, made: ids(false), scheduled: ids(true) };
  };

  beforeAll(() => {
    [first, fresh] = hosts as [TestHost, TestHost];
    firstDir = workspace([first]);
    writeFileSync(join(firstDir, 'setup.yaml'), setupWith());
    freshDir = workspace([fresh]);
    writeFileSync(join(freshDir, 'setup.yaml'), setupWith());
  });

  it('one apply on a bare host installs the timer and, there being no backup yet, takes one', async () => {
    const plan = await run(firstDir, 'plan');
    expect(plan.stdout).toContain('take a backup now (reconcile-backup-prefect.service) (there is none in /var/backups/prefect)');
    const applied = await run(firstDir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    const taken = await backups(first);
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatch(/^prefect-\d{8}T\d{6}Z\.dump$/);
    expect((await ssh(first, `sudo -n stat -c '%U %a' /var/backups/prefect /var/backups/prefect/${taken[0]}`)).stdout).toBe(
      'root 700\nroot 600\n',
    );
    expect(
      (await ssh(first, 'systemctl is-enabled reconcile-backup-prefect.timer; systemctl is-active reconcile-backup-prefect.timer')).stdout,
    ).toBe('enabled\nactive\n');
    expect((await run(firstDir, 'check')).code).toBe(0);
  }, 300_000);

  it('backups taken while flow runs are written are whole, none is left half-written, the newest 3 stay', async () => {
    const live = (await (await fetch(`${api(first)}/deployments/name/live-score/live-score`)).json()) as { id: string };
    const writing = { on: true };
    let written = 0;
    const writer = (async () => {
      while (writing.on) {
        await fetch(`${api(first)}/deployments/${live.id}/create_flow_run`, { method: 'POST', body: '{}' });
        written++;
      }
    })();
    for (let i = 0; i < 4; i++) {
      await ssh(first, 'sudo -n systemctl start reconcile-backup-prefect.service');
      // Backups are named by the second they are taken.
      await new Promise((r) => setTimeout(r, 1100));
    }
    writing.on = false;
    await writer;
    expect(written).toBeGreaterThan(10);
    const kept = await backups(first);
    expect(kept).toHaveLength(3);
    for (const file of kept) {
      expect(file).toMatch(/^prefect-\d{8}T\d{6}Z\.dump$/);
      // pg_restore reads the whole archive's table of contents: a torn file fails it.
      const listed = await ssh(first, `sudo -n sh -c 'pg_restore --list < /var/backups/prefect/${file}' | grep -c 'TABLE DATA'`);
      expect(Number(listed.stdout.trim())).toBeGreaterThan(5);
    }
  }, 120_000);

  it('the newest backup restores on a fresh host (the README’s steps) to a server with the same deployments and flow runs', async () => {
    const before = await contents(first);
    expect(before.made.length).toBeGreaterThan(10);
    await ssh(first, 'sudo -n systemctl start reconcile-backup-prefect.service');
    const newest = (await backups(first)).sort().at(-1)!;
    const applied = await run(freshDir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    // The fresh server made its own deployments (other ids) and has no flow runs yet.
    expect((await contents(fresh)).made).toEqual([]);
    const dump = (await ssh(first, `sudo -n base64 -w0 /var/backups/prefect/${newest}`)).stdout;
    await ssh(fresh, 'base64 -d > /tmp/prefect.dump', { input: dump });
    const readme = readFileSync('README.md', 'utf8');
    const steps = /<!-- restore-postgres -->\n```sh\n([^]*?)```/.exec(readme)?.[1];
    expect(steps, 'the README has the restore steps').toBeDefined();
    await ssh(fresh, `sudo -n sh -ec ${quote(steps!.replace('BACKUP_FILE', '/tmp/prefect.dump'))}`);
    await expect.poll(async () => (await fetch(`${api(fresh)}/ready`).catch(() => undefined))?.status, { timeout: 60_000 }).toBe(200);
    const after = await contents(fresh);
    expect(after.deployments).toEqual(before.deployments);
    expect(after.made).toEqual(before.made);
    // What the scheduler had made is there too; the restored server's scheduler may have added runs since.
    expect(after.scheduled).toEqual(expect.arrayContaining(before.scheduled));
  }, 300_000);

  it('check drifts when the newest backup is older than max_age; apply takes one, keeping 3', async () => {
    const setup = readFileSync(join(firstDir, 'setup.yaml'), 'utf8');
    writeFileSync(join(firstDir, 'setup.yaml'), setup.replace('max_age: 600', 'max_age: 5'));
    await new Promise((r) => setTimeout(r, 6000));
    const check = await run(firstDir, 'check');
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(
      /take a backup now \(reconcile-backup-prefect\.service\) \(the newest, prefect-\S+\.dump, is \d+ s old \(max_age 5 s\)\)/,
    );
    const applied = await run(firstDir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    expect(await backups(first)).toHaveLength(3);
    writeFileSync(join(firstDir, 'setup.yaml'), setup);
  }, 120_000);

  it('an SQLite database in WAL mode, written to meanwhile, is copied whole as its owner', async () => {
    // A database of daniel's, in WAL mode like Prefect's, with a writer that keeps adding rows.
    const writer = [
      'import sqlite3, time',
      'db = sqlite3.connect("/home/daniel/notes.db", isolation_level=None)',
      'db.execute("PRAGMA journal_mode=WAL")',
      'db.execute("CREATE TABLE IF NOT EXISTS notes (n INTEGER)")',
      'for n in range(100000):',
      '    db.execute("INSERT INTO notes VALUES (?)", (n,))',
      '    time.sleep(0.001)',
    ].join('\n');
    await ssh(fresh, 'cat > /home/daniel/writer.py', { input: writer });
    await ssh(fresh, 'sudo -n systemd-run --unit=notes-writer --uid=daniel python3 /home/daniel/writer.py');
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(join(freshDir, 'setup.yaml'), setupWith(SQLITE_BACKUP));
    const applied = await run(freshDir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    await ssh(fresh, 'sudo -n systemctl start reconcile-backup-notes.service');
    await new Promise((r) => setTimeout(r, 1100));
    await ssh(fresh, 'sudo -n systemctl start reconcile-backup-notes.service');
    await ssh(fresh, 'sudo -n systemctl stop notes-writer');
    const kept = await backups(fresh, '/var/backups/notes');
    expect(kept).toHaveLength(2);
    for (const file of kept) {
      const copy = `/var/backups/notes/${file}`;
      const checked = await ssh(
        fresh,
        `sudo -n python3 -c 'import sqlite3, sys; d = sqlite3.connect(sys.argv[1]); print(d.execute("PRAGMA integrity_check").fetchone()[0], d.execute("SELECT count(*) FROM notes").fetchone()[0])' ${copy}`,
      );
      const [integrity, rows] = checked.stdout.trim().split(' ');
      expect(integrity).toBe('ok');
      expect(Number(rows)).toBeGreaterThan(100);
    }
    // The database's own files are still its owner's: the backup ran as daniel, not root.
    expect((await ssh(fresh, 'stat -c %U /home/daniel/notes.db /home/daniel/notes.db-wal /home/daniel/notes.db-shm')).stdout).toBe(
      'daniel\ndaniel\ndaniel\n',
    );
  }, 300_000);
});
