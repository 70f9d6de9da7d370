import { trace, tracing } from '../model/trace.js';
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

/** Where a running script's channel delivers its output and its end (plain functions, safe to pass as listeners). */
interface ScriptOutputSinks {
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
  exited: (code: number) => void;
}

/** Collects a running script's output and answers RunningScript's questions about it. */
export function runningScript(closeStdin: () => void): RunningScript & ScriptOutputSinks {
  let stdout = '';
  let stderr = '';
  let code: number | undefined;
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  return {
    stdout: (chunk) => {
      stdout += chunk.toString();
      notify();
    },
    stderr: (chunk) => {
      stderr += chunk.toString();
    },
    exited: (c) => {
      code = c;
      notify();
    },
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
        const check = () => {
          if (code !== undefined) resolve({ code, stdout, stderr });
          else waiters.push(check);
        };
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
    return new HostError(
      host,
      'sudo asks for a password: give it with --ask-become-pass or become_password_secret in hosts.yaml (or allow the login user passwordless sudo)',
    );
  }
  return undefined;
}

/**
 * The command line that runs a script under `sh`, as root when asked: the script as an argument, or
 * read from stdin (`sh -s`). Also what stdin then carries. With a become password, sudo reads it as
 * the first line of stdin (one byte at a time, so the rest stays for the script); `-k` makes it ask
 * every time, so that line can never reach the script, and `-p ''` keeps any prompt out of the output.
 */
export function shellCommand(
  script: string,
  asRoot: boolean,
  options: RunOptions = {},
  becomePassword?: string,
): { command: string; stdin?: Buffer | string } {
  const shell = options.scriptOnStdin ? 'sh -s' : `sh -c ${quote(script)}`;
  const stdin = options.scriptOnStdin ? script : options.stdin;
  if (!asRoot) return { command: shell, stdin };
  if (becomePassword === undefined) return { command: `sudo -n -- ${shell}`, stdin };
  return { command: `sudo -k -S -p '' -- ${shell}`, stdin: Buffer.concat([Buffer.from(`${becomePassword}\n`), Buffer.from(stdin ?? '')]) };
}

/**
 * Decides, once per connection, whether the become password is used: not when sudo needs none (its
 * line would reach the script), and a wrong one fails the host now, after a single attempt, rather
 * than on every step (each a failed attempt that counts towards locking the account).
 */
export async function checkBecomePassword(
  host: string,
  password: string,
  run: (command: string, stdin?: string) => Promise<ExecResult>,
): Promise<string | undefined> {
  if ((await run('sudo -k -n true')).code === 0) return undefined;
  const tried = await run(`sudo -k -S -p '' true`, `${password}\n`);
  if (tried.code === 0) return password;
  throw new HostError(
    host,
    `sudo did not accept the become password (tried once and not again, so the account is not locked out): ${tried.stderr.trim().split('\n').pop()}`,
  );
}

/**
 * -v: each script sent; -vv: with its text, as the secret mask lets it be seen. The bytes of a file
 * travel in the script as base64 here-documents (engine/batch.ts), where the mask cannot see a secret:
 * their lines are left out, only counted.
 */
export function traceScript(host: string, script: string, asRoot: boolean, how = 'exec'): void {
  trace(1, host, `${how}${asRoot ? ' (sudo)' : ''}: a script of ${script.length} bytes`);
  if (!tracing(2)) return;
  const shown = script.replace(
    /<<'([^'\n]+)'\n([\s\S]*?)\n\1\n/g,
    (_all, end: string, body: string) => `<<'${end}'\n[${body.split('\n').length} lines of content, not shown]\n${end}\n`,
  );
  trace(2, host, `script:\n${shown}`);
}
