import { randomBytes } from 'node:crypto';
import { ServiceUnreachable, unexpectedAnswer, type HttpResponse } from '../transport/http.js';
import type { Transport } from '../transport/transport.js';
import { actionOutput, batchScript, failureOutput, markerReader } from './batch.js';
import type { Action, HostPlan, HttpRequest, ScriptStep, Step, WaitStep, WaitUntilEmptyStep } from '../model/plan.js';

export type ApplyEvent =
  | { type: 'planned'; host: string; actions: Action[] }
  | { type: 'finished'; host: string; status: string; error?: string }
  | { type: 'start'; host: string; action: Action }
  | { type: 'done'; host: string; action: Action; ms: number }
  | { type: 'waiting'; host: string; action: Action; detail: string }
  /** Before any action: the host is waited for (another run's lock). */
  | { type: 'host-waiting'; host: string; detail: string }
  /** What a host is doing before its plan exists: connecting, reading its facts (a live view shows it). */
  | { type: 'phase'; host: string; detail: string }
  /** `interrupted`: the action was not started, or its gate was cut short, because the run was interrupted. */
  | { type: 'failed'; host: string; action: Action; error: string; interrupted?: boolean };

export interface ApplyResult {
  /** Ids of the actions that completed, in order. */
  done: string[];
  failed?: { action: string; error: string };
  /** The run was interrupted (a signal): `failed` names the action it stopped at. */
  interrupted?: boolean;
  /** Transactions undone after the failure, each with what the host said. */
  rolledBack?: RollbackOutcome[];
}

/** A stop asked for by the operator (Ctrl-C, SIGTERM), not a failure of the host. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

export interface RollbackOutcome {
  /** The action that opened the transaction (e.g. a venv's snapshot). */
  action: string;
  restored: boolean;
  detail: string;
}

/**
 * Runs a host's actions in order; the first failure stops this host (other hosts go on). Actions run
 * in batches: the scripts of consecutive actions go to the host as one script in one exec, and an
 * action's steps that are not scripts (a health wait, an HTTP call) run after its batch, ending it.
 * A failed action's `onFailure` steps run first (e.g. the previous unit file goes back), then the
 * failure is reported with what the host said and the action's diagnosis (e.g. journal lines).
 */
export async function applyHost(
  transport: Transport,
  plan: HostPlan,
  sudo: boolean,
  emit: (event: ApplyEvent) => void,
  replan: Replan = noReplan,
  signal?: AbortSignal,
): Promise<ApplyResult> {
  emit({ type: 'planned', host: plan.host, actions: plan.actions });
  return runActions({ transport, sudo, host: plan.host, emit, replan, done: [], signal }, plan.actions);
}

/**
 * The commits a host's plan keeps for the end of the run (a drained pool's resume), of the actions
 * that were done; each runs even when another fails. Says what failed, or nothing.
 */
export async function commitAtRunEnd(transport: Transport, plan: HostPlan, sudo: boolean, done: string[]): Promise<string | undefined> {
  const context: ApplyContext = { transport, sudo, host: plan.host, emit: () => {}, replan: noReplan, done };
  const failed: string[] = [];
  for (const commit of (plan.atRunEnd ?? []).filter((c) => done.includes(c.after))) {
    try {
      for (const step of commit.steps) await runStep(context, step);
    } catch (error) {
      failed.push(`${commit.title}: ${(error as Error).message}`);
    }
  }
  return failed.length > 0 ? failed.join('; ') : undefined;
}

/** A resource's actions as its plan gives them now, from facts read again (see ReplanStep). */
export type Replan = (resource: string) => Promise<Action[]>;

const noReplan: Replan = (resource) => Promise.reject(new Error(`${resource} cannot be read again in this run`));

interface ApplyContext {
  transport: Transport;
  sudo: boolean;
  host: string;
  emit: (event: ApplyEvent) => void;
  replan: Replan;
  /** Ids of the actions completed so far, those a replan added included. */
  done: string[];
  signal?: AbortSignal;
}

