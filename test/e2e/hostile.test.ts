import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/engine/run.js';
import { quote } from '../../src/shell/quote.js';
import type { HostTarget } from '../../src/model/target.js';
import type { Transport } from '../../src/transport/transport.js';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, workspace } from './helpers.js';

const targetOf = (h: TestHost, user = h.user): HostTarget => ({
  name: h.name,
  address: h.address,
  port: h.port,
  user,
  identityFiles: [h.identity_file],
  identitiesOnly: false,
  knownHosts: h.known_hosts,
  become: true,
  connection: 'ssh',
  connectTimeoutMs: 5000,
});

describe('hostile values, planted symlinks and sudo that wants a password', () => {
  const hosts = useTestHosts(1, 'ho');
  let host: TestHost;
  let transport: Transport;
  let inputsTried = 0;

  beforeAll(async () => {
    host = hosts[0]!;
    transport = await connect(targetOf(host));
    return () => transport.close();
  });

  it('quote(): any NUL-free string arrives on a real host byte for byte, as exactly one argument', async () => {
    const hostile = fc
      .oneof(
        fc.string({ unit: 'binary', maxLength: 64 }),
        fc.constantFrom(
          "'",
          '"',
          '$(id)',
          '`id`',
          '\\',
          '\n',
          '-n',
          '--',
          '*',
          '~',
          '$HOME',
          '${IFS}',
          'a\'b"c',
          ' ',
          '',
          '\u00e9\u4e2d\ud83d\ude00',
        ),
        fc
          .array(
            fc.constantFrom("'", '"', '$', '`', '\\', '\n', '\t', ' ', ';', '&', '|', '(', ')', '<', '>', '*', '?', '!', '#', '-', 'x'),
            { maxLength: 24 },
          )
          .map((cs) => cs.join('')),
      )
      .filter((s) => !s.includes('\0'));
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 40 }), async (values) => {
        inputsTried += values.length;
        // Each value goes through quote() into `set --`; the host prints the argument count and the bytes back.
        const script = values.map((v) => `set -- ${quote(v)}; printf '%s\\036%s\\037' "$#" "$1"`).join('\n');
        const result = await transport.run(script);
        const echoed = result.stdout
          .split('\x1f')
          .slice(0, -1)
          .map((chunk) => chunk.split('\x1e'));
        expect(echoed).toEqual(values.map((v) => ['1', v]));
      }),
      { numRuns: 60 },
    );
    console.log(`quoting: ${inputsTried} hostile strings round-tripped through a real shell`);
  }, 120_000);

  it('replaces a symlink planted at a managed path instead of writing through it', async () => {
    await ssh(host, 'sudo -n sh -c "mkdir -p /srv/app && ln -sf /etc/shadow /srv/app/app.env && sha256sum /etc/shadow > /root/shadow.sum"');
    const dir = workspace([host]);
    writeFileSync(
      join(dir, 'setup.yaml'),
      'resources:\n  - kind: file\n    path: /srv/app/app.env\n    content: "A=1\\n"\n    mode: "0640"\n',
    );
    const plan = await reconcile(dir, 'plan');
    expect(plan.stdout).toContain('type: symlink to /etc/shadow -> file');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await ssh(host, 'sudo -n sha256sum -c /root/shadow.sum')).stdout).toContain('/etc/shadow: OK');
    expect((await ssh(host, 'sudo -n stat -c "%F %a" /srv/app/app.env')).stdout.trim()).toBe('regular file 640');
    expect((await ssh(host, 'sudo -n cat /srv/app/app.env')).stdout).toBe('A=1\n');
  });

  it('refuses to treat a planted symlink as a managed directory', async () => {
    await ssh(host, 'sudo -n ln -sfn /etc /srv/conf');
    const dir = workspace([host]);
    writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/conf\n    mode: "0700"\n');
    const run = await reconcile(dir, 'apply');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('/srv/conf exists but is a symlink, not a directory; reconcile will not replace it');
    expect((await ssh(host, 'stat -c %a /etc')).stdout.trim()).toBe('755');
  });

  it('names the host when sudo asks for a password', async () => {
    await ssh(
      host,
      [
        'sudo -n useradd -m alice',
        "echo 'alice ALL=(ALL:ALL) ALL' | sudo -n tee /etc/sudoers.d/alice >/dev/null",
        'sudo -n install -d -o alice -m 0700 /home/alice/.ssh',
        'sudo -n install -o alice -m 0600 /etc/ssh/testhost-authorized/daniel /home/alice/.ssh/authorized_keys',
      ].join(' && '),
    );
    const dir = workspace([host]);
    writeFileSync(
      join(dir, 'hosts.yaml'),
      `hosts:\n  ${host.name}:\n    address: ${host.address}\n    user: alice\n    become: true\n    identity_file: ${host.identity_file}\n    known_hosts: ${host.known_hosts}\n`,
    );
    writeFileSync(join(dir, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/alice\n');
    const run = await reconcile(dir, 'plan');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${host.name} (${host.address}): error: sudo asks for a password: give it with --ask-become-pass or become_password_secret in hosts.yaml (or allow the login user passwordless sudo)`,
    );
  });
});
