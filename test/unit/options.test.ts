import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import type { GlobalOptions } from '../../src/cli/options.js';
import { commandPath, type CommandPath } from '../../src/cli/command-path.js';
import { buildProgram, OPTION_SCOPE } from '../../src/cli/program.js';

const cli = join(process.cwd(), 'bin/reconcile.js');

/** A value for each option that takes one, and what the command must receive for it. */
const SAMPLES: Record<string, [given: string | undefined, received: unknown]> = {
  inventory: ['other/hosts.yaml', 'other/hosts.yaml'],
  file: ['other/setup.yaml', 'other/setup.yaml'],
  limit: ['web,db', ['web', 'db']],
  json: [undefined, true],
  color: [undefined, false],
  concurrency: ['3', 3],
  dryRun: [undefined, true],
  acceptNewHostKeys: [undefined, true],
  askBecomePass: [undefined, true],
  timeout: ['7', 7],
  lockTimeout: ['5', 5],
  stateDir: ['/tmp/reconcile-state', '/tmp/reconcile-state'],
  keepRuns: ['4', 4],
  metricsFile: ['/tmp/reconcile.prom', '/tmp/reconcile.prom'],
  onDrift: ['true', 'true'],
  retryFailed: [undefined, true],
  verbose: [undefined, 1],
};

/** Every command a user can run, with the arguments it needs. */
function commands(program: Command): { path: CommandPath; words: string[] }[] {
  const found: { path: CommandPath; words: string[] }[] = [];
  const walk = (command: Command) => {
    if (command.commands.length === 0 || command.parent === null) {
      const required = command.registeredArguments.filter((a) => a.required).map((a) => a.argChoices?.[0] ?? 'latest');
      found.push({ path: commandPath(command), words: [...commandPath(command).split(' ').filter(Boolean), ...required] });
    }
    command.commands.forEach(walk);
  };
  walk(program);
  return found;
}

/** Parses a command line without running anything: what the command would receive, or the refusal. */
async function parse(argv: string[]): Promise<{ path?: string; options?: GlobalOptions; refused?: string }> {
  let received: { path: string; options: GlobalOptions } | undefined;
  const program = buildProgram('0.0.0', (path, _load, options) => {
    received = { path, options };
    return Promise.resolve();
  });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  try {
    await program.parseAsync(['node', 'reconcile', ...argv]);
    return received ?? {};
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

describe('every option, wherever it stands on the line, is honoured or refused', () => {
  const program = buildProgram('0.0.0', async () => {});
  const globals: Option[] = program.options.filter((o) => !['version'].includes(o.attributeName()));

  it('lists every option of the program in the scope table', () => {
    expect(globals.map((o) => o.attributeName()).sort()).toEqual(Object.keys(OPTION_SCOPE).sort());
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(OPTION_SCOPE).sort());
  });

  const cases = commands(program).flatMap(({ path, words }) =>
    globals.flatMap((option) => (['before', 'after'] as const).map((where) => ({ path, words, option, where }))),
  );

  it.each(cases.map((c) => [c.path || '(no command)', c.option.long!, c.where, c]))(
    '%s %s %s the command',
    async (_p, _o, _w, { path, words, option, where }) => {
      const key = option.attributeName();
      const [value, received] = SAMPLES[key]!;
      const flag = [option.long!, ...(value === undefined ? [] : [value])];
      // The bare command is only a command with --dry-run.
      const base = path === '' && key !== 'dryRun' ? ['--dry-run'] : [];
      const argv = where === 'before' ? [...base, ...flag, ...words] : [...base, ...words, ...flag];
      const result = await parse(argv);
      // The bare command is the plan.
      if (OPTION_SCOPE[key]!.includes(path || 'plan')) {
        expect(result.refused, argv.join(' ')).toBeUndefined();
        expect(result.path).toBe(path);
        expect(result.options![key as keyof GlobalOptions], argv.join(' ')).toEqual(received);
      } else {
        expect(result.refused, argv.join(' ')).toMatch(new RegExp(`^${option.long} does not apply to`));
      }
    },
  );

  it('apply --dry-run is the plan, in either position, and refuses what only apply honours', async () => {
    for (const argv of [['apply', '--dry-run'], ['--dry-run', 'apply'], ['--dry-run']]) {
      const result = await parse(argv);
      expect(result.options?.dryRun, argv.join(' ')).toBe(true);
    }
    for (const argv of [
      ['apply', '--dry-run', '--metrics-file', 'm'],
      ['--on-drift', 'true', '--dry-run', 'apply'],
      ['--keep-runs', '3', 'apply', '--dry-run'],
    ]) {
      expect((await parse(argv)).refused, argv.join(' ')).toMatch(/does not apply to a dry run/);
    }
  });

  it('refuses --dry-run with a saved plan, in either position, rather than ignore the file', async () => {
    for (const argv of [
      ['apply', 'plan.json', '--dry-run'],
      ['--dry-run', 'apply', 'plan.json'],
    ]) {
      expect((await parse(argv)).refused, argv.join(' ')).toMatch(
        /^--dry-run with a saved plan: plan\.json is already what apply would do/,
      );
    }
  });

  it('refuses --timeout 0, which would mean no timeout at all', async () => {
    for (const argv of [
      ['check', '--timeout', '0'],
      ['--timeout', '0', 'check'],
    ])
      expect((await parse(argv)).refused).toMatch(/more than 0 seconds/);
  });

  it('shows, under each command, the options given before it that it honours, and only those', () => {
    const help = (words: string[]) => spawnSync(process.execPath, [cli, ...words, '--help'], { encoding: 'utf8' }).stdout;
    expect(help(['check'])).toContain('--metrics-file');
    expect(help(['plan'])).not.toContain('--metrics-file');
    expect(help(['plan'])).toContain('--retry-failed');
    expect(help(['history'])).toContain('--limit');
    expect(help(['history'])).not.toContain('--lock-timeout');
  });
});

describe('schedule install keeps the options given with it, in either position', () => {
  it('carries each into the command it installs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-schedule-'));
    expect(spawnSync(process.execPath, [cli, 'init', '--address', '10.0.0.9'], { cwd: dir }).status).toBe(0);
    const options = [
      '--timeout',
      '7',
      '--concurrency',
      '3',
      '--accept-new-host-keys',
      '--limit',
      'web',
      '--lock-timeout',
      '9',
      '--keep-runs',
      '5',
      '--metrics-file',
      'm.prom',
      '--on-drift',
      'true',
    ];
    for (const argv of [
      ['schedule', 'install', '--every', '15m', '--dry-run', ...options],
      [...options, '--dry-run', 'schedule', 'install', '--cron', '*/5 * * * *'],
    ]) {
      const run = spawnSync(process.execPath, [cli, ...argv], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, RECONCILE_STATE_DIR: join(dir, 'state') },
      });
      expect(run.status, run.stderr).toBe(0);
      const installed = /^command: (.*)$/m.exec(run.stdout)![1]!;
      for (const expected of [
        "'--timeout' '7'",
        "'--concurrency' '3'",
        "'--accept-new-host-keys'",
        "'--limit' 'web'",
        "'--lock-timeout' '9'",
        "'--keep-runs' '5'",
        `'--metrics-file' '${join(dir, 'm.prom')}'`,
        "'--on-drift' 'true'",
      ]) {
        expect(installed, argv.join(' ')).toContain(expected);
      }
    }
    // A scheduled check cannot ask for a password.
    const asked = spawnSync(process.execPath, [cli, '-K', 'schedule', 'install', '--every', '15m', '--dry-run'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(asked.status).toBe(1);
    expect(asked.stderr).toContain('--ask-become-pass does not apply to reconcile schedule install');
  });
});

