import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, repoSetup, workspace } from './helpers.js';

const installed = async (host: TestHost, name: string) =>
  (await ssh(host, `dpkg-query -W -f='\${db:Status-Abbrev}' ${name} 2>/dev/null`, { allowFailure: true })).stdout === 'ii ';

/** The repo's setup on a host as bare as a fresh cloud image, on each Debian release test hosts run. */
describe.each([
  ['bookworm', '3.11', 252],
  ['trixie', '3.13', 257],
] as const)("the repo's setup on a fresh Debian %s host", (release, python, systemd) => {
  const hosts = useTestHosts(1, `r${release.slice(0, 2)}`, { release });
  let host: TestHost;
  let dir: string;

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace([host]);
  });

  it('installs what the setup needs first, and goes from nothing to a healthy server in one apply', async () => {
    // What differs between the releases where it matters: the venv module's package and systemd.
    expect((await ssh(host, 'python3 --version')).stdout).toContain(`Python ${python}.`);
    expect((await ssh(host, 'systemctl --version')).stdout).toMatch(new RegExp(`^systemd ${systemd} `));
    expect(await installed(host, 'python3-venv')).toBe(false);
    expect((await ssh(host, 'ls /var/lib/apt/lists | grep -c _Packages; true')).stdout.trim()).toBe('0');
    const plan = await reconcileJson(dir, 'plan');
    expect(plan.hosts[0]!.actions[0]).toMatchObject({
      id: 'package:python3-venv',
      title: 'install python3-venv',
      because: 'package lists missing: refreshed first',
      fields: [{ field: 'python3-venv', before: null, after: 'present' }],
    });
    const applied = await reconcile(dir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    expect(await installed(host, 'python3-venv')).toBe(true);
    expect(await installed(host, `python${python}-venv`)).toBe(true);
    expect(await (await fetch(`http://${host.address}:4200/api/health`)).json()).toBe(true);
    expect((await reconcile(dir, 'check')).code).toBe(0);
    // Converged: the lock and the fact script, no apt command.
    expect((await reconcileJson(dir, 'apply')).hosts[0]!.execs).toBe(2);
  }, 180_000);

  it('finds a package removed by hand, and installs it again without refreshing fresh lists', async () => {
    await ssh(host, 'sudo -n dpkg -r python3-venv >/dev/null');
    const check = await reconcile(dir, 'check');
    expect(check.code).toBe(2);
    // dpkg -r keeps the configuration files ("rc"): not installed.
    expect(check.stdout).toContain('+ install python3-venv\n      python3-venv: (none) -> present');
    expect(check.stdout).not.toContain('refreshed first');
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    expect(applied.hosts[0]!.done).toEqual(['package:python3-venv']);
    expect(await installed(host, 'python3-venv')).toBe(true);
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 60_000);
});

describe('system packages when things go wrong', () => {
  const hosts = useTestHosts(2, 'pa');
  let a: TestHost;
  let dir: string;

  beforeAll(async () => {
    a = hosts[0]!;
    dir = workspace([a]);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
  }, 180_000);

  it("says in the dry-run that a misspelt package does not exist; apply fails with apt's message and changes nothing", async () => {
    writeFileSync(join(dir, 'setup.yaml'), `${repoSetup()}\n  - kind: package\n    packages: [pyton3-venv]\n`);
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain(
      "pyton3-venv: no such package in this host's apt sources (apt-cache policy has no candidate); apply will fail",
    );
    const applied = await reconcile(dir, 'apply');
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain('E: Unable to locate package pyton3-venv');
    expect((await ssh(a, 'dpkg --audit; sudo -n apt-get check -qq 2>&1; true')).stdout.trim()).toBe('');
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  }, 60_000);

  it('waits for an apt lock another process holds, then fails that host naming the holder; other hosts go on', async () => {
    const both = workspace(hosts);
    writeFileSync(join(both, 'setup.yaml'), 'resources:\n  - kind: package\n    packages: [python3-apt]\n    lock_timeout: 3\n');
    // As unattended-upgrades would: dpkg's frontend lock, taken the way apt takes it (fcntl).
    await ssh(
      a,
      `sudo -n systemd-run --unit=holder python3 -c "import fcntl, time; f = open('/var/lib/dpkg/lock-frontend', 'w'); fcntl.lockf(f, fcntl.LOCK_EX); time.sleep(120)"`,
    );
    const tryLock = `sudo -n python3 -c "import fcntl; fcntl.lockf(open('/var/lib/dpkg/lock-frontend', 'w'), fcntl.LOCK_EX | fcntl.LOCK_NB)"`;
    await waitFor(async () => (await ssh(a, tryLock, { allowFailure: true })).code !== 0);
    const started = Date.now();
    const run = await reconcileJson(both, 'apply');
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(run.code).toBe(1);
    const [held, free] = run.hosts;
    expect(held!.status).toBe('failed');
    expect(held!.error).toMatch(/Could not get lock \/var\/lib\/dpkg\/lock-frontend\. It is held by process \d+ \(python3\)/);
    expect(free!.status).toBe('changed');
    expect(await installed(hosts[1]!, 'python3-apt')).toBe(true);
    await ssh(a, 'sudo -n systemctl stop holder');
    expect((await reconcile(both, 'apply')).code).toBe(0);
  }, 120_000);

  it('repairs a venv left half-made by a venv module without ensurepip, instead of failing on it', async () => {
    const b = hosts[1]!;
    const venv = '/home/daniel/projects/projections-v2/.venv';
    const made = await ssh(b, `python3 -m venv ${venv}`, { allowFailure: true });
    expect(made.stdout + made.stderr).toContain('because ensurepip is not');
    expect((await ssh(b, `test -x ${venv}/bin/python && test ! -e ${venv}/bin/pip && echo half-made`)).stdout.trim()).toBe('half-made');
    const dirB = workspace([b]);
    const plan = await reconcileJson(dirB, 'plan');
    expect(plan.hosts[0]!.actions.find((x) => x.id === `python_venv:${venv}`)?.because).toContain('half-made (no pip');
    const applied = await reconcile(dirB, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    expect((await ssh(b, `${venv}/bin/pip --version`)).code).toBe(0);
    expect((await reconcile(dirB, 'check')).code).toBe(0);
  }, 180_000);
});
