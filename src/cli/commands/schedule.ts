import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { packagePath } from '../../model/package-root.js';
import { defaultStateDir, listRunRecords } from '../../report/records.js';
import { command, quote } from '../../shell/quote.js';
import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';
import { UsageError } from '../usage-error.js';

export interface ScheduleOptions extends GlobalOptions {
  every?: string;
  cron?: string;
  dryRun?: boolean;
}

const MARKER = '# reconcile scheduled check (reconcile schedule install; remove with reconcile schedule remove)';
const UNIT = 'reconcile-check';
const UNIT_DIR = '/etc/systemd/system';
/** Overlapping runs exit with this from flock -n and are logged as skipped. */
const SKIPPED = 75;

/**
 * The exact shell line the schedule runs: absolute paths for node, reconcile, the spec files and the
 * state directory, so it works in cron's bare environment; flock skips a run while the last one lasts.
 * Every option `schedule install` honours (see OPTION_SCOPE) is carried into it.
 */
export function scheduledCommand(options: GlobalOptions): string {
  const stateDir = resolve(options.stateDir ?? defaultStateDir());
  const tool = realpathSync(packagePath('bin', 'reconcile.js'));
  const args = [
    'check',
    '-i',
    resolve(options.inventory),
    '-f',
    resolve(options.file),
    '--state-dir',
    stateDir,
    '--lock-timeout',
    String(options.lockTimeout),
    '--keep-runs',
    String(options.keepRuns),
    '--concurrency',
    String(options.concurrency),
    '--no-color',
    ...(options.limit ? ['--limit', options.limit.join(',')] : []),
    ...(options.timeout !== undefined ? ['--timeout', String(options.timeout)] : []),
    ...(options.acceptNewHostKeys ? ['--accept-new-host-keys'] : []),
    ...(options.metricsFile ? ['--metrics-file', resolve(options.metricsFile)] : []),
    ...(options.onDrift ? ['--on-drift', options.onDrift] : []),
  ];
  const run = command(process.execPath, tool, ...args);
  return (
    `mkdir -p ${quote(stateDir)} && cd ${quote(process.cwd())} && { flock -n -E ${SKIPPED} ${quote(join(stateDir, 'schedule.lock'))} ${run}; ` +
    `rc=$?; [ $rc -ne ${SKIPPED} ] || echo "reconcile: the previous scheduled check is still running; this one is skipped" >&2; exit $rc; }`
  );
}

function minutesOf(every: string): number {
  const match = /^(\d+)(m|h)$/.exec(every);
  const minutes = match ? Number(match[1]) * (match[2] === 'h' ? 60 : 1) : NaN;
  if (!minutes || (minutes < 60 ? 60 % minutes !== 0 : minutes % 60 !== 0 || 1440 % minutes !== 0)) {
    throw new UsageError(`--every ${every}: use minutes that divide an hour (5m, 15m, 30m) or hours that divide a day (1h, 2h, 6h)`);
  }
  return minutes;
}

const usesSystemd = (options: ScheduleOptions) => !options.cron && existsSync('/run/systemd/system') && process.getuid?.() === 0;

function cronExpression(options: ScheduleOptions): string {
  if (options.cron) {
    if (options.cron.trim().split(/\s+/).length !== 5 || /[\n%]/.test(options.cron))
      throw new UsageError(`--cron '${options.cron}': give five cron fields, e.g. '*/15 * * * *'`);
    return options.cron.trim();
  }
  const minutes = minutesOf(options.every!);
  return minutes < 60 ? `*/${minutes} * * * *` : `0 */${minutes / 60} * * *`;
}

function systemdUnits(options: ScheduleOptions): { service: string; timer: string } {
  const minutes = minutesOf(options.every!);
  const calendar = minutes < 60 ? `*:0/${minutes}` : `0/${minutes / 60}:00`;
  return {
    service: `[Unit]\nDescription=reconcile drift check\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c ${quote(scheduledCommand(options))}\n`,
    timer: `[Unit]\nDescription=reconcile drift check every ${options.every}\n\n[Timer]\nOnCalendar=${calendar}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`,
  };
}

