import type { Resource } from '../spec/generated/setup.js';

/** A path inside one resource's spec, e.g. ['after', 0]. */
export type FieldPath = (string | number)[];

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
}

/**
 * The contract every resource type implements. The engine and the spec loader only ever talk to
 * resource types through it, so adding a type is one module plus one line in the registry.
 */
export interface ResourceType<S extends Resource = Resource> {
  kind: S['kind'];
  /** The resource's name in plans and reports when the spec gives none; unique per host. */
  defaultName(spec: S): string;
  /** Tokens other resources may reference. */
  provides?(spec: S): string[];
  /** Resources this one names; each must exist, and is converged first. */
  references?(spec: S): Reference[];
  /** Rules the JSON Schema cannot express (e.g. exactly one of two keys). */
  check?(spec: S, context: { specDir: string }): SpecProblem[];
}

export const unitToken = (unit: string) => `unit:${unit}`;

/** `after` lists name services that must be converged (and healthy) first. */
export function afterReferences(after: string[] | undefined): Reference[] {
  return (after ?? []).map((unit, i) => ({ field: ['after', i], token: unitToken(unit), what: 'a systemd_service' }));
}
