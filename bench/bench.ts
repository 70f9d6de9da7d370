// `npm run bench`: reconcile against Ansible on identical fresh test hosts, side by side in one run,
// with the repo's setup.yaml and bench/ansible/playbook.yml. Prints a Markdown table and writes it
// to bench/RESULTS.md. Not part of the test suite. Needs Debian's ansible package.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { factScript } from '../src/engine/gather.js';
import { resourceTypes } from '../src/resources/registry.js';
import { loadSpec } from '../src/config/load.js';
import { bootHost, createLan, removeLan, sshOptions, stopHost, type TestHost } from '../test/hosts/host.js';
import { addSleepingFlow, serveSampleProject, withProjectAt, type ServedRepo } from '../test/hosts/served-repo.js';
import { ensureImage } from '../test/hosts/image.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FLEET = [1, 5, 20, 50];
const root = process.cwd();
const ansibleDir = join(root, 'bench/ansible');

interface Timed {
  seconds: number;
  code: number;
  output: string;
  maxRssKb?: number;
  cpuSeconds?: number;
}

/** Wall time of a command; /usr/bin/time reports its peak memory and CPU time. */
function timed(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; memory?: boolean } = {},
): Promise<Timed> {
  const [cmd, argv] = options.memory ? ['/usr/bin/time', ['-f', 'maxrss=%M cpu=%U+%S', command, ...args]] : [command, args];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, argv, { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => {
      const rss = /maxrss=(\d+)/.exec(output);
      const cpu = /cpu=([\d.]+)\+([\d.]+)/.exec(output);
      resolve({
        seconds: (performance.now() - started) / 1000,
        code: code ?? -1,
        output,
        maxRssKb: rss ? Number(rss[1]) : undefined,
        cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined,
      });
    });
  });
}

