import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { completionScript, type Shell } from '../completion.js';
import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';

/** `reconcile completion bash|zsh|fish` prints the script; `completion names` what --limit takes. */
export async function completionCommand(what: Shell | 'names', program: Command, options: GlobalOptions): Promise<ExitCode> {
  if (what !== 'names') {
    process.stdout.write(completionScript(what, program));
    return ExitCode.ok;
  }
  for (const name of await inventoryNames(options.inventory)) console.log(name);
  return ExitCode.ok;
}

/**
 * The host and group names of an inventory, read as plainly as possible: a completion runs at every
 * Tab and must never print an error into the user's command line, so a file that cannot be read or
 * parsed completes nothing.
 */
async function inventoryNames(file: string): Promise<string[]> {
  try {
    const inventory = parse(await readFile(file, 'utf8')) as { hosts?: unknown; groups?: unknown } | null;
    const keys = (value: unknown) => (value !== null && typeof value === 'object' ? Object.keys(value) : []);
    return [...new Set([...keys(inventory?.hosts), ...keys(inventory?.groups)])];
  } catch {
    return [];
  }
}
