import type { Transport } from '../transport/transport.js';
import type { Action, HostPlan } from './model.js';

export type ApplyEvent =
  | { type: 'start'; host: string; action: Action }
  | { type: 'done'; host: string; action: Action; ms: number }
  | { type: 'failed'; host: string; action: Action; error: string };

export interface ApplyResult {
  /** Ids of the actions that completed, in order. */
  done: string[];
  failed?: { action: string; error: string };
}

/**
 * Runs a host's actions in order; the first failure stops this host (other hosts go on) and is
 * reported with the action and what the host said. Each step's script is the whole truth of what
 * runs: nothing else is sent.
 */
export async function applyHost(transport: Transport, plan: HostPlan, sudo: boolean, emit: (event: ApplyEvent) => void): Promise<ApplyResult> {
  const done: string[] = [];
  for (const action of plan.actions) {
    emit({ type: 'start', host: plan.host, action });
    const started = performance.now();
    try {
      for (const step of action.steps) {
        const stdin = step.stdinBase64 === undefined ? undefined : Buffer.from(step.stdinBase64, 'base64');
        const result = await transport.run(step.script, { sudo, stdin });
        if (result.code !== 0) throw new Error(`exit ${result.code}: ${(result.stderr || result.stdout).trim() || 'no output'}`);
      }
    } catch (error) {
      const message = (error as Error).message;
      emit({ type: 'failed', host: plan.host, action, error: message });
      return { done, failed: { action: action.id, error: message } };
    }
    done.push(action.id);
    emit({ type: 'done', host: plan.host, action, ms: performance.now() - started });
  }
  return { done };
}
