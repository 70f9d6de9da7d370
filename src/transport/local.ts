import { spawn, type ChildProcess } from 'node:child_process';
import { userInfo } from 'node:os';
import { jsonRequest, traced, type HttpCall } from './http.js';
import {
  runningScript,
  shellCommand,
  sudoRefusal,
  traceScript,
  type ExecResult,
  type RunningScript,
  type RunOptions,
  type Transport,
} from './transport.js';

/** Runs the same scripts on this machine, without SSH (`connection: local`). */
export class LocalTransport implements Transport {
  execCount = 0;
  /** Scripts started and still running: closing ends them, as closing an SSH connection ends a remote one's session. */
  private readonly running = new Set<ChildProcess>();
  constructor(readonly host: string) {}

  run(script: string, options: RunOptions = {}): Promise<ExecResult> {
    this.execCount++;
    const asRoot = options.sudo === true && userInfo().uid !== 0;
    traceScript(this.host, script, asRoot);
    const { command, stdin } = shellCommand(script, asRoot, options);
    return new Promise((resolve, reject) => {
      // In a process group of its own, like a script on a remote host: Ctrl-C at the terminal reaches
      // reconcile, which lets the step finish (cli/interrupt.ts), and not the step itself.
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => (out.push(d), options.onStdout?.(d)));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) => {
        const result = { code: code ?? 255, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
        const refused = asRoot ? sudoRefusal(this.host, result) : undefined;
        if (refused) reject(refused);
        else resolve(result);
      });
      child.stdin.on('error', () => {});
      child.stdin.end(stdin ?? '');
    });
  }

  start(script: string, options: RunOptions = {}): Promise<RunningScript> {
    this.execCount++;
    const asRoot = options.sudo === true && userInfo().uid !== 0;
    traceScript(this.host, script, asRoot, 'started');
    const child = spawn('/bin/sh', ['-c', shellCommand(script, asRoot).command], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const running = runningScript(() => child.stdin.end());
    this.running.add(child);
    child.stdout.on('data', running.stdout);
    child.stderr.on('data', running.stderr);
    child.on('close', (code) => {
      this.running.delete(child);
      running.exited(code ?? 255);
    });
    child.stdin.on('error', () => {});
    return Promise.resolve(running);
  }

  request: HttpCall = (method, url, body, timeoutMs) =>
    traced(this.host, method, url, () => jsonRequest(method, url, body, () => Promise.resolve(undefined), timeoutMs));

  close(): Promise<void> {
    // Its own process group (detached): the shell and what it waits on (flock, cat) end together.
    for (const child of this.running) if (child.pid) process.kill(-child.pid, 'SIGTERM');
    return Promise.resolve();
  }
}