describe('commands that said they took --json or --limit and ignored them', () => {
  const run = (dir: string, ...argv: string[]) =>
    spawnSync(process.execPath, [cli, ...argv], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, RECONCILE_STATE_DIR: join(dir, 'state') },
    });

  it('init --json and schedule status --json print JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-json-'));
    const init = JSON.parse(run(dir, 'init', '--json', '--user', 'alice', 'here').stdout) as { wrote: string[]; user: string };
    expect(init.user).toBe('alice');
    expect(init.wrote).toContain(join(dir, 'here/setup.yaml'));
    const status = JSON.parse(run(join(dir, 'here'), '--json', 'schedule', 'status').stdout) as { installed: unknown; lastCheck: unknown };
    expect(status).toHaveProperty('lastCheck');
  });

  it('history --limit lists only runs that touched those hosts (or their groups), and --json keeps the groups', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-history-'));
    const record = (id: string, hosts: { host: string; groups: string[] }[]) => {
      const day = join(dir, 'state/runs/2026-12-01');
      spawnSync('mkdir', ['-p', day]);
      const report = {
        reconcileReport: 1,
        id,
        command: 'check',
        result: 'in-sync',
        exitCode: 0,
        startedAt: '2026-12-01T10:00:00.000Z',
        durationMs: 5,
        who: 't@t',
        toolVersion: '0',
        specHash: '0'.repeat(64),
        inventory: '/i',
        setup: '/s',
        hosts: hosts.map((h) => ({ ...h, address: 'a', status: 'in-sync', actions: [], problems: [], execs: 1, durationMs: 1 })),
      };
      writeFileSync(join(day, `${id}.json`), JSON.stringify(report));
    };
    record('20261201T100000Z-aaaaaa', [{ host: 'web', groups: ['front'] }]);
    record('20261201T100001Z-bbbbbb', [{ host: 'db', groups: ['back'] }]);
    const ids = (...argv: string[]) => (JSON.parse(run(dir, 'history', '--json', ...argv).stdout) as { id: string }[]).map((r) => r.id);
    expect(ids()).toEqual(['20261201T100001Z-bbbbbb', '20261201T100000Z-aaaaaa']);
    expect(ids('--limit', 'web')).toEqual(['20261201T100000Z-aaaaaa']);
    expect(ids('--limit', 'back')).toEqual(['20261201T100001Z-bbbbbb']);
    const json = JSON.parse(run(dir, '--limit', 'front', 'history', '--json').stdout) as { hosts: { groups: string[] }[] }[];
    expect(json[0]!.hosts[0]!.groups).toEqual(['front']);
  });
});
