import type { HostTarget } from '../model/target.js';
import type { HostResource, HostSpec } from '../model/spec.js';
import { LocalTransport } from '../transport/local.js';
import { SharedConnections, SshTransport, type SshOptions } from '../transport/ssh.js';
import type { Transport } from '../transport/transport.js';
import { applyHost, commitAtRunEnd, type ApplyEvent, type ApplyResult, type Replan } from './apply.js';
import { gather, type HostFacts } from './gather.js';
import { holdExclusiveLock, lockOwner, lockPreamble } from './lock.js';
import { trace } from '../model/trace.js';
import { comparesLater, fieldChange, type HostPlan } from '../model/plan.js';
import { planHost } from './plan.js';
import type { ResourceTypes } from '../resources/types.js';

export type Mode = 'plan' | 'apply' | 'check';

export interface HostOutcome {
  host: string;
  address: string;
  /**
   * converged: nothing to do; changes: plan/check found differences; applied: apply changed it;
   * failed: see error; skipped: apply did not start it, because a host it waits for failed (error says which).
   */
  status: 'converged' | 'changes' | 'applied' | 'failed' | 'skipped';
  plan?: HostPlan;
  apply?: ApplyResult;
  error?: string;
  /**
   * apply: the host as read again once its actions were done. Its status, problems and exit code come
   * from this, not from the plan: what is printed is what is true at the end of the run.
   */
  final?: HostPlan;
  /** Resources of other hosts (HOST:UNIT) this host comes after: apply starts it once those hosts are done. */
  after: string[];
  /** Remote scripts run for this host (round trips). */
  execs: number;
  ms: number;
  /** plan and check: the facts the plan came from, to plan again with other hosts' notifications. */
  facts?: HostFacts;
  /** apply: done, with commits kept for the end of the run (see HostPlan.atRunEnd); read again after them. */
  heldUntilRunEnd?: true;
}

export interface RunOptions {
  mode: Mode;
  concurrency: number;
  specDir: string;
  acceptNewHostKeys?: boolean;
  /** Asks an encrypted identity file's passphrase (on a terminal only). */
  askPassphrase?: (file: string) => Promise<string>;
  /** Seconds to wait for another run's lock on a host before giving up on it. */
  lockTimeoutSeconds: number;
  /** A saved plan to apply instead of a fresh one: refused when the host moved since. */
  savedPlans?: Map<string, HostPlan>;
  /** Masks secrets in a copy of plain data; saved plans hold masked actions, compared masked. */
  mask?: <T>(value: T) => T;
  emit?: (event: ApplyEvent) => void;
  /** Plan again an upgrade whose target was rolled back before. */
  retryFailed?: boolean;
  /** The resource types to work with (the engine names none itself). */
  types: ResourceTypes;
  /** Aborted by an interrupt: apply stops at the next safe point, and hosts not started are not started. */
  signal?: AbortSignal;
  /** Hosts other hosts of this run come after (worked out by reconcileHosts). */
  waitedFor?: Set<string>;
}

/** A host's own run: the options, and what other hosts' changes in this run notify on it. */
type HostRunOptions = RunOptions & { shared: SharedConnections; elsewhere?: Map<string, string[]> };

const same = <T>(value: T): T => value;

export async function connect(target: HostTarget, options: SshOptions = {}): Promise<Transport> {
  return target.connection === 'local' ? new LocalTransport(target.name) : SshTransport.connect(target, options);
}

/**
 * Works on each host, a few at a time; one host's failure never stops another's. In apply, a host
 * whose resources come after another host's (`after: [HOST:UNIT]`) starts once that host is done,
 * and is skipped, saying why, when that host failed; hosts that wait for nothing go on in parallel.
 */
