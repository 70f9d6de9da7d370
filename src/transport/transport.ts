import { quote } from '../shell/quote.js';
import type { HttpCall } from './http.js';

/** What a command run on a host returned. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes for the script's standard input (file contents travel this way, never in the script). */
  stdin?: Buffer | string;
  /** Run as root through `sudo -n` (when the login user is not root already). */
  sudo?: boolean;
  /** Send the script itself on stdin (`sh -s`), for scripts too large for one argument; excludes `stdin`. */
  scriptOnStdin?: boolean;
  /** Called with stdout as it arrives (a batch's progress markers). */
  onStdout?: (chunk: Buffer) => void;
}

/**
 * The narrow interface between reconcile and a host. Everything the engine does on a host is a
 * POSIX sh script passed to `run`; SSH and the local machine differ only in how it gets there.
 */
export interface Transport {
  /** The inventory name, for messages. */
  readonly host: string;
  run(script: string, options?: RunOptions): Promise<ExecResult>;
  /** Starts a script that keeps running (e.g. holding a lock) until `finish` closes its stdin. */
  start(script: string, options?: RunOptions): Promise<RunningScript>;
  /** An HTTP request made from the host (over SSH: a tunnelled channel, nothing needed on the host). */
  request: HttpCall;
  /** How many scripts this transport has run: tests count round trips with it. */
  readonly execCount: number;
  close(): Promise<void>;
}

/** A script still running on the host. */
export interface RunningScript {
  /** Resolves with everything printed so far once `text` appears on stdout, or with all output if it ended first. */
  waitFor(text: string): Promise<{ found: boolean; stdout: string }>;
  /** Closes its stdin and waits for it to end. */
  finish(): Promise<ExecResult>;
}

/** Collects a running script's output and answers RunningScript's questions about it. */
export function runningScript(closeStdin: () => void): RunningScript & { stdout(chunk: Buffer): void; stderr(chunk: Buffer): void; exited(code: number): void } {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  return {
    stdout: (chunk) => ((stdout += chunk.toString()), notify()),
    stderr: (chunk) => (stderr += chunk.toString()),
    exited: (c) => ((code = c), notify()),
    waitFor(text) {
      return new Promise((resolve) => {
        const check = () => {
          if (stdout.includes(text)) resolve({ found: true, stdout });
          else if (code !== undefined) resolve({ found: false, stdout });
          else waiters.push(check);
        };
        check();
      });
    },
    finish() {
      closeStdin();
      return new Promise((resolve) => {
        const check = () => (code !== undefined ? resolve({ code, stdout, stderr }) : waiters.push(check));
        check();
      });
    },
  };
}

/** A failure to reach or use a host, with a message meant for the person running reconcile. */
export class HostError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`${host}: ${message}`);
    this.name = 'HostError';
  }
}

/** `sudo -n` refuses rather than prompts; its message is recognised so the error can say why. */
export function sudoRefusal(host: string, result: ExecResult): HostError | undefined {
  if (result.code === 1 && /sudo: (a password is required|a terminal is required)/.test(result.stderr)) {
    return new HostError(host, 'sudo asks for a password; become: true needs passwordless sudo for the login user (sudo -n)');
  }
  return undefined;
}

/**
 * The command line that runs a script under `sh`, as root when asked: the script as an argument, or
 * read from stdin (`sh -s`). Also what stdin then carries.
 */
export function shellCommand(script: string, asRoot: boolean, options: RunOptions = {}): { command: string; stdin?: Buffer | string } {
  const shell = options.scriptOnStdin ? 'sh -s' : `sh -c ${quote(script)}`;
  return { command: asRoot ? `sudo -n -- ${shell}` : shell, stdin: options.scriptOnStdin ? script : options.stdin };
}
