import { dirname, resolve } from 'node:path';
import type { ApplyEvent } from '../../engine/apply.js';
import { reconcileHosts, type HostOutcome, type Mode } from '../../engine/run.js';
import { resourceTypes } from '../../resources/registry.js';
import { defaultStateDir } from '../../report/records.js';
import { maskKey, SecretMask } from '../../report/mask.js';
import { buildReport, type Report } from '../../report/report.js';
import { renderEvent, renderPlan, renderSummary, renderTotals } from '../../report/text.js';
import type { Spec } from '../../model/spec.js';
import type { Action, HostPlan } from '../../model/plan.js';
import { traceTo } from '../../model/trace.js';
import { ExitCode } from '../exit-codes.js';
import { toolVersion } from '../version.js';
import { useColor, type GlobalOptions } from '../options.js';
import { interruptedBy, interruption } from '../interrupt.js';
import { askHidden, askLine } from '../prompt.js';
import { loadSelectedSpec } from '../load-spec.js';
import { afterRun } from '../after-run.js';
import { loadPlan, savePlan } from '../saved-plan.js';
import { jsonEvenWhenStopped, stoppedRunReport } from '../json-errors.js';
import { quote } from '../../shell/quote.js';
import { readingStatus } from '../reading-status.js';

export interface EngineOptions extends GlobalOptions {
  out?: string;
  /** apply: no question on a terminal. */
  yes?: boolean;
}

/** `reconcile plan` / `--dry-run`: exit 2 when anything would change. */
export async function planCommand(options: EngineOptions): Promise<ExitCode> {
  const { spec, outcomes, report } = await execute('plan', options);
  if (options.out) await savePlan(options.out, spec, outcomes);
  print(report, outcomes, options);
  // With --json, stdout is the report alone.
  if (options.out) {
    const word = /^[\w./-]+$/.test(options.out) ? options.out : quote(options.out);
    (options.json ? console.error : console.log)(`plan saved to ${options.out}: apply exactly it with reconcile apply ${word}`);
  }
  return report.exitCode;
}

/** `reconcile check`: read-only drift check for cron. Records the run, writes metrics, calls --on-drift. */
export async function checkCommand(options: EngineOptions): Promise<ExitCode> {
  const { spec, outcomes, report } = await execute('check', options);
  print(report, outcomes, options);
  await afterRun(report, spec, options);
  return report.exitCode;
}

/**
 * `reconcile apply [PLAN]`: converge, or execute exactly a saved plan. On a terminal, without --yes,
 * the plan is shown first and applied only when the person types yes, and then exactly as shown (a
 * host that changed meanwhile is left alone, as with a saved plan).
 */
export async function applyCommand(options: EngineOptions, planFile?: string): Promise<ExitCode> {
  const asks = planFile === undefined && !options.yes && !options.json && process.stdin.isTTY && process.stdout.isTTY;
  let source: PlanSource = { planFile };
  if (asks) {
    const shown = await execute('plan', options);
    print(shown.report, shown.outcomes, options);
    const changes = shown.outcomes.reduce((n, o) => n + (o.plan?.actions.length ?? 0), 0);
    if (changes === 0) return shown.report.exitCode === 2 ? ExitCode.error : shown.report.exitCode;
    const hosts = shown.outcomes.filter((o) => (o.plan?.actions.length ?? 0) > 0).length;
    const answer = await askLine(
      `\nApply ${changes} change${changes === 1 ? '' : 's'} to ${hosts} host${hosts === 1 ? '' : 's'}? Only 'yes' applies them: `,
    );
    if (answer !== 'yes') {
      console.log('not applied: nothing was changed');
      return ExitCode.error;
    }
    source = { confirmed: { spec: shown.spec, plans: new Map(shown.outcomes.flatMap((o) => (o.plan ? [[o.host, o.plan]] : []))) } };
  }
  const { spec, outcomes, report } = await execute('apply', options, source);
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
    `${doneCount(done, o.plan?.actions ?? [])}${done.length > 0 ? ` (${done.join(', ')})` : ''}; the next apply does what is left`,
  ];
}

/** "N of M actions done", where actions a resource compared again added (a redeploy) are counted apart. */
function doneCount(done: string[], planned: Action[]): string {
  const added = done.filter((id) => !planned.some((a) => a.id === id)).length;
  const ofPlan = `${done.length - added} of ${planned.length} actions done`;
  return added > 0 ? `${ofPlan}, and ${added} found when a resource was compared again` : ofPlan;
}

