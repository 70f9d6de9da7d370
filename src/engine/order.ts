import type { DeclaredResource } from '../config/load.js';
import type { ResourceTypes } from '../resources/types.js';

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
  const ordered: DeclaredResource[] = [];
  const placed = new Set<string>();
  const visit = (r: DeclaredResource) => {
    if (placed.has(r.name)) return;
    placed.add(r.name);
    for (const name of needs.get(r.name) ?? []) {
      const dependency = resources.find((d) => d.name === name);
      if (dependency) visit(dependency);
    }
    ordered.push(r);
  };
  resources.forEach(visit);
  return ordered;
}
