/**
 * The plan as plain, JSON-serialisable data: what --dry-run prints, what `apply plan.json` executes
 * and what a run record stores. Nothing here does anything.
 */

/** A difference between desired and actual, for people: `mode 0644 -> 0600`. */
export interface FieldChange {
  field: string;
  before: string | null;
  after: string | null;
}

/** A field's change as plans print it: `mode: 0644 -> 0600`. */
export const fieldChange = (f: FieldChange): string => `${f.field}: ${f.before ?? '(none)'} -> ${f.after ?? '(none)'}`;

/** A content difference, shown as a unified diff when both sides are text. */
export interface ContentChange {
  path: string;
  /** null: the file does not exist yet. */
  before: string | null;
  after: string;
  /** Set when either side is not UTF-8 text; the diff then says so instead of printing bytes. */
  binary?: boolean;
}

export type Verb = 'create' | 'update' | 'remove' | 'start' | 'stop' | 'restart' | 'reload' | 'enable' | 'disable';

/** One shell script run on the host (as root when the host has become: true). */
export interface ScriptStep {
  script: string;
  /** Bytes for the script's stdin, base64 (file contents travel here, never in the script). */
  stdinBase64?: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
}

/** An HTTP call made from the host (an API such as Prefect's); `onConflict` is sent instead on 409. */
export interface RequestStep {
  request: HttpRequest;
  onConflict?: HttpRequest;
  /** A removal for which 404 is done too: another run (another host's) removed it first. */
  absentOk?: true;
}

/** Waits until a URL answers 2xx from the host, or fails after the timeout. */
export interface WaitStep {
  waitForHealth: {
    url: string;
    timeoutSeconds: number;
    /** A script asked about once a second while waiting: exiting non-zero (saying why) fails the gate at once. */
    failFast?: string;
    /**
     * Healthy only once a record the restarted program writes is new: the URL is POSTed (an empty
     * filter) and answers a list, whose item with `key` = `value` must carry a `stamp` other than the
     * one it had at the gate's first answer (a worker's heartbeat, which only reaches its server).
     */
    newRecord?: { key: string; value: string; stamp: string };
  };
}

/**
 * Waits until a list the host reads is empty (the flow runs still running in a pool being drained),
 * saying how many are left; after the timeout it fails, naming them (by their `name`).
 */
export interface WaitUntilEmptyStep {
  waitUntilEmpty: { url: string; body: unknown; timeoutSeconds: number; what: string };
}

/**
 * Reads a resource's facts again and runs the actions its plan then asks for: for what cannot be
 * compared when the plan is made (a server that is down until an earlier action starts it).
 */
export interface ReplanStep {
  replan: { resource: string };
}

export type Step = ScriptStep | RequestStep | WaitStep | WaitUntilEmptyStep | ReplanStep;

/**
 * A checkpoint taken by the action that carries it (a venv's snapshot before an upgrade): until the
 * host's run ends well, a failure of this action or of any after it puts the checkpoint back.
 */
export interface Transaction {
  /** For plans and reports: what a failure after this point undoes. */
  undo: string;
  /** Puts the checkpoint back and starts again what runs from it; idempotent, and a no-op when nothing was taken. */
  rollback: Step[];
  /** Tokens of the services the rollback restarts: the planner adds their health gates after it. */
  restarts: string[];
  /**
   * Ends the transaction once every action of the run succeeded; the planner runs it last. With
   * `atRunEnd`, only once every host of the run is done, however they ended (what this host notifies
   * on other hosts restarts while it holds).
   */
  commit: { title: string; steps: Step[]; atRunEnd?: true };
}

export interface Action {
  /** Unique within a host's plan, e.g. "file:/etc/motd" or "restart prefect-worker.service". */
  id: string;
  /** The resource this action converges (or the host, for daemon-reload). */
  resource: string;
  verb: Verb;
  /** What the action does, for progress lines: "write /etc/systemd/system/x.service". */
  title: string;
  fields: FieldChange[];
  content?: ContentChange;
  /** Why a consequential action happens: "unit file changed". */
  because?: string;
  steps: Step[];
  /** Run when a step fails, before the failure is reported (e.g. put the previous unit file back). */
  onFailure?: Step[];
  /** A script whose output is added to a failure report (e.g. the unit's last journal lines). */
  diagnose?: string;
  transaction?: Transaction;
  /**
   * Only prepares (downloads, checks) and changes nothing a service uses: notifications are written
   * down after it, so that its failure owes no restart.
   */
  prepares?: true;
}

export interface HostPlan {
  host: string;
  address: string;
  /** sha256 over the facts the plan was computed from; apply refuses a saved plan when it moved. */
  factsDigest: string;
  /** The host's boot id when the facts were read, so a refused saved plan can say the host rebooted. */
  bootId: string;
  actions: Action[];
  /** Drift that no action fixes, found by reading (an unhealthy service, a worker without heartbeat). */
  problems: string[];
  /**
   * What could not be compared because a service did not answer (a server not started yet): not a
   * difference, a note. Apply compares it once the service is up (a ReplanStep).
   */
  deferred: string[];
  /** Commits kept for the end of the run: each is due when the action `after` was done and the host did not fail. */
  atRunEnd?: { after: string; title: string; steps: Step[] }[];
  /** Services on other hosts this plan's changes restart (`notifies: [HOST:UNIT]`), with why. */
  notifiesElsewhere?: { host: string; token: string; because: string }[];
}

/**
 * Whether an action only compares again later: it changes nothing by itself and names no difference.
 * (One that names a difference and then reads again, to see that it is gone, is a change.)
 */
export const comparesLater = (action: Action): boolean =>
  action.fields.length === 0 && action.steps.length > 0 && action.steps.every((step) => 'replan' in step);

export const symbols: Record<Verb, string> = {
  create: '+',
  update: '~',
  remove: '-',
  start: '↻',
  stop: '↻',
  restart: '↻',
  reload: '↻',
  enable: '~',
  disable: '~',
};