/** `reconcile schedule install --every 15m | --cron EXPR [--dry-run]` */
export async function installSchedule(options: ScheduleOptions): Promise<ExitCode> {
  if (!options.every === !options.cron) throw new UsageError('schedule install: give exactly one of --every (e.g. 15m) and --cron EXPR');
  if (usesSystemd(options)) {
    const units = systemdUnits(options);
    if (options.dryRun) {
      console.log(
        `would write ${UNIT_DIR}/${UNIT}.service:\n${units.service}\nwould write ${UNIT_DIR}/${UNIT}.timer:\n${units.timer}\nand run: systemctl daemon-reload && systemctl enable --now ${UNIT}.timer`,
      );
      console.log(`command: ${scheduledCommand(options)}`);
      return ExitCode.ok;
    }
    await writeFile(join(UNIT_DIR, `${UNIT}.service`), units.service);
    await writeFile(join(UNIT_DIR, `${UNIT}.timer`), units.timer);
    execFileSync('systemctl', ['daemon-reload']);
    execFileSync('systemctl', ['enable', '--now', `${UNIT}.timer`]);
    console.log(`installed ${UNIT}.timer (every ${options.every})`);
    return ExitCode.ok;
  }
  // cron turns a bare % into a newline.
  const entry = `${cronExpression(options)} ${scheduledCommand(options).replace(/%/g, '\\%')}`;
  if (options.dryRun) {
    console.log(`would add to the crontab of ${process.env.USER ?? 'this user'}:\n${MARKER}\n${entry}`);
    console.log(`command: ${scheduledCommand(options)}`);
    return ExitCode.ok;
  }
  writeCrontab([...withoutSchedule(readCrontab()), MARKER, entry]);
  console.log(`installed in the crontab: ${cronExpression(options)}`);
  return ExitCode.ok;
}

/** `reconcile schedule status`: what is installed, and the last scheduled run's result. */
export async function scheduleStatus(options: ScheduleOptions): Promise<ExitCode> {
  const timer = existsSync(join(UNIT_DIR, `${UNIT}.timer`));
  const cronLines = commandExists('crontab') ? readCrontab() : [];
  const cron = cronLines.findIndex((l) => l === MARKER);
  const [last] = (await listRunRecords(options.stateDir ?? defaultStateDir(), 50)).filter((r) => r.command === 'check');
  if (options.json) {
    const installed = timer
      ? { kind: 'systemd-timer', unit: `${UNIT}.timer` }
      : cron >= 0
        ? { kind: 'crontab', entry: cronLines[cron + 1] ?? '' }
        : null;
    const lastCheck = last ? { id: last.id, startedAt: last.startedAt, result: last.result, exitCode: last.exitCode } : null;
    console.log(JSON.stringify({ installed, lastCheck }, null, 2));
    return ExitCode.ok;
  }
  if (timer)
    console.log(
      `installed: systemd timer ${UNIT}.timer\n${spawnSync('systemctl', ['list-timers', `${UNIT}.timer`, '--no-pager'], { encoding: 'utf8' }).stdout.trim()}`,
    );
  else if (cron >= 0) console.log(`installed: crontab entry\n${cronLines[cron + 1] ?? ''}`);
  else console.log('not installed');
  console.log(last ? `last check: ${last.startedAt} ${last.result} (exit ${last.exitCode}, run ${last.id})` : 'last check: none recorded');
  return ExitCode.ok;
}

/** `reconcile schedule remove` */
export async function removeSchedule(options: ScheduleOptions): Promise<ExitCode> {
  let removed = false;
  if (existsSync(join(UNIT_DIR, `${UNIT}.timer`))) {
    if (!options.dryRun) {
      spawnSync('systemctl', ['disable', '--now', `${UNIT}.timer`]);
      await rm(join(UNIT_DIR, `${UNIT}.timer`), { force: true });
      await rm(join(UNIT_DIR, `${UNIT}.service`), { force: true });
      spawnSync('systemctl', ['daemon-reload']);
    }
    removed = true;
  }
  if (commandExists('crontab')) {
    const lines = readCrontab();
    if (lines.includes(MARKER)) {
      if (!options.dryRun) writeCrontab(withoutSchedule(lines));
      removed = true;
    }
  }
  console.log(removed ? (options.dryRun ? 'would remove the scheduled check' : 'removed the scheduled check') : 'nothing was installed');
  return ExitCode.ok;
}

function withoutSchedule(lines: string[]): string[] {
  const at = lines.indexOf(MARKER);
  return at < 0 ? lines : [...lines.slice(0, at), ...lines.slice(at + 2)];
}

function readCrontab(): string[] {
  requireCrontab();
  const listed = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
  return listed.status === 0 ? listed.stdout.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1) : [];
}

function writeCrontab(lines: string[]): void {
  // An emptied table is removed rather than left as a blank one.
  const result = lines.every((l) => l.trim() === '')
    ? spawnSync('crontab', ['-r'], { encoding: 'utf8' })
    : spawnSync('crontab', ['-'], { input: `${lines.join('\n')}\n`, encoding: 'utf8' });
  if (result.status !== 0) throw new UsageError(`crontab refused the new table: ${result.stderr.trim()}`);
}

function requireCrontab(): void {
  if (!commandExists('crontab'))
    throw new UsageError('no systemd here and no crontab command: install cron (apt-get install cron) or use --dry-run to see the command');
}

function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
