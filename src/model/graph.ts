/**
 * The walks over named things that point at each other (groups holding groups, hosts waiting for
 * hosts, resources needing resources): one place, so they agree on what a cycle is.
 */
export type Edges = (node: string) => Iterable<string>;

/** A path from `start` back to itself, as [start, …, the node that leads back to start]. */
export function cycleThrough(start: string, next: Edges): string[] | undefined {
  const walk = (node: string, trail: string[]): string[] | undefined => {
    for (const n of next(node)) {
      if (n === start) return trail;
      if (trail.includes(n)) continue;
      const found = walk(n, [...trail, n]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

/**
 * The nodes in their given order, except that each comes after the nodes it leads to (depth first).
 * Where a walk meets a node it is still inside, it goes no further: that cycle is returned, closed
 * (`a -> b -> a` as [a, b, a]), once for each place the walk closes one.
 */
export function dependenciesFirst(nodes: string[], next: Edges): { order: string[]; cycles: string[][] } {
  const order: string[] = [];
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, trail: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting') {
      cycles.push([...trail.slice(trail.indexOf(node)), node]);
      return;
    }
    state.set(node, 'visiting');
    for (const n of next(node)) visit(n, [...trail, node]);
    state.set(node, 'done');
    order.push(node);
  };
  for (const node of nodes) visit(node, []);
  return { order, cycles };
}
