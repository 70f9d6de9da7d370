import type { Action, FieldChange, HttpRequest } from '../model/plan.js';
import { ServiceUnreachable, unexpectedAnswer, type HttpCall } from '../transport/http.js';
import { compareWhenUp, noChanges, type Observation, type ResourcePlan } from './types.js';

/** A spec's `api_url` without its trailing slash: the base every API path is appended to. */
export const apiBase = (spec: { api_url: string }) => spec.api_url.replace(/\/$/, '');

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

/** What a kind kept as one server object knows of it: the stored object (none: not there), or that the server did not answer. */
export interface ServerObjectFacts<T> {
  server?: { found?: T };
  unreachable?: string;
}

/** `observe` of such a kind: the object at `url`, read from the host. */
export async function observeServerObject<T>(http: HttpCall, url: string): Promise<Observation<ServerObjectFacts<T>>> {
  const read = await readServerObject<T>(http, url);
  const facts: ServerObjectFacts<T> = 'unreachable' in read ? { unreachable: read.unreachable } : { server: read };
  return { into: () => facts };
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
  if (current && fields.length === 0) return noChanges();
  const update: HttpRequest = { method: 'PATCH', url: writes.url, body: writes.wanted };
  const create: HttpRequest = { method: 'POST', url: writes.create.url, body: writes.create.body };
  const action: Action = current
    ? { id: resource, resource, verb: 'update', title, fields, steps: [{ request: update }] }
    : { id: resource, resource, verb: 'create', title, fields, steps: [{ request: create, onConflict: update }] };
  return { now: [], late: [action], notifies: [], problems: [] };
}

/** The fields of `wanted` whose stored value is not the same (===), as plan lines. */
export function changedFields<T extends object>(current: T | undefined, wanted: Partial<T>): FieldChange[] {
  return Object.entries(wanted)
    .filter(([key, value]) => current?.[key as keyof T] !== value)
    .map(([key, value]) => ({ field: key, before: current ? String(current[key as keyof T]) : null, after: String(value) }));
}