export async function reconcileHosts(hosts: HostSpec[], options: RunOptions): Promise<HostOutcome[]> {
  // One connection to each jump host serves every host behind it.
  const shared = new SharedConnections();
  const slot = slots(options.concurrency);
  const waits = (host: HostSpec) => [...waitsOf(host), ...noticesTo(host, hosts)];
  const waitedFor = new Set(hosts.flatMap((h) => waits(h).map((w) => w.host)));
  const runs = new Map<string, Promise<HostOutcome>>();
  const outcomeOf = (host: HostSpec): Promise<HostOutcome> => {
    if (!runs.has(host.target.name)) {
      runs.set(
        host.target.name,
        (async () => {
          // In apply, what the hosts before it did is known before this one is planned.
          const blocked = options.mode === 'apply' ? await blockingWait(host) : undefined;
          const elsewhere = options.mode === 'apply' ? await notifiedBy(host) : undefined;
          const result = blocked ?? (await slot(() => reconcileHost(host, { ...options, shared, waitedFor, elsewhere })));
          options.emit?.({ type: 'finished', host: result.host, status: result.status, error: result.error });
          return result;
        })(),
      );
    }
    return runs.get(host.target.name)!;
  };
  /** What the hosts notifying this one changed in this run, as notifications by token. */
  const notifiedBy = async (host: HostSpec): Promise<Map<string, string[]>> => {
    const found = new Map<string, string[]>();
    for (const notifier of new Set(noticesTo(host, hosts).map((n) => n.host))) {
      const done = await outcomeOf(hosts.find((h) => h.target.name === notifier)!);
      const fired = done.status === 'changes' || done.status === 'applied' ? (done.plan?.notifiesElsewhere ?? []) : [];
      for (const n of fired.filter((f) => f.host === host.target.name)) found.set(n.token, [...(found.get(n.token) ?? []), n.because]);
    }
    return found;
  };
  /** The first host this one waits for that did not converge, as this host's outcome. */
  const blockingWait = async (host: HostSpec): Promise<HostOutcome | undefined> => {
    for (const wait of waits(host)) {
      const other = hosts.find((h) => h.target.name === wait.host);
      // A host left out of this run (--limit) is not waited for: it is as it is.
      const done = other && (await outcomeOf(other));
      if (done && (done.status === 'failed' || done.status === 'skipped')) {
        const why = `skipped: waits for ${wait.label}, ${done.status === 'failed' ? 'which failed' : `whose host was ${done.error}`}`;
        return {
          host: host.target.name,
          address: host.target.address,
          status: 'skipped',
          error: why,
          after: afterLabels(host),
          execs: 0,
          ms: 0,
        };
      }
    }
    return undefined;
  };
  try {
    let outcomes = await Promise.all(hosts.map(outcomeOf));
    // plan and check read every host at once: a host another one notifies is planned again, from the
    // facts it read, with what that host's plan changes.
    if (options.mode !== 'apply') {
      outcomes = await Promise.all(outcomes.map(async (o, i) => withNotifications(hosts[i]!, o, await notifiedBy(hosts[i]!), options)));
    }
    return options.mode === 'apply'
      ? await Promise.all(
          outcomes.map((o, i) =>
            o.heldUntilRunEnd || settledAtTheEnd(o) ? readAgain(hosts[i]!, o, { ...options, shared }) : Promise.resolve(o),
          ),
        )
      : outcomes;
  } finally {
    await shared.close();
  }
}

/**
 * Whether a host's outcome is settled at the end of the run: it did all it had to, yet reports
 * problems, and other hosts came after it; those may be theirs to settle (a pool's worker heartbeat
 * comes from the worker hosts). Until then it does not hold them back.
 */
const settledAtTheEnd = (o: HostOutcome) => (o.status === 'applied' || o.status === 'converged') && (o.final?.problems.length ?? 0) > 0;

/**
 * The host read once more at the end of the run, after the commits it kept for then (a drained pool's
 * resume); its outcome is what that read finds.
 */
async function readAgain(host: HostSpec, o: HostOutcome, options: RunOptions & { shared: SharedConnections }): Promise<HostOutcome> {
  let transport: Transport | undefined;
  try {
    transport = await connect(host.target, options);
    const uncommitted = o.plan && o.apply ? await commitAtRunEnd(transport, o.plan, host.target.become, o.apply.done) : undefined;
    if (uncommitted)
      return { ...o, status: 'failed', error: `at the end of the run: ${uncommitted}`, execs: o.execs + transport.execCount };
    const lock = {
      preamble: lockPreamble('shared', options.lockTimeoutSeconds, lockOwner('apply')),
      timeoutSeconds: options.lockTimeoutSeconds,
    };
    const final = planHost(
      host,
      await gather(transport, host.resources, { sudo: host.target.become, types: options.types, lock }),
      options,
    );
    const left = notConverged(final);
    return { ...o, final, status: left ? 'failed' : o.status, error: left, execs: o.execs + transport.execCount };
  } catch (error) {
    return {
      ...o,
      status: 'failed',
      error: `read again at the end of the run: ${(error as Error).message.replace(`${host.target.name}: `, '')}`,
    };
  } finally {
    await transport?.close();
  }
}

