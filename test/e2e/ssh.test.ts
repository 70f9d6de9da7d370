import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../hosts/exec.js';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import { bootHost, sshOptions, stopHost, type TestHost } from '../hosts/host.js';
import { onTerminal, reconcile, reconcileWithEnv, repoSetup, workspace } from './helpers.js';

const PASSWORD = 'Tr0ub4dor&3-become';
const SETUP = `secrets:
  sudo_password: { env: SUDO_PASSWORD }
resources:
  - kind: file
    path: /etc/reconcile-become.conf
    content: "written as root\\n"
    mode: "0600"
`;

/** Accepted logins on the host so far, from sshd's journal. */
const logins = async (host: TestHost) =>
  Number((await ssh(host, 'journalctl -u ssh --no-pager -q | grep -c "Accepted publickey" || true', { user: 'root' })).stdout.trim());

describe('connecting wherever ssh connects', () => {
  const hosts = useTestHosts(1, 'ss');
  let host: TestHost;

  beforeAll(() => {
    host = hosts[0]!;
  });

  describe('host key types: the ones known_hosts records are asked for first', () => {
    const hostKey = async (type: string) =>
      (await ssh(host, `cat /etc/ssh/testhost-keys/ssh_host_${type}_key.pub`, { user: 'root' })).stdout.split(' ').slice(0, 2).join(' ');

    it('connects with an ECDSA-only known_hosts although the host prefers Ed25519', async () => {
      const dir = workspace([host]);
      writeFileSync(join(dir, 'known_hosts'), `${host.address} ${await hostKey('ecdsa')}\n`);
      writeFileSync(
        join(dir, 'hosts.yaml'),
        readFileSync(join(dir, 'hosts.yaml'), 'utf8').replace(/known_hosts: .*/, `known_hosts: ${join(dir, 'known_hosts')}`),
      );
      writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/ecdsa\n');
      const plan = await reconcile(dir, 'plan');
      expect(plan.code, plan.stdout).toBe(2);
      expect(plan.stdout).toContain('+ directory /srv/ecdsa');
    });

    it('connects with an RSA-only known_hosts (an entry made years ago)', async () => {
      const dir = workspace([host]);
      writeFileSync(join(dir, 'known_hosts'), `${host.address} ${await hostKey('rsa')}\n`);
      writeFileSync(
        join(dir, 'hosts.yaml'),
        readFileSync(join(dir, 'hosts.yaml'), 'utf8').replace(/known_hosts: .*/, `known_hosts: ${join(dir, 'known_hosts')}`),
      );
      writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/rsa\n');
      expect((await reconcile(dir, 'plan')).code).toBe(2);
    });

    it('refuses a changed ECDSA key before sending anything', async () => {
      const dir = workspace([host]);
      await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(dir, 'forged')]);
      const forged = readFileSync(join(dir, 'forged.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      writeFileSync(join(dir, 'known_hosts'), `${host.address} ${forged}\n`);
      writeFileSync(
        join(dir, 'hosts.yaml'),
        readFileSync(join(dir, 'hosts.yaml'), 'utf8').replace(/known_hosts: .*/, `known_hosts: ${join(dir, 'known_hosts')}`),
      );
      const before = await logins(host);
      const refused = await reconcile(dir, 'plan');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(`host key changed: ${host.address} offered ecdsa-sha2-nistp256 SHA256:`);
      // The one login since is the check above; reconcile never authenticated.
      expect(await logins(host)).toBe(before + 1);
    });
  });

  describe("identities like OpenSSH: the agent's keys, then identity files", () => {
    let dir: string;
    let key: string;
    let agentSocket: string;
    let agentPid: number;
    const withKey = () => readFileSync(join(dir, 'hosts.yaml'), 'utf8').replace(/identity_file: .*/, `identity_file: ${key}`);

    beforeAll(async () => {
      dir = workspace([host]);
      key = join(dir, 'id_protected');
      writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/agent\n');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse battery', '-C', 'protected', '-f', key]);
      await ssh(
        host,
        'install -d -m 700 -o daniel -g daniel ~daniel/.ssh && touch ~daniel/.ssh/authorized_keys && chown daniel: ~daniel/.ssh/authorized_keys',
        { user: 'root' },
      );
      await ssh(host, `cat >> ~daniel/.ssh/authorized_keys`, { user: 'root', input: readFileSync(`${key}.pub`, 'utf8') });
      agentSocket = join(dir, 'agent.sock');
      agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec((await run('ssh-agent', ['-a', agentSocket])).stdout)![1]);
      // ssh-add asks the passphrase through SSH_ASKPASS when told to, without a terminal.
      const askpass = join(dir, 'askpass.sh');
      writeFileSync(askpass, "#!/bin/sh\necho 'correct horse battery'\n", { mode: 0o700 });
      await run('ssh-add', [key], {
        env: { ...process.env, SSH_AUTH_SOCK: agentSocket, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      });
      writeFileSync(join(dir, 'hosts.yaml'), withKey());
    });
    afterAll(() => process.kill(agentPid));

    it('a passphrase-protected identity_file loaded in ssh-agent connects through the agent', async () => {
      const plan = await reconcileWithEnv({ SSH_AUTH_SOCK: agentSocket }, dir, 'plan');
      expect(plan.code, plan.stdout).toBe(2);
      expect(plan.stdout).toContain('+ directory /srv/agent');
    });

    it('the same key without the agent: a clear message, and no prompt without a terminal', async () => {
      const refused = await reconcileWithEnv({ SSH_AUTH_SOCK: '' }, dir, 'plan');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(
        `${key} is encrypted and its key is not in ssh-agent (no agent: SSH_AUTH_SOCK is not set); load it with ssh-add ${key}, or run on a terminal to be asked its passphrase`,
      );
      expect(refused.stdout + refused.stderr).not.toMatch(/Enter passphrase/);
    });

    it('the same key without the agent, on a terminal: its passphrase is asked once and it connects', async () => {
      const { code, output } = await onTerminal(dir, 'plan', `Enter passphrase for ${key}: `, 'correct horse battery', {
        SSH_AUTH_SOCK: '',
      });
      expect(code, output).toBe(2);
      expect(output.match(/Enter passphrase for /g)).toHaveLength(1);
      expect(output).toContain('+ directory /srv/agent');
      expect(output).not.toContain('correct horse battery');
    });

    it("an agent that holds other keys only: the file's key is still named as the one missing", async () => {
      const agentEnv = { ...process.env, SSH_AUTH_SOCK: agentSocket };
      await run('ssh-add', ['-D'], { env: agentEnv });
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_other')]);
      await run('ssh-add', [join(dir, 'id_other')], { env: agentEnv });
      const refused = await reconcileWithEnv({ SSH_AUTH_SOCK: agentSocket }, dir, 'plan');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(`${key} is encrypted and its key is not in ssh-agent; load it with ssh-add ${key}`);
    });

    it('a key the host does not accept: said in words, with where the public key must be', async () => {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_stranger')]);
      writeFileSync(join(dir, 'hosts.yaml'), withKey().replace(/identity_file: .*/, `identity_file: ${join(dir, 'id_stranger')}`));
      const refused = await reconcileWithEnv({ SSH_AUTH_SOCK: '' }, dir, 'plan');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(
        `daniel@${host.address}:22 accepted none of the keys offered: is the public key in ~daniel/.ssh/authorized_keys`,
      );
      expect(refused.stdout).not.toContain('All configured authentication methods failed');
    });

    it('identity_file: relative to hosts.yaml, wherever reconcile runs; a missing one is a warning and the failure names it', async () => {
      copyFileSync(host.identity_file, join(dir, 'id_copy'));
      chmodSync(join(dir, 'id_copy'), 0o600);
      writeFileSync(join(dir, 'hosts.yaml'), withKey().replace(/identity_file: .*/, 'identity_file: id_copy'));
      const elsewhere = mkdtempSync(join(tmpdir(), 'reconcile-cwd-'));
      const found = await reconcileWithEnv({ SSH_AUTH_SOCK: '' }, elsewhere, '-i', join(dir, 'hosts.yaml'), 'plan');
      expect(found.stdout).toContain('+ directory /srv/agent');
      writeFileSync(join(dir, 'hosts.yaml'), withKey().replace(/identity_file: .*/, 'identity_file: id_gone'));
      const missing = await reconcileWithEnv({ SSH_AUTH_SOCK: '' }, dir, 'plan');
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(new RegExp(`hosts\\.yaml:\\d+:\\d+: warning: identity_file ${join(dir, 'id_gone')} does not exist`));
      expect(missing.stdout).toContain(
        `no key to offer: no ssh-agent (SSH_AUTH_SOCK is not set), and none of ${join(dir, 'id_gone')} exists`,
      );
    });
  });

  describe('become with a password: a login user whose sudo asks for one', () => {
    let dir: string;
    const inventory = (secret: boolean) => `defaults:
  user: ops
  become: true
${secret ? '  become_password_secret: sudo_password\n' : ''}hosts:
  ${host.name}:
    address: ${host.address}
    identity_file: ${host.identity_file}
    known_hosts: ${host.known_hosts}
`;
    /** Every process's command line on both machines, sampled while a run goes on. */
    const watchProcessLists = () => {
      const sampler = { stop: false };
      const seen: string[] = [];
      const sampling = (async () => {
        while (!sampler.stop) {
          seen.push((await run('ps', ['-eo', 'args'])).stdout);
          seen.push((await ssh(host, 'ps -eo args', { user: 'root' })).stdout);
        }
      })();
      return async () => {
        sampler.stop = true;
        await sampling;
        return seen;
      };
    };
    const stateFiles = (stateDir: string) =>
      readdirSync(join(stateDir, 'runs'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));

    beforeAll(async () => {
      await ssh(
        host,
        [
          'useradd -m -s /bin/bash ops',
          `echo 'ops:${PASSWORD}' | chpasswd`,
          "echo 'ops ALL=(ALL:ALL) ALL' > /etc/sudoers.d/ops",
          'install -d -m 700 -o ops -g ops ~ops/.ssh',
          'install -m 600 -o ops -g ops /etc/ssh/testhost-authorized/daniel ~ops/.ssh/authorized_keys',
        ].join(' && '),
        { user: 'root' },
      );
      dir = workspace([host]);
      writeFileSync(join(dir, 'setup.yaml'), SETUP);
    });

    it('without a password: says how to give one', async () => {
      writeFileSync(join(dir, 'hosts.yaml'), inventory(false));
      const refused = await reconcileWithEnv({ SUDO_PASSWORD: PASSWORD }, dir, 'plan');
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain('sudo asks for a password: give it with --ask-become-pass or become_password_secret in hosts.yaml');
    });

    it('a wrong one fails the host at once, after a single attempt', async () => {
      writeFileSync(join(dir, 'hosts.yaml'), inventory(true));
      const failures = async () =>
        Number(
          (
            await ssh(host, 'journalctl --no-pager -q | grep -c "ops : 1 incorrect password attempt" || true', { user: 'root' })
          ).stdout.trim(),
        );
      const before = await failures();
      const started = performance.now();
      const wrong = await reconcileWithEnv({ SUDO_PASSWORD: 'not-the-password' }, dir, 'apply');
      expect(wrong.code).toBe(1);
      expect(performance.now() - started).toBeLessThan(8000);
      expect(wrong.stdout).toContain('sudo did not accept the become password (tried once and not again');
      expect(wrong.stdout).not.toContain('not-the-password');
      expect(await failures()).toBe(before + 1);
    });

    it('from a secret: converges, and the password is in no output, record or process list on either machine', async () => {
      writeFileSync(join(dir, 'hosts.yaml'), inventory(true));
      const stateDir = join(dir, 'state-secret');
      const stopWatching = watchProcessLists();
      const applied = await reconcileWithEnv({ SUDO_PASSWORD: PASSWORD, RECONCILE_STATE_DIR: stateDir }, dir, 'apply');
      const processLists = await stopWatching();
      expect(applied.code, applied.stdout).toBe(0);
      expect((await ssh(host, 'stat -c "%U %a" /etc/reconcile-become.conf', { user: 'root' })).stdout).toBe('root 600\n');
      const check = await reconcileWithEnv({ SUDO_PASSWORD: PASSWORD, RECONCILE_STATE_DIR: stateDir }, dir, 'check', '--json');
      expect(check.code).toBe(0);
      expect(processLists.length).toBeGreaterThan(2);
      for (const text of [applied.stdout, applied.stderr, check.stdout, ...processLists, ...stateFiles(stateDir)])
        expect(text).not.toContain(PASSWORD);
    });

    it('--ask-become-pass: asked once on a terminal (a pseudo-terminal here), converges, and leaves the password nowhere', async () => {
      await ssh(host, 'rm -f /etc/reconcile-become.conf', { user: 'root' });
      writeFileSync(join(dir, 'hosts.yaml'), inventory(false));
      const stateDir = join(dir, 'state-asked');
      const stopWatching = watchProcessLists();
      const { code, output } = await onTerminal(dir, 'apply --yes --ask-become-pass', 'BECOME password: ', PASSWORD, {
        SUDO_PASSWORD: 'unused',
        RECONCILE_STATE_DIR: stateDir,
      });
      const processLists = await stopWatching();
      expect(code, output).toBe(0);
      expect(output).toContain('hosts: 1 changed, 0 unchanged, 0 failed');
      expect((await ssh(host, 'stat -c "%U %a" /etc/reconcile-become.conf', { user: 'root' })).stdout).toBe('root 600\n');
      expect(output.match(/BECOME password: /g)).toHaveLength(1);
      for (const text of [output, ...processLists, ...stateFiles(stateDir)]) expect(text).not.toContain(PASSWORD);
    });

    it('--ask-become-pass without a terminal: a clear refusal, no prompt', async () => {
      const piped = await reconcileWithEnv({ SUDO_PASSWORD: 'unused' }, dir, 'plan', '--ask-become-pass');
      expect(piped.code).toBe(1);
      expect(piped.stdout + piped.stderr).toContain('--ask-become-pass needs a terminal to ask on (stdin is not one)');
      expect(piped.stdout + piped.stderr).not.toContain('BECOME password');
    });
  });
});

