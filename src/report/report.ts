import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Diagnostic } from '../model/diagnostic.js';
import type { Action, FieldChange } from '../model/plan.js';
import type { RollbackOutcome } from '../engine/apply.js';
import type { HostOutcome, Mode } from '../engine/run.js';
import type { HostSpec, Spec } from '../model/spec.js';
import { SIGNAL_EXIT_CODES, type SignalExitCode, type StopSignal } from '../model/signals.js';
import { unifiedDiff } from './diff.js';

/**
 * The machine-readable report of a run: what --json prints, what a run record stores and what
 * --on-drift receives. Its shape is documented by schemas/report.schema.json; keep them together.
 * It carries diffs as text, never the bytes or scripts a plan would send to a host.
 */
export interface Report {
  reconcileReport: 1;
  id: string;
  command: Mode;
  result: 'in-sync' | 'drift' | 'changed' | 'error' | 'interrupted';
  exitCode: 0 | 1 | 2 | SignalExitCode;
  /** The signal that stopped the run at its next safe point. */
  interrupted?: StopSignal;
  startedAt: string;
  durationMs: number;
  who: string;
  toolVersion: string;
  specHash: string;
  inventory: string;
  setup: string;
  hosts: HostReport[];
  /** The run reached no host: the spec files could not be used. */
  specProblems?: Diagnostic[];
  /** The run reached no host for another reason (a --limit that names no host, an unusable saved plan). */
  error?: string;
}

export interface HostReport {
  host: string;
  address: string;
  status: 'in-sync' | 'drift' | 'changed' | 'failed' | 'skipped';
  /** The inventory groups the host is in (records written before groups existed read back with none). */
  groups: string[];
  /** Resources of other hosts it comes after (HOST:UNIT): apply starts it once those hosts are done. */
  waitsFor?: string[];
  error?: string;
  actions: ActionReport[];
  /** Ids of the actions apply completed. */
  done?: string[];
  /** Transactions undone after a failure. */
  rolledBack?: RollbackOutcome[];
  problems: string[];
  /** Not compared: a service did not answer (apply compares once it is up); notes, not differences. */
  deferred?: string[];
  /** apply: what still differed when the host was read again after its actions. */
  remaining?: ActionReport[];
  /** apply: stopped by an interrupt. */
  interrupted?: boolean;
  execs: number;
  durationMs: number;
}

export interface ActionReport {
  id: string;
  resource: string;
  verb: Action['verb'];
  title: string;
  because?: string;
  fields: FieldChange[];
  diff?: string;
}

const STATUS: Record<HostOutcome['status'], HostReport['status']> = {
  converged: 'in-sync',
  changes: 'drift',
  applied: 'changed',
  failed: 'failed',
  skipped: 'skipped',
};

/**
 * Exit codes come from outcomes: apply exits 0 only when every host is converged at the end of the
 * run (a host left with differences or problems failed); plan and check exit 2 on any difference.
 */
export function buildReport(
  command: Mode,
  spec: Spec,
  outcomes: HostOutcome[],
  started: Date,
  toolVersion: string,
  interrupted?: StopSignal,
): Report {
  const hosts = outcomes.map((o) =>
    hostReport(
      o,
      spec.hosts.find((h) => h.target.name === o.host),
    ),
  );
  const failed = hosts.some((h) => h.status === 'failed' || h.status === 'skipped');
  const drift = hosts.some((h) => h.status === 'drift');
  const changed = hosts.some((h) => h.status === 'changed');
  const result = interrupted ? 'interrupted' : failed ? 'error' : drift ? 'drift' : changed ? 'changed' : 'in-sync';
  return {
    ...runIdentity(started, toolVersion),
    command,
    result,
    ...(interrupted ? { interrupted } : {}),
    exitCode: interrupted ? SIGNAL_EXIT_CODES[interrupted] : failed || (drift && command === 'apply') ? 1 : drift ? 2 : 0,
    specHash: spec.specHash,
    inventory: resolve(spec.inventoryFile),
    setup: resolve(spec.setupFile),
    hosts,
  };
}

/**
 * The report of a run that stopped before any host (a spec that cannot be used, a usage error), so
 * that a script reading --json gets a document in the same schema, never an empty stdout.
 */
export function stoppedBeforeHosts(
  command: Mode,
  files: { inventory: string; setup: string },
  started: Date,
  toolVersion: string,
  why: { specProblems: Diagnostic[] } | { error: string },
): Report {
  const text = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    ...runIdentity(started, toolVersion),
    command,
    result: 'error',
    exitCode: 1,
    specHash: createHash('sha256').update(text(files.inventory)).update('\0').update(text(files.setup)).update('\0').digest('hex'),
    inventory: resolve(files.inventory),
    setup: resolve(files.setup),
    hosts: [],
    ...why,
  };
}

/** The fields that name a run: its id, when it started and how long it took, who ran which version. */
function runIdentity(started: Date, toolVersion: string) {
  return {
    reconcileReport: 1 as const,
    id: `${started
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`,
    startedAt: started.toISOString(),
    durationMs: Math.round(Date.now() - started.getTime()),
    who: `${userInfo().username}@${hostname()}`,
    toolVersion,
  };
}

function hostReport(o: HostOutcome, spec: HostSpec | undefined): HostReport {
  return {
    host: o.host,
    address: o.address,
    status: STATUS[o.status],
    groups: spec?.groups ?? [],
    ...(o.after.length > 0 ? { waitsFor: o.after } : {}),
    ...(o.error ? { error: o.error } : {}),
    actions: (o.plan?.actions ?? []).map(actionReport),
    ...(o.apply ? { done: o.apply.done } : {}),
    ...(o.apply?.rolledBack ? { rolledBack: o.apply.rolledBack } : {}),
    problems: (o.final ?? o.plan)?.problems ?? [],
    ...((o.final ?? o.plan)?.deferred.length ? { deferred: (o.final ?? o.plan)!.deferred } : {}),
    ...(o.final && o.final !== o.plan && o.final.actions.length > 0 ? { remaining: o.final.actions.map(actionReport) } : {}),
    ...(o.apply?.interrupted ? { interrupted: true } : {}),
    execs: o.execs,
    durationMs: Math.round(o.ms),
  };
}

function actionReport(a: Action): ActionReport {
  const diff =
    a.content && !a.content.binary
      ? unifiedDiff(a.content).join('\n')
      : a.content
        ? `binary: ${a.content.before ?? '(none)'} -> ${a.content.after}`
        : undefined;
  return {
    id: a.id,
    resource: a.resource,
    verb: a.verb,
    title: a.title,
    ...(a.because ? { because: a.because } : {}),
    fields: a.fields,
    ...(diff ? { diff } : {}),
  };
}
