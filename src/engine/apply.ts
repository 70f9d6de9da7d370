import { randomBytes } from 'node:crypto';
import { ServiceUnreachable } from '../transport/http.js';
import type { Transport } from '../transport/transport.js';
import { actionOutput, batchScript, markerReader } from './batch.js';
import type { Action, HostPlan, HttpRequest, Step } from './model.js';

export type ApplyEvent =
  | { type: 'planned'; host: string; actions: Action[] }
  | { type: 'finished'; host: string; status: string; error?: string }
  | { type: 'start'; host: string; action: Action }
  | { type: 'done'; host: string; action: Action; ms: number }
  | { type: 'failed'; host: string; action: Action; error: string };

export interface ApplyResult {
  /** Ids of the actions that completed, in order. */
  done: string[];
  failed?: { action: string; error: string };
}

/**
 * Runs a host's actions in order; the first failure stops this host (other hosts go on). Consecutive
 * actions made only of scripts run as one batch in one exec; an HTTP call or a health wait runs on its
 * own. A failed action's `onFailure` steps run first (e.g. the previous unit file goes back), then the
 * failure is reported with what the host said and the action's diagnosis (e.g. journal lines).
 */
export async function applyHost(transport: Transport, plan: HostPlan, sudo: boolean, emit: (event: ApplyEvent) => void): Promise<ApplyResult> {
  const done: string[] = [];
  emit({ type: 'planned', host: plan.host, actions: plan.actions });
  for (const group of batches(plan.actions)) {
    const failure = scriptOnly(group[0]!)
      ? await runBatch(transport, group, sudo, plan.host, emit, (action) => done.push(action.id))
      : await runAlone(transport, group[0]!, sudo, plan.host, emit, (action) => done.push(action.id));
    if (failure) {
      const message = await failureReport(transport, failure.action, sudo, failure.message);
      emit({ type: 'failed', host: plan.host, action: failure.action, error: message });
      return { done, failed: { action: failure.action.id, error: message } };
    }
  }
  return { done };
}

type Failure = { action: Action; message: string } | undefined;

const scriptOnly = (action: Action) => action.steps.every((step) => 'script' in step);

/** Runs of consecutive script-only actions; every other action is a group of its own. */
function batches(actions: Action[]): Action[][] {
  const groups: Action[][] = [];
  for (const action of actions) {
    const last = groups.at(-1);
    if (last && scriptOnly(action) && scriptOnly(last[0]!)) last.push(action);
    else groups.push([action]);
  }
  return groups;
}

async function runAlone(transport: Transport, action: Action, sudo: boolean, host: string, emit: (event: ApplyEvent) => void, completed: (a: Action) => void): Promise<Failure> {
  emit({ type: 'start', host, action });
  const started = performance.now();
  try {
    for (const step of action.steps) await runStep(transport, step, sudo);
  } catch (error) {
    return { action, message: (error as Error).message };
  }
  completed(action);
  emit({ type: 'done', host, action, ms: performance.now() - started });
  return undefined;
}

/** One exec for the whole group; `done` events as the host reports each action finished. */
async function runBatch(transport: Transport, actions: Action[], sudo: boolean, host: string, emit: (event: ApplyEvent) => void, completed: (a: Action) => void): Promise<Failure> {
  const nonce = randomBytes(6).toString('hex');
  let finished = 0;
  let started = performance.now();
  emit({ type: 'start', host, action: actions[0]! });
  const onStdout = markerReader(nonce, (index) => {
    if (index !== finished) return;
    completed(actions[index]!);
    emit({ type: 'done', host, action: actions[index]!, ms: performance.now() - started });
    finished++;
    started = performance.now();
    if (finished < actions.length) emit({ type: 'start', host, action: actions[finished]! });
  });
  try {
    const result = await transport.run(batchScript(actions, nonce), { sudo, scriptOnStdin: true, onStdout });
    if (finished === actions.length) return undefined;
    const { code, output } = actionOutput(nonce, finished, result.stdout, result.stderr);
    return { action: actions[finished]!, message: `exit ${code ?? result.code}: ${output || 'no output'}` };
  } catch (error) {
    return { action: actions[finished]!, message: (error as Error).message };
  }
}

async function failureReport(transport: Transport, action: Action, sudo: boolean, message: string): Promise<string> {
  let report = message;
  if (action.onFailure) {
    try {
      for (const step of action.onFailure) await runStep(transport, step, sudo);
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

async function runStep(transport: Transport, step: Step, sudo: boolean): Promise<void> {
  if ('script' in step) {
    const stdin = step.stdinBase64 === undefined ? undefined : Buffer.from(step.stdinBase64, 'base64');
    const result = await transport.run(step.script, { sudo, stdin });
    if (result.code !== 0) throw new Error(`exit ${result.code}: ${(result.stderr || result.stdout).trim() || 'no output'}`);
  } else if ('request' in step) {
    const response = await send(transport, step.request);
    if (response.status === 409 && step.onConflict) await expectSuccess(transport, step.onConflict);
    else if (response.status >= 300) throw new Error(`${step.request.method} ${step.request.url}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  } else {
    await waitForHealth(transport, step.waitForHealth.url, step.waitForHealth.timeoutSeconds);
  }
}

const send = (transport: Transport, r: HttpRequest) => transport.request(r.method, r.url, r.body);

async function expectSuccess(transport: Transport, r: HttpRequest): Promise<void> {
  const response = await send(transport, r);
  if (response.status >= 300) throw new Error(`${r.method} ${r.url}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
}

async function waitForHealth(transport: Transport, url: string, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await transport.request('GET', url);
      if (response.status >= 200 && response.status < 300) return;
      last = `HTTP ${response.status} ${JSON.stringify(response.body)}`;
    } catch (error) {
      if (!(error instanceof ServiceUnreachable)) throw error;
      last = error.message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`not healthy after ${timeoutSeconds}s: ${url} (${last})`);
}
