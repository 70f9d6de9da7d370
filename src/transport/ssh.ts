import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { ClientChannel } from 'ssh2';
import type { HostTarget } from '../model/target.js';
import { trace } from '../model/trace.js';
import { jsonRequest, traced, type HttpCall } from './http.js';
import { plainConnectError } from './connect-errors.js';
import { identities } from './identities.js';
import { fingerprint, hostKeyAlgorithms, hostPattern, parseKnownHosts, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';
import {
  checkBecomePassword,
  HostError,
  runningScript,
  shellCommand,
  traceScript,
  sudoRefusal,
  type ExecResult,
  type RunningScript,
  type RunOptions,
  type Transport,
} from './transport.js';

export interface SshOptions {
  /** Trust and record a host that known_hosts does not list yet (never a changed key). */
  acceptNewHostKeys?: boolean;
  /** Asks an encrypted identity file's passphrase; given only when a person is at a terminal. */
  askPassphrase?: (file: string) => Promise<string>;
  /** Jump host connections shared by the hosts of a run; without it, each host opens its own. */
  shared?: SharedConnections;
}

/** One SSH connection per host for the whole run; every script goes through it. */
export class SshTransport implements Transport {
  execCount = 0;
  /** Why the connection is gone, once it is: a cut connection must fail the step, not look like exit 255. */
  private lostBecause?: string;

  /** Set once sudo is known to want it (see checkBecomePassword). */
  private becomePassword?: string;

  private constructor(
    private readonly target: HostTarget,
    private readonly ssh: NodeSSH,
    private readonly ownJumps?: SharedConnections,
  ) {
    // Without a listener, a reset connection's 'error' event would end the whole process.
    ssh.connection?.on('error', (error: Error) => (this.lostBecause ??= error.message));
    ssh.connection?.on('close', () => (this.lostBecause ??= 'the connection closed'));
  }

  private connectionLost(): HostError {
    return new HostError(this.host, `connection lost: ${this.lostBecause}`);
  }

  get host(): string {
    return this.target.name;
  }

  static async connect(target: HostTarget, options: SshOptions = {}): Promise<SshTransport> {
    // Jump connections nobody shares are this transport's own, closed with it.
    const own = target.jumps?.length && !options.shared ? new SharedConnections() : undefined;
    const sock = target.jumps?.length
      ? await throughJumps(target, target.jumps, { ...options, shared: options.shared ?? own! }).catch(async (error: unknown) => {
          await own?.close();
          throw error;
        })
      : undefined;
    const ssh = await openConnection(target, options, sock).catch(async (error: unknown) => {
      await own?.close();
      throw error;
    });
    const transport = new SshTransport(target, ssh, own);
    if (target.become && target.becomePassword !== undefined && target.user !== 'root') {
      transport.becomePassword = await checkBecomePassword(target.name, target.becomePassword, async (command, stdin) => {
        transport.execCount++;
        const result = await ssh.execCommand(command, {
          stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]),
          noTrim: true,
        });
        return { code: result.code ?? 255, stdout: result.stdout, stderr: result.stderr };
      }).catch((error: unknown) => {
        ssh.dispose();
        throw error;
      });
    }
    return transport;
  }

  async run(script: string, options: RunOptions = {}): Promise<ExecResult> {
    this.execCount++;
    const started = performance.now();
    const asRoot = options.sudo === true && this.target.user !== 'root';
    traceScript(this.host, script, asRoot);
    const { command, stdin } = shellCommand(script, asRoot, options, this.becomePassword);
    const input = stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]);
    if (this.lostBecause) throw this.connectionLost();
    const result = await this.ssh
      .execCommand(command, { stdin: input, noTrim: true, onStdout: options.onStdout })
      .catch((error: unknown) => {
        throw new HostError(this.host, `connection lost: ${this.lostBecause ?? (error as Error).message}`);
      });
    if (result.code === null && this.lostBecause) throw this.connectionLost();
    const outcome = { code: result.code ?? 255, stdout: result.stdout, stderr: result.stderr };
    trace(1, this.host, `exit ${outcome.code} in ${Math.round(performance.now() - started)} ms (${outcome.stdout.length} bytes out)`);
    if (asRoot) {
      const refused = sudoRefusal(this.host, outcome);
      if (refused) throw refused;
    }
    return outcome;
  }

  async start(script: string, options: RunOptions = {}): Promise<RunningScript> {
    this.execCount++;
    const asRoot = options.sudo === true && this.target.user !== 'root';
    traceScript(this.host, script, asRoot, 'started');
    const connection = this.ssh.connection;
    if (!connection || this.lostBecause) throw this.connectionLost();
    return new Promise((resolve, reject) => {
      const { command, stdin } = shellCommand(script, asRoot, {}, this.becomePassword);
      connection.exec(command, (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(new HostError(this.host, `connection lost: ${error.message}`));
          return;
        }
        // The password line, when there is one; stdin stays open, as the script's lifeline.
        if (stdin !== undefined) channel.write(stdin);
        const running = runningScript(() => channel.end());
        channel.on('data', running.stdout);
        channel.stderr.on('data', running.stderr);
        channel.on('close', (code: number | null) => running.exited(code ?? 255));
        resolve(running);
      });
    });
  }

  request: HttpCall = (method, url, body, timeoutMs) =>
    traced(this.host, method, url, () =>
      jsonRequest(method, url, body, (host, port) => this.ssh.forwardOut('127.0.0.1', 0, host, port), timeoutMs),
    );

  async close(): Promise<void> {
    this.ssh.dispose();
    await this.ownJumps?.close();
  }
}

