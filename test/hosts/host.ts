import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { isAlive, run } from './exec.js';
import { cacheDir, ensureImage, type Release } from './image.js';

/** What a test (or a person) needs to reach a booted test host. */
export interface TestHost {
  name: string;
  address: string;
  port: number;
  user: string;
  identity_file: string;
  known_hosts: string;
  /** The test host this one sits behind: only from there is it reachable (see BootOptions.behind). */
  behind?: TestHost;
}

interface HostState extends TestHost {
  slot: number;
  pid: number;
  /** The process that booted it; when that process is gone the host is left over and cleaned up. 0: kept until `down`. */
  owner: number;
  stateDir: string;
  binds?: string[];
  release?: Release;
}

const stateRoot = '/run/reconcile-testhosts';
const NAME = /^[a-z0-9][a-z0-9-]{0,19}$/;

/** A client key shared by all test hosts of this machine, authorised for daniel and root. */
async function clientKey(): Promise<string> {
  const key = join(cacheDir, 'client/id_ed25519');
  if (!existsSync(key)) {
    // Test files boot hosts in parallel on a fresh machine: each makes a key pair in a directory of
    // its own and renames the directory into place; the first rename wins, the others find it there.
    await mkdir(cacheDir, { recursive: true });
    const own = await mkdtemp(join(cacheDir, 'client.new-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'reconcile-testhost-client', '-f', join(own, 'id_ed25519')]);
    await rename(own, join(cacheDir, 'client')).catch(() => rm(own, { recursive: true, force: true }));
  }
  return key;
}

/** Claims the lowest free /30 slot: mkdir is atomic, so parallel boots never share an address. */
async function claimSlot(): Promise<number> {
  await mkdir(join(stateRoot, 'slots'), { recursive: true });
  for (let slot = 1; slot < 250; slot++) {
    try {
      await mkdir(join(stateRoot, 'slots', String(slot)));
      return slot;
    } catch {
      continue;
    }
  }
  throw new Error('no free test-host slot (250 hosts running?)');
}

/**
 * Every container's systemd takes several inotify instances; the kernel's default of 128 per user
 * runs out at about 18 hosts, and the next one hangs at boot. Raise it (machine-wide) when low.
 */
async function allowManyContainers(): Promise<void> {
  const path = '/proc/sys/fs/inotify/max_user_instances';
  const current = Number(await readFile(path, 'utf8').catch(() => '0'));
  if (current > 0 && current < 4096) await writeFile(path, '4096').catch(() => {});
}

const netns = (slot: number) => `rth${slot}`;
const subnet = (slot: number) => `10.231.${slot}.0/30`;
const lanBridge = (lan: number) => `rtl${lan}`;
const lanAddresses = (lan: number, slot: number) => ({ control: `10.232.${lan}.1`, host: `10.232.${lan}.${slot + 1}` });

/**
 * A LAN for a fleet of test hosts: a bridge on this machine, 10.232.N.0/24, with this machine at .1.
 * Hosts booted onto it (BootOptions.lan) reach each other directly, without IP forwarding, so they
 * still reach nothing beyond. Claimed like slots; `removeLan` takes it down once its hosts are gone.
 */
export async function createLan(): Promise<number> {
  await mkdir(join(stateRoot, 'lans'), { recursive: true });
  for (let lan = 1; lan < 250; lan++) {
    try {
      await mkdir(join(stateRoot, 'lans', String(lan)));
    } catch {
      continue;
    }
    await writeFile(join(stateRoot, 'lans', String(lan), 'owner'), String(process.pid));
    await run('ip', ['link', 'del', lanBridge(lan)], { allowFailure: true });
    for (const args of [
      ['link', 'add', lanBridge(lan), 'type', 'bridge'],
      ['addr', 'add', `${lanAddresses(lan, 0).control}/24`, 'dev', lanBridge(lan)],
      ['link', 'set', lanBridge(lan), 'up'],
    ])
      await run('ip', args);
    return lan;
  }
  throw new Error('no free test-host LAN');
}

export async function removeLan(lan: number): Promise<void> {
  await run('ip', ['link', 'del', lanBridge(lan)], { allowFailure: true });
  await rm(join(stateRoot, 'lans', String(lan)), { recursive: true, force: true });
}
const addresses = (slot: number) => ({ control: `10.231.${slot}.1`, host: `10.231.${slot}.2` });

/**
 * Boots a fresh test host: its own network namespace, a new SSH host key, systemd as PID 1 on a
 * throw-away overlay of the cached image. Resolves once sshd accepts a key login.
 */
export interface BootOptions {
  keep?: boolean;
  log?: (line: string) => void;
  /** Read-only bind mounts, `SOURCE:TARGET` as systemd-nspawn takes them (e.g. Node and this package, for tests that run reconcile on the host). */
  binds?: string[];
  /** The Debian release; default bookworm. */
  release?: Release;
  /**
   * The name of a running test host to put this one behind: its only network link goes to that
   * host's namespace, so this machine cannot reach it; ssh gets there through the other host.
   */
  behind?: string;
  /** A LAN from createLan: hosts on it reach each other (a fleet), and this machine reaches them all. */
  lan?: number;
}

export async function bootHost(name: string, options: BootOptions = {}): Promise<TestHost> {
  if (!NAME.test(name)) throw new Error(`test host name '${name}': use lower-case letters, digits and '-' (at most 20)`);
  await cleanLeftovers();
  await allowManyContainers();
  if (existsSync(join(stateRoot, 'hosts', name)))
    throw new Error(`test host '${name}' is already running (npm run testhost -- down ${name})`);
  const release = options.release ?? 'bookworm';
  const [{ image, aptRepo }, identity] = await Promise.all([ensureImage(options.log, release), clientKey()]);
  const jump = options.behind === undefined ? undefined : await readState(join(stateRoot, 'hosts', options.behind));
  if (options.behind !== undefined && !jump) throw new Error(`no test host '${options.behind}' to put '${name}' behind`);
  const slot = await claimSlot();
  const stateDir = join(stateRoot, 'hosts', name);
  const { control, host } = options.lan === undefined ? addresses(slot) : lanAddresses(options.lan, slot);
  try {
    await mkdir(join(stateDir, 'keys'), { recursive: true });
    await mkdir(join(stateDir, 'authorized'), { recursive: true });
    // Keys of three types, as a stock sshd has; known_hosts records only the Ed25519 one.
    await Promise.all(
      [['ed25519'], ['ecdsa'], ['rsa', '-b', '2048']].map(([type, ...size]) =>
        run('ssh-keygen', [
          '-q',
          '-t',
          type!,
          ...size,
          '-N',
          '',
          '-C',
          `testhost-${name}`,
          '-f',
          join(stateDir, `keys/ssh_host_${type}_key`),
        ]),
      ),
    );
    const clientPublic = await readFile(`${identity}.pub`, 'utf8');
    await Promise.all(['daniel', 'root'].map((user) => writeFile(join(stateDir, 'authorized', user), clientPublic, { mode: 0o644 })));
    const hostPublic = (await readFile(join(stateDir, 'keys/ssh_host_ed25519_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(join(stateDir, 'known_hosts'), `${host} ${hostPublic}\n`);

    await createNetwork(slot, control, host, { behindNs: jump && netns(jump.slot), lan: options.lan });
    const binds = [`${aptRepo}:/srv/apt-repo`, ...(options.binds ?? [])];
    const pid = startContainer(name, slot, image, stateDir, binds);
    const state: HostState = {
      name,
      address: host,
      port: 22,
      user: 'daniel',
      identity_file: identity,
      known_hosts: join(stateDir, 'known_hosts'),
      slot,
      pid,
      owner: options.keep ? 0 : process.pid,
      stateDir,
      binds,
      release,
      ...(jump ? { behind: publicView(jump) } : {}),
    };
    await writeFile(join(stateDir, 'state.json'), JSON.stringify(state));
    await waitForSsh(state);
    return publicView(state);
  } catch (error) {
    // The state directory goes with the host, so the end of its boot log travels in the error.
    const bootLog = (await readFile(join(stateDir, 'boot.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    await teardown({ name, slot, stateDir, pid: await pidOf(stateDir) }).catch(() => {});
    throw new Error(`test host '${name}' could not start: ${(error as Error).message}\nlast lines of its boot log:\n${bootLog}`, {
      cause: error,
    });
  }
}

/**
 * A /30 link between the host's namespace and this machine's, or, for a host behind another, the
 * other host's namespace instead: then no route from here leads to it.
 */
async function createNetwork(
  slot: number,
  control: string,
  host: string,
  { behindNs, lan }: { behindNs?: string; lan?: number },
): Promise<void> {
  const ns = netns(slot);
  await run('ip', ['netns', 'del', ns], { allowFailure: true });
  await run('ip', ['link', 'del', `veth-${ns}`], { allowFailure: true });
  await run('ip', ['route', 'del', 'unreachable', subnet(slot)], { allowFailure: true });
  const near = behindNs ? ['-n', behindNs] : [];
  const prefix = lan === undefined ? 30 : 24;
  const steps = [
    ['netns', 'add', ns],
    ['link', 'add', `veth-${ns}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns],
    // The machine's default route might still lead there (a gateway that knows 10/8): no route at all.
    ...(behindNs
      ? [
          ['link', 'set', `veth-${ns}`, 'netns', behindNs],
          ['route', 'add', 'unreachable', subnet(slot)],
        ]
      : []),
    // On a LAN the host's link joins the LAN's bridge, which holds this machine's address there.
    ...(lan === undefined
      ? [[...near, 'addr', 'add', `${control}/30`, 'dev', `veth-${ns}`]]
      : [['link', 'set', `veth-${ns}`, 'master', lanBridge(lan)]]),
    [...near, 'link', 'set', `veth-${ns}`, 'up'],
    ['-n', ns, 'addr', 'add', `${host}/${prefix}`, 'dev', 'eth0'],
    ['-n', ns, 'link', 'set', 'eth0', 'up'],
    ['-n', ns, 'link', 'set', 'lo', 'up'],
    ['-n', ns, 'route', 'add', 'default', 'via', control],
  ];
  for (const args of steps) await run('ip', args);
}

/**
 * The cgroups a container starts in, one per hierarchy systemd uses (cgroup2, and name=systemd where
 * the machine is hybrid). Without a systemd on the machine, systemd-nspawn stays in the cgroup it was
 * started in (--keep-unit) and makes `supervisor` and `payload` beneath it: containers started from
 * one cgroup would share one `payload` tree, and one container's systemd removing a service's cgroup
 * breaks another's start of the same service (exit 219/CGROUP; seen as systemd-user-sessions failing,
 * so sshd kept refusing logins "while the system boots"). So each container gets a cgroup of its own.
 */
function ownCgroups(name: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => {
      const [fields, fs = ''] = line.split(' - ');
      const [, , , root, mountPoint] = fields!.split(' ');
      const [type, , options = ''] = fs.split(' ');
      return { root: root ?? '', mountPoint: mountPoint ?? '', type, options };
    });
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [id, controllers, path = '/'] = line.split(':');
    const mount =
      id === '0'
        ? mounts.find((m) => m.type === 'cgroup2')
        : controllers === 'name=systemd'
          ? mounts.find((m) => m.type === 'cgroup' && m.options.split(',').includes('name=systemd'))
          : undefined;
    if (!mount) continue;
    const relative = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
    dirs.push(join(mount.mountPoint, relative, `testhost-${name}`));
  }
  return dirs;
}

async function removeCgroups(name: string): Promise<void> {
  // Bottom-up: a cgroup is removed with rmdir once it has no children and no processes.
  for (const dir of ownCgroups(name)) await run('find', [dir, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { allowFailure: true });
}

function startContainer(name: string, slot: number, image: string, stateDir: string, binds: string[]): number {
  const log = openSync(join(stateDir, 'boot.log'), 'w');
  const cgroups = ownCgroups(name);
  for (const dir of cgroups) mkdirSync(dir, { recursive: true });
  const child = spawn(
    'sh',
    // The shell moves itself into the container's cgroups, then becomes systemd-nspawn.
    [
      '-c',
      'for rc_procs in "$@"; do case "$rc_procs" in --) break;; esac; echo $$ > "$rc_procs/cgroup.procs"; shift; done; shift; exec "$@"',
      'sh',
      ...cgroups,
      '--',
      'systemd-nspawn',
      '--quiet',
      '--register=no',
      '--keep-unit',
      '--boot',
      '--volatile=overlay',
      '--console=read-only',
      `--network-namespace-path=/run/netns/${netns(slot)}`,
      `--machine=testhost-${name}`,
      `--hostname=${name}`,
      `--bind-ro=${join(stateDir, 'keys')}:/etc/ssh/testhost-keys`,
      `--bind-ro=${join(stateDir, 'authorized')}:/etc/ssh/testhost-authorized`,
      ...binds.map((bind) => `--bind-ro=${bind}`),
      '-D',
      image,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  if (child.pid === undefined) throw new Error('systemd-nspawn did not start');
  return child.pid;
}

/** Polls port 22 (cheap), then proves a real key login with strict host-key checking. */
async function waitForSsh(host: HostState, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(host.pid)) throw new Error('the container exited during boot');
    if (host.behind ? await portOpenBehind(host) : await portOpen(host.address, host.port)) {
      const probe = await run('ssh', [...sshOptions(host), `${host.user}@${host.address}`, 'true'], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      if (probe.code === 0) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not answer within ${timeoutMs / 1000}s`);
}

/** OpenSSH options for reaching a test host with strict host-key checking (through the one it is behind). */
export function sshOptions(host: TestHost): string[] {
  const through = host.behind
    ? ['-o', `ProxyCommand=ssh ${sshOptions(host.behind).join(' ')} -W %h:%p ${host.behind.user}@${host.behind.address}`]
    : [];
  return [
    '-i',
    host.identity_file,
    '-p',
    String(host.port),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${host.known_hosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    ...through,
  ];
}

/** Whether sshd listens, asked from the host in front (this machine has no route there). */
async function portOpenBehind(host: TestHost): Promise<boolean> {
  const front = host.behind!;
  const probe = await run(
    'ssh',
    [...sshOptions(front), `${front.user}@${front.address}`, `timeout 1 bash -c '</dev/tcp/${host.address}/${host.port}'`],
    { allowFailure: true, timeoutMs: 5000 },
  );
  return probe.code === 0;
}

function portOpen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 500 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export async function stopHost(name: string): Promise<void> {
  const stateDir = join(stateRoot, 'hosts', name);
  const state = await readState(stateDir);
  if (!state) throw new Error(`no test host '${name}'`);
  await teardown(state);
}

async function teardown(host: { name: string; slot: number; stateDir: string; pid?: number }): Promise<void> {
  if (host.pid && isAlive(host.pid)) {
    process.kill(host.pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (isAlive(host.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(host.pid)) process.kill(host.pid, 'SIGKILL');
  }
  await run('ip', ['netns', 'del', netns(host.slot)], { allowFailure: true });
  await run('ip', ['link', 'del', `veth-${netns(host.slot)}`], { allowFailure: true });
  await run('ip', ['route', 'del', 'unreachable', subnet(host.slot)], { allowFailure: true });
  await removeCgroups(host.name);
  await rm(host.stateDir, { recursive: true, force: true });
  await rm(join(stateRoot, 'slots', String(host.slot)), { recursive: true, force: true });
}

export async function listHosts(): Promise<(TestHost & { running: boolean })[]> {
  const states = await allStates();
  return states.map((s) => ({ ...publicView(s), running: isAlive(s.pid) }));
}

/**
 * Reboots a test host the way a host reboots itself (`systemctl reboot`); nspawn then exits, and the
 * container is started again on the same address with the same host key. Like a real reboot, the boot
 * id changes; unlike one, the volatile overlay starts over from the image, so files written before are gone.
 */
export async function rebootHost(name: string): Promise<void> {
  const stateDir = join(stateRoot, 'hosts', name);
  const state = await readState(stateDir);
  if (!state) throw new Error(`no test host '${name}'`);
  // While the container is down, this process holds the host, so cleanLeftovers elsewhere leaves it alone.
  await writeFile(join(stateDir, 'state.json'), JSON.stringify({ ...state, pid: process.pid }));
  await run('ssh', [...sshOptions(state), `root@${state.address}`, 'systemctl reboot'], { allowFailure: true, timeoutMs: 10_000 });
  const deadline = Date.now() + 30_000;
  while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(state.pid)) throw new Error(`test host '${name}' did not shut down within 30 s of systemctl reboot`);
  const pid = startContainer(name, state.slot, (await ensureImage(undefined, state.release)).image, stateDir, state.binds ?? []);
  await writeFile(join(stateDir, 'state.json'), JSON.stringify({ ...state, pid }));
  await waitForSsh({ ...state, pid });
}

/**
 * Cuts a user's SSH sessions from the host side, as a dropped connection ends them: every
 * `sshd: USER` process in the container's PID namespace gets SIGKILL. Resolves with how many there were.
 */
export async function cutSessions(name: string, user: string): Promise<number> {
  const state = await readState(join(stateRoot, 'hosts', name));
  if (!state) throw new Error(`no test host '${name}'`);
  const init = (await run('pgrep', ['-P', String(state.pid)])).stdout.trim().split('\n')[0]!;
  const pattern = `^sshd: ${user}[@ ]`;
  const found = await run('pgrep', ['--ns', init, '--nslist', 'pid', '-c', '-f', pattern], { allowFailure: true });
  await run('pkill', ['--ns', init, '--nslist', 'pid', '-KILL', '-f', pattern], { allowFailure: true });
  return Number(found.stdout.trim()) || 0;
}

/** Hosts whose booting process died (a crashed or interrupted test run) are torn down. */
export async function cleanLeftovers(): Promise<void> {
  for (const state of await allStates()) {
    const orphaned = state.owner !== 0 && !isAlive(state.owner);
    if (orphaned || !isAlive(state.pid)) await teardown(state);
  }
  const lans = join(stateRoot, 'lans');
  for (const lan of existsSync(lans) ? await readdir(lans) : []) {
    const owner = Number(await readFile(join(lans, lan, 'owner'), 'utf8').catch(() => '0'));
    if (owner > 0 && !isAlive(owner)) await removeLan(Number(lan));
  }
}

async function allStates(): Promise<HostState[]> {
  const dir = join(stateRoot, 'hosts');
  if (!existsSync(dir)) return [];
  const states = await Promise.all((await readdir(dir)).map((n) => readState(join(dir, n))));
  return states.filter((s): s is HostState => s !== undefined);
}

async function readState(stateDir: string): Promise<HostState | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as HostState;
  } catch {
    return undefined;
  }
}

async function pidOf(stateDir: string): Promise<number | undefined> {
  return (await readState(stateDir))?.pid;
}

function publicView(s: HostState): TestHost {
  return {
    name: s.name,
    address: s.address,
    port: s.port,
    user: s.user,
    identity_file: s.identity_file,
    known_hosts: s.known_hosts,
    ...(s.behind ? { behind: s.behind } : {}),
  };
}
