import { ExitCode } from './exit-codes.js';
import { toolVersion } from './version.js';

/**
 * A reader that goes away (`reconcile plan | head -1`) closes stdout. Output stops there, quietly,
 * but the run does not: an apply cut short by a pager would leave hosts half-converged. The exit code
 * stays the command's own.
 */
function stopWritingWhenTheReaderLeaves(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = () => true;
  });
}
stopWritingWhenTheReaderLeaves(process.stdout);
stopWritingWhenTheReaderLeaves(process.stderr);

// Node alone takes about 100 ms to start here, so start-up loads nothing it can avoid: `--version`
// answers before commander is loaded, and each command imports what it needs when it runs.
const version = toolVersion();

/** The one error boundary: decides every exit code, and never shows a stack trace to a user. */
async function main(argv: string[]): Promise<number> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    console.log(version);
    return ExitCode.ok;
  }
  let exitCode: number = ExitCode.ok;
  try {
    const { buildProgram } = await import('./program.js');
    const { interruptible } = await import('./interrupt.js');
    const program = buildProgram(version, async (path, load, options) => {
      const action = await load();
      // Only an apply changes hosts, so only an apply has a safe point to stop at and things to put back.
      exitCode = await interruptible(() => action(options), path === 'apply' && !options.dryRun);
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
  const { SpecError } = await import('../model/diagnostic.js');
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