/** What apply executes: the plan it makes now, a saved plan file, or the plan a person just confirmed. */
interface PlanSource {
  planFile?: string;
  confirmed?: { spec: Spec; plans: Map<string, HostPlan> };
}

async function execute(mode: Mode, options: EngineOptions, { planFile, confirmed }: PlanSource = {}) {
  const started = new Date();
  const { loaded, saved } =
    confirmed !== undefined
      ? { loaded: confirmed.spec, saved: confirmed.plans }
      : await jsonEvenWhenStopped(options, stoppedRunReport(mode, options, started), async () => {
          const spec = await loadSelectedSpec(options);
          return { loaded: spec, saved: planFile ? await loadPlan(planFile, spec) : undefined };
        });
  const spec = saved ? { ...loaded, hosts: loaded.hosts.filter((h) => saved.has(h.target.name)) } : loaded;
  // Everything below that is shown or stored passes through the mask: plans, events, errors, reports.
  const secrets = spec.secrets.length > 0 ? new SecretMask(spec.secrets, maskKey(options.stateDir ?? defaultStateDir())) : undefined;
  const mask = <T>(value: T): T => secrets?.deep(value) ?? value;
  traceTo(options.verbose, (line) => process.stderr.write(`${secrets?.text(line) ?? line}\n`));
  const progress = mode === 'apply' && !options.json ? await progressFor(spec, options) : undefined;
  const status = mode !== 'apply' && !options.json ? readingStatus(spec.hosts.map((h) => h.target.name)) : undefined;
  const emit = progress ? (event: ApplyEvent) => progress.emit(mask(event)) : status?.emit;
  const outcomes = mask(
    await reconcileHosts(spec.hosts, {
      mode,
      concurrency: options.concurrency,
      specDir: dirname(resolve(options.file)),
      acceptNewHostKeys: options.acceptNewHostKeys,
      askPassphrase: process.stdin.isTTY ? askPassphrase : undefined,
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
  status?.stop();
  return { spec, outcomes, report: buildReport(mode, spec, outcomes, started, toolVersion(), interruptedBy()) };
}

/**
 * Asks each encrypted identity file's passphrase once per run, one question at a time however many
 * hosts connect at once; kept in memory for this run only.
 */
const askPassphrase = passphrasePrompt();

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

const RUNNING_LINE_AFTER_MS = 2000;

/** A live task list on a terminal; plain lines, one per action, anywhere else (cron, pipes, CI). */
async function progressFor(spec: Spec, options: EngineOptions) {
  // With -v the trace lines go to the terminal too: a redrawn view would tear them.
  if (process.stdout.isTTY && !options.verbose) {
    const { liveProgress } = await import('../../report/progress.js');
    return liveProgress(spec.hosts.map((h) => h.target.name));
  }
  const style = { color: useColor(options) };
  // A wait says how long it has waited every 10 s, not every second: a log, not a spinner.
  const lastWaitLine = new Map<string, number>();
  // An action is named when it starts only if it is still running 2 s later: a log without silences, not a list of every step twice.
  // By host and action: an action that compares again runs the actions it then finds inside it.
  const running = new Map<string, NodeJS.Timeout>();
  const actionKey = (event: { host: string; action: { id: string } }) => `${event.host}\u0000${event.action.id}`;
  const say = (event: ApplyEvent) => {
    const line = renderEvent(event, style);
    if (line) console.log(line);
  };
  return {
    emit: (event: ApplyEvent) => {
      if (event.type === 'start') {
        running.set(actionKey(event), setTimeout(() => say(event), RUNNING_LINE_AFTER_MS).unref());
        return;
      }
      if (event.type === 'done' || event.type === 'failed') clearTimeout(running.get(actionKey(event)));
      if (event.type === 'waiting' || event.type === 'host-waiting') {
        if (Date.now() - (lastWaitLine.get(event.host) ?? 0) < 10_000) return;
        lastWaitLine.set(event.host, Date.now());
      }
      say(event);
    },
    finished: Promise.resolve(),
  };
}

function print(report: Report, outcomes: HostOutcome[], options: EngineOptions): void {
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const style = { color: useColor(options) };
  const asCheck = report.command === 'check';
  console.log(`${renderPlan(outcomes, style, asCheck)}\n\n${renderTotals(outcomes, style, asCheck)}`);
}
