import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostReport, Report } from '../../src/report/report.js';
import type { TestHost } from '../hosts/host.js';

/** A scratch directory with an inventory for the given test hosts (become: true, strict host keys). */
export function workspace(hosts: TestHost[], options: { knownHosts?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-e2e-'));
  const lines = ['defaults:', '  user: daniel', '  become: true', 'hosts:'];
  for (const h of hosts) {
    lines.push(
      `  ${h.name}:`,
      `    address: ${h.address}`,
      `    identity_file: ${h.identity_file}`,
      `    known_hosts: ${options.knownHosts ?? h.known_hosts}`,
    );
  }
  writeFileSync(join(dir, 'hosts.yaml'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'setup.yaml'), repoSetup());
  return dir;
}

/** The repo's setup.yaml, as a new user would run it. */
export function repoSetup(): string {
  return readFileSync('setup.yaml', 'utf8');
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a workspace, as a user would. */
export function reconcile(dir: string, ...args: string[]): Promise<CliResult> {
  return reconcileWithEnv({}, dir, ...args);
}

/** The same, with extra environment variables (secrets, state directories). */
export function reconcileWithEnv(env: Record<string, string>, dir: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'bin/reconcile.js'), ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `reconcile ARGS --json`, parsed (schemas/report.schema.json). */
export async function reconcileJson(
  dir: string,
  ...args: string[]
): Promise<{ code: number; hosts: HostReport[]; report: Report; stderr: string }> {
  const run = await reconcile(dir, ...args, '--json');
  try {
    const report = JSON.parse(run.stdout) as Report;
    return { code: run.code, hosts: report.hosts, report, stderr: run.stderr };
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

/**
 * Runs reconcile on a pseudo-terminal (script(1)), typing `answer` once `prompt` shows; resolves with
 * the exit code and everything the terminal showed.
 */
export function onTerminal(
  dir: string,
  args: string,
  prompt: string,
  answer: string,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const child = spawn(
    'script',
    // A terminal of a real size (script(1) alone gives one of 0 columns) and kind, as a person's is.
    ['-qefc', `stty cols 160 rows 40; exec ${process.execPath} ${join(process.cwd(), 'bin/reconcile.js')} ${args} --no-color`, '/dev/null'],
    { cwd: dir, env: { ...process.env, TERM: 'xterm', ...env } },
  );
  let output = '';
  let typed = false;
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (!typed && output.includes(prompt)) {
      typed = true;
      child.stdin.write(`${answer}\r`);
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, output })));
}