const waitsOf = (host: HostSpec) => host.resources.flatMap((r) => r.waitsFor ?? []);
const afterLabels = (host: HostSpec) => [...new Set(waitsOf(host).map((w) => w.label))];

/**
 * What other hosts' resources notify on this one (`notifies: [HOST:UNIT]`), as waits on those hosts:
 * a restart they cause must follow their change.
 */
function noticesTo(host: HostSpec, hosts: HostSpec[]): HostResource[] {
  return hosts.flatMap((other) =>
    other.resources.flatMap((r) =>
      (r.notifiesElsewhere ?? [])
        .filter((n) => n.host === host.target.name)
        .map((n) => ({
          ...n,
          host: other.target.name,
          label: `${other.target.name}:${r.name} (it notifies ${n.token.replace(/^[a-z]+:/, '')})`,
        })),
    ),
  );
}

/** A plan or check outcome planned again from its facts, when other hosts' plans notify it. */
function withNotifications(host: HostSpec, o: HostOutcome, elsewhere: Map<string, string[]>, options: RunOptions): HostOutcome {
  if (elsewhere.size === 0 || !o.facts) return o;
  const plan = planHost(host, o.facts, { ...options, elsewhere });
  return { ...o, plan, status: plan.actions.length === 0 && plan.problems.length === 0 ? 'converged' : 'changes' };
}

/** -v: each phase of a host as it ends, with the time since the one before. */
function phaseTimer(host: string): (what: string) => void {
  let last = performance.now();
  return (what) => {
    trace(1, host, `${what} in ${Math.round(performance.now() - last)} ms`);
    last = performance.now();
  };
}

/** While apply waits for another run's lock on a host: who holds it and for how long it has waited, every second. */
function lockWaitNotices(host: string, options: RunOptions): { waiting: (holders: string) => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    waiting: (holders) => {
      const started = Date.now();
      const say = () =>
        options.emit?.({
          type: 'host-waiting',
          host,
          detail: `waiting for the run lock, held by ${holders} (${Math.round((Date.now() - started) / 1000)}/${options.lockTimeoutSeconds} s)`,
        });
      say();
      timer = setInterval(say, 1000);
    },
    stop: () => clearInterval(timer),
  };
}

