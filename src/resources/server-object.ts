import type { Action, FieldChange, HttpRequest } from '../model/plan.js';
import { ServiceUnreachable, unexpectedAnswer, type HttpCall } from '../transport/http.js';
import type { Resource } from '../model/generated/setup.js';
import { compareAgain, compareWhenUp, noChanges, type Observation, type PlanContext, type ResourcePlan } from './types.js';

/** A spec's `api_url` without its trailing slash: the base every API path is appended to. */
export const apiBase = (spec: { api_url: string }) => spec.api_url.replace(/\/$/, '');

/**
 * The plan of an object kept on a Prefect server when it is notified: what it was compared with may
 * not be what apply finds there (the server moves to another database; the checkout its spec is read
 * from moves). It is read again when apply reaches it, and what then differs is `written`.
 */
export function comparedAgainOnServer(resource: string, title: string, because: string[], written = 'written'): ResourcePlan {
  const why = `${because.join('; ')}: compared again when apply reaches it, and what then differs is ${written}`;
  return { now: [], notifies: [], late: [compareAgain(resource, title, why)] };
}

/** One object read from a server's API: what was found (nothing on a 404), or that the server did not answer. */
export type ServerRead<T> = { unreachable: string } | { found?: T };

/**
 * GET of one object by its URL, for kinds kept through an API (a work pool, a variable). A server
 * that does not answer yet (a fresh host) is a fact to plan with, not an error; any other answer
 * than 200 or 404 is.
 */
export async function readServerObject<T>(http: HttpCall, url: string): Promise<ServerRead<T>> {
  let response;
  try {
    response = await http('GET', url);
  } catch (error) {
    if (error instanceof ServiceUnreachable) return { unreachable: error.message };
    throw error;
  }
  if (response.status === 404) return {};
  if (response.status !== 200) throw unexpectedAnswer('GET', url, response);
  return { found: response.body as T };
}

/** Every page of a Prefect filter endpoint (the server answers at most 200 at a time). */
export async function readAll(http: HttpCall, url: string, filter: object = {}): Promise<unknown[]> {
  const all: unknown[] = [];
  for (let offset = 0; ; offset += 200) {
    const response = await http('POST', url, { ...filter, limit: 200, offset });
    if (response.status !== 200) throw unexpectedAnswer('POST', url, response);
    const page = response.body as unknown[];
    all.push(...page);
    if (page.length < 200) return all;
  }
}

/** An object of the kind on the server, as pruning sees it: the name a spec would give it, and its URL. */
export interface ListedObject {
  key: string;
  url: string;
}

/** What a kind kept as one server object knows of it: the stored object (none: not there), or that the server did not answer. */
export interface ServerObjectFacts<T> {
  server?: { found?: T };
  unreachable?: string;
  /** Every object of the kind in the spec's scope (its server, its pool), read only when the spec prunes. */
  listed?: ListedObject[];
}

/** `observe` of such a kind: the object at `url`, read from the host, and with `list` every object of its kind. */
export async function observeServerObject<T>(
  http: HttpCall,
  url: string,
  list?: () => Promise<ListedObject[]>,
): Promise<Observation<ServerObjectFacts<T>>> {
  const [read, listed] = await Promise.all([readServerObject<T>(http, url), list?.().catch(unlessUnreachable)]);
  const facts: ServerObjectFacts<T> = 'unreachable' in read ? { unreachable: read.unreachable } : { server: read, listed };
  return { into: () => facts };
}

/** A list the server could not give because it does not answer: the object's own read says so already. */
function unlessUnreachable(error: unknown): undefined {
  if (error instanceof ServiceUnreachable) return undefined;
  throw error;
}

/** Every object of a filter endpoint, as pruning lists them: by name, with the URL a DELETE goes to. */
export async function listedByName(http: HttpCall, filterUrl: string, urlOf: (name: string) => string): Promise<ListedObject[]> {
  return ((await readAll(http, filterUrl)) as { name: string }[]).map(({ name }) => ({ key: name, url: urlOf(name) }));
}