/**
 * The actions in batches; an interrupt is taken between batches (a script running on the host is
 * let finish) and inside health waits, and then handled like a failure: the action cut short is put
 * back as its onFailure says, and open transactions are rolled back.
 */
async function runActions(context: ApplyContext, actions: Action[]): Promise<ApplyResult> {
  for (const batch of batches(actions)) {
    const failure = context.signal?.aborted
      ? { action: batch[0]!, message: `not started: interrupted by ${String(context.signal.reason)}`, started: false, interrupted: true }
      : await runBatch(context, batch);
    if (failure) {
      const report = failure.started ? await failureReport(context, failure.action, failure.message) : failure.message;
      // Putting back is not cut short by the interrupt that asked for it: its health gates run in full.
      const rolledBack = await rollBack(
        { ...context, signal: undefined },
        actions.filter((a) => a.transaction && (a === failure.action || context.done.includes(a.id))),
      );
      const message = [
        report,
        ...rolledBack.map((r) => (r.restored ? `rolled back (${r.action}): ${r.detail}` : `ROLLBACK FAILED (${r.action}): ${r.detail}`)),
      ].join('\n');
      const interrupted = failure.interrupted ? { interrupted: true as const } : {};
      context.emit({ type: 'failed', host: context.host, action: failure.action, error: message, ...interrupted });
      return {
        done: context.done,
        failed: { action: failure.action.id, error: message },
        ...interrupted,
        ...(rolledBack.length > 0 ? { rolledBack } : {}),
      };
    }
  }
  return { done: context.done };
}

/** `started`: some of the action's steps ran, so its onFailure applies. */
type Failure = { action: Action; message: string; started: boolean; interrupted?: boolean } | undefined;

/** An action's leading script steps (they can join a batch) and the steps after them. */
function split(action: Action): { scripts: ScriptStep[]; rest: Step[] } {
  const firstOther = action.steps.findIndex((step) => !('script' in step));
  const at = firstOther < 0 ? action.steps.length : firstOther;
  return { scripts: action.steps.slice(0, at) as ScriptStep[], rest: action.steps.slice(at) };
}

/** Consecutive actions, each starting with a script, up to and including one that goes on with other steps. */
function batches(actions: Action[]): Action[][] {
  const groups: Action[][] = [];
  let open = false;
  for (const action of actions) {
    const { scripts, rest } = split(action);
    if (open && scripts.length > 0) groups.at(-1)!.push(action);
    else groups.push([action]);
    // A group takes more actions while it is all scripts so far.
    open = scripts.length > 0 && rest.length === 0;
  }
  return groups;
}

/**
 * One exec for the scripts of the whole batch, with a `done` event as the host reports each action
 * finished; then the last action's other steps, one by one.
 */
async function runBatch(context: ApplyContext, actions: Action[]): Promise<Failure> {
  const { transport, sudo, host, emit } = context;
  let finished = 0;
  let started = performance.now();
  const complete = () => {
    context.done.push(actions[finished]!.id);
    emit({ type: 'done', host, action: actions[finished]!, ms: performance.now() - started });
    finished++;
    started = performance.now();
    if (finished < actions.length) emit({ type: 'start', host, action: actions[finished]! });
  };
  const last = split(actions.at(-1)!);
  emit({ type: 'start', host, action: actions[0]! });
  try {
    const scripts = actions.map((action) => split(action).scripts);
    if (scripts[0]!.length > 0) {
      const nonce = randomBytes(6).toString('hex');
      // The last action is complete only once its other steps are done too.
      const onStdout = markerReader(
        nonce,
        (index) => index === finished && (index < actions.length - 1 || last.rest.length === 0) && complete(),
      );
      const result = await transport.run(batchScript(scripts, nonce), { sudo, scriptOnStdin: true, onStdout });
      if (result.code !== 0 || finished < actions.length - 1) {
        const { code, output } = actionOutput(nonce, finished, result.stdout, result.stderr);
        return { action: actions[finished]!, message: `exit ${code ?? result.code}: ${output}`, started: true };
      }
    }
    for (const step of last.rest) await runStep(context, step, actions.at(-1));
    if (finished < actions.length) complete();
    return undefined;
  } catch (error) {
    return {
      action: actions[finished]!,
      message: (error as Error).message,
      started: true,
      ...(error instanceof Interrupted ? { interrupted: true } : {}),
    };
  }
}

