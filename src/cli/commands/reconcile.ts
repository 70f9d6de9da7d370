import { dirname, resolve } from 'node:path';
import type { ApplyEvent } from '../../engine/apply.js';
import { reconcileHosts, type HostOutcome, type Mode } from '../../engine/run.js';
import { resourceTypes } from '../../resources/registry.js';
import { defaultStateDir } from '../../report/records.js';
import { maskKey, SecretMask } from '../../report/mask.js';
import { buildReport, type Report } from '../../report/report.js';
import { renderEvent, renderPlan, renderSummary } from '../../report/text.js';
import type { Spec } from '../../model/spec.js';
import { ExitCode } from '../exit-codes.js';
import { toolVersion } from '../version.js';
import { useColor, type GlobalOptions } from '../options.js';
import { interruptedBy, interruption } from '../interrupt.js';
import { askHidden } from '../prompt.js';
import { loadSelectedSpec } from '../load-spec.js';
import { afterRun } from '../after-run.js';
import { loadPlan, savePlan } from '../saved-plan.js';

export interface EngineOptions extends GlobalOptions {
  out?: string;
}

/** `reconcile plan` / `--dry-run`: exit 2 when anything would change. */
export async function planCommand(options: EngineOptions): Promise<ExitCode> {
  const { spec, outcomes, report } = await execute('plan', options);
  if (options.out) await savePlan(options.out, spec, outcomes);
  print(report, outcomes, options);
  return report.exitCode;
}

/** `reconcile check`: read-only drift check for cron. Records the run, writes metrics, calls --on-drift. */
export async function checkCommand(options: EngineOptions): Promise<ExitCode> {
  const { spec, outcomes, report } = await execute('check', options);
  print(report, outcomes, options);
  await afterRun(report, spec, options);
  return report.exitCode;
}

/** `reconcile apply [PLAN]`: converge, or execute exactly a saved plan. */
export async function applyCommand(options: EngineOptions, planFile?: string): Promise<ExitCode> {
  const { spec, outcomes, report } = await execute('apply', options, planFile);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else {
    for (const o of outcomes) for (const line of outcomeLines(o)) console.log(`${o.host}: ${line}`);
    console.log(renderSummary(outcomes, report.durationMs, { color: useColor(options) }));
  }
  await afterRun(report, spec, options);
  return report.exitCode;
}

/**
 * Where a host stands after apply, said once. A failed action's own output (the host's words, the
 * journal) was shown as it failed; this says what the failure left: rolled back, or how far it got.
 */
function outcomeLines(o: HostOutcome): string[] {
  const left = o.final?.problems ?? [];
  if (!o.apply?.failed) {
    if (o.status === 'failed' && o.final)
      return [
        'NOT CONVERGED; what still differs:',
        ...o.final.actions.map((a) => `  ${a.title}${a.because ? ` (${a.because})` : ''}`),
        ...left.map((p) => `  ! ${p}`),
      ];
    return o.status === 'failed' || o.status === 'skipped' ? [o.error ?? o.status] : [];
  }
  const { done, failed, rolledBack = [], interrupted } = o.apply;
  const planned = o.plan?.actions.length ?? 0;
  const stopped = interrupted ? `interrupted at ${failed.action}` : `FAILED at ${failed.action}`;
  const undone = rolledBack.filter((r) => r.restored);
  if (rolledBack.length > 0 && undone.length === rolledBack.length) {
    return [
      `${stopped}; rolled back: ${undone.map((r) => r.detail).join('; ')}`,
      'the host runs as it did before this apply (its services health-checked again); the next apply starts over',
    ];
  }
  return [
    `${stopped}: ${interrupted ? failed.error : failed.error.split('\n')[0]}`,
    ...rolledBack.filter((r) => !r.restored).map((r) => `ROLLBACK FAILED (${r.action}): ${r.detail}`),
    `${done.length} of ${planned} actions done${done.length > 0 ? ` (${done.join(', ')})` : ''}; the next apply does what is left`,
  ];
}

async function execute(mode: Mode, options: EngineOptions, planFile?: string) {
  const started = new Date();
  const loaded = await loadSelectedSpec(options);
  const saved = planFile ? await loadPlan(planFile, loaded) : undefined;
  const spec = saved ? { ...loaded, hosts: loaded.hosts.filter((h) => saved.has(h.target.name)) } : loaded;
  // Everything below that is shown or stored passes through the mask: plans, events, errors, reports.
  const secrets = spec.secrets.length > 0 ? new SecretMask(spec.secrets, maskKey(options.stateDir ?? defaultStateDir())) : undefined;
  const mask = <T>(value: T): T => secrets?.deep(value) ?? value;
  const progress = mode === 'apply' && !options.json ? await progressFor(spec, options) : undefined;
  const emit = progress && ((event: ApplyEvent) => progress.emit(mask(event)));
  const outcomes = mask(
    await reconcileHosts(spec.hosts, {
      mode,
      concurrency: options.concurrency,
      specDir: dirname(resolve(options.file)),
      acceptNewHostKeys: options.acceptNewHostKeys,
      askPassphrase: process.stdin.isTTY ? passphrasePrompt() : undefined,
      lockTimeoutSeconds: options.lockTimeout,
      savedPlans: saved,
      mask,
      emit,
      retryFailed: options.retryFailed,
      types: resourceTypes,
      signal: interruption,
    }),
  );
  await progress?.finished;
  return { spec, outcomes, report: buildReport(mode, spec, outcomes, started, toolVersion(), interruptedBy()) };
}

/**
 * Asks each encrypted identity file's passphrase once per run, one question at a time however many
 * hosts connect at once; kept in memory for this run only.
 */
function passphrasePrompt(): (file: string) => Promise<string> {
  const asked = new Map<string, Promise<string>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (file) => {
    if (!asked.has(file)) {
      const answer = queue.then(() => askHidden(`Enter passphrase for ${file}: `, 'a passphrase'));
      queue = answer.catch(() => undefined);
      asked.set(file, answer);
    }
    return asked.get(file)!;
  };
}

/** A live task list on a terminal; plain lines, one per action, anywhere else (cron, pipes, CI). */
async function progressFor(spec: Spec, options: EngineOptions) {
  if (process.stdout.isTTY) {
    const { liveProgress } = await import('../../report/progress.js');
    return liveProgress(spec.hosts.map((h) => h.target.name));
  }
  const style = { color: useColor(options) };
  // A wait says how long it has waited every 10 s, not every second: a log, not a spinner.
  const lastWaitLine = new Map<string, number>();
  return {
    emit: (event: ApplyEvent) => {
      if (event.type === 'waiting') {
        if (Date.now() - (lastWaitLine.get(event.host) ?? 0) < 10_000) return;
        lastWaitLine.set(event.host, Date.now());
      }
      const line = renderEvent(event, style);
      if (line) console.log(line);
    },
    finished: Promise.resolve(),
  };
}

function print(report: Report, outcomes: HostOutcome[], options: EngineOptions): void {
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(renderPlan(outcomes, { color: useColor(options) }, report.command === 'check'));
}