/** The prune scope of a kind whose objects are one namespace per server (variables, global limits, automations). */
export function serverWide<S extends Resource & { api_url: string }>(spec: S, noun: string, key: (peer: S) => string): PruneScope<S> {
  return { noun, sameScope: (peer) => apiBase(peer) === apiBase(spec), key };
}

/** Which declared resources share a pruning spec's scope, and the name each declares. */
export interface PruneScope<S> {
  noun: string;
  /** The same server (and pool, for queues). */
  sameScope(peer: S): boolean;
  key(peer: S): string;
}

/**
 * `prune: true`: a DELETE for each object of the kind in the spec's scope that no resource of the
 * host declares. Planned by the first resource of the scope that sets prune, so each removal is
 * planned once however many ask for it.
 */
export function strayRemovals<S extends Resource & { prune?: boolean }>(
  spec: S,
  context: PlanContext,
  facts: ServerObjectFacts<unknown>,
  scope: PruneScope<S>,
): Action[] {
  if (!spec.prune || !facts.listed) return [];
  const peers = context.declared.filter((peer): peer is S => peer.kind === spec.kind && scope.sameScope(peer as S));
  const pruner = peers.find((peer) => peer.prune);
  if (!pruner || scope.key(pruner) !== scope.key(spec)) return [];
  const declared = new Set(peers.map((peer) => scope.key(peer)));
  return facts.listed
    .filter((object) => !declared.has(object.key))
    .map((object) => ({
      id: `remove ${scope.noun} ${object.key}`,
      resource: spec.name ?? `${spec.kind}:${scope.key(spec)}`,
      verb: 'remove' as const,
      title: `${scope.noun} ${object.key}`,
      because: 'no resource declares it (prune: true)',
      fields: [],
      steps: [{ request: { method: 'DELETE' as const, url: object.url } }],
    }));
}

/** How one kind's object is compared and written (see planServerObject). */
export interface ServerObjectWrites<T> {
  resource: string;
  title: string;
  /** The API's base URL, named when the server does not answer. */
  api: string;
  /** The object's own URL (PATCH), and where it is created (POST) with what. */
  url: string;
  create: { url: string; body: unknown };
  /** The PATCH body: the fields the spec manages. */
  wanted: unknown;
  /** How the stored object differs from the spec, field by field; none: converged. */
  differences: (current: T | undefined) => FieldChange[];
  /** Objects of the kind to remove besides (strayRemovals). */
  removals?: Action[];
}

/**
 * The plan of a kind kept as one object on a server's REST API (a variable, a work queue, a
 * concurrency limit): nothing when it matches; else an update, or a create that turns into the
 * update when someone made the object meanwhile (409). A server that does not answer is planned
 * for, not guessed about.
 */
export function planServerObject<T>(facts: ServerObjectFacts<T>, writes: ServerObjectWrites<T>): ResourcePlan {
  const { resource, title } = writes;
  if (facts.unreachable) return compareWhenUp(resource, title, { url: writes.api, why: facts.unreachable });
  const current = facts.server?.found;
  const fields = writes.differences(current);
  const removals = writes.removals ?? [];
  if (current && fields.length === 0) return removals.length === 0 ? noChanges() : { now: [], late: removals, notifies: [] };
  const update: HttpRequest = { method: 'PATCH', url: writes.url, body: writes.wanted };
  const create: HttpRequest = { method: 'POST', url: writes.create.url, body: writes.create.body };
  const action: Action = current
    ? { id: resource, resource, verb: 'update', title, fields, steps: [{ request: update }] }
    : { id: resource, resource, verb: 'create', title, fields, steps: [{ request: create, onConflict: update }] };
  return { now: [], late: [action, ...removals], notifies: [], problems: [] };
}

/** The fields of `wanted` whose stored value is not the same (===), as plan lines. */
export function changedFields<T extends object>(current: T | undefined, wanted: Partial<T>): FieldChange[] {
  return Object.entries(wanted)
    .filter(([key, value]) => current?.[key as keyof T] !== value)
    .map(([key, value]) => ({ field: key, before: current ? String(current[key as keyof T]) : null, after: String(value) }));
}
