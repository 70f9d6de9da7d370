import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../src/config/load.js';
import { mayDifferByHost, sshConfigFor, sshConfigFromSsh } from '../../src/transport/ssh-config.js';

const config = `# the operator's ~/.ssh/config
User fallback-not-first
Host prefect-box prefect-*
  HostName 100.78.180.34
  User daniel
  Port=2222
  IdentityFile "~/.ssh/id prefect" ~/.ssh/ignored
Host *.internal !bastion.internal
  HostName %h.example.net
  UserKnownHostsFile ~/.ssh/known_hosts_internal /etc/ssh/other
Match host prefect-box exec "true"
  User from-match
Host *
  User everyone
  Port 22
`;

describe('ssh_config', () => {
  it('fills in what a matching Host block says, the first value of each keyword winning', () => {
    expect(sshConfigFor(config, 'prefect-box')).toEqual({
      hostName: '100.78.180.34',
      user: 'fallback-not-first',
      port: 2222,
      identityFiles: ['~/.ssh/id prefect'],
    });
  });

  it('matches wildcards, honours negation, expands %h, and skips Match blocks', () => {
    expect(sshConfigFor(config, 'db.internal')).toEqual({
      hostName: 'db.internal.example.net',
      user: 'fallback-not-first',
      port: 22,
      userKnownHostsFile: '~/.ssh/known_hosts_internal',
    });
    expect(sshConfigFor(config, 'bastion.internal').hostName).toBeUndefined();
    expect(sshConfigFor(config, 'other').user).toBe('fallback-not-first');
  });

  it('ignores what it cannot use: a bad port, unknown keywords, comments', () => {
    expect(sshConfigFor('Host x\n  Port many\n  ForwardAgent yes\n  # HostName no\n', 'x')).toEqual({});
  });
});

describe('one ssh -G for a fleet whose ssh_config says nothing host-specific', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-config-shared-'));
  mkdirSync(join(dir, 'conf.d'));
  const files = new Map<string, string>();
  const read = (path: string) => {
    const text = files.get(path);
    if (text === undefined) throw new Error(`ENOENT ${path}`);
    return text;
  };
  const neutral = (extra = '') => {
    files.clear();
    writeFileSync(join(dir, 'conf.d', 'a.conf'), extra);
    files.set(join(dir, 'main'), `Include ${dir}/conf.d/*.conf\nHost *\n  SendEnv LANG LC_*\n  HashKnownHosts yes\n`);
    files.set(join(dir, 'conf.d', 'a.conf'), extra);
    return [{ path: join(dir, 'main'), system: false }];
  };

  it('follows Include (globs too) and finds any keyword that can tell hosts apart', () => {
    expect(mayDifferByHost(neutral('Compression yes\n'), read)).toBe(false);
    expect(mayDifferByHost(neutral('Host web-*\n  HostName %h.example.net\n'), read)).toBe(true);
    expect(mayDifferByHost(neutral('Match exec "true"\n  Compression yes\n'), read)).toBe(true);
    expect(mayDifferByHost(neutral('  user deploy\n'), read)).toBe(true);
    // What it cannot follow counts as "may differ": ssh is then asked host by host.
    files.set(join(dir, 'tokens'), 'Include ~/.ssh/%h.conf\n');
    expect(mayDifferByHost([{ path: join(dir, 'tokens'), system: false }], read)).toBe(true);
    expect(mayDifferByHost([{ path: join(dir, 'missing'), system: false }], read)).toBe(false);
  });

  it('gives every host what ssh -G gives it, asked host by host', async () => {
    const config = join(dir, 'fleet_config');
    writeFileSync(config, `Include ${dir}/conf.d/*.conf\nHost *\n  SendEnv LANG\n`);
    writeFileSync(join(dir, 'conf.d', 'a.conf'), 'Compression yes\n');
    const names = ['Web-1.Example', 'db-2', '10.0.0.7'];
    const inventory = `defaults:\n  ssh_config: ${config}\n  port: 2200\nhosts:\n${names.map((n, i) => `  h${i}:\n    address: ${n}\n`).join('')}`;
    writeFileSync(join(dir, 'hosts.yaml'), inventory);
    writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/x\n');
    const spec = await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
    for (const [i, name] of names.entries()) {
      const alone = await sshConfigFromSsh({ host: name, configFile: config, port: 2200 });
      const target = spec.hosts[i]!.target;
      expect({ address: target.address, user: target.user, port: target.port, identityFiles: target.identityFiles }).toEqual({
        address: alone!.hostName,
        user: alone!.user ?? process.env.USER ?? 'root',
        port: 2200,
        identityFiles: alone!.identityFiles,
      });
    }
  });
});
