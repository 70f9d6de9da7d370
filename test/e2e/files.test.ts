import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

const binary = Buffer.concat([randomBytes(4096), Buffer.from([0, 0xff, 0x0d, 0x0a, 0x0d])]);
const crlf = 'first line\r\nsecond line\r\nno newline at the end';

function setup(version: string): string {
  return `resources:
  - kind: directory
    path: /srv/app
    owner: daniel
    mode: "0750"
  - kind: file
    path: /srv/app/blob.bin
    source: blob.bin
    mode: "0600"
  - kind: file
    path: /srv/app/windows.txt
    content: ${JSON.stringify(crlf)}
  - kind: file
    path: /srv/app/app.conf
    content: "version=${version}\\nok\\n"
    backup: true
    validate: grep -q '^ok$' %s
`;
}

describe('files: byte-exact content, backups, validation, and hosts that fail alone', () => {
  const hosts = useTestHosts(1, 'fi');
  let host: TestHost;
  let dir: string;

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
    writeFileSync(join(dir, 'blob.bin'), binary);
    writeFileSync(join(dir, 'setup.yaml'), setup('1'));
  });

  it('writes binary and CRLF content byte for byte, with the wanted owner and mode', async () => {
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    const blob = await ssh(host, 'sudo -n base64 -w0 /srv/app/blob.bin');
    expect(Buffer.from(blob.stdout, 'base64').equals(binary)).toBe(true);
    expect((await ssh(host, 'sudo -n base64 -w0 /srv/app/windows.txt')).stdout).toBe(Buffer.from(crlf).toString('base64'));
    expect((await ssh(host, 'sudo -n stat -c "%U %a" /srv/app /srv/app/blob.bin')).stdout).toBe('daniel 750\nroot 600\n');
    expect((await reconcile(dir, 'plan')).code).toBe(0);
  });

  it('keeps the previous version outside the directory with backup: true', async () => {
    writeFileSync(join(dir, 'setup.yaml'), setup('2'));
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await ssh(host, 'sudo -n cat /srv/app/app.conf')).stdout).toBe('version=2\nok\n');
    expect((await ssh(host, 'sudo -n ls /srv/app')).stdout.split('\n').filter(Boolean).sort()).toEqual([
      'app.conf',
      'blob.bin',
      'windows.txt',
    ]);
    const backups = await ssh(host, 'sudo -n sh -c "cat /var/lib/reconcile/backups/srv/app/app.conf.*"');
    expect(backups.stdout).toBe('version=1\nok\n');
  });

  it('refuses content that fails validation and leaves the old file', async () => {
    writeFileSync(join(dir, 'setup.yaml'), setup('3').replace('version=3\\nok\\n', 'version=3\\nbroken\\n'));
    const run = await reconcile(dir, 'apply');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('validation of the new content failed');
    expect((await ssh(host, 'sudo -n cat /srv/app/app.conf')).stdout).toBe('version=2\nok\n');
    expect((await ssh(host, 'sudo -n sh -c "ls -A /srv/app | grep -c reconcile || true"')).stdout.trim()).toBe('0');
  });

  it('refuses a unit file that systemd would partly ignore (a misspelt key), installing nothing', async () => {
    const unit = '[Service]\nExecStrat=/bin/true\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n';
    writeFileSync(
      join(dir, 'setup.yaml'),
      `resources:\n  - kind: systemd_service\n    unit: typo.service\n    content: ${JSON.stringify(unit)}\n`,
    );
    const run = await reconcile(dir, 'apply');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Unknown key 'ExecStrat' in section [Service], ignoring.");
    expect(run.stdout).toContain('systemd would ignore part of this unit (above)');
    expect((await ssh(host, 'test -e /etc/systemd/system/typo.service && echo present || echo absent')).stdout).toBe('absent\n');
    // Spelt right, the same unit goes in.
    writeFileSync(
      join(dir, 'setup.yaml'),
      `resources:\n  - kind: systemd_service\n    unit: typo.service\n    content: ${JSON.stringify(unit.replace('ExecStrat=/bin/true\n', ''))}\n`,
    );
    expect((await reconcile(dir, 'apply')).code).toBe(0);
  });

  it('reaches a host by its ssh_config alias: HostName, User, IdentityFile and UserKnownHostsFile from there', async () => {
    const aliasDir = mkdtempSync(join(tmpdir(), 'reconcile-alias-'));
    const sshConfig = join(aliasDir, 'ssh_config');
    writeFileSync(
      sshConfig,
      `Host box-alias\n  HostName ${host.address}\n  User daniel\n  IdentityFile ${host.identity_file}\n  UserKnownHostsFile ${host.known_hosts}\n`,
    );
    writeFileSync(
      join(aliasDir, 'hosts.yaml'),
      `hosts:\n  via-alias:\n    address: box-alias\n    ssh_config: ${sshConfig}\n    become: true\n`,
    );
    writeFileSync(join(aliasDir, 'setup.yaml'), 'resources:\n  - kind: line\n    path: /etc/motd\n    line: "reached as {{ address }}"\n');
    const run = await reconcileJson(aliasDir, 'apply');
    expect(run.code).toBe(0);
    expect(run.hosts[0]).toMatchObject({ host: 'via-alias', address: host.address, status: 'changed' });
    expect((await ssh(host, 'cat /etc/motd')).stdout).toContain(`reached as ${host.address}\n`);
  });

  it('reports an unreachable host without holding back the other', async () => {
    writeFileSync(join(dir, 'setup.yaml'), setup('4'));
    const inventory =
      readFileSync(join(dir, 'hosts.yaml'), 'utf8') +
      `  ghost:\n    address: 10.231.251.2\n    connect_timeout: 30\n    identity_file: ${host.identity_file}\n    known_hosts: ${host.known_hosts}\n`;
    writeFileSync(join(dir, 'hosts.yaml'), inventory);
    // --timeout overrides the inventory's 30 s: the ghost is given up on after 2 s.
    const run = await reconcileJson(dir, 'apply', '--timeout', '2');
    expect(run.code).toBe(1);
    expect(run.hosts[1]!.durationMs).toBeLessThan(15_000);
    const [reachable, ghost] = run.hosts;
    expect(reachable).toMatchObject({ host: host.name, status: 'changed' });
    expect(ghost).toMatchObject({ host: 'ghost', status: 'failed' });
    expect(ghost!.error).toMatch(
      /^(no answer from 10\.231\.251\.2:22 within 2s|no route to 10\.231\.251\.2|could not reach 10\.231\.251\.2:22): is the host up|^10\.231\.251\.2:22 closed the connection before the SSH handshake/,
    );
    expect((await ssh(host, 'sudo -n cat /srv/app/app.conf')).stdout).toBe('version=4\nok\n');
  });
});

describe('local transport', () => {
  it('runs the same scripts on this machine without SSH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-local-'));
    const target = join(dir, 'managed');
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  here:\n    address: localhost\n    connection: local\n    user: root\n');
    writeFileSync(
      join(dir, 'setup.yaml'),
      `resources:\n  - kind: directory\n    path: ${target}\n    mode: "0700"\n  - kind: line\n    path: ${target}/list\n    line: hello\n`,
    );
    expect((await reconcile(dir, 'plan')).code).toBe(2);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(readFileSync(join(target, 'list'), 'utf8')).toBe('hello\n');
    const again = await reconcileJson(dir, 'plan');
    expect(again.code).toBe(0);
    expect(again.hosts[0]!.execs).toBe(1);
  });
});
