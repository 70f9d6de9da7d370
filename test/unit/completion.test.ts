import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The scripts are loaded in real shells (bash, zsh through bashcompinit, fish), which call the
// built CLI by its name for host names, as they do on a user's machine.
const dir = mkdtempSync(join(tmpdir(), 'reconcile-completion-'));
const bin = join(dir, 'bin');
mkdirSync(bin);
symlinkSync(join(process.cwd(), 'bin/reconcile.js'), join(bin, 'reconcile'));
writeFileSync(
  join(dir, 'hosts.yaml'),
  'hosts:\n  web-1: { address: 10.0.0.1 }\n  web-2: { address: 10.0.0.2 }\n  db-1: { address: 10.0.0.3 }\ngroups:\n  webs: [web-1, web-2]\n',
);
mkdirSync(join(dir, 'prod'));
writeFileSync(join(dir, 'prod/hosts.yaml'), 'hosts:\n  prod-db: { address: 10.1.0.1 }\n');
writeFileSync(join(dir, 'setup.yaml'), 'resources: []\n');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

/** What bash (or zsh) offers for the last word of `line` (an empty last word: a Tab after a space). */
function offered(shell: 'bash' | 'zsh', line: string[]): string[] {
  const script = [
    ...(shell === 'zsh' ? ['autoload -U compinit && compinit -u'] : []),
    `source <(reconcile completion ${shell})`,
    'COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
    '_reconcile',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const run = spawnSync(shell, ['-c', script, shell, ...line], { cwd: dir, env, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

/** What fish offers for `line` (complete -C, as at a Tab). */
function fishOffers(line: string): string[] {
  const run = spawnSync('fish', ['-c', `source (reconcile completion fish | psub); complete -C ${JSON.stringify(line)}`], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
}

describe('reconcile completion bash', () => {
  it('completes commands, subcommands and the options of the command on the line', () => {
    expect(offered('bash', ['reconcile', 'ap'])).toEqual(['apply']);
    expect(offered('bash', ['reconcile', 'schedule', ''])).toEqual(['install', 'status', 'remove']);
    expect(offered('bash', ['reconcile', 'help', 'ch'])).toEqual(['check']);
    expect(offered('bash', ['reconcile', 'check', '--me'])).toEqual(['--metrics-file']);
    // plan does not take --metrics-file: its help does not list it, nor does completion.
    expect(offered('bash', ['reconcile', 'plan', '--me'])).toEqual([]);
  });

  it('completes host and group names after --limit, from the inventory -i names', () => {
    expect(offered('bash', ['reconcile', 'check', '--limit', 'w']).sort()).toEqual(['web-1', 'web-2', 'webs']);
    expect(offered('bash', ['reconcile', '--limit', 'web-1,d'])).toEqual(['web-1,db-1']);
    expect(offered('bash', ['reconcile', '-i', 'prod/hosts.yaml', 'check', '--limit', ''])).toEqual(['prod-db']);
  });

  it('offers nothing for a value nobody can guess, and files where a file goes', () => {
    expect(offered('bash', ['reconcile', 'check', '--timeout', ''])).toEqual([]);
    expect(offered('bash', ['reconcile', '-i', 'ho'])).toEqual(['hosts.yaml']);
  });
});

describe('reconcile completion zsh and fish', () => {
  it('zsh (bashcompinit) gets the same candidates; zsh itself narrows them to the typed prefix', () => {
    expect(offered('zsh', ['reconcile', 'check', '--limit', 'w']).sort()).toEqual(['db-1', 'web-1', 'web-2', 'webs']);
    expect(offered('zsh', ['reconcile', '-i', 'prod/hosts.yaml', 'check', '--limit', ''])).toEqual(['prod-db']);
    expect(offered('zsh', ['reconcile', 'schedule', ''])).toEqual(['install', 'status', 'remove']);
  });

  it('fish completes commands and host names', () => {
    expect(fishOffers('reconcile ap')).toEqual(['apply']);
    expect(fishOffers('reconcile check --limit w').sort()).toEqual(['web-1', 'web-2', 'webs']);
    expect(fishOffers('reconcile check --limit web-1,d')).toEqual(['web-1,db-1']);
  });
});

describe('reconcile completion names', () => {
  it('prints nothing, and no error, for an inventory it cannot read', () => {
    const run = spawnSync('reconcile', ['completion', 'names', '-i', 'nowhere.yaml'], { cwd: dir, env, encoding: 'utf8' });
    expect([run.status, run.stdout, run.stderr]).toEqual([0, '', '']);
  });
});
