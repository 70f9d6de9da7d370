import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ApplyEvent } from '../../engine/apply.js';
import type { HostPlan } from '../../engine/model.js';
import { reconcileHosts, type HostOutcome, type Mode } from '../../engine/run.js';
import { renderEvent, renderPlan, renderSummary } from '../../report/text.js';
import type { Spec } from '../../spec/load.js';
import { ExitCode } from '../exit-codes.js';
import { useColor, type GlobalOptions } from '../options.js';
import { loadSelectedSpec } from '../spec.js';
import { UsageError } from '../usage-error.js';

export interface EngineOptions extends GlobalOptions {
  acceptNewHostKeys?: boolean;
  out?: string;
}

/** A saved plan: what `plan -o` writes and `apply FILE` executes, guarded by the spec's hash and each host's facts digest. */
interface SavedPlan {
  reconcilePlan: 1;
  createdAt: string;
  specHash: string;
  hosts: HostPlan[];
}

async function run(mode: Mode, options: EngineOptions, spec: Spec, savedPlans?: Map<string, HostPlan>): Promise<HostOutcome[]> {
  const progress = mode === 'apply' && !options.json ? await progressFor(spec, options) : undefined;
  const outcomes = await reconcileHosts(spec.hosts, {
    mode,
    concurrency: options.concurrency,
    specDir: dirname(resolve(options.file)),
    acceptNewHostKeys: options.acceptNewHostKeys,
    savedPlans,
    emit: progress?.emit,
  });
  await progress?.finished;
  return outcomes;
}

/** A live task list on a terminal; plain lines, one per action, anywhere else (cron, pipes, CI). */
async function progressFor(spec: Spec, options: EngineOptions) {
  if (process.stdout.isTTY) {
    const { liveProgress } = await import('../../report/progress.js');
    return liveProgress(spec.hosts.map((h) => h.target.name));
  }
  const style = { color: useColor(options) };
  return {
    emit: (event: ApplyEvent) => {
      const line = renderEvent(event, style);
      if (line) console.log(line);
    },
    finished: Promise.resolve(),
  };
}

function report(outcomes: HostOutcome[], options: EngineOptions): void {
  if (options.json) console.log(JSON.stringify({ hosts: outcomes }, null, 2));
  else console.log(renderPlan(outcomes, { color: useColor(options) }));
}

const failed = (outcomes: HostOutcome[]) => outcomes.some((o) => o.status === 'failed');

/** `reconcile plan` / `--dry-run`: exit 2 when anything would change. */
export async function planCommand(options: EngineOptions): Promise<ExitCode> {
  const spec = await loadSelectedSpec(options);
  const outcomes = await run('plan', options, spec);
  report(outcomes, options);
  if (options.out) await savePlan(options.out, spec, outcomes);
  if (failed(outcomes)) return ExitCode.error;
  return outcomes.some((o) => o.status === 'changes') ? ExitCode.changes : ExitCode.ok;
}

/** `reconcile check`: the same reading and comparing as plan, for cron; never changes anything. */
export async function checkCommand(options: EngineOptions): Promise<ExitCode> {
  return planCommand({ ...options, out: undefined });
}

/** `reconcile apply [PLAN]`: converge, or execute exactly a saved plan. */
export async function applyCommand(options: EngineOptions, planFile?: string): Promise<ExitCode> {
  const spec = await loadSelectedSpec(options);
  const saved = planFile ? await loadPlan(planFile, spec) : undefined;
  const started = performance.now();
  const outcomes = await run('apply', options, saved ? { ...spec, hosts: spec.hosts.filter((h) => saved.has(h.target.name)) } : spec, saved);
  if (options.json) report(outcomes, options);
  else {
    for (const o of outcomes.filter((o) => o.status === 'failed')) console.log(`${o.host}: ${o.error}`);
    console.log(renderSummary(outcomes, performance.now() - started, { color: useColor(options) }));
  }
  return failed(outcomes) ? ExitCode.error : ExitCode.ok;
}

async function savePlan(file: string, spec: Spec, outcomes: HostOutcome[]): Promise<void> {
  const plan: SavedPlan = { reconcilePlan: 1, createdAt: new Date().toISOString(), specHash: spec.specHash, hosts: outcomes.flatMap((o) => (o.plan ? [o.plan] : [])) };
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, JSON.stringify(plan, null, 2), { mode: 0o600 });
  await rename(temporary, file);
}

async function loadPlan(file: string, spec: Spec): Promise<Map<string, HostPlan>> {
  let plan: SavedPlan;
  try {
    plan = JSON.parse(await readFile(file, 'utf8')) as SavedPlan;
  } catch (error) {
    throw new UsageError(`${file}: not a readable plan file (${(error as Error).message})`);
  }
  if (plan.reconcilePlan !== 1 || !Array.isArray(plan.hosts)) throw new UsageError(`${file}: not a plan written by reconcile plan -o`);
  if (plan.specHash !== spec.specHash) {
    throw new UsageError(`${file} was made from other spec files than ${spec.inventoryFile} and ${spec.setupFile} as they are now; make a new plan`);
  }
  return new Map(plan.hosts.map((h) => [h.host, h]));
}
