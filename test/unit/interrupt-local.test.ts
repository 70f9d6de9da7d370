import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('Ctrl-C with connection: local', () => {
  it('reaches reconcile, not the script running: the script finishes whole, and the run exits 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interrupt-local-'));
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  here:\n    connection: local\n    address: 127.0.0.1\n');
    // The file's validation takes 2 s: long enough to be interrupted in the middle of it.
    writeFileSync(
      join(dir, 'setup.yaml'),
      `resources:\n  - kind: file\n    path: ${dir}/first\n    content: "one\\n"\n    validate: "touch ${dir}/validating && sleep 2 && touch ${dir}/validated && test -s %s"\n`,
    );
    // Its own process group, as a shell gives a foreground job: a terminal's Ctrl-C goes to the whole group.
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/reconcile.js'), 'apply', '--state-dir', join(dir, 'state')], {
      cwd: dir,
      detached: true,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', () => {});
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Other tests' local runs may hold this machine's run lock a moment: interrupt once the step runs.
    for (let waited = 0; !existsSync(join(dir, 'validating')) && waited < 15_000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    process.kill(-child.pid!, 'SIGINT');
    expect(await code).toBe(130);
    expect(existsSync(join(dir, 'validated'))).toBe(true);
    expect(readFileSync(join(dir, 'first'), 'utf8')).toBe('one\n');
    expect(stdout).toContain('+ file');
    expect(stdout).toContain(' done (');
  }, 20_000);

  it('while waiting for the run lock: exits 130 at once, leaving nothing behind that holds the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interrupt-lock-'));
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  here:\n    connection: local\n    address: 127.0.0.1\n');
    writeFileSync(join(dir, 'setup.yaml'), `resources:\n  - kind: file\n    path: ${dir}/made\n    content: "x\\n"\n`);
    const squatter = spawn('flock', ['-x', '/run/lock/reconcile.lock', 'sleep', '4']);
    await new Promise((r) => setTimeout(r, 300));
    const apply = (...extra: string[]) =>
      spawn(process.execPath, [join(process.cwd(), 'bin/reconcile.js'), 'apply', '--state-dir', join(dir, 'state'), ...extra], {
        cwd: dir,
      });
    const waiting = apply();
    const code = new Promise<number | null>((resolve) => waiting.on('close', resolve));
    await new Promise((r) => setTimeout(r, 1500));
    waiting.kill('SIGINT');
    expect(await code).toBe(130);
    await new Promise((resolve) => squatter.on('close', resolve));
    // Had the waiting script outlived the run, it would hold the lock now, and this apply would wait for it.
    const next = apply('--lock-timeout', '2');
    expect(await new Promise((resolve) => next.on('close', resolve))).toBe(0);
    expect(readFileSync(join(dir, 'made'), 'utf8')).toBe('x\n');
  }, 20_000);

  it('a read-only command (check) ends at the first signal, even while it waits for the lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'interrupt-check-'));
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  here:\n    connection: local\n    address: 127.0.0.1\n');
    writeFileSync(join(dir, 'setup.yaml'), `resources:\n  - kind: directory\n    path: ${dir}\n`);
    const squatter = spawn('flock', ['-x', '/run/lock/reconcile.lock', 'sleep', '5']);
    await new Promise((r) => setTimeout(r, 300));
    const check = spawn(process.execPath, [join(process.cwd(), 'bin/reconcile.js'), 'check', '--state-dir', join(dir, 'state')], {
      cwd: dir,
    });
    let stderr = '';
    check.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = new Promise<number | null>((resolve) => check.on('close', resolve));
    await new Promise((r) => setTimeout(r, 1000));
    const sent = Date.now();
    check.kill('SIGTERM');
    expect(await code).toBe(143);
    expect(Date.now() - sent).toBeLessThan(1500);
    expect(stderr).toContain('SIGTERM: stopped; this command changes nothing on any host');
    await new Promise((resolve) => squatter.on('close', resolve));
  }, 20_000);
});
