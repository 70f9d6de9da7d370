import type { FieldPath } from '../model/diagnostic.js';
import type { Action } from '../model/plan.js';
import type { HttpCall } from '../transport/http.js';
import type { Resource } from '../model/generated/setup.js';

/** A problem a resource module finds in its own spec, beyond what the schema can say. */
export interface SpecProblem {
  field: FieldPath;
  message: string;
}

/** A reference from one resource to another, by a token the other one `provides`. */
export interface Reference {
  field: FieldPath;
  /** e.g. "unit:prefect-server.service" */
  token: string;
  /** How to name what is missing in an error, e.g. "a systemd_service". */
  what: string;
  /**
   * The one named comes after this one, not before: a service this resource notifies is converged
   * after it (its unit may run a program this resource installs, its restart must see the change).
   */
  before?: true;
  /**
   * Only an order: when no resource provides it, nothing is wrong (a queue's pool may be made by a
   * worker, not declared); when one does, it is converged first.
   */
  ifDeclared?: true;
}

/** What converging one resource takes. */
export interface ResourcePlan {
  /** Actions in the resource's own place in the order (writes). */
  now: Action[];
  /** Actions after every resource's writes, in dependency order (starts, restarts). */
  late: Action[];
  /** Tokens of resources to notify (e.g. "unit:x.service" to restart it), because `now` changes something they use. */
  notifies: string[];
  /** Drift no action fixes (an unhealthy service): reported by plan and check. */
  problems?: string[];
  /** A service this resource is read through did not answer; the host's report names it once. */
  unreachable?: { url: string; why: string };
}

/** What a resource's plan may depend on besides its spec and facts. */
export interface PlanContext {
  /** The directory of setup.yaml, against which relative local paths (file sources) resolve. */
  specDir: string;
  /** Try again a change that was rolled back before (`--retry-failed`), instead of reporting it. */
  retryFailed?: boolean;
  /** Every resource the host's setup declares: what a kind that prunes keeps (what none declares is removed). */
  declared: readonly Resource[];
  /** Whether a text holds a value from `secrets:` (a kind with secret fields refuses a value given in clear). */
  isSecret(text: string): boolean;
}

/**
 * The contract every resource type implements. The engine and the spec loader only ever talk to
 * resource types through it, so adding a type is one module plus one line in the registry.
 * Facts are read by `probe` (folded into the host's one fact script), parsed by `parse`, and
 * compared by `plan`, which is pure and returns no actions when the resource is converged.
 */
export interface ResourceType<S extends Resource = Resource, A = unknown> {
  kind: S['kind'];
  /** The resource's name in plans and reports when the spec gives none; unique per host. */
  defaultName(spec: S): string;
  /** Tokens other resources may reference. */
  provides?(spec: S): string[];
  /**
   * Where on the host it lives, for ordering: a resource whose path lies inside a directory that
   * another one makes (`directory: true`) comes after it.
   */
  location?(spec: S): { path: string; directory?: true };
  /** Resources this one names; each must exist, and is converged first. */
  references?(spec: S): Reference[];
  /** Rules the JSON Schema cannot express (e.g. exactly one of two keys). */
  check?(spec: S, context: { specDir: string }): SpecProblem[];
  /**
   * Where a secret in this spec would be readable by other users on the host (a world-readable file,
   * a command line in the process list); the loader refuses such a spec and points at `field`.
   */
  exposure?(spec: S): SpecProblem | undefined;
  /** A POSIX sh fragment printing this resource's facts; it must change nothing. */
  probe(spec: S): string;
  /** The fragment's output as actual state. */
  parse(spec: S, output: string): A;
  /**
   * Reads what only HTTP from the host can tell (an API, a health URL); must change nothing. It runs
   * while the fact script runs, so it returns how to fold its findings into the parsed facts.
   */
  observe?(spec: S, http: HttpCall): Promise<Observation<A>>;
  /** Actions that converge the resource; none when it is converged. */
  plan(spec: S, actual: A, context: PlanContext): ResourcePlan;
  /**
   * The plan when other resources notify this one (they changed something it uses), or an
   * interrupted run still owes it a notification; `because` says who and why. Undefined when being
   * notified adds nothing (a service that is not running is started anyway). Kinds nothing can
   * notify leave it out.
   */
  onNotify?(spec: S, actual: A, because: string[], context: PlanContext): ResourcePlan | undefined;
}

/** The resource types an engine works with: the registry's, or a test's own. */
export interface ResourceTypes {
  of(kind: Resource['kind']): ResourceType;
  /** Shell functions the probes use, sent once at the head of a host's fact script. */
  prelude: string;
}

/** What HTTP found, to be folded into the facts the fact script read. */
export interface Observation<A> {
  into(actual: A): A;
}

export const unitToken = (unit: string) => `unit:${unit}`;
export const poolToken = (pool: string) => `pool:${pool}`;
/** What every variable and block of a Prefect server provides, so that deployments, which may read any of them, come after all. */
export const prefectObjectsToken = (apiBase: string) => `prefect-objects:${apiBase}`;
/**
 * What every object kept in a Prefect server's database provides (a pool, a variable, the deployments):
 * when the server moves to another database, they are compared again there.
 */
export const prefectServerDataToken = (apiBase: string) => `prefect-data:${apiBase}`;
/** What a postgres_database provides: what reads it (a backup of it) comes after it. */
export const postgresDatabaseToken = (database: string) => `postgres-database:${database}`;
/** What a postgres_role provides: a database it owns comes after it. */
export const postgresRoleToken = (role: string) => `postgres-role:${role}`;
/**
 * What a resource that reads files of a checkout at `path` (or below it) provides: the git resource of
 * that path comes first and notifies it when it moves the checkout.
 */
export const checkoutReaderToken = (path: string) => `checkout-reader:${path}`;

/** `after` lists name services that must be converged (and healthy) first. */
export function afterReferences(after: string[] | undefined): Reference[] {
  return (after ?? []).map((unit, i) => ({ field: ['after', i], token: unitToken(unit), what: 'a systemd_service' }));
}

/** `notifies` lists name services to restart after this resource changes; they are converged after it. */
export function notifyReferences(notifies: string[] | undefined): Reference[] {
  return (notifies ?? []).map((unit, i) => ({ field: ['notifies', i], token: unitToken(unit), what: 'a systemd_service', before: true }));
}

export const noChanges = (): ResourcePlan => ({ now: [], late: [], notifies: [] });

/**
 * For a resource read through a service that does not answer (a server not started yet): nothing is
 * guessed. Apply reads it again once the actions before it (the server's start) are done, and acts
 * only on what then differs.
 */
export function compareWhenUp(resource: string, title: string, unreachable: { url: string; why: string }): ResourcePlan {
  return {
    now: [],
    notifies: [],
    problems: [],
    unreachable,
    late: [compareAgain(resource, title, `${unreachable.url} does not answer: compared once it is up, and only what differs is changed`)],
  };
}

/** An action that reads the resource again when apply reaches it, and does only what then differs. */
export function compareAgain(resource: string, title: string, because: string): Action {
  return { id: `compare ${resource}`, resource, verb: 'update', title, fields: [], because, steps: [{ replan: { resource } }] };
}
