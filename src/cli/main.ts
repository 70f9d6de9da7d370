import type { Command } from 'commander';
import { ExitCode } from './exit-codes.js';
import { parseLimit, parsePositiveInt, parseSeconds, type GlobalOptions } from './options.js';
import { toolVersion } from './version.js';

/**
 * A reader that goes away (`reconcile plan | head -1`) closes stdout. Output stops there, quietly,
 * but the run does not: an apply cut short by a pager would leave hosts half-converged. The exit code
 * stays the command's own.
 */
function stopWritingWhenTheReaderLeaves(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = (() => true) as typeof stream.write;
  });
}
stopWritingWhenTheReaderLeaves(process.stdout);
stopWritingWhenTheReaderLeaves(process.stderr);

// Node alone takes about 100 ms to start here, so start-up loads nothing it can avoid: `--version`
// answers before commander is loaded, and each command imports what it needs when it runs.
const version = toolVersion();

const EXAMPLES = `
Examples:
  reconcile init --address 10.0.0.5       write a starter hosts.yaml and setup.yaml here
  reconcile validate                      check hosts.yaml and setup.yaml; nothing is sent
  reconcile --dry-run                     show what apply would change, with diffs and restarts
  reconcile plan --limit prefect-host     the same, for one host
  reconcile apply                         converge every host
  reconcile check --json                  read-only drift check for cron (exit 0 in sync, 2 drift, 1 error)

Exit codes: 0 success or nothing to change, 2 changes pending or drift found, 1 error.`;

type Action = (options: GlobalOptions) => Promise<ExitCode>;