function inventory(hosts: TestHost[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-bench-'));
  const lines = ['defaults:', '  user: daniel', '  become: true', 'hosts:'];
  for (const h of hosts)
    lines.push(`  ${h.name}:`, `    address: ${h.address}`, `    identity_file: ${h.identity_file}`, `    known_hosts: ${h.known_hosts}`);
  writeFileSync(join(dir, 'hosts.yaml'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'setup.yaml'), readFileSync(join(root, 'setup.yaml')));
  writeFileSync(
    join(dir, 'hosts.ini'),
    hosts
      .map(
        (h) =>
          `${h.name} ansible_host=${h.address} ansible_user=daniel ansible_ssh_private_key_file=${h.identity_file} ` +
          `ansible_ssh_common_args='-o UserKnownHostsFile=${h.known_hosts} -o StrictHostKeyChecking=yes'`,
      )
      .join('\n') + '\n',
  );
  return dir;
}

const reconcile = (dir: string, ...args: string[]) =>
  timed(process.execPath, [join(root, 'bin/reconcile.js'), ...args, '--state-dir', join(dir, 'state'), '--concurrency', '20'], {
    cwd: dir,
    memory: true,
  });
const ansible = (dir: string, ...args: string[]) =>
  timed('ansible-playbook', ['-i', join(dir, 'hosts.ini'), join(ansibleDir, 'playbook.yml'), ...args], {
    env: { ANSIBLE_CONFIG: join(ansibleDir, 'ansible.cfg') },
  });

function expectOk(what: string, run: Timed, codes = [0]): Timed {
  if (!codes.includes(run.code)) throw new Error(`${what} exited ${run.code}:\n${run.output.slice(-2000)}`);
  return run;
}

/** The raw OpenSSH floor: one connection running the same fact script (what reconcile sends), with ssh's own CPU time. */
async function floor(host: TestHost, script: string): Promise<Timed> {
  return expectOk(
    'ssh floor',
    await timed('ssh', [...sshOptions(host), `${host.user}@${host.address}`, 'sudo -n sh -s'], { input: script, memory: true }),
  );
}

/** Each host's fact script, made before any timing starts. */
async function factScripts(dir: string): Promise<Map<string, string>> {
  const spec = await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
  return new Map(spec.hosts.map((h) => [h.target.name, factScript(h.resources, 'bench', resourceTypes)]));
}

/** Wall time, CPU time and peak memory of each run, for a table's columns. */
const figures = (runs: Timed[]) => ({
  seconds: runs.map((r) => r.seconds),
  cpu: runs.map((r) => r.cpuSeconds ?? 0),
  rssKb: runs.map((r) => r.maxRssKb ?? 0),
});

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
};
const fmt = (xs: number[]) => fmtN(xs, ' s');
/** Median (min–max), with a unit; counts without decimals. */
const fmtN = (xs: number[], unit: string) => {
  const s = stats(xs);
  const digits = unit === '' ? 0 : 2;
  return `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
};

async function main(): Promise<void> {
  if (spawnSync('ansible-playbook', ['--version']).status !== 0) throw new Error('ansible-playbook not found: apt-get install ansible');
  await ensureImage((line) => console.error(line));
  const cases = {
    A: { r: [] as number[], a: [] as number[] },
    B: { r: [] as number[], a: [] as number[] },
    C: { r: [] as number[], a: [] as number[] },
  };
  const floors: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [r, a] = await Promise.all([bootHost(`bench-r${i}`), bootHost(`bench-a${i}`)]);
    try {
      const rd = inventory([r]);
      const ad = inventory([a]);
      cases.A.r.push(expectOk('reconcile apply', await reconcile(rd, 'apply')).seconds);
      cases.A.a.push(expectOk('ansible apply', await ansible(ad)).seconds);
      cases.B.r.push(expectOk('reconcile no-op apply', await reconcile(rd, 'apply')).seconds);
      cases.B.a.push(expectOk('ansible no-op apply', await ansible(ad)).seconds);
      cases.C.r.push(expectOk('reconcile check', await reconcile(rd, 'check')).seconds);
      cases.C.a.push(expectOk('ansible --check', await ansible(ad, '--check', '--diff')).seconds);
      floors.push((await floor(r, (await factScripts(rd)).get(r.name)!)).seconds);
      console.error(
        `run ${i + 1}/${RUNS}: A ${cases.A.r.at(-1)!.toFixed(2)}/${cases.A.a.at(-1)!.toFixed(2)} B ${cases.B.r.at(-1)!.toFixed(2)}/${cases.B.a.at(-1)!.toFixed(2)} C ${cases.C.r.at(-1)!.toFixed(2)}/${cases.C.a.at(-1)!.toFixed(2)} floor ${floors.at(-1)!.toFixed(2)}`,
      );
    } finally {
      await Promise.all([stopHost(r.name), stopHost(a.name)]);
    }
  }

  const fleet = await fleetChecks();
  const jump = await jumpChecks();
  const { checks: prefectFleet, restarts } = await prefectFleetChecks();
  const restartRow = (what: string, figure: (r: Restart) => number, unit = ' s') =>
    `| ${what} | ${fmtN(restarts.drained.map(figure), unit)} | ${fmtN(restarts.undrained.map(figure), unit)} |`;
  const ratio = (c: { r: number[]; a: number[] }) => (stats(c.a).median / stats(c.r).median).toFixed(1);
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, test hosts in systemd-nspawn; ${RUNS} runs each, median (min–max).`,
    `Ansible: ${spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}, pipelining and ControlPersist on (bench/ansible/ansible.cfg).`,
    '',
    '| case | reconcile | Ansible | Ansible / reconcile |',
    '| --- | --- | --- | --- |',
    `| (A) first apply on a fresh host | ${fmt(cases.A.r)} | ${fmt(cases.A.a)} | ${ratio(cases.A)}x |`,
    `| (B) no-op apply on a converged host | ${fmt(cases.B.r)} | ${fmt(cases.B.a)} | ${ratio(cases.B)}x |`,
    `| (C) check / --check --diff on a converged host | ${fmt(cases.C.r)} | ${fmt(cases.C.a)} | ${ratio(cases.C)}x |`,
    '',
    `Raw OpenSSH floor (\`ssh host 'sudo -n sh -s' < fact-script\`): ${fmt(floors)}; reconcile check / floor: ${(stats(cases.C.r).median / stats(floors).median).toFixed(1)}x.`,
    '',
    "| no-op check of N hosts at once | reconcile wall time | control-side CPU time | peak memory | raw floor: N parallel `ssh host 'sudo -n sh -s' < fact-script` | the N ssh processes' CPU time |",
    '| --- | --- | --- | --- | --- | --- |',
    ...fleet.map(
      (f) =>
        `| ${f.hosts} | ${fmt(f.seconds)} | ${fmt(f.cpu)} | ${(Math.max(...f.rssKb) / 1024).toFixed(0)} MB | ${fmt(f.floor)} | ${fmt(f.floorCpu)} |`,
    ),
    '',
    `Control-side CPU per extra host (medians, ${fleet[0]!.hosts} to ${fleet.at(-1)!.hosts} hosts): reconcile ${perExtraHost(fleet, (f) => f.cpu)} s; OpenSSH's client alone, one process per host: ${perExtraHost(fleet, (f) => f.floorCpu)} s; the SSH library reconcile uses (ssh2, in JavaScript) alone, for a connection, an exec and the ${fleet[0]!.reads} HTTP reads a check makes per host (bench/transport-floor.ts): ${perExtraHost(fleet, (f) => f.transportCpu)} s.`,
    '',
    `Loading hosts.yaml and setup.yaml for ${fleet.at(-1)!.hosts} hosts (ssh_config resolved by \`ssh -G\`, one per distinct configuration when it cannot tell hosts apart): ${fmt(fleet.at(-1)!.load)}; one \`ssh -G\` alone: ${fmt(fleet.at(-1)!.sshG)}.`,
    '',
    '| no-op check of one host | reconcile | raw OpenSSH floor |',
    '| --- | --- | --- |',
    `| direct (the jump host itself) | ${fmt(jump.direct)} | ${fmt(jump.directFloor)} |`,
    `| behind the jump host (one extra hop) | ${fmt(jump.behind)} | ${fmt(jump.behindFloor)} |`,
    `| the hop's cost | ${(stats(jump.behind).median - stats(jump.direct).median).toFixed(2)} s | ${(stats(jump.behindFloor).median - stats(jump.directFloor).median).toFixed(2)} s |`,
    '',
    'examples/fleet (one Prefect server, N worker hosts on one LAN, each worker with its git checkout), converged, then checked:',
    '',
    "| workers | check wall time | control-side CPU time | peak memory | raw floor: N + 1 parallel `ssh host 'sudo -n sh -s' < fact-script` |",
    '| --- | --- | --- | --- | --- |',
    ...prefectFleet.map(
      (f) => `| ${f.workers} | ${fmt(f.seconds)} | ${fmt(f.cpu)} | ${(Math.max(...f.rssKb) / 1024).toFixed(0)} MB | ${fmt(f.floor)} |`,
    ),
    '',
    `A planned server restart (its unit changed) on that fleet, ${prefectFleet.at(-1)!.workers} workers, a flow of ${STEADY.seconds} s due every ${STEADY.every} s from the server's scheduler throughout (${RUNS} restarts each; median (min–max)):`,
    '',
    "| | with examples/fleet's drain | without it |",
    '| --- | --- | --- |',
    restartRow('apply (server and every worker restarted)', (r) => r.applySeconds),
    restartRow('pool paused', (r) => r.pausedSeconds),
    restartRow(`runs due from ${STEADY.seconds + 10} s before it to its end`, (r) => r.runs, ''),
    restartRow('latest start of those after its due time', (r) => r.maxDelaySeconds),
    restartRow('of those, runs lost (crashed, failed or never ended)', (r) => r.lost, ''),
  ].join('\n');
  console.log(table);
  writeFileSync(join(root, 'bench/RESULTS.md'), `# Benchmark results\n\nWritten by \`npm run bench\`.\n\n${table}\n`);
}

