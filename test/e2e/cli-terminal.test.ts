import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { onTerminal, reconcile, reconcileWithEnv, workspace } from './helpers.js';

const SECRET = 'tOkEn-8c1f0e2b';

/** The command line as an operator meets it, on a terminal and through a pipe, against a real host. */
describe('apply on a terminal, progress and -v', () => {
  const hosts = useTestHosts(1, 'tt');
  let host: TestHost;
  let dir: string;
  const exists = async (path: string) => (await ssh(host, `test -e ${path} && echo yes || echo no`)).stdout.trim() === 'yes';

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace([host]);
    writeFileSync(join(dir, 'token'), SECRET, { mode: 0o600 });
    writeFileSync(
      join(dir, 'setup.yaml'),
      `secrets:
  token: { file: token }
resources:
  - kind: directory
    path: /srv/confirm
  - kind: file
    path: /srv/confirm/token.conf
    content: "token={{ token }}\\n"
    mode: "0600"
`,
    );
  });

  it('shows the plan and asks; anything but yes changes nothing, exit 1', async () => {
    const { code, output } = await onTerminal(dir, 'apply', "Only 'yes' applies them: ", 'no');
    expect(output).toContain('+ directory /srv/confirm');
    expect(output).toContain("Apply 2 changes to 1 host? Only 'yes' applies them:");
    expect(output).toContain('not applied: nothing was changed');
    expect(code).toBe(1);
    expect(await exists('/srv/confirm')).toBe(false);
  });

  it('yes applies exactly the plan shown, each action with its time in the live view; then nothing is asked', async () => {
    const { code, output } = await onTerminal(dir, 'apply', "Only 'yes' applies them: ", 'yes');
    expect(code, output).toBe(0);
    expect(output).toMatch(/\+ directory \/srv\/confirm \(\d+\.\ds\)/);
    expect(output).not.toContain(SECRET);
    expect(await exists('/srv/confirm/token.conf')).toBe(true);
    const again = await onTerminal(dir, 'apply', 'never shown', '');
    expect(again.code).toBe(0);
    expect(again.output).not.toContain("Only 'yes'");
    expect(again.output).toContain('hosts: 0 with changes, 1 unchanged, 0 failed; 0 changes');
  });

  it('--yes on a terminal applies without asking; a pipe never asks', async () => {
    await ssh(host, 'sudo rm -rf /srv/confirm');
    const yes = await onTerminal(dir, 'apply --yes', 'never shown', '');
    expect([yes.code, yes.output.includes("Only 'yes'")]).toEqual([0, false]);
    await ssh(host, 'sudo rm -rf /srv/confirm');
    const piped = await reconcile(dir, 'apply');
    expect([piped.code, piped.stdout.includes("Only 'yes'")]).toEqual([0, false]);
    expect(await exists('/srv/confirm/token.conf')).toBe(true);
  });

  it('-v says how the host is reached and how long each phase took; -vv shows the scripts, never the secret', async () => {
    const verbose = await reconcile(dir, 'check', '-v');
    expect(verbose.code).toBe(0);
    for (const said of [
      `connecting to daniel@${host.address}:22 (timeout 10 s, known_hosts ${host.known_hosts})`,
      `keys to offer, in order: ${host.identity_file}: ssh-ed25519`,
      'host key ssh-ed25519 SHA256:',
      'TCP connected in ',
      'authenticated as daniel in ',
      'facts read (2 resources, one exec) in ',
      'planned: 0 actions, 0 problems in ',
    ])
      expect(verbose.stderr).toContain(said);
    expect(verbose.stderr).not.toContain('script:');
    await ssh(host, 'sudo rm -f /srv/confirm/token.conf');
    const vv = await reconcileWithEnv({}, dir, 'apply', '-vv');
    expect(vv.code).toBe(0);
    expect(vv.stderr).toContain('script:\n');
    expect(vv.stderr).toMatch(/lines of content, not shown/);
    for (const text of [SECRET, Buffer.from(`token=${SECRET}\n`).toString('base64').slice(0, 16)])
      expect(vv.stdout + vv.stderr).not.toContain(text);
  });

  it("on a terminal, plan says which hosts it still waits for; the live view keeps a failed host's name", async () => {
    // A host that accepts the connection and never speaks SSH: it takes its whole connect timeout.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const withGhost = workspace([host]);
      writeFileSync(
        join(withGhost, 'hosts.yaml'),
        `${readFileSync(join(withGhost, 'hosts.yaml'), 'utf8')}  ghost:\n    address: 127.0.0.1\n    port: ${port}\n    connect_timeout: 3\n`,
      );
      writeFileSync(join(withGhost, 'setup.yaml'), 'resources:\n  - kind: directory\n    path: /srv/ghostly\n');
      const plan = await onTerminal(withGhost, 'plan', 'never shown', '');
      expect(plan.output).toMatch(/reading 2 hosts: 1 done; waiting for ghost \(connecting to 127\.0\.0\.1\); \d+ s/);
      expect(plan.output).toContain('hosts: 1 with changes, 0 unchanged, 1 failed; 1 change');
      const apply = await onTerminal(withGhost, 'apply --yes', 'never shown', '');
      expect(apply.code).toBe(1);
      // The live view says what a host is doing before it has a plan.
      expect(apply.output).toContain('ghost: connecting to 127.0.0.1');
      expect(apply.output).toContain(`ghost: 127.0.0.1:${port} accepted the connection but no SSH handshake finished within 3s`);
    } finally {
      silent.close();
    }
  });

  it('plan -o says where the plan went and the command that applies it', async () => {
    const saved = await reconcile(dir, 'plan', '-o', 'saved plan.json');
    expect(saved.stdout).toContain("plan saved to saved plan.json: apply exactly it with reconcile apply 'saved plan.json'");
    expect((await reconcile(dir, 'apply', 'saved plan.json')).code).toBe(0);
  });

  it('piped, an action still running after 2 s gets a line of its own', async () => {
    writeFileSync(
      join(dir, 'setup.yaml'),
      `${readFileSync(join(dir, 'setup.yaml'), 'utf8')}  - kind: systemd_service
    unit: slow.service
    health: { url: "http://127.0.0.1:8123/", timeout: 30 }
    content: |
      [Unit]
      Description=slow to answer
      [Service]
      ExecStart=/bin/sh -c 'sleep 4; exec /usr/bin/python3 -m http.server 8123 --bind 127.0.0.1'
      [Install]
      WantedBy=multi-user.target
`,
    );
    const run = await reconcile(dir, 'apply');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/: ↻ start slow\.service: running\n/);
  });
});