async function buildProgram(run: (action: () => Promise<Action>, command: Command) => Promise<void>): Promise<Command> {
  const { Command, Option } = await import('commander');
  const program = new Command('reconcile')
    .description('Declarative configuration reconciler: converge Linux hosts over SSH to the state in setup.yaml.')
    .version(version, '-V, --version', 'print the version')
    .option('-i, --inventory <file>', 'inventory of hosts', 'hosts.yaml')
    .option('-f, --file <file>', 'desired state', 'setup.yaml')
    .option('--limit <names>', 'only these hosts (comma-separated, repeatable)', parseLimit)
    .option('--json', 'machine-readable output')
    .option('--no-color', 'plain output (also NO_COLOR=1)')
    .addOption(new Option('--concurrency <n>', 'hosts worked on at once').default(10).argParser(parsePositiveInt))
    .option('--dry-run', 'show the plan without changing anything (same as `reconcile plan`)')
    .option('--accept-new-host-keys', 'trust and record hosts missing from known_hosts (a changed key is always refused)')
    .option('-K, --ask-become-pass', "ask once for the login user's sudo password (hosts with become: true)")
    .addOption(new Option('--timeout <seconds>', 'connect timeout for every host (overrides connect_timeout in the inventory)').argParser(parseSeconds))
    .addOption(new Option('--lock-timeout <seconds>', "wait this long for another run's lock on a host").default(60).argParser(parseSeconds))
    .option('--state-dir <dir>', 'where run records and the key for secret hashes go (default $XDG_STATE_HOME/reconcile, i.e. ~/.local/state/reconcile)')
    .addOption(new Option('--keep-runs <days>', 'delete run records older than this').default(90).argParser(parsePositiveInt))
    .option('--metrics-file <file>', 'write Prometheus metrics here after apply and check (node_exporter textfile collector)')
    .option('--on-drift <command>', 'after check or apply: run this shell command with the JSON report on stdin when drift or errors are found')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run reconcile --help for usage)')
    .exitOverride();

  program.command('init').argument('[dir]', 'where to write the files', '.')
    .description('write a starter hosts.yaml and setup.yaml (the single-box Prefect setup) and their schemas; never overwrites')
    .option('--address <addr>', "the host's address or ssh_config alias")
    .option('--user <name>', 'the login user on the host (default: yours)')
    .action((dir: string, _o, cmd: Command) => run(async () => {
      const { initCommand } = await import('./commands/init.js');
      return () => initCommand(dir, cmd.opts());
    }, cmd));
  program.command('validate').description('check both spec files against their schemas; nothing is sent to any host')
    .action((_o, cmd: Command) => run(async () => (await import('./commands/validate.js')).validateCommand, cmd));
  program.command('plan').description('show, per host, every action apply would take (exit 2 when there are changes)')
    .option('-o, --out <file>', 'also save the plan, for `reconcile apply FILE`')
    .action((_o, cmd: Command) => run(async () => (await import('./commands/engine.js')).planCommand, cmd));
  program.command('apply').argument('[plan]', 'a plan saved by `reconcile plan -o`: apply exactly it, or nothing if a host changed since')
    .description('converge every host to the desired state')
    .option('--dry-run', 'only show the plan (same as `reconcile plan`)')
    .action((planFile: string | undefined, _o, cmd: Command) => run(async () => {
      const commands = await import('./commands/engine.js');
      return cmd.opts().dryRun ? commands.planCommand : (options) => commands.applyCommand(options, planFile);
    }, cmd));
  program.command('check').description('read-only drift check: exit 0 in sync, 2 drift, 1 error')
    .action((_o, cmd: Command) => run(async () => (await import('./commands/engine.js')).checkCommand, cmd));
  const history = program.command('history').description('list recent apply and check runs (newest first)')
    .addOption(new Option('-n, --count <n>', 'how many').default(20).argParser(parsePositiveInt))
    .action((_o, cmd: Command) => run(async () => (await import('./commands/history.js')).historyCommand, cmd));
  history.command('show').argument('<id>', 'a run id from reconcile history, or latest').description('print one run record')
    .action((id: string, _o, cmd: Command) => run(async () => {
      const { showRunCommand } = await import('./commands/history.js');
      return (options) => showRunCommand(options, id);
    }, cmd));
  const schedule = program.command('schedule').description('run `reconcile check` on this machine on a schedule (systemd timer, else cron)');
  schedule.command('install').description('install the scheduled check with the current -i, -f and check options')
    .option('--every <interval>', 'e.g. 15m or 1h (a systemd timer where systemd runs, else cron)')
    .option('--cron <expr>', 'a five-field cron expression (always a crontab entry)')
    .option('--dry-run', 'print what would be installed')
    .action((_o, cmd: Command) => run(async () => (await import('./commands/schedule.js')).installSchedule, cmd));
  schedule.command('status').description('what is installed, and the last check\'s result')
    .action((_o, cmd: Command) => run(async () => (await import('./commands/schedule.js')).scheduleStatus, cmd));
  schedule.command('remove').description('remove the scheduled check').option('--dry-run', 'print what would be removed')
    .action((_o, cmd: Command) => run(async () => (await import('./commands/schedule.js')).removeSchedule, cmd));
  program.action((_o, cmd: Command) => {
    if (!cmd.opts().dryRun) return void cmd.help({ error: true });
    return run(async () => (await import('./commands/engine.js')).planCommand, cmd);
  });
  return program;
}

/** The one error boundary: decides every exit code, and never shows a stack trace to a user. */
async function main(argv: string[]): Promise<ExitCode> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    console.log(version);
    return ExitCode.ok;
  }
  let exitCode: ExitCode = ExitCode.ok;
  try {
    const program = await buildProgram(async (load, command) => {
      const action = await load();
      exitCode = await action(command.optsWithGlobals<GlobalOptions>());
    });
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

async function reportError(error: unknown): Promise<ExitCode> {
  const { CommanderError } = await import('commander');
  if (error instanceof CommanderError) {
    // --help and --version end here too; commander has already printed what it had to.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.error;
  }
  const { SpecError } = await import('../spec/diagnostic.js');
  if (error instanceof SpecError) {
    process.stderr.write(`${error.message}\n${error.diagnostics.length} problem${error.diagnostics.length === 1 ? '' : 's'} found\n`);
  } else if (error instanceof Error && (error.name === 'UsageError' || process.env.RECONCILE_DEBUG === undefined)) {
    process.stderr.write(`reconcile: ${error.message}\n`);
  } else {
    process.stderr.write(`reconcile: internal error (please report): ${error instanceof Error ? error.stack : String(error)}\n`);
  }
  return ExitCode.error;
}

process.exitCode = await main(process.argv);