/** Runs at most `count` of the given tasks at once. */
function slots(count: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (running >= count) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

/** Reads one resource again and plans it alone; a service that still does not answer fails the step. */
function replanner(host: HostSpec, transport: Transport, sudo: boolean, options: RunOptions): Replan {
  return async (name) => {
    const resource = host.resources.find((r) => r.name === name);
    if (!resource) throw new Error(`no resource ${name} on ${host.target.name}`);
    const fresh = planHost({ ...host, resources: [resource] }, await gather(transport, [resource], { sudo, types: options.types }), {
      ...options,
      declared: host.resources.map((r) => r.spec),
    });
    if (fresh.actions.some(comparesLater)) throw new Error(fresh.deferred.join('; '));
    // What asks to be read again once more did not come about (a server still on its old database).
    const still = fresh.actions.find((a) => a.steps.some((step) => 'replan' in step));
    if (still) throw new Error(`${still.title} still differs when read again: ${still.fields.map(fieldChange).join(', ')}`);
    return fresh.actions;
  };
}

/** What still differs at the end of an apply, for the one line that says the host is not converged. */
function notConverged(final: HostPlan): string | undefined {
  const left = [...final.actions.map((a) => `${a.title}${a.because ? ` (${a.because})` : ''}`), ...final.problems];
  if (left.length === 0) return undefined;
  return `not converged: ${left.length} difference${left.length === 1 ? '' : 's'} left after apply: ${left.join('; ')}`;
}

async function reconcileHost(host: HostSpec, options: HostRunOptions): Promise<HostOutcome> {
  const started = performance.now();
  // Other hosts' notifications are acted on by this run's plan; read again later, the host owes them nothing.
  const settled: HostRunOptions = { ...options, elsewhere: undefined };
  const outcome = (fields: Partial<HostOutcome>, transport?: Transport): HostOutcome => ({
    host: host.target.name,
    address: host.target.address,
    status: 'failed',
    after: afterLabels(host),
    execs: transport?.execCount ?? 0,
    ms: performance.now() - started,
    ...fields,
  });
  let transport: Transport | undefined;
  let release: (() => Promise<void>) | undefined;
  if (options.signal?.aborted)
    return outcome({ status: 'skipped', error: 'not started: the run was interrupted first (nothing was done)' });
  try {
    const phase = phaseTimer(host.target.name);
    options.emit?.({ type: 'phase', host: host.target.name, detail: `connecting to ${host.target.address}` });
    transport = await connect(host.target, options);
    phase('connected');
    const sudo = host.target.become;
    const owner = lockOwner(options.mode);
    // Reading runs share the lock inside their one fact script; apply holds it alone for the whole run.
    if (options.mode === 'apply') {
      const notices = lockWaitNotices(host.target.name, options);
      release = await holdExclusiveLock(transport, sudo, options.lockTimeoutSeconds, owner, options.signal, notices.waiting).finally(
        notices.stop,
      );
    }
    const lock =
      options.mode === 'apply'
        ? undefined
        : { preamble: lockPreamble('shared', options.lockTimeoutSeconds, owner), timeoutSeconds: options.lockTimeoutSeconds };
    options.emit?.({ type: 'phase', host: host.target.name, detail: 'reading facts' });
    const facts = await gather(transport, host.resources, { sudo, types: options.types, lock });
    phase(`facts read (${host.resources.length} resources, one exec)`);
    const plan = planHost(host, facts, options);
    phase(`planned: ${plan.actions.length} actions, ${plan.problems.length} problems`);
    const saved = options.savedPlans?.get(host.target.name);
    if (saved && saved.factsDigest !== plan.factsDigest) {
      const why = saved.bootId !== plan.bootId ? 'the host rebooted since it was made' : 'the host changed since it was made';
      return outcome({ plan, error: `the saved plan is stale: ${why} (nothing was applied); make a new plan` }, transport);
    }
    // A saved plan holds no secret values, so what runs is the fresh plan, once it is shown to be the same.
    if (saved && JSON.stringify((options.mask ?? same)(plan.actions)) !== JSON.stringify(saved.actions)) {
      return outcome(
        {
          plan,
          error:
            'the saved plan differs from what the spec asks for now (a secret or a local source file changed); nothing was applied; make a new plan',
        },
        transport,
      );
    }
    if (options.mode !== 'apply') {
      const clean = plan.actions.length === 0 && plan.problems.length === 0;
      return outcome({ plan, facts, status: clean ? 'converged' : 'changes' }, transport);
    }
    // What is left after apply is the outcome; problems alone on a host others come after wait for the end of the run.
    const settle = (final: HostPlan, apply?: ApplyResult) => {
      const left = notConverged(final);
      if (left && (final.actions.length > 0 || !options.waitedFor?.has(host.target.name)))
        return outcome({ plan, apply, final, error: left }, transport);
      return outcome({ plan, apply, final, status: apply ? 'applied' : 'converged' }, transport);
    };
    if (plan.actions.length === 0) return settle(plan);
    const result = await applyHost(
      transport,
      plan,
      sudo,
      options.emit ?? (() => {}),
      replanner(host, transport, sudo, settled),
      options.signal,
    );
    phase(`applied: ${result.done.length} of ${plan.actions.length} actions done`);
    if (result.failed) return outcome({ plan, apply: result, error: `${result.failed.action}: ${result.failed.error}` }, transport);
    // What it holds until the other hosts are done (a paused pool) is let go, and the host read, then.
    if (plan.atRunEnd?.some((c) => result.done.includes(c.after)))
      return outcome({ plan, apply: result, status: 'applied', heldUntilRunEnd: true }, transport);
    // Read again: apply's outcome is the host as it is now, not the plan's prediction.
    return settle(planHost(host, await gather(transport, host.resources, { sudo, types: options.types }), settled), result);
  } catch (error) {
    return outcome({ error: (error as Error).message.replace(`${host.target.name}: `, '') }, transport);
  } finally {
    await release?.().catch(() => {});
    await transport?.close();
  }
}
