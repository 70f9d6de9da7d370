import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { packagePath } from '../../model/package-root.js';
import { defaultStateDir, listRunRecords } from '../../report/records.js';
import { command, quote } from '../../shell/quote.js';
import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';
import { currentProject, projectOf, ranFor, type Project } from '../project.js';
import { UsageError } from '../usage-error.js';

export interface ScheduleOptions extends GlobalOptions {
  every?: string;
  cron?: string;
  dryRun?: boolean;
}

/** Starts the comment line above each scheduled check's crontab entry; the project follows it. */
const MARKER = '# reconcile scheduled check';
const UNIT_DIR = '/etc/systemd/system';
/** Overlapping runs exit with this from flock -n and are logged as skipped. */
const SKIPPED = 75;

const markerOf = (project: Project) => `${MARKER} of ${project.dir} [project ${project.id}] (remove: reconcile schedule remove there)`;
const unitOf = (project: Project) => `reconcile-check-${project.id}`;

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
  const lock = quote(join(stateDir, `schedule-${projectOf({ inventory: options.inventory, setup: options.file }).id}.lock`));
  // Silent when in sync, so cron mails only drift and errors; the run record and metrics are written either way.
  return (
    `mkdir -p ${quote(stateDir)} && cd ${quote(process.cwd())} && { rc_out=$(flock -n -E ${SKIPPED} ${lock} ${run}); ` +
    `rc=$?; [ $rc -eq 0 ] || printf '%s\\n' "$rc_out"; [ $rc -ne ${SKIPPED} ] || echo "reconcile: the previous scheduled check is still running; this one is skipped" >&2; exit $rc; }`
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

function systemdUnits(options: ScheduleOptions, project: Project): { service: string; timer: string } {
  const minutes = minutesOf(options.every!);
  const calendar = minutes < 60 ? `*:0/${minutes}` : `0/${minutes / 60}:00`;
  return {
    service: `[Unit]\nDescription=reconcile drift check of ${project.dir}\n\n[Service]\nType=oneshot\nExecStart=/bin/sh -c ${quote(scheduledCommand(options))}\n`,
    timer: `[Unit]\nDescription=reconcile drift check of ${project.dir} every ${options.every}\n\n[Timer]\nOnCalendar=${calendar}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`,
  };
}

/**
 * What would keep a scheduled check from working, found before it is installed rather than by a
 * silent cron job: no cron daemon to run it, or a secret read from an environment variable, which
 * cron and systemd timers do not pass on.
 */
function unschedulable(options: ScheduleOptions, systemd: boolean): string[] {
  const reasons: string[] = [];
  if (!systemd && !commandSucceeds('grep -qsxE "cron|crond" /proc/[0-9]*/comm'))
    reasons.push(
      'no cron daemon runs on this machine, so the entry would never run: start it (systemctl enable --now cron), or install as root where systemd runs (a timer)',
    );
  for (const [name, source] of Object.entries(secretSources(options.file)))
    if (source.env !== undefined)
      reasons.push(
        `secret '${name}' comes from the environment variable ${source.env}, which a scheduled check does not get (cron and timers start with an almost empty environment): read it from a file instead (secrets: ${name}: { file: PATH }, mode 0600)`,
      );
  return reasons;
}

/** setup.yaml's secret sources, read plainly: the full load happens when the check runs. */
function secretSources(file: string): Record<string, { env?: string; file?: string }> {
  try {
    const setup = parse(readFileSync(file, 'utf8')) as { secrets?: Record<string, { env?: string; file?: string }> } | null;
    return setup?.secrets ?? {};
  } catch {
    return {};
  }
}

/** `reconcile schedule install --every 15m | --cron EXPR [--dry-run]`: this project's check, beside any other project's. */
export async function installSchedule(options: ScheduleOptions): Promise<ExitCode> {
  if (!options.every === !options.cron) throw new UsageError('schedule install: give exactly one of --every (e.g. 15m) and --cron EXPR');
  const project = currentProject(options);
  const systemd = usesSystemd(options);
  const reasons = unschedulable(options, systemd);
  if (reasons.length > 0 && !options.dryRun) throw new UsageError(`not installed: ${reasons.join('; ')}`);
  for (const reason of reasons) console.error(`reconcile: an install would be refused: ${reason}`);
  if (systemd) {
    const unit = unitOf(project);
    const units = systemdUnits(options, project);
    if (options.dryRun) {
      console.log(
        `would write ${UNIT_DIR}/${unit}.service:\n${units.service}\nwould write ${UNIT_DIR}/${unit}.timer:\n${units.timer}\nand run: systemctl daemon-reload && systemctl enable --now ${unit}.timer`,
      );
      console.log(`command: ${scheduledCommand(options)}`);
      return ExitCode.ok;
    }
    await writeFile(join(UNIT_DIR, `${unit}.service`), units.service);
    await writeFile(join(UNIT_DIR, `${unit}.timer`), units.timer);
    execFileSync('systemctl', ['daemon-reload']);
    execFileSync('systemctl', ['enable', '--now', `${unit}.timer`]);
    console.log(`installed ${unit}.timer (every ${options.every}) for ${project.dir}`);
    return ExitCode.ok;
  }
  // cron turns a bare % into a newline.
  const entry = `${cronExpression(options)} ${scheduledCommand(options).replace(/%/g, '\\%')}`;
  if (options.dryRun) {
    console.log(`would add to the crontab of ${process.env.USER ?? 'this user'}:\n${markerOf(project)}\n${entry}`);
    console.log(`command: ${scheduledCommand(options)}`);
    return ExitCode.ok;
  }
  writeCrontab([...withoutEntryOf(readCrontab(), project), markerOf(project), entry]);
  console.log(`installed in the crontab: ${cronExpression(options)} for ${project.dir}`);
  return ExitCode.ok;
}

/** `reconcile schedule status`: this project's schedule and last check; other projects' schedules are counted. */
export async function scheduleStatus(options: ScheduleOptions): Promise<ExitCode> {
  const project = currentProject(options);
  const unit = unitOf(project);
  const timer = existsSync(join(UNIT_DIR, `${unit}.timer`));
  const cronLines = commandExists('crontab') ? readCrontab() : [];
  const entries = cronEntries(cronLines);
  const ours = entries.find((e) => e.project === project.id);
  const others = entries.filter((e) => e.project !== project.id).length + otherTimers(unit);
  const [last] = await listRunRecords(options.stateDir ?? defaultStateDir(), 1, (r) => r.command === 'check' && ranFor(project)(r));
  if (options.json) {
    const installed = timer ? { kind: 'systemd-timer', unit: `${unit}.timer` } : ours ? { kind: 'crontab', entry: ours.entry } : null;
    const lastCheck = last ? { id: last.id, startedAt: last.startedAt, result: last.result, exitCode: last.exitCode } : null;
    console.log(JSON.stringify({ project: project.dir, installed, lastCheck, otherProjects: others }, null, 2));
    return ExitCode.ok;
  }
  console.log(`project: ${project.dir} (${project.inventory}, ${project.setup})`);
  if (timer)
    console.log(
      `installed: systemd timer ${unit}.timer\n${spawnSync('systemctl', ['list-timers', `${unit}.timer`, '--no-pager'], { encoding: 'utf8' }).stdout.trim()}`,
    );
  else if (ours) console.log(`installed: crontab entry\n${ours.entry}`);
  else console.log('not installed');
  console.log(last ? `last check: ${last.startedAt} ${last.result} (exit ${last.exitCode}, run ${last.id})` : 'last check: none recorded');
  if (others > 0) console.log(`other projects with a scheduled check on this machine: ${others}`);
  return ExitCode.ok;
}

/** `reconcile schedule remove`: this project's scheduled check only. */
export async function removeSchedule(options: ScheduleOptions): Promise<ExitCode> {
  const project = currentProject(options);
  const unit = unitOf(project);
  let removed = false;
  if (existsSync(join(UNIT_DIR, `${unit}.timer`))) {
    if (!options.dryRun) {
      spawnSync('systemctl', ['disable', '--now', `${unit}.timer`]);
      await rm(join(UNIT_DIR, `${unit}.timer`), { force: true });
      await rm(join(UNIT_DIR, `${unit}.service`), { force: true });
      spawnSync('systemctl', ['daemon-reload']);
    }
    removed = true;
  }
  if (commandExists('crontab')) {
    const lines = readCrontab();
    if (cronEntries(lines).some((e) => e.project === project.id)) {
      if (!options.dryRun) writeCrontab(withoutEntryOf(lines, project));
      removed = true;
    }
  }
  const done = options.dryRun ? 'would remove the scheduled check' : 'removed the scheduled check';
  console.log(removed ? `${done} of ${project.dir}` : `nothing was installed for ${project.dir}`);
  return ExitCode.ok;
}

/** The scheduled checks in a crontab: the marker line's index, the project it names and its entry. */
function cronEntries(lines: string[]): { at: number; project: string | undefined; entry: string }[] {
  return lines.flatMap((line, at) =>
    line.startsWith(MARKER) ? [{ at, project: /\[project ([0-9a-f]{8})\]/.exec(line)?.[1], entry: lines[at + 1] ?? '' }] : [],
  );
}

function withoutEntryOf(lines: string[], project: Project): string[] {
  const drop = new Set(
    cronEntries(lines)
      .filter((e) => e.project === project.id)
      .flatMap((e) => [e.at, e.at + 1]),
  );
  return lines.filter((_, i) => !drop.has(i));
}

/** Timers of other projects' scheduled checks. */
function otherTimers(unit: string): number {
  if (!existsSync(UNIT_DIR)) return 0;
  return readdirSync(UNIT_DIR).filter((f) => /^reconcile-check-[0-9a-f]{8}\.timer$/.test(f) && f !== `${unit}.timer`).length;
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

const commandExists = (name: string) => commandSucceeds(`command -v ${name}`);

function commandSucceeds(shell: string): boolean {
  return spawnSync('sh', ['-c', `${shell} >/dev/null 2>&1`]).status === 0;
}