/**
 * A host behind a jump host against the jump host itself: both converged, then no-op checks of each,
 * by reconcile and by plain OpenSSH (through the jump host with ProxyCommand, as the harness reaches it).
 */
async function jumpChecks(): Promise<{ direct: number[]; behind: number[]; directFloor: number[]; behindFloor: number[] }> {
  const front = await bootHost('bench-jump');
  const inner = await bootHost('bench-behind', { behind: front.name }).catch(async (error: unknown) => {
    await stopHost(front.name);
    throw error;
  });
  try {
    const direct = inventory([front]);
    const behind = inventory([inner]);
    writeFileSync(
      join(behind, 'hosts.yaml'),
      readFileSync(join(behind, 'hosts.yaml'), 'utf8')
        .replace(
          /^hosts:$/m,
          `jump_hosts:\n  jump:\n    address: ${front.address}\n    identity_file: ${front.identity_file}\n    known_hosts: ${front.known_hosts}\nhosts:`,
        )
        .replace(/(known_hosts: .*\n)$/, '$1    jump: jump\n'),
    );
    expectOk('apply on the jump host', await reconcile(direct, 'apply'));
    expectOk('apply behind the jump host', await reconcile(behind, 'apply'));
    const [directScript, behindScript] = [(await factScripts(direct)).get(front.name)!, (await factScripts(behind)).get(inner.name)!];
    const result = { direct: [] as number[], behind: [] as number[], directFloor: [] as number[], behindFloor: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      result.direct.push(expectOk('check of the jump host', await reconcile(direct, 'check')).seconds);
      result.behind.push(expectOk('check behind the jump host', await reconcile(behind, 'check')).seconds);
      result.directFloor.push((await floor(front, directScript)).seconds);
      result.behindFloor.push((await floor(inner, behindScript)).seconds);
    }
    return result;
  } finally {
    await Promise.all([stopHost(inner.name), stopHost(front.name)]);
  }
}