async function failureReport(context: ApplyContext, action: Action, message: string): Promise<string> {
  const { transport, sudo } = context;
  let report = message;
  if (action.onFailure) {
    try {
      for (const step of action.onFailure) await runStep(context, step);
      report += '\nrolled back: the previous version is in place again';
    } catch (error) {
      report += `\nrollback failed too: ${(error as Error).message}`;
    }
  }
  if (action.diagnose) {
    const diagnosis = await transport.run(action.diagnose, { sudo }).catch(() => undefined);
    if (diagnosis?.stdout.trim()) report += `\n${diagnosis.stdout.trimEnd()}`;
  }
  return report;
}

/** Undoes the transactions opened before a failure, newest first; each says what it put back. */
async function rollBack(context: ApplyContext, opened: Action[]): Promise<RollbackOutcome[]> {
  const outcomes: RollbackOutcome[] = [];
  for (const action of [...opened].reverse()) {
    const said: string[] = [];
    try {
      for (const step of action.transaction!.rollback) said.push(((await runStep(context, step)) ?? '').trim());
      outcomes.push({ action: action.id, restored: true, detail: said.filter(Boolean).join('; ') || action.transaction!.undo });
    } catch (error) {
      outcomes.push({ action: action.id, restored: false, detail: (error as Error).message });
    }
  }
  return outcomes;
}

/** Runs one step (of `action`, for progress); a script's output is returned. */
async function runStep(context: ApplyContext, step: Step, action?: Action): Promise<string | undefined> {
  const { transport, sudo } = context;
  if ('script' in step) {
    const stdin = step.stdinBase64 === undefined ? undefined : Buffer.from(step.stdinBase64, 'base64');
    const result = await transport.run(step.script, { sudo, stdin });
    if (result.code !== 0) throw new Error(`exit ${result.code}: ${failureOutput(result.stdout, result.stderr)}`);
    return result.stdout;
  } else if ('replan' in step) {
    const result = await runActions(context, await context.replan(step.replan.resource));
    if (result.failed) throw new Error(`${result.failed.action}: ${result.failed.error}`);
  } else if ('request' in step) {
    const response = await send(transport, step.request);
    if (response.status === 409 && step.onConflict) expectSuccess(step.onConflict, await send(transport, step.onConflict));
    else if (!(response.status === 404 && step.absentOk)) expectSuccess(step.request, response);
  } else if ('waitUntilEmpty' in step) {
    await waitUntilEmpty(context, step.waitUntilEmpty, sayer(context, action));
  } else {
    await waitForHealth(context, step.waitForHealth, sayer(context, action));
  }
}

const sayer = (context: ApplyContext, action?: Action) => (detail: string) =>
  action && context.emit({ type: 'waiting', host: context.host, action, detail });