function hostKeyMessage(verdict: Exclude<HostKeyVerdict, { trusted: true }>, target: HostTarget, type: string, key: string): string {
  const offered = `${type} ${fingerprint(key)}`;
  const where = verdict.entry ? `${target.knownHosts}:${verdict.entry.line}` : target.knownHosts;
  switch (verdict.reason) {
    case 'changed':
      return `host key changed: ${target.address} offered ${offered}, but ${where} records another ${type} key. Refusing to connect: this can be a man-in-the-middle. If the host was reinstalled, check the new fingerprint and remove line ${verdict.entry?.line} of ${target.knownHosts}.`;
    case 'revoked':
      return `host key ${offered} of ${target.address} is marked @revoked in ${where}. Refusing to connect.`;
    case 'cert-authority-only':
      return `${target.address} is listed only under @cert-authority in ${where}; reconcile does not trust host certificates. Add its plain key (${offered}) to ${target.knownHosts}.`;
    case 'unknown':
      return `unknown host key: ${target.address} is not in ${target.knownHosts} (it offered ${offered}). Check the fingerprint, then run again with --accept-new-host-keys to trust it.`;
  }
}

async function recordHostKey(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, `${line}\n`, { mode: 0o600 });
}

/**
 * An authenticated SSH connection to one host (directly, or over `sock`: a channel through a jump
 * host), its host key checked against known_hosts before anything is sent.
 */
