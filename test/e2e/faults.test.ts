import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts, waitFor } from '../hosts/fixture.js';
import { cutSessions, rebootHost, type TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

/** Connection cuts per run: a few in the normal suite, FAULT_RUNS (e.g. 25, `npm run test:faults`) when asked. */
const CUTS = Number(process.env.FAULT_RUNS ?? 6);
/** Sizes chosen so that a cut often lands mid-transfer of the large ones. */
const SIZES = [120, 4_000, 65_536, 400_000, 1_500_000, 3_000_000];

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Deterministic, incompressible content for one file in one version. */
function content(version: number, file: number): Buffer {
  const blocks: Buffer[] = [Buffer.from(`version ${version} of file ${file}\n`)];
  let seed = createHash('sha256').update(`${version}/${file}`).digest();
  for (let size = blocks[0]!.length; size < SIZES[file]!; size += 32) blocks.push((seed = createHash('sha256').update(seed).digest()));
  return Buffer.concat(blocks).subarray(0, SIZES[file]);
}

function setup(version: number): string {
  const files = SIZES.map((_, i) => `  - kind: file\n    path: /srv/faults/f${i}.bin\n    source: f${i}.bin\n    mode: "0640"\n`).join('');
  return `resources:
  - kind: directory
    path: /srv/faults
    mode: "0755"
${files}  - kind: systemd_service
    unit: fault-demo.service
    content: |
      [Service]
      Environment=VERSION=${version}
      ExecStart=/bin/sleep infinity
      [Install]
      WantedBy=multi-user.target
    enabled: true
    state: running
`;
}

describe('faults: the SSH connection cut at random points during apply', () => {
  const hosts = useTestHosts(1, 'fa');
  let host: TestHost;
  let dir: string;
  /** Every content each managed path has ever been asked to hold: a file must always be one of them, whole. */
  const valid = new Map<string, Set<string>>();

  const want = (version: number) => {
    for (const [i] of SIZES.entries()) {
      const bytes = content(version, i);
      writeFileSync(join(dir, `f${i}.bin`), bytes);
      const path = `/srv/faults/f${i}.bin`;
      valid.set(path, (valid.get(path) ?? new Set()).add(sha(bytes)));
    }
    writeFileSync(join(dir, 'setup.yaml'), setup(version));
  };

  /** sha256 of each managed file on the host, and leftover temp files. */
  const onHost = async () => {
    const out = (await ssh(host, 'sudo -n sh -c "cd /srv/faults && sha256sum f*.bin; ls -A | grep -c ^.reconcile || true"')).stdout
      .trim()
      .split('\n');
    const leftovers = Number(out.pop());
    return { hashes: new Map(out.map((l) => [`/srv/faults/${l.split('  ')[1]}`, l.split('  ')[0]!])), leftovers };
  };

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it(
    `leaves every file old or new, reports what completed, and converges after (${CUTS} cuts)`,
    async () => {
      want(0);
      const clean = performance.now();
      expect((await reconcile(dir, 'apply')).code).toBe(0);
      const applyMs = performance.now() - clean;

      let landed = 0;
      let checks = 0;
      for (let cut = 1; cut <= CUTS; cut++) {
        want(cut);
        const delay = 30 + Math.random() * applyMs * 0.6;
        const running = reconcileJson(dir, 'apply', '--lock-timeout', '20');
        await new Promise((r) => setTimeout(r, delay));
        const killed = await cutSessions(host.name, 'daniel');
        const run = await running;
        const report = run.hosts[0]!;
        if (run.code === 0) expect(report.status).toBe('changed');
        else {
          landed++;
          expect(report.status, JSON.stringify(report)).toBe('failed');
          expect(report.error).toBeTruthy();
        }
        // No remote script outlives the cut for long: the temp files are gone once it has ended.
        await waitFor(async () => (await onHost()).leftovers === 0, 10_000);
        const { hashes } = await onHost();
        for (const [path, hash] of hashes) {
          checks++;
          expect(
            valid.get(path)?.has(hash),
            `${path} after cut ${cut} (${Math.round(delay)} ms, ${killed} sessions killed): neither an old nor the new content`,
          ).toBe(true);
        }
        // What the run reports as done is done: those files hold this version.
        for (const id of report.done ?? []) {
          const path = id.replace(/^file:/, '');
          if (valid.has(path))
            expect(hashes.get(path), `${id} reported done after cut ${cut}`).toBe(sha(content(cut, Number(/f(\d)\.bin/.exec(path)![1]))));
        }
      }

      // The text report names the cut and what was done before it.
      want(CUTS + 1);
      const textRun = reconcile(dir, 'apply', '--lock-timeout', '20');
      await new Promise((r) => setTimeout(r, applyMs * 0.5));
      await cutSessions(host.name, 'daniel');
      const text = await textRun;
      // A cut before the plan was made has nothing to say about actions; one during the apply says what completed.
      if (text.code !== 0)
        expect(text.stdout).toMatch(
          /connection lost[^]*(\d+ of \d+ actions done[^\n]*; the next apply does what is left|; 0 actions done)/,
        );

      want(CUTS + 2);
      const final = await reconcile(dir, 'apply', '--lock-timeout', '20');
      expect(final.code, final.stdout + final.stderr).toBe(0);
      const after = await reconcile(dir, 'plan');
      expect(after.code, after.stdout).toBe(0);
      const { hashes } = await onHost();
      for (const [i] of SIZES.entries()) expect(hashes.get(`/srv/faults/f${i}.bin`)).toBe(sha(content(CUTS + 2, i)));
      expect((await ssh(host, 'systemctl show -p Environment --value fault-demo.service')).stdout.trim()).toBe(`VERSION=${CUTS + 2}`);
      console.log(
        `fault loop: ${CUTS} connection cuts injected, ${landed} landed mid-apply, ${checks} file states checked (all whole: old or new), next apply converged`,
      );
      expect(landed).toBeGreaterThan(0);
    },
    60_000 + CUTS * 15_000,
  );

  it('reports a full disk clearly and keeps the old file whole', async () => {
    await ssh(host, 'mkdir -p /srv/small && mount -t tmpfs -o size=1m tmpfs /srv/small', { user: 'root' });
    const fileSpec = `resources:\n  - kind: file\n    path: /srv/small/data.bin\n    source: data.bin\n    mode: "0644"\n`;
    const small = content(1, 2).subarray(0, 100_000);
    writeFileSync(join(dir, 'data.bin'), small);
    writeFileSync(join(dir, 'setup.yaml'), fileSpec);
    expect((await reconcile(dir, 'apply')).code).toBe(0);

    writeFileSync(join(dir, 'data.bin'), content(2, 5));
    const full = await reconcile(dir, 'apply');
    expect(full.code).toBe(1);
    expect(full.stdout).toMatch(new RegExp(`${host.name}: FAILED at file:/srv/small/data.bin: exit \\d+: .*No space left on device`));
    expect(full.stdout).toContain(`${host.name}: 0 of 1 actions done; the next apply does what is left`);
    expect((await ssh(host, 'sha256sum < /srv/small/data.bin; ls -A /srv/small', { user: 'root' })).stdout).toBe(
      `${sha(small)}  -\ndata.bin\n`,
    );
  });

  it('refuses a plan saved before the host rebooted, and a fresh apply converges', async () => {
    // The reboot starts the test host over from its image, so after a second reboot its files are what
    // they were when the plan was made: only the boot id tells the two apart.
    writeFileSync(join(dir, 'setup.yaml'), setup(1));
    await rebootHost(host.name);
    expect((await reconcile(dir, 'plan', '-o', 'before-reboot.json')).code).toBe(2);
    await rebootHost(host.name);
    const refused = await reconcile(dir, 'apply', 'before-reboot.json');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('the saved plan is stale: the host rebooted since it was made (nothing was applied)');
    expect((await ssh(host, 'test -e /srv/faults && echo present || echo absent')).stdout).toBe('absent\n');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect((await reconcile(dir, 'plan')).code).toBe(0);
  }, 90_000);
});
