import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';

/** As a new user gets it: the packed tarball installed into a prefix of its own, used from an empty directory. */
describe('the package as a user installs it', () => {
  const hosts = useTestHosts(1, 'pk');
  let host: TestHost;
  const root = mkdtempSync(join(tmpdir(), 'reconcile-pack-'));
  const bin = join(root, 'prefix/bin/reconcile');
  const work = join(root, 'work');
  const sh = (command: string, cwd = work) =>
    spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  beforeAll(() => {
    host = hosts[0]!;
    // From a clean clone, with no dist/: `npm pack` must build what it ships (prepack).
    const clone = join(root, 'clone');
    const cloned = sh(
      `git clone --quiet ${process.cwd()} ${clone} && ln -s ${process.cwd()}/node_modules ${clone}/node_modules && test ! -e ${clone}/dist`,
      process.cwd(),
    );
    expect(cloned.status, cloned.stderr).toBe(0);
    const packed = sh(`npm pack --pack-destination ${root} --silent 2>/dev/null | tail -n 1`, clone);
    expect(packed.status, packed.stderr).toBe(0);
    // No install script is needed (ssh2 falls back to Node's crypto); without the flag npm warns about ssh2's.
    const installed = sh(
      `npm install -g --ignore-scripts --prefix ${root}/prefix ${root}/${packed.stdout.trim()} --no-audit --no-fund --prefer-offline`,
      process.cwd(),
    );
    expect(installed.status, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/warn/i);
    mkdirSync(work);
  }, 180_000);

  it('starts from an empty directory: version, init, validate, plan against a host', () => {
    const version = sh(`${bin} --version`);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
    const init = sh(`${bin} init --address ${host.address} --user daniel`);
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/reconcile validate[\s\S]*reconcile plan[\s\S]*reconcile apply/);
    // This test host's key and known_hosts, where a user would keep theirs.
    const hostsFile = join(work, 'hosts.yaml');
    writeFileSync(
      hostsFile,
      readFileSync(hostsFile, 'utf8').replace(
        'identity_file: ~/.ssh/id_ed25519',
        `identity_file: ${host.identity_file}\n    known_hosts: ${host.known_hosts}`,
      ),
    );
    expect(sh(`${bin} validate`).status).toBe(0);
    const plan = sh(`${bin} plan`);
    expect(plan.stdout).toContain('+ venv /home/daniel/projects/projections-v2/.venv');
    expect(plan.status, plan.stderr).toBe(2);
    // A pager or `head` that stops reading early ends the output, not with a stack trace.
    const piped = sh(`set -o pipefail; ${bin} plan | head -1`);
    expect(piped.stdout).toBe(`${plan.stdout.split('\n')[0]}\n`);
    expect(piped.stdout).toContain(`prefect-host (${host.address})`);
    expect(piped.stderr).toBe('');
    expect(piped.status).toBe(2);
  }, 60_000);
});
