import { Listr } from 'listr2';
import type { ApplyEvent } from '../engine/apply.js';
import { symbols, type Action } from '../model/plan.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ([resolve, reject] = [res, rej]));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * The only place that knows listr2: apply's events become a live task list, one group per host and
 * one line per action. Resource modules and the engine never see it.
 */
export function liveProgress(hosts: string[]): { emit: (event: ApplyEvent) => void; finished: Promise<unknown> } {
  const planned = new Map(hosts.map((h) => [h, deferred<Action[] | { status: string; error?: string }>()]));
  const actions = new Map<string, Deferred<void>>();
  const key = (host: string, id: string) => `${host}\u0000${id}`;
  /** Adds to a running action's line: how long its health gate has waited, then how long it took. */
  const titles = new Map<string, (suffix: string) => void>();
  /** A host's line while it waits before its actions (another run's lock). */
  const hostTitles = new Map<string, (detail: string) => void>();
  const hostDetails = new Map<string, string>();

  const list = new Listr(
    hosts.map((host) => ({
      title: host,
      task: async (_ctx: unknown, task: { title: string; newListr: (...args: never[]) => unknown }) => {
        hostTitles.set(host, (detail) => (task.title = `${host}: ${detail}`));
        // Said before listr2 started this task (connecting comes first): shown now.
        const said = hostDetails.get(host);
        if (said) task.title = `${host}: ${said}`;
        const plan = await planned.get(host)!.promise;
        if (!Array.isArray(plan)) {
          task.title = `${host}: ${plan.status === 'converged' ? 'no changes' : (plan.error ?? plan.status)}`;
          // listr2 shows a failed task's error in place of its title: the error carries the host's name.
          if (plan.status === 'failed') throw new Error(task.title);
          return undefined;
        }
        task.title = host;
        return (task.newListr as (tasks: unknown[], options: unknown) => unknown)(
          plan.map((action) => ({
            title: `${symbols[action.verb]} ${action.title}`,
            task: (_c: unknown, actionTask: { title: string }) => {
              const title = `${symbols[action.verb]} ${action.title}`;
              titles.set(key(host, action.id), (suffix) => (actionTask.title = `${title}${suffix}`));
              return actions.get(key(host, action.id))!.promise;
            },
          })),
          { concurrent: false, exitOnError: true },
        );
      },
    })),
    // Signals are reconcile's to handle (see cli/interrupt.ts): listr2's own handler exits 127 at once.
    { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false } },
  );

  const emit = (event: ApplyEvent) => {
    if (event.type === 'planned') {
      for (const a of event.actions) actions.set(key(event.host, a.id), deferred<undefined>());
      planned.get(event.host)?.resolve(event.actions);
    } else if (event.type === 'finished') {
      planned.get(event.host)?.resolve({ status: event.status, error: event.error });
    } else if (event.type === 'host-waiting' || event.type === 'phase') {
      hostDetails.set(event.host, event.detail);
      hostTitles.get(event.host)?.(event.detail);
    } else if (event.type === 'waiting') {
      titles.get(key(event.host, event.action.id))?.(`: ${event.detail}`);
    } else if (event.type === 'done') {
      const id = key(event.host, event.action.id);
      titles.get(id)?.(` (${(event.ms / 1000).toFixed(1)}s)`);
      actions.get(id)?.resolve(undefined);
    } else if (event.type === 'failed') {
      // Shown in place of the action's title: it names the action too.
      actions
        .get(key(event.host, event.action.id))
        ?.reject(new Error(`${symbols[event.action.verb]} ${event.action.title}: ${event.error}`));
    }
  };
  return { emit, finished: list.run().catch(() => undefined) };
}
