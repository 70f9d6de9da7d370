import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateReport } from '../report-schema.js';

const cli = join(process.cwd(), 'bin/reconcile.js');
const run = (cwd: string, ...argv: string[]) =>
  spawnSync(process.execPath, [cli, ...argv], { cwd, encoding: 'utf8', env: { ...process.env, RECONCILE_STATE_DIR: join(cwd, 'state') } });

/** A directory with a starter pair of spec files (reconcile init), and one without. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-habits-'));
  expect(run(dir, 'init', '--address', '10.0.0.9', '--user', 'alice').status).toBe(0);
  return dir;
}

describe('commands as an operator types them', () => {
  it('answers an unknown command with the nearest one and the list, exit 1', () => {
    const typo = run(tmpdir(), 'aply');
    expect(typo.status).toBe(1);
    expect(typo.stderr).toContain("unknown command 'aply' (did you mean 'apply'?)");
    expect(typo.stderr).toContain('the commands are init, validate, plan, apply, check');
  });

  it('has `help` and `help COMMAND`, the same text as --help', () => {
    expect(run(tmpdir(), 'help', 'check').stdout).toBe(run(tmpdir(), 'check', '--help').stdout);
    expect(run(tmpdir(), 'help').stdout).toContain('completion');
  });
});

describe('finding hosts.yaml and setup.yaml', () => {
  it('from a subdirectory, uses the nearest directory above that has both, and says so', () => {
    const dir = project();
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    const found = run(join(dir, 'a/b'), 'validate');
    expect(found.status, found.stderr).toBe(0);
    expect(found.stderr).toContain(`reconcile: using ../../hosts.yaml and ../../setup.yaml (found in ${dir})`);
    expect(found.stdout).toContain('(../../hosts.yaml, ../../setup.yaml)');
  });

  it('-i DIR/hosts.yaml reads DIR/setup.yaml, and -f DIR/setup.yaml reads DIR/hosts.yaml', () => {
    const dir = project();
    const elsewhere = mkdtempSync(join(tmpdir(), 'reconcile-elsewhere-'));
    expect(run(elsewhere, '-i', join(dir, 'hosts.yaml'), 'validate').stdout).toContain(`(${dir}/hosts.yaml, ${dir}/setup.yaml)`);
    expect(run(elsewhere, 'validate', '-f', join(dir, 'setup.yaml')).stdout).toContain(`(${dir}/hosts.yaml, ${dir}/setup.yaml)`);
  });

  it('with none anywhere, names reconcile init, -i and -f', () => {
    const empty = mkdtempSync(join(tmpdir(), 'reconcile-nothing-'));
    const missing = run(empty, 'check');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`no hosts.yaml and setup.yaml in ${empty} or any directory above it`);
    expect(missing.stderr).toMatch(/reconcile init.*-i HOSTS\.yaml and -f SETUP\.yaml/);
  });
});

describe('--json stays JSON when a command stops before any host', () => {
  it('plan, check and apply print a report (result error, no hosts, why) in the published schema', () => {
    const empty = mkdtempSync(join(tmpdir(), 'reconcile-nothing-'));
    for (const command of ['plan', 'check', 'apply']) {
      const stopped = run(empty, command, '--json');
      expect(stopped.status).toBe(1);
      const report = JSON.parse(stopped.stdout) as { command: string; result: string; hosts: unknown[]; error: string };
      expect(validateReport(report)).toEqual([]);
      expect([report.command, report.result, report.hosts]).toEqual([command, 'error', []]);
      expect(report.error).toContain('no hosts.yaml and setup.yaml');
    }
  });

  it('spec problems are listed with their place; validate says valid: false with the same problems', () => {
    const dir = project();
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  web:\n    adress: 10.0.0.1\n');
    const check = run(dir, 'check', '--json');
    const report = JSON.parse(check.stdout) as { specProblems: { file: string; line: number; message: string }[] };
    expect(validateReport(report)).toEqual([]);
    expect(report.specProblems[0]).toMatchObject({ file: 'hosts.yaml', line: 3 });
    expect(check.stderr).toContain('hosts.yaml:3:');
    const validate = JSON.parse(run(dir, 'validate', '--json').stdout) as { valid: boolean; specProblems: unknown[] };
    expect(validate).toEqual({ valid: false, specProblems: report.specProblems });
  });

  it('a usage error (--limit naming no host) is a report with its message', () => {
    const dir = project();
    const report = JSON.parse(run(dir, 'plan', '--json', '--limit', 'nope').stdout) as { error: string };
    expect(validateReport(report)).toEqual([]);
    expect(report.error).toContain("--limit: no host or group 'nope'");
  });
});

describe('a scheduled check that could not work is not installed', () => {
  it('refuses a secret read from an environment variable, which cron and timers do not pass on; --dry-run says it would', () => {
    const dir = project();
    writeFileSync(join(dir, 'setup.yaml'), `secrets:\n  api_token: { env: API_TOKEN }\n${readFileSync(join(dir, 'setup.yaml'), 'utf8')}`);
    const before = spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout;
    const refused = run(dir, 'schedule', 'install', '--cron', '*/5 * * * *');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      "secret 'api_token' comes from the environment variable API_TOKEN, which a scheduled check does not get",
    );
    expect(spawnSync('crontab', ['-l'], { encoding: 'utf8' }).stdout).toBe(before);
    const dry = run(dir, 'schedule', 'install', '--cron', '*/5 * * * *', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stderr).toContain("an install would be refused: secret 'api_token'");
  });
});