async function openConnection(target: HostTarget, options: SshOptions, sock?: Duplex): Promise<NodeSSH> {
  const known = parseKnownHosts(await readFile(target.knownHosts, 'utf8').catch(() => ''));
  let refusal: HostError | undefined;
  let keyToRecord: string | undefined;
  const auth = await identities(target.user, target.identityFiles, {
    agentSocket: process.env.SSH_AUTH_SOCK,
    identitiesOnly: target.identitiesOnly,
    askPassphrase: options.askPassphrase,
  });
  const ssh = new NodeSSH();
  const started = performance.now();
  trace(
    1,
    target.name,
    `connecting to ${target.user}@${target.address}:${target.port}${sock ? ' through the jump host' : ''} (timeout ${target.connectTimeoutMs / 1000} s, known_hosts ${target.knownHosts})`,
  );
  trace(
    1,
    target.name,
    `keys to offer, in order: ${auth.offered.join('; ') || 'none'}${auth.leftOut.length > 0 ? `; left out: ${auth.leftOut.join('; ')}` : ''}`,
  );
  const socket = sock ?? tcpConnection(target.address, target.port);
  let tcpConnected = sock !== undefined;
  let socketError: NodeJS.ErrnoException | undefined;
  socket.once('error', (error: NodeJS.ErrnoException) => (socketError = error));
  socket.once('connect', () => {
    tcpConnected = true;
    trace(1, target.name, `TCP connected in ${Math.round(performance.now() - started)} ms`);
  });
  try {
    await ssh.connect({
      sock: socket,
      username: target.user,
      authHandler: auth.methods,
      keepaliveInterval: (target.keepaliveSeconds ?? 0) * 1000,
      readyTimeout: target.connectTimeoutMs,
      algorithms: { serverHostKey: hostKeyAlgorithms(known, target.address, target.port) as never },
      // Called before authentication: nothing is sent to a host whose key we do not trust.
      hostVerifier: (blob: Buffer) => {
        const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
        const key = blob.toString('base64');
        const verdict = verifyHostKey(known, target.address, target.port, type, key);
        if (verdict.trusted) {
          trace(1, target.name, `host key ${type} ${fingerprint(key)} is the one ${target.knownHosts} records`);
          return true;
        }
        if (verdict.reason === 'unknown' && options.acceptNewHostKeys) {
          keyToRecord = `${hostPattern(target.address, target.port)} ${type} ${key}`;
          return true;
        }
        refusal = new HostError(target.name, hostKeyMessage(verdict, target, type, key));
        return false;
      },
    });
  } catch (error) {
    ssh.dispose();
    throw (
      refusal ?? new HostError(target.name, plainConnectError(error as Error, target, { tcpConnected, leftOut: auth.leftOut, socketError }))
    );
  }
  if (keyToRecord) await recordHostKey(target.knownHosts, keyToRecord);
  trace(1, target.name, `authenticated as ${target.user} in ${Math.round(performance.now() - started)} ms`);
  return ssh;
}

/**
 * The TCP connection to a host's sshd with Nagle's algorithm off, as OpenSSH sets it: SSH is small
 * requests each waiting for its answer, and with Nagle on each one waited for the peer's delayed ACK,
 * about 40 ms per round trip (three in authentication alone, more for every exec and tunnel).
 * ssh2 takes it from the start, before any event can fire: errors and its ready timeout are its own.
 */
function tcpConnection(host: string, port: number): Socket {
  return netConnect({ host, port, noDelay: true });
}

/**
 * A channel to the target's sshd through its jump hosts, hop by hop. Each hop's connection is
 * verified like any host's and shared by every host behind it in the run (see SshOptions.shared).
 */
async function throughJumps(target: HostTarget, hops: HostTarget[], options: SshOptions & { shared: SharedConnections }): Promise<Duplex> {
  let via: NodeSSH | undefined;
  let chain = '';
  for (const hop of hops) {
    chain += `>${hop.user}@${hop.address}:${hop.port}`;
    const previous = via;
    via = await options.shared.get(chain, async () => {
      try {
        return await openConnection(hop, options, previous && (await forward(previous, hop)));
      } catch (error) {
        throw new HostError(target.name, `jump host ${hop.name}: ${(error as Error).message.replace(`${hop.name}: `, '')}`);
      }
    });
  }
  return forward(via!, target);
}

function forward(via: NodeSSH, to: HostTarget): Promise<Duplex> {
  return via.forwardOut('127.0.0.1', 0, to.address, to.port);
}

/** Connections opened once per run and used by several hosts: the jump hosts. Closed at the end of the run. */
export class SharedConnections {
  private readonly open = new Map<string, Promise<NodeSSH>>();

  get(key: string, connect: () => Promise<NodeSSH>): Promise<NodeSSH> {
    if (!this.open.has(key)) {
      const connection = connect();
      // A failed connection is not kept: the next host tries again.
      connection.catch(() => this.open.delete(key));
      this.open.set(key, connection);
    }
    return this.open.get(key)!;
  }

  async close(): Promise<void> {
    const connections = await Promise.allSettled(this.open.values());
    for (const c of connections) if (c.status === 'fulfilled') c.value.dispose();
    this.open.clear();
  }
}