const PREFECT_FLEET = [2, 5, 10];

/** examples/fleet for a server and the given workers, with the served repository pinned at its head. */
function prefectFleet(server: TestHost, workers: TestHost[], repo: ServedRepo): string {
  const dir = inventory([server, ...workers]);
  const names = ['prefect-server', ...workers.map((_, i) => `worker-${i + 1}`)];
  const hosts = [server, ...workers].map(
    (h, i) => `  ${names[i]}:\n    address: ${h.address}\n    identity_file: ${h.identity_file}\n    known_hosts: ${h.known_hosts}`,
  );
  writeFileSync(
    join(dir, 'hosts.yaml'),
    `defaults:\n  user: daniel\n  become: true\nhosts:\n${hosts.join('\n')}\ngroups:\n  server: [prefect-server]\n  workers: [${names.slice(1).join(', ')}]\n`,
  );
  // The stand-in reads PostgreSQL through Debian's psycopg2 (real Prefect brings asyncpg in its wheel).
  const setup = readFileSync(join(root, 'examples/fleet/setup.yaml'), 'utf8').replace(
    'packages: [postgresql]',
    'packages: [postgresql, python3-psycopg2]',
  );
  writeFileSync(join(dir, 'setup.yaml'), withProjectAt(setup, repo, repo.head()));
  // The server's database password, exported as a user would (every reconcile this benchmark runs inherits it).
  process.env.PREFECT_DB_PASSWORD ??= 'bench-fleet-db';
  return dir;
}

/**
 * One Prefect server and 10 workers on a LAN, converged with examples/fleet; then no-op checks of the
 * server with 2, 5 and 10 of the workers: wall time, reconcile's own CPU time and memory, the floor.
 */