describe('jump hosts: hosts only a bastion reaches', () => {
  const front = useTestHosts(1, 'jb');
  let bastion: TestHost;
  let inner: TestHost[] = [];
  let dir: string;
  let knownHosts: string;

  // Two hosts behind the bastion (npm run testhost -- up NAME --behind OTHER does the same).
  beforeAll(async () => {
    bastion = front[0]!;
    inner = await Promise.all([1, 2].map((i) => bootHost(`${bastion.name}-in${i}`, { behind: bastion.name })));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(inner.map((h) => stopHost(h.name)));
  });

  const inventory = (jump: string, bastionKnownHosts = knownHosts, behind = inner) => `defaults:
  user: daniel
  become: true
  identity_file: ${bastion.identity_file}
  known_hosts: ${knownHosts}
jump_hosts:
  bastion:
    address: ${bastion.address}
    known_hosts: ${bastionKnownHosts}
hosts:
${behind.map((h) => `  ${h.name}:\n    address: ${h.address}\n    jump: ${jump}\n`).join('')}`;
  const bastionLogins = async () =>
    Number(
      (
        await ssh(bastion, 'journalctl -u ssh --no-pager -q | grep -c "Accepted publickey for daniel" || true', { user: 'root' })
      ).stdout.trim(),
    );

  beforeAll(() => {
    dir = workspace([]);
    knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, [bastion, ...inner].map((h) => readFileSync(h.known_hosts, 'utf8')).join(''));
    writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/behind\n');
  });

  it('this machine has no route to the hosts behind the bastion', async () => {
    const direct = await run('ssh', [...sshOptions({ ...inner[0]!, behind: undefined }), `daniel@${inner[0]!.address}`, 'true'], {
      allowFailure: true,
    });
    expect(direct.code).not.toBe(0);
    expect(direct.stderr).toMatch(/No route to host|Network is unreachable/);
  });

  it('reaches both through one connection to the bastion, each host key verified', async () => {
    writeFileSync(join(dir, 'hosts.yaml'), inventory('bastion'));
    const before = await bastionLogins();
    const plan = await reconcile(dir, 'plan');
    expect(plan.code, plan.stdout).toBe(2);
    for (const h of inner) expect(plan.stdout).toContain(`${h.name} (${h.address}): 1 change`);
    // Two hosts behind it, one login: they shared a single connection (the counts log in as root).
    expect(await bastionLogins()).toBe(before + 1);
  });

  it('refuses a bastion whose key changed, before anything reaches the hosts behind it', async () => {
    const forged = join(dir, 'forged_known_hosts');
    writeFileSync(forged, `${bastion.address} ${readFileSync(inner[0]!.known_hosts, 'utf8').split(' ').slice(1).join(' ')}`);
    writeFileSync(join(dir, 'hosts.yaml'), inventory('bastion', forged));
    const refused = await reconcile(dir, 'plan');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`${inner[0]!.name}: jump host bastion: host key changed: ${bastion.address} offered ssh-ed25519`);
  });

  it('takes ProxyJump from ssh_config, as ssh does', async () => {
    const config = join(dir, 'ssh_config');
    writeFileSync(config, `Host ${inner.map((h) => h.address).join(' ')}\n  ProxyJump daniel@${bastion.address}:22\n`);
    writeFileSync(join(dir, 'hosts.yaml'), inventory('bastion').replace(/ {4}jump: bastion\n/g, `    ssh_config: ${config}\n`));
    const plan = await reconcile(dir, 'plan');
    expect(plan.code, plan.stdout).toBe(2);
  });

  it('the repo setup on a host behind the bastion: apply converges, then check is in sync', async () => {
    writeFileSync(join(dir, 'hosts.yaml'), inventory('bastion', knownHosts, inner.slice(0, 1)));
    writeFileSync(join(dir, 'setup.yaml'), repoSetup());
    const applied = await reconcile(dir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    const check = await reconcile(dir, 'check');
    expect(check.code, check.stdout).toBe(0);
  }, 240_000);
});
