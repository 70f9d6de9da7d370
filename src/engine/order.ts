import type { DeclaredResource } from '../model/spec.js';
import type { ResourceTypes } from '../resources/types.js';
import { dependenciesFirst } from '../model/graph.js';

/**
 * Declaration order, except that a resource comes after everything it depends on: the resources
 * it names (`after`, `notifies`) and those that make a directory its location lies in.
 */
export function dependencyOrder(resources: DeclaredResource[], types: ResourceTypes): DeclaredResource[] {
  const locationOf = (r: DeclaredResource) => types.of(r.spec.kind).location?.(r.spec);
  const directories = resources.filter((r) => locationOf(r)?.directory);
  const needs = new Map(
    resources.map((r) => {
      const path = locationOf(r)?.path;
      const parents = path ? directories.filter((d) => d !== r && path.startsWith(`${locationOf(d)!.path}/`)).map((d) => d.name) : [];
      return [r.name, new Set([...r.dependsOn, ...parents])];
    }),
  );
  const byName = new Map(resources.map((r) => [r.name, r]));
  const { order } = dependenciesFirst(
    resources.map((r) => r.name),
    (name) => [...(needs.get(name) ?? [])].filter((n) => byName.has(n)),
  );
  return order.map((name) => byName.get(name)!);
}
