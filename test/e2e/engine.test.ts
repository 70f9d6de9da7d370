import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { HostPlan } from '../../src/model/plan.js';
import { quote } from '../../src/shell/quote.js';
import type { TestHost } from '../hosts/host.js';
import { reconcile, reconcileJson, repoSetup, workspace } from './helpers.js';

const state = (host: TestHost, script: string) => ssh(host, script).then((r) => r.stdout.trim());
const mainPid = (host: TestHost, unit: string) => state(host, `systemctl show -p MainPID --value ${unit}`);
const mtimes = (host: TestHost) =>
  state(
    host,
    'stat -c "%n %Y.%Z" /etc/systemd/system/prefect-*.service /home/daniel/.bashrc /home/daniel/.prefect/profiles.toml /home/daniel/projections-data /home/daniel/projections-data/manifests',
  );

describe('engine on a fresh host: plan, apply, idempotency, drift, saved plans, owed restarts', () => {
  const hosts = useTestHosts(1, 'en');
  let host: TestHost;
  let dir: string;

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it('plans everything on a fresh host, applies exactly that, and converges', async () => {
    const plan = await reconcile(dir, 'plan');
    expect(plan.code).toBe(2);
    for (const title of [
      '+ install python3-venv',
      '+ venv /home/daniel/projects/projections-v2/.venv',
      '+ profile selfhost',
      '~ line in /home/daniel/.bashrc',
      '+ directory /home/daniel/projections-data/manifests',
      '+ unit /etc/systemd/system/prefect-server.service',
      '↻ systemctl daemon-reload',
      '↻ start prefect-server.service',
      '~ work pool projections-local',
      '↻ start prefect-worker.service',
      '~ 2 deployments of /home/daniel/projects/projections-v2/prefect.yaml',
    ]) {
      expect(plan.stdout).toContain(title);
    }
    // The server is not running yet: the pool and deployments are compared once it is, nothing is guessed.
    expect(plan.stdout).toContain(`… server not answering: http://${host.address}:4200/api`);
    const planned = await reconcileJson(dir, 'plan');
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.code).toBe(0);
    // The dry-run predicts apply: the same actions, in the same order, plus what the comparisons made
    // once the server was up found (the pool to create, both deployments to deploy).
    const plannedIds = planned.hosts[0]!.actions.map((a) => a.id);
    const done = applied.hosts[0]!.done!;
    expect(done.filter((id) => plannedIds.includes(id))).toEqual(plannedIds);
    expect(done.filter((id) => !plannedIds.includes(id))).toEqual([
      'prefect_work_pool:projections-local',
      'deploy live-score',
      'deploy nightly-projections',
    ]);
    // The README's figures are promises: 15 planned actions, 8 execs: the run lock, the fact script,
    // one batch per stretch of scripts that ends at a health wait (package .. start server; enable +
    // start worker), the pool's and the deployments' facts read again once the server answers, one
    // batch for both deploys, and the facts read once more at the end, for the outcome; the work pool
    // goes over HTTP.
    const [, actions, execs] = /The repo's setup on a fresh host: (\d+) actions, (\d+) execs/.exec(readFileSync('README.md', 'utf8')) ?? [];
    expect(plannedIds).toHaveLength(Number(actions));
    expect(applied.hosts[0]!.execs).toBe(Number(execs));
    // What the setup needs from the OS comes first.
    expect(plannedIds[0]).toBe('package:python3-venv');
    expect(applied.hosts[0]!.problems).toEqual([]);
    expect(applied.hosts[0]!.deferred).toBeUndefined();

    expect(await state(host, 'systemctl is-active prefect-server prefect-worker')).toBe('active\nactive');
    expect(await state(host, 'systemctl is-enabled prefect-server prefect-worker')).toBe('enabled\nenabled');
    expect(await state(host, 'grep -c "^alias prefect-cli=" ~/.bashrc')).toBe('1');
    expect(await state(host, 'stat -c "%U %a" /home/daniel/projections-data/manifests')).toBe('daniel 755');
    expect(await state(host, `cat /etc/systemd/system/prefect-worker.service`)).toContain(
      `--pool projections-local --type process --limit 2 --with-healthcheck`,
    );
    expect(await state(host, `cat /etc/systemd/system/prefect-server.service`)).toContain(`--host ${host.address} --port 4200`);

    const after = await reconcileJson(dir, 'plan');
    expect(after.code).toBe(0);
    expect(after.hosts[0]!.actions).toEqual([]);
    // A converged host costs one connection and one remote exec.
    expect(after.hosts[0]!.execs).toBe(1);
  }, 120_000);

  it('changes nothing on a second apply: no write, no reload, no restart', async () => {
    const before = {
      mtimes: await mtimes(host),
      server: await mainPid(host, 'prefect-server'),
      worker: await mainPid(host, 'prefect-worker'),
    };
    const run = await reconcile(dir, 'apply');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('0 actions done');
    expect(await mtimes(host)).toBe(before.mtimes);
    expect(await mainPid(host, 'prefect-server')).toBe(before.server);
    expect(await mainPid(host, 'prefect-worker')).toBe(before.worker);
  });

  it('restarts only the worker when only its unit changes', async () => {
    writeFileSync(join(dir, 'setup.yaml'), repoSetup().replace('--limit 2', '--limit 3'));
    const server = await mainPid(host, 'prefect-server');
    const worker = await mainPid(host, 'prefect-worker');
    const planned = await reconcileJson(dir, 'plan');
    expect(planned.code).toBe(2);
    expect(planned.hosts[0]!.actions.map((a) => a.id)).toEqual([
      'systemd_service:prefect-worker.service',
      'daemon-reload',
      'restart prefect-worker.service',
    ]);
    const text = await reconcile(dir, 'plan');
    expect(text.stdout).toContain(
      '-ExecStart=/home/daniel/projects/projections-v2/.venv/bin/prefect worker start --pool projections-local --type process --limit 2',
    );
    expect(text.stdout).toContain(
      '+ExecStart=/home/daniel/projects/projections-v2/.venv/bin/prefect worker start --pool projections-local --type process --limit 3',
    );
    const applied = await reconcileJson(dir, 'apply');
    expect(applied.hosts[0]!.done!).toEqual(planned.hosts[0]!.actions.map((a) => a.id));
    expect(await mainPid(host, 'prefect-server')).toBe(server);
    expect(await mainPid(host, 'prefect-worker')).not.toBe(worker);
    expect(await state(host, 'systemctl show -p ExecStart --value prefect-worker')).toContain('--limit 3');
  }, 60_000);

  it('shows a hand edit as a reverse diff and restores it', async () => {
    await ssh(
      host,
      `sudo -n sed -i 's/^RestartSec=5$/RestartSec=30/' /etc/systemd/system/prefect-server.service && sed -i '/^alias prefect-cli=/d' ~/.bashrc`,
    );
    const plan = await reconcile(dir, 'plan');
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('-RestartSec=30\n');
    expect(plan.stdout).toContain('+RestartSec=5\n');
    expect(plan.stdout).toMatch(/\+alias prefect-cli=/);
    expect(plan.stdout).toContain('↻ restart prefect-server.service');
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await state(host, 'grep -c "^RestartSec=5$" /etc/systemd/system/prefect-server.service')).toBe('1');
    expect(await state(host, 'grep -c "^alias prefect-cli=" ~/.bashrc')).toBe('1');
    expect((await reconcile(dir, 'plan')).code).toBe(0);
  }, 60_000);

  it('refuses a saved plan when the host changed underneath, changing nothing', async () => {
    writeFileSync(join(dir, 'setup.yaml'), repoSetup().replace('--limit 2', '--limit 4'));
    expect((await reconcile(dir, 'plan', '-o', 'saved.json')).code).toBe(2);
    await ssh(host, `sudo -n sed -i 's/^RestartSec=5$/RestartSec=7/' /etc/systemd/system/prefect-worker.service`);
    const before = await state(host, 'sha256sum /etc/systemd/system/prefect-worker.service');
    const refused = await reconcile(dir, 'apply', 'saved.json');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('the saved plan is stale');
    expect(await state(host, 'sha256sum /etc/systemd/system/prefect-worker.service')).toBe(before);
    // A fresh plan, saved and applied at once, goes through.
    expect((await reconcile(dir, 'plan', '-o', 'fresh.json')).code).toBe(2);
    expect((await reconcile(dir, 'apply', 'fresh.json')).code).toBe(0);
    expect((await reconcile(dir, 'plan')).code).toBe(0);
  }, 60_000);

  it('performs a restart that a run owed when it stopped after writing the unit', async () => {
    writeFileSync(join(dir, 'setup.yaml'), repoSetup().replace('--limit 2', '--limit 5'));
    expect((await reconcile(dir, 'plan', '-o', 'owed.json')).code).toBe(2);
    const saved = JSON.parse(readFileSync(join(dir, 'owed.json'), 'utf8')) as { hosts: HostPlan[] };
    const write = saved.hosts[0]!.actions[0]!;
    expect(write.id).toBe('systemd_service:prefect-worker.service');
    // Run exactly the unit write's steps, as an apply that died right after them would have.
    for (const step of write.steps) {
      if (!('script' in step)) throw new Error('a unit write is made of scripts');
      await ssh(host, `sudo -n sh -c ${quote(step.script)}`, {
        input: step.stdinBase64 ? Buffer.from(step.stdinBase64, 'base64').toString() : '',
      });
    }
    const worker = await mainPid(host, 'prefect-worker');
    const owed = await reconcileJson(dir, 'plan');
    expect(owed.hosts[0]!.actions.map((a) => a.id)).toEqual(['daemon-reload', 'restart prefect-worker.service']);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await mainPid(host, 'prefect-worker')).not.toBe(worker);
    expect(await state(host, 'systemctl show -p ExecStart --value prefect-worker')).toContain('--limit 5');
    expect((await reconcileJson(dir, 'plan')).hosts[0]!.actions).toEqual([]);
  }, 60_000);
});

