import { Argument, Command, Help, Option } from 'commander';
import type { Shell } from './completion.js';
import { commandPath, type CommandPath } from './command-path.js';
import { ExitCode } from './exit-codes.js';
import { parseLimit, parsePositiveInt, parsePositiveSeconds, parseSeconds, type GlobalOptions } from './options.js';
import { didYouMean } from '../config/suggest.js';
import { locateSpecFiles } from './spec-location.js';
import { UsageError } from './usage-error.js';

const EXAMPLES = `
Examples:
  reconcile init --address 10.0.0.5       write a starter hosts.yaml and setup.yaml here
  reconcile validate                      check hosts.yaml and setup.yaml; nothing is sent
  reconcile --dry-run                     show what apply would change, with diffs and restarts
  reconcile plan --limit prefect-host     the same, for one host
  reconcile apply                         converge every host
  reconcile check --json                  read-only drift check for cron (exit 0 in sync, 2 drift, 1 error)

Exit codes: 0 success or nothing to change (apply: every host converged), 2 changes pending or drift
found, 1 error (apply: a host failed or is not converged), 130/143/129 interrupted (SIGINT/TERM/HUP).`;

const READS_HOSTS = ['plan', 'apply', 'check'];
const RECORDS = ['check', 'apply'];
/** The scheduled check runs `reconcile check` with the options given to `schedule install`. */
const SCHEDULED = 'schedule install';
/** Commands about one project's schedule and history: its spec files name it (see cli/project.ts). */
const PROJECT = [SCHEDULED, 'schedule status', 'schedule remove', 'history', 'history show'];

/**
 * Which commands honour each option given before or after the command name. An option given to a
 * command it does not apply to is refused, never ignored. `apply --dry-run` is the plan: it honours
 * what plan honours. Every option of the program must be listed (a test walks the command tree).
 */
export const OPTION_SCOPE: Record<string, CommandPath[]> = {
  inventory: ['validate', ...READS_HOSTS, ...PROJECT, 'completion', 'import'],
  file: ['validate', ...READS_HOSTS, ...PROJECT],
  limit: ['validate', ...READS_HOSTS, SCHEDULED, 'history'],
  json: ['init', 'validate', ...READS_HOSTS, 'history', 'history show', 'schedule status', 'import'],
  color: ['init', 'validate', ...READS_HOSTS, 'history', 'history show', SCHEDULED, 'schedule status', 'schedule remove'],
  concurrency: [...READS_HOSTS, SCHEDULED],
  dryRun: [...READS_HOSTS, SCHEDULED, 'schedule remove'],
  acceptNewHostKeys: [...READS_HOSTS, SCHEDULED, 'import'],
  askBecomePass: READS_HOSTS,
  timeout: [...READS_HOSTS, SCHEDULED],
  lockTimeout: [...READS_HOSTS, SCHEDULED],
  stateDir: [...READS_HOSTS, SCHEDULED, 'history', 'history show', 'schedule status'],
  keepRuns: [...RECORDS, SCHEDULED],
  metricsFile: [...RECORDS, SCHEDULED],
  onDrift: [...RECORDS, SCHEDULED],
  retryFailed: ['plan', 'apply'],
  verbose: READS_HOSTS,
};

export type Action = (options: GlobalOptions) => Promise<ExitCode>;
/** Loads a command's code and runs it; the CLI's entry point passes the real one, a test may record instead. */
export type Runner = (path: CommandPath, load: () => Promise<Action>, options: GlobalOptions) => Promise<void>;

/** `apply --dry-run` and the bare `--dry-run` run the plan: they honour the plan's options, and refuse those only apply has. */
const effectivePath = (path: CommandPath, options: GlobalOptions): CommandPath =>
  (path === 'apply' && options.dryRun) || path === '' ? 'plan' : path;

/** Refuses every option given on the line that the command does not honour. */
function refuseOptionsOutOfScope(command: Command, path: CommandPath): void {
  const options = command.optsWithGlobals<GlobalOptions>();
  const effective = effectivePath(path, options);
  const refused = Object.entries(OPTION_SCOPE)
    .filter(([key, scope]) => command.getOptionValueSourceWithGlobals(key) === 'cli' && !scope.includes(effective))
    .map(([key, scope]) => {
      const flag = flagOf(command, key);
      const where = scope.map((s) => `reconcile ${s}`).join(', ');
      const what = effective === path ? `reconcile ${path}` : 'a dry run (reconcile --dry-run and apply --dry-run are reconcile plan)';
      return `${flag} does not apply to ${what}; it applies to ${where}`;
    });
  if (refused.length > 0) throw new UsageError(refused.join('\n'));
}

/** -i and -f as the command will use them (see locateSpecFiles); files found in a directory above are named. */
function withSpecFiles(path: CommandPath, options: GlobalOptions): GlobalOptions {
  if (!OPTION_SCOPE.inventory!.includes(effectivePath(path, options))) return options;
  const location = locateSpecFiles(options);
  // A completion runs at every Tab press: it says nothing.
  if (location.foundAbove && path !== 'completion')
    process.stderr.write(`reconcile: using ${location.inventory} and ${location.file} (found in ${location.foundAbove})\n`);
  return { ...options, inventory: location.inventory, file: location.file, missingSpec: location.missing };
}