async function prefectFleetChecks(): Promise<{
  checks: { workers: number; seconds: number[]; cpu: number[]; rssKb: number[]; floor: number[] }[];
  restarts: { drained: Restart[]; undrained: Restart[] };
}> {
  const lan = await createLan();
  const repo = serveSampleProject();
  const hosts: TestHost[] = [];
  try {
    for (let i = 0; i <= PREFECT_FLEET.at(-1)!; i += 4) {
      const count = Math.min(4, PREFECT_FLEET.at(-1)! + 1 - i);
      const booted = await Promise.allSettled(
        Array.from({ length: count }, (_, j) => bootHost(`bench-p${i + j}`, { lan, binds: [repo.bind] })),
      );
      for (const b of booted) if (b.status === 'fulfilled') hosts.push(b.value);
      const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const [server, ...workers] = hosts as [TestHost, ...TestHost[]];
    // Every host gets the project from git, as the example says; the image has it everywhere.
    await Promise.all(
      hosts.map((h) => timed('ssh', [...sshOptions(h), `daniel@${h.address}`, 'rm -rf /home/daniel/projects/projections-v2'])),
    );
    expectOk('fleet apply', await reconcile(prefectFleet(server, workers, repo), 'apply'));
    const results = [];
    for (const n of PREFECT_FLEET) {
      const dir = prefectFleet(server, workers.slice(0, n), repo);
      const scripts = await factScripts(dir);
      const runs = [];
      const floors = [];
      for (let i = 0; i < RUNS; i++) {
        runs.push(expectOk(`check of the server and ${n} workers`, await reconcile(dir, 'check')));
        const started = performance.now();
        await Promise.all(
          [server, ...workers.slice(0, n)].map((h, j) => floor(h, scripts.get(j === 0 ? 'prefect-server' : `worker-${j}`)!)),
        );
        floors.push((performance.now() - started) / 1000);
      }
      results.push({ workers: n, ...figures(runs), floor: floors });
    }
    // The restarts' load comes from the server's own scheduler, as a team's schedules would: a flow
    // that runs a few seconds, due every few seconds, so that runs are in flight at any moment.
    repo.commit(
      'a steady load',
      addSleepingFlow('steady', `    parameters:\n      seconds: ${STEADY.seconds}\n    schedules:\n      - interval: ${STEADY.every}\n`),
    );
    const full = prefectFleet(server, workers, repo);
    expectOk('deploying the steady load', await reconcile(full, 'apply'));
    // Until its runs come one after the other, as they will throughout.
    await new Promise((r) => setTimeout(r, (STEADY.seconds + 15) * 1000));
    const restarts = { drained: [] as Restart[], undrained: [] as Restart[] };
    // The drained restarts first: an undrained one leaves runs in flight for good (its lost runs), which
    // a later drain would rightly wait for until its timeout.
    for (let i = 0; i < RUNS; i++) restarts.drained.push(await plannedRestart(full, server, `drained ${i}`));
    for (let i = 0; i < RUNS; i++) restarts.undrained.push(await plannedRestart(full, server, `undrained ${i}`, false));
    return { checks: results, restarts };
  } finally {
    await Promise.all(hosts.map((h) => stopHost(h.name)));
    await removeLan(lan);
  }
}

/** The load during the planned restarts: a flow of `seconds`, due every `every` seconds. */
const STEADY = { seconds: 5, every: 2 };

/** What one planned server restart cost the fleet. */
interface Restart {
  applySeconds: number;
  pausedSeconds: number;
  /** Runs due from shortly before the apply began (they may be in flight then) to its end. */
  runs: number;
  /** The latest start of one of those runs, after the time it was due. */
  maxDelaySeconds: number;
  /** Those of them that did not complete (crashed, failed, or never ended). */
  lost: number;
}

interface FlowRun {
  deployment_id: string;
  state_type: string;
  expected_start_time: string;
  start_time: string | null;
}

/**
 * A planned restart of the server (its unit changed), under the steady load its scheduler makes:
 * apply restarts the server and, notified, every worker; with the drain of examples/fleet, or
 * without it. Measures how long the pool was paused, and, of the runs in flight when the apply began
 * or due while it ran, how late they started and how many did not complete.
 */
async function plannedRestart(dir: string, server: TestHost, label: string, drain = true): Promise<Restart> {
  const api = `http://${server.address}:4200/api`;
  const call = async (method: string, path: string, body?: unknown) =>
    (await (await fetch(`${api}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })).json()) as unknown;
  const setup = readFileSync(join(dir, 'setup.yaml'), 'utf8');
  const changed = setup
    .replace(/Description=Prefect Server \(self-hosted[^)]*\)/, `Description=Prefect Server (self-hosted, ${label})`)
    .replace(drain ? /^$/ : /\n {4}drain:\n(?: {6}.*\n)+/, '\n');
  writeFileSync(join(dir, 'setup.yaml'), changed);
  const steady = (await call('GET', '/deployments/name/steady/steady')) as { id: string };
  let pausedMs = 0;
  const watching = { on: true };
  const watch = (async () => {
    let lastPoll = performance.now();
    while (watching.on) {
      const pool = (await call('GET', '/work_pools/projections-local').catch(() => ({ is_paused: false }))) as { is_paused: boolean };
      if (pool.is_paused) pausedMs += performance.now() - lastPoll;
      lastPoll = performance.now();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const began = Date.now();
  const applied = expectOk(`planned restart (${label})`, await reconcile(dir, 'apply'));
  const ended = Date.now();
  watching.on = false;
  await watch;
  writeFileSync(join(dir, 'setup.yaml'), setup);
  const at = (stamp: string | null) => (stamp ? Date.parse(stamp) : NaN);
  // The runs that met the restart: due from a flow's length and a worker's prefetch (10 s) before it
  // began (those may be in flight then) to its end.
  const from = began - (STEADY.seconds + 10) * 1000;
  const met = async () =>
    (await allFlowRuns(call)).filter(
      (r) => r.deployment_id === steady.id && at(r.expected_start_time) >= from && at(r.expected_start_time) <= ended,
    );
  const done = new Set(['COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED']);
  // Every run that can still end does so within a flow's length and a worker's poll.
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline && !(await met()).every((r) => done.has(r.state_type))) await new Promise((r) => setTimeout(r, 1000));
  const runs = await met();
  const delays = runs.filter((r) => r.start_time).map((r) => (at(r.start_time) - at(r.expected_start_time)) / 1000);
  return {
    applySeconds: applied.seconds,
    pausedSeconds: pausedMs / 1000,
    runs: runs.length,
    maxDelaySeconds: Math.max(0, ...delays),
    lost: runs.filter((r) => r.state_type !== 'COMPLETED').length,
  };
}

/** Every flow run on the server, a page (the API's default limit, 200) at a time. */
async function allFlowRuns(call: (method: string, path: string, body?: unknown) => Promise<unknown>): Promise<FlowRun[]> {
  const runs: FlowRun[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = (await call('POST', '/flow_runs/filter', { offset })) as FlowRun[];
    runs.push(...page);
    if (page.length < 200) return runs;
  }
}

/** Wall time of loading the spec (ssh -G per host included), and of one ssh -G. */
async function loadCost(dir: string, address: string): Promise<{ load: number[]; sshG: number[] }> {
  const load = [];
  const sshG = [];
  for (let i = 0; i < RUNS; i++) {
    let started = performance.now();
    await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
    load.push((performance.now() - started) / 1000);
    started = performance.now();
    spawnSync('ssh', ['-G', address]);
    sshG.push((performance.now() - started) / 1000);
  }
  return { load, sshG };
}

/** (CPU at the most hosts - CPU at the fewest) / the hosts between, from medians. */
function perExtraHost<T extends { hosts: number }>(rows: T[], cpu: (row: T) => number[]): string {
  const [first, last] = [rows[0]!, rows.at(-1)!];
  return ((stats(cpu(last)).median - stats(cpu(first)).median) / (last.hosts - first.hosts)).toFixed(3);
}

/** How many HTTP reads a check of DIR makes on its first host (`-vv` traces each one). */
async function httpReadsPerHost(dir: string): Promise<number> {
  const spec = await loadSpec(join(dir, 'hosts.yaml'), join(dir, 'setup.yaml'));
  const first = spec.hosts[0]!.target.name;
  const traced = expectOk('check -vv', await reconcile(dir, 'check', '-vv', '--limit', first));
  return traced.output.split('\n').filter((line) => new RegExp(`\\] ${first}: (GET|POST|PATCH|PUT|DELETE) http`).test(line)).length;
}

/** The SSH library's own CPU for those reads, a connection and an exec per host (bench/transport-floor.ts). */
async function transportFloorCpu(dir: string, reads: number): Promise<number> {
  const run = expectOk(
    'transport floor',
    await timed(join(root, 'node_modules/.bin/tsx'), [join(root, 'bench/transport-floor.ts'), dir, String(reads)]),
  );
  return (JSON.parse(run.output.trim().split('\n').at(-1)!) as { cpuSeconds: number }).cpuSeconds;
}

/** Boots the largest fleet, converges it once, then times no-op checks of each size in FLEET. */
async function fleetChecks(): Promise<
  {
    hosts: number;
    seconds: number[];
    cpu: number[];
    rssKb: number[];
    floor: number[];
    floorCpu: number[];
    transportCpu: number[];
    reads: number;
    load: number[];
    sshG: number[];
  }[]
> {
  const hosts: TestHost[] = [];
  try {
    for (let i = 0; i < FLEET.at(-1)!; i += 5) {
      const booted = await Promise.allSettled(Array.from({ length: 5 }, (_, j) => bootHost(`bench-f${i + j}`)));
      for (const b of booted) if (b.status === 'fulfilled') hosts.push(b.value);
      const failed = booted.find((b): b is PromiseRejectedResult => b.status === 'rejected');
      if (failed) throw failed.reason;
    }
    expectOk('fleet apply', await reconcile(inventory(hosts), 'apply'));
    const results = [];
    // Largest first, each size with only its own hosts running: an idle converged host still runs a
    // Prefect server and worker, whose CPU would otherwise weigh on the smaller sizes.
    for (const n of [...FLEET].reverse()) {
      const idle = hosts.splice(n);
      await Promise.all(idle.map((h) => stopHost(h.name)));
      const dir = inventory(hosts.slice(0, n));
      const runs = [];
      const floors = [];
      const floorCpu = [];
      const scripts = await factScripts(dir);
      const reads = await httpReadsPerHost(dir);
      const transportCpu = [];
      for (let i = 0; i < RUNS; i++) {
        runs.push(expectOk(`check of ${n}`, await reconcile(dir, 'check')));
        transportCpu.push(await transportFloorCpu(dir, reads));
        // What the same machine allows at best: the fact script over plain OpenSSH to all N hosts at once.
        const started = performance.now();
        const sessions = await Promise.all(hosts.slice(0, n).map((h) => floor(h, scripts.get(h.name)!)));
        floors.push((performance.now() - started) / 1000);
        floorCpu.push(sessions.reduce((sum, s) => sum + (s.cpuSeconds ?? 0), 0));
      }
      results.push({
        hosts: n,
        ...figures(runs),
        floor: floors,
        floorCpu,
        transportCpu,
        reads,
        ...(await loadCost(dir, hosts[0]!.address)),
      });
    }
    return results.reverse();
  } finally {
    await Promise.all(hosts.map((h) => stopHost(h.name)));
  }
}

await main();