describe('host identity', () => {
  const hosts = useTestHosts(2, 'hk');

  it('refuses a host whose key changed before running any command there', async () => {
    const [target, other] = hosts as [TestHost, TestHost];
    const forged = join(workspace([]), 'known_hosts');
    const otherKey = readFileSync(other.known_hosts, 'utf8').split(' ').slice(1).join(' ');
    writeFileSync(forged, `${target.address} ${otherKey}`);
    const dir = workspace([target], { knownHosts: forged });
    const logins = () => state(target, 'sudo -n journalctl -u ssh --no-pager -q | grep -c "Accepted publickey" || true');
    const before = await logins();
    const run = await reconcile(dir, 'plan');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`host key changed: ${target.address} offered ssh-ed25519 SHA256:`);
    expect(run.stdout).toContain(`${forged}:1`);
    // Our own check above logged in once; reconcile never got as far as authenticating.
    expect(Number(await logins())).toBe(Number(before) + 1);
  });

  it('refuses an unknown host unless told to trust it, then records its key', async () => {
    const [target] = hosts as [TestHost];
    const empty = join(workspace([]), 'known_hosts');
    writeFileSync(empty, '');
    const dir = workspace([target], { knownHosts: empty });
    const refused = await reconcile(dir, 'validate');
    expect(refused.code).toBe(0);
    const unknown = await reconcile(dir, 'plan');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain(`unknown host key: ${target.address} is not in ${empty}`);
    const trusted = await reconcile(dir, 'plan', '--accept-new-host-keys');
    expect(trusted.code).toBe(2);
    expect(readFileSync(empty, 'utf8')).toMatch(new RegExp(`^${target.address.replace(/\./g, '\\.')} ssh-ed25519 `));
    expect((await reconcile(dir, 'plan')).code).toBe(2);
  });
});
