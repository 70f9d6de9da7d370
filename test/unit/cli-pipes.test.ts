import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = join(process.cwd(), 'bin/reconcile.js');

describe('the CLI in pipes', () => {
  it("stops writing quietly when the reader has gone, with the command's own exit code", () => {
    // `:` exits at once, so every write of reconcile meets a closed pipe (EPIPE); pipefail gives reconcile's status.
    for (const [args, status] of [
      ['--help', 0],
      ['validate', 0],
      ['validate -f does-not-exist.yaml', 1],
    ] as const) {
      const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" ${args} | :`], { encoding: 'utf8' });
      expect(piped.stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
      expect(piped.status).toBe(status);
    }
  });
});

describe('reconcile init', () => {
  it('writes a starter that validates as written, with schemas the language server finds, and never overwrites', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-init-'));
    const init = spawnSync(process.execPath, [cli, 'init', '--address', '10.20.30.40', '--user', 'alice', dir], { encoding: 'utf8' });
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('reconcile validate');
    const hosts = readFileSync(join(dir, 'hosts.yaml'), 'utf8');
    const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
    expect(hosts).toContain('address: 10.20.30.40');
    expect(setup).toContain('  user: alice ');
    expect(setup).toContain('  home: /home/alice ');
    expect(setup).not.toContain('daniel');
    for (const file of [hosts, setup]) {
      const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(file)![1]!;
      expect(existsSync(join(dir, schema))).toBe(true);
    }
    const validate = spawnSync(process.execPath, [cli, 'validate'], { cwd: dir, encoding: 'utf8' });
    expect(validate.stdout).toContain('valid: 1 host (prefect-host)');
    expect(validate.status).toBe(0);
    const again = spawnSync(process.execPath, [cli, 'init', '--address', '10.9.9.9', dir], { encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exist; init writes only new files (nothing was written)');
    expect(readFileSync(join(dir, 'hosts.yaml'), 'utf8')).toBe(hosts);
  });
});