function unknownCommand(word: string, program: Command): string {
  const names = program.commands.map((c) => c.name());
  return `unknown command '${word}'${didYouMean(word, names)}; the commands are ${names.join(', ')} (reconcile help COMMAND for one)`;
}

function flagOf(command: Command, key: string): string {
  for (let c: Command | null = command; c; c = c.parent) {
    const option = c.options.find((o) => o.attributeName() === key);
    if (option) return option.long ?? option.short ?? key;
  }
  return key;
}

/** Help that lists, under each command, the options given anywhere on the line that it honours. */
class ScopedHelp extends Help {
  override visibleGlobalOptions(cmd: Command): Option[] {
    const path = commandPath(cmd);
    return super.visibleGlobalOptions(cmd).filter((o) => o.attributeName() === 'help' || OPTION_SCOPE[o.attributeName()]?.includes(path));
  }
}

class ReconcileCommand extends Command {
  override createCommand(name?: string): Command {
    return new ReconcileCommand(name);
  }

  override createHelp(): Help {
    return Object.assign(new ScopedHelp(), this.configureHelp());
  }
}

export function buildProgram(version: string, run: Runner): Command {
  const program = new ReconcileCommand('reconcile')
    .description('Declarative configuration reconciler: converge Linux hosts over SSH to the state in setup.yaml.')
    .version(version, '-V, --version', 'print the version')
    .option(
      '-i, --inventory <file>',
      'inventory of hosts (default: hosts.yaml beside -f, else here, else in the nearest directory above with both files)',
    )
    .option(
      '-f, --file <file>',
      'desired state (default: setup.yaml beside -i, else here, else in the nearest directory above with both files)',
    )
    .option('--limit <names>', 'only these hosts or groups (comma-separated, repeatable)', parseLimit)
    .option('--json', 'machine-readable output')
    .option('--no-color', 'plain output (also NO_COLOR=1)')
    .addOption(new Option('--concurrency <n>', 'hosts worked on at once').default(10).argParser(parsePositiveInt))
    .option(
      '--dry-run',
      'change nothing anywhere: show the plan (apply, the bare command) or what would be installed or removed (schedule)',
    )
    .option('--accept-new-host-keys', 'trust and record hosts missing from known_hosts (a changed key is always refused)')
    .option('-K, --ask-become-pass', "ask once for the login user's sudo password (hosts with become: true)")
    .addOption(
      new Option(
        '--timeout <seconds>',
        'connect timeout for every host, more than 0 (overrides connect_timeout in the inventory)',
      ).argParser(parsePositiveSeconds),
    )
    .addOption(
      new Option('--lock-timeout <seconds>', "wait this long for another run's lock on a host").default(60).argParser(parseSeconds),
    )
    .option(
      '--state-dir <dir>',
      'where run records and the key for secret hashes go (default $XDG_STATE_HOME/reconcile, i.e. ~/.local/state/reconcile)',
    )
    .addOption(new Option('--keep-runs <days>', 'delete run records older than this').default(90).argParser(parsePositiveInt))
    .option('--metrics-file <file>', 'write Prometheus metrics here after apply and check (node_exporter textfile collector)')
    .option(
      '--on-drift <command>',
      'after check or apply: run this shell command with the JSON report on stdin when drift or errors are found',
    )
    .addOption(
      new Option(
        '-v, --verbose',
        'say what happens on stderr: connection steps, keys offered, phases with times (-vv: also every script sent, secrets masked)',
      )
        .argParser((_value: string, previous: number) => previous + 1)
        .default(0),
    )
    .option('--retry-failed', 'try again an upgrade that was rolled back (otherwise it is not retried until the spec changes)')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run reconcile --help for usage)')
    .exitOverride();
  program.configureHelp({ showGlobalOptions: true });

  /** The action of a command: options checked against their scope (and `refuse`), then its code loaded and run. */
  const action =
    (load: (command: Command, args: string[]) => Promise<Action>, refuse?: (options: GlobalOptions, args: string[]) => void) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const path = commandPath(command);
      refuseOptionsOutOfScope(command, path);
      refuse?.(command.optsWithGlobals<GlobalOptions>(), args.slice(0, -2) as string[]);
      const options = withSpecFiles(path, command.optsWithGlobals<GlobalOptions>());
      await run(path, () => load(command, args.slice(0, -2) as string[]), options);
    };

  program
    .command('init')
    .argument('[dir]', 'where to write the files', '.')
    .description('write a starter hosts.yaml and setup.yaml (the single-box Prefect setup) and their schemas; never overwrites')
    .option('--address <addr>', "the host's address or ssh_config alias")
    .option('--user <name>', 'the login user on the host (default: yours)')
    .action(
      action(async (command, [dir]) => {
        const { initCommand } = await import('./commands/init.js');
        return (options) => initCommand(dir ?? '.', { ...command.opts(), json: options.json });
      }),
    );
  program
    .command('validate')
    .description('check both spec files against their schemas; nothing is sent to any host')
    .action(action(async () => (await import('./commands/validate.js')).validateCommand));
  program
    .command('plan')
    .description('show, per host, every action apply would take (exit 2 when there are changes)')
    .option('-o, --out <file>', 'also save the plan, for `reconcile apply FILE`')
    .action(action(async () => (await import('./commands/reconcile.js')).planCommand));
  program
    .command('apply')
    .argument('[plan]', 'a plan saved by `reconcile plan -o`: apply exactly it, or nothing if a host changed since')
    .option('-y, --yes', 'on a terminal, apply without showing the plan and asking first')
    .description('converge every host to the desired state (with --dry-run: only show the plan, like `reconcile plan`)')
    .action(
      action(
        async (_command, [planFile]) => {
          const commands = await import('./commands/reconcile.js');
          return (options) => (options.dryRun ? commands.planCommand(options) : commands.applyCommand(options, planFile));
        },
        ({ dryRun }, [planFile]) => {
          if (planFile !== undefined && dryRun) {
            throw new UsageError(
              `--dry-run with a saved plan: ${planFile} is already what apply would do; apply it with reconcile apply ${planFile}, or see the current plan with reconcile plan`,
            );
          }
        },
      ),
    );
  program
    .command('check')
    .description('read-only drift check: exit 0 in sync, 2 drift, 1 error')
    .action(action(async () => (await import('./commands/reconcile.js')).checkCommand));
  const history = program
    .command('history')
    .description('list recent apply and check runs (newest first); --limit: only runs that touched those hosts')
    .addOption(new Option('-n, --count <n>', 'how many').default(20).argParser(parsePositiveInt))
    .action(action(async () => (await import('./commands/history.js')).historyCommand));
  history
    .command('show')
    .argument('<id>', 'a run id from reconcile history, or latest')
    .description('print one run record')
    .action(
      action(async (_command, [id]) => {
        const { showRunCommand } = await import('./commands/history.js');
        return (options) => showRunCommand(options, id!);
      }),
    );
  const schedule = program
    .command('schedule')
    .description('run `reconcile check` on this machine on a schedule (systemd timer, else cron)');
  schedule
    .command('install')
    .description('install the scheduled check; the options given with it (-i, -f, --limit, --timeout, …) go into the check it runs')
    .option('--every <interval>', 'e.g. 15m or 1h (a systemd timer where systemd runs, else cron)')
    .option('--cron <expr>', 'a five-field cron expression (always a crontab entry)')
    .action(
      action(async (command) => {
        const { installSchedule } = await import('./commands/schedule.js');
        return (options) => installSchedule({ ...options, ...command.opts() });
      }),
    );
  schedule
    .command('status')
    .description("this project's scheduled check and its last check (see history)")
    .action(action(async () => (await import('./commands/schedule.js')).scheduleStatus));
  schedule
    .command('remove')
    .description("remove this project's scheduled check")
    .action(action(async () => (await import('./commands/schedule.js')).removeSchedule));
  program
    .command('import')
    .description(
      'read a host set up by hand (its Prefect units, venv and profile, every object of its Prefect server) and write a setup.yaml and hosts.yaml that reproduce it',
    )
    .option('--host <name>', 'the host, by its name in hosts.yaml (required)')
    .option('--out <dir>', 'where to write them (default: HOST-import); never overwrites')
    .action(
      action(async (command) => {
        const { importCommand } = await import('./commands/import.js');
        return (options) =>
          importCommand({
            ...command.opts<{ host?: string; out?: string }>(),
            inventory: options.inventory,
            json: options.json,
            acceptNewHostKeys: options.acceptNewHostKeys,
          });
      }),
    );
  program
    .command('completion')
    .addArgument(
      new Argument('<shell>', 'bash, zsh or fish; names: the host and group names --limit completes').choices([
        'bash',
        'zsh',
        'fish',
        'names',
      ]),
    )
    .description('print a shell completion script: commands, options, and host and group names from the inventory')
    .action(
      action(async (_command, [shell]) => {
        const { completionCommand } = await import('./commands/completion.js');
        return (options) => completionCommand(shell as Shell | 'names', program, options);
      }),
    );
  program.helpCommand('help [command]', 'show the help of a command');
  // A word that is no command reaches the bare command's action (it runs --dry-run), which answers it.
  program.allowExcessArguments();
  program.action(async (_o: unknown, command: Command) => {
    const [word] = command.args;
    if (word !== undefined) throw new UsageError(unknownCommand(word, program));
    if (!command.opts().dryRun) return void command.help({ error: true });
    return action(async () => (await import('./commands/reconcile.js')).planCommand)(_o, command);
  });
  return program;
}
