import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostTarget } from '../../src/model/target.js';
import { loadSpec } from '../../src/config/load.js';

/**
 * ssh_config files as people write them, resolved through loadSpec for a host whose address is an
 * alias: each keyword reconcile uses must come out as `ssh -G` says (OpenSSH is the reference), and
 * hosts.yaml must still win where it speaks.
 */
const dir = mkdtempSync(join(tmpdir(), 'ssh-config-corpus-'));
const home = homedir();
const me = userInfo().username;
writeFileSync(join(dir, 'bastions.conf'), 'Host bastion\n  HostName 192.0.2.10\n  User jumper\n  Port 2200\n');

const CORPUS: { name: string; config: string; alias: string; inventory?: string; expected: Partial<Record<keyof HostTarget, unknown>> }[] =
  [
    {
      name: 'Include, then a Host block with wildcards and a negation',
      config: `Include ${dir}/bastions.conf\nHost web-* !web-old\n  HostName %h.example.net\n  User deploy\n  Port 2222\n`,
      alias: 'web-1',
      expected: { address: 'web-1.example.net', user: 'deploy', port: 2222 },
    },
    {
      name: 'a negated host falls through to the defaults',
      config: `Host web-* !web-old\n  User deploy\nHost *\n  User everyone\n`,
      alias: 'web-old',
      expected: { address: 'web-old', user: 'everyone', port: 22 },
    },
    {
      name: 'Match host and Match user (the user hosts.yaml gives)',
      config: `Match host db1\n  HostName 198.51.100.7\nMatch user ops\n  IdentitiesOnly yes\n  IdentityFile ~/.ssh/ops_key\n`,
      alias: 'db1',
      inventory: '    user: ops\n',
      expected: { address: '198.51.100.7', user: 'ops', identitiesOnly: true, identityFiles: [`${home}/.ssh/ops_key`] },
    },
    {
      name: 'several IdentityFiles with tokens, in order',
      config: `Host app\n  HostName 203.0.113.5\n  User svc\n  IdentityFile ~/.ssh/id_%h_%r\n  IdentityFile %d/keys/%u-%n-%p\n  IdentityFile /etc/keys/100%%\n`,
      alias: 'app',
      expected: { identityFiles: [`${home}/.ssh/id_203.0.113.5_svc`, `${home}/keys/${me}-app-22`, '/etc/keys/100%'] },
    },
    {
      name: 'known_hosts file, connect timeout, keepalive, ProxyJump',
      config: `Include ${dir}/bastions.conf\nHost inner\n  UserKnownHostsFile ~/.ssh/known_inner /etc/ssh/other\n  ConnectTimeout 7\n  ServerAliveInterval 15\n  ProxyJump bastion\n`,
      alias: 'inner',
      expected: {
        knownHosts: `${home}/.ssh/known_inner`,
        connectTimeoutMs: 7000,
        keepaliveSeconds: 15,
        // The hop is resolved in the same file (ssh passes -F on to ProxyJump): Include'd bastions.conf.
        jumps: [expect.objectContaining({ name: 'bastion', address: '192.0.2.10', user: 'jumper', port: 2200 })],
      },
    },
    {
      name: 'hosts.yaml wins over ssh_config',
      config: `Host app\n  HostName 203.0.113.5\n  User svc\n  Port 2022\n  IdentityFile ~/.ssh/from_config\n`,
      alias: 'app',
      inventory: '    user: mine\n    port: 2200\n    identity_file: /keys/from_inventory\n    connect_timeout: 3\n',
      expected: { address: '203.0.113.5', user: 'mine', port: 2200, identityFiles: ['/keys/from_inventory'], connectTimeoutMs: 3000 },
    },
  ];

async function resolve(config: string, alias: string, inventory = ''): Promise<HostTarget> {
  const configFile = join(dir, `${alias}-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(configFile, config);
  writeFileSync(join(dir, 'hosts.yaml'), `hosts:\n  h:\n    address: ${alias}\n    ssh_config: ${configFile}\n${inventory}`);
  writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/x\n');
  (resolve as { lastConfig?: string }).lastConfig = configFile;
  return (await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'))).hosts[0]!.target;
}

/** `ssh -G`'s own answer for a keyword. */
function sshSays(configFile: string, alias: string, keyword: string, user?: string): string | undefined {
  const out = execFileSync('ssh', ['-G', '-F', configFile, ...(user ? ['-l', user] : []), alias], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .find((l) => l.startsWith(`${keyword} `))
    ?.slice(keyword.length + 1);
}

describe('ssh_config as ssh -G resolves it', () => {
  it.each(CORPUS)('$name', async ({ config, alias, inventory, expected }) => {
    const target = await resolve(config, alias, inventory);
    expect(target).toMatchObject(expected);
    // Where hosts.yaml is silent, each keyword is what OpenSSH itself says.
    const configFile = (resolve as { lastConfig?: string }).lastConfig!;
    const user = /user: (\S+)/.exec(inventory ?? '')?.[1];
    if (!inventory?.includes('identity_file')) {
      expect(target.address).toBe(sshSays(configFile, alias, 'hostname', user));
      expect(target.user).toBe(sshSays(configFile, alias, 'user', user));
      expect(String(target.port)).toBe(sshSays(configFile, alias, 'port', user));
      expect(target.identitiesOnly).toBe(sshSays(configFile, alias, 'identitiesonly', user) === 'yes');
      expect(target.identityFiles).toHaveLength(
        execFileSync('ssh', ['-G', '-F', configFile, ...(user ? ['-l', user] : []), alias], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        })
          .split('\n')
          .filter((l) => l.startsWith('identityfile ')).length,
      );
    }
  });

  it('jump: a jump_hosts name and a written-out hop, in order, defaults applying to both', async () => {
    writeFileSync(
      join(dir, 'hosts.yaml'),
      `defaults:
  identity_file: /keys/ops
  ssh_config: ${join(dir, 'bastions.conf')}
jump_hosts:
  edge:
    address: 192.0.2.1
    user: edge
hosts:
  h:
    address: 10.0.0.5
    jump: [edge, "ops@[2001:db8::7]:2201"]
`,
    );
    const target = (await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'))).hosts[0]!.target;
    expect(target.jumps).toEqual([
      expect.objectContaining({ name: 'edge', address: '192.0.2.1', user: 'edge', port: 22, identityFiles: ['/keys/ops'] }),
      expect.objectContaining({
        name: 'ops@[2001:db8::7]:2201',
        address: '2001:db8::7',
        user: 'ops',
        port: 2201,
        identityFiles: ['/keys/ops'],
      }),
    ]);
    expect(target.jumps!.every((hop) => hop.jumps === undefined)).toBe(true);
  });

  it('reports an ssh_config that cannot be read at its place in hosts.yaml', async () => {
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  h:\n    address: x\n    ssh_config: /nonexistent/config\n');
    await expect(loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'))).rejects.toMatchObject({
      diagnostics: [expect.objectContaining({ line: 4, col: 17, message: 'cannot read ssh_config /nonexistent/config: ENOENT' })],
    });
  });
});