/** Polls a list until it is empty; says how many are left about once a second; fails naming them after the timeout. */
async function waitUntilEmpty(
  context: ApplyContext,
  wait: WaitUntilEmptyStep['waitUntilEmpty'],
  say: (detail: string) => void,
): Promise<void> {
  const started = Date.now();
  let left: { name?: string }[] = [];
  while (Date.now() - started < wait.timeoutSeconds * 1000) {
    const response = await context.transport.request('POST', wait.url, wait.body);
    if (response.status !== 200 || !Array.isArray(response.body)) throw unexpectedAnswer('POST', wait.url, response);
    left = response.body as { name?: string }[];
    if (left.length === 0) return;
    if (context.signal?.aborted) throw new Interrupted(`interrupted by ${String(context.signal.reason)} while waiting for ${wait.what}`);
    say(`waiting for ${left.length} ${wait.what} (${Math.round((Date.now() - started) / 1000)}/${wait.timeoutSeconds} s)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${left.length} ${wait.what} still after ${wait.timeoutSeconds}s: ${left.map((l) => l.name ?? '?').join(', ')}`);
}

const send = (transport: Transport, r: HttpRequest) => transport.request(r.method, r.url, r.body);

function expectSuccess(r: HttpRequest, response: HttpResponse): void {
  if (response.status >= 300) throw unexpectedAnswer(r.method, r.url, response);
}

/** How often a gate's `failFast` script is asked whether waiting still makes sense. */
const FAIL_FAST_EVERY_MS = 1000;

/**
 * Waits for a URL to answer 2xx. Gives up at once when the gate's `failFast` script says waiting is
 * pointless (a unit that crashed and restarts), and when the run is interrupted; says how long it
 * has waited, about once a second.
 */
async function waitForHealth(context: ApplyContext, gate: WaitStep['waitForHealth'], say: (detail: string) => void): Promise<void> {
  const { transport, sudo, signal } = context;
  const started = Date.now();
  const deadline = started + gate.timeoutSeconds * 1000;
  let last = 'no answer';
  let askedAt = started;
  let saidAt = 0;
  const healthy = healthVerdict(gate);
  while (Date.now() < deadline) {
    try {
      const verdict = healthy(await transport.request(gate.newRecord ? 'POST' : 'GET', gate.url, gate.newRecord ? {} : undefined));
      if (verdict === true) return;
      last = verdict;
    } catch (error) {
      if (!(error instanceof ServiceUnreachable)) throw error;
      last = error.message;
    }
    if (signal?.aborted) throw new Interrupted(`interrupted by ${String(signal.reason)} while waiting for ${gate.url} (${last})`);
    if (gate.failFast && Date.now() - askedAt >= FAIL_FAST_EVERY_MS) {
      askedAt = Date.now();
      const verdict = await transport.run(gate.failFast, { sudo });
      if (verdict.code !== 0)
        throw new Error(
          `gave up waiting for ${gate.url} after ${Math.round((Date.now() - started) / 1000)}s: ${verdict.stdout.trim() || `exit ${verdict.code}`}`,
        );
    }
    if (Date.now() - saidAt >= 1000) {
      saidAt = Date.now();
      say(`waiting for ${gate.url} (${Math.round((Date.now() - started) / 1000)}/${gate.timeoutSeconds} s)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not healthy after ${gate.timeoutSeconds}s: ${gate.url} (${last})`);
}

/** Judges each answer of a gate: true when healthy, else what the answer says instead. */
function healthVerdict(gate: WaitStep['waitForHealth']): (response: HttpResponse) => true | string {
  const record = gate.newRecord;
  let first: { stamp: unknown } | undefined;
  return (response) => {
    if (response.status < 200 || response.status >= 300) return `HTTP ${response.status} ${JSON.stringify(response.body)}`;
    if (!record) return true;
    const items = Array.isArray(response.body) ? (response.body as Record<string, unknown>[]) : [];
    const stamp = items.find((item) => item[record.key] === record.value)?.[record.stamp];
    // What the first answer shows may be the previous program's: only a change is the new one's.
    first ??= { stamp };
    if (stamp !== undefined && stamp !== first.stamp) return true;
    return stamp === undefined
      ? `no ${record.key} ${record.value} listed yet`
      : `${record.value}: ${record.stamp} ${JSON.stringify(stamp)}, not newer than when the gate began`;
  };
}
