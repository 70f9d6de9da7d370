import type { Diagnostic } from '../model/diagnostic.js';
import type { ReconcileInventoryHostsYaml as Inventory } from '../model/generated/hosts.js';
import type { ReconcileDesiredStateSetupYaml as Setup } from '../model/generated/setup.js';
import { cycleThrough } from '../model/graph.js';
import { didYouMean } from './suggest.js';
import { positionAt, type YamlSource } from './yaml-source.js';

/** hosts.yaml's groups, resolved: who is in what, and how near. */
export interface Groups {
  /** The groups a host is in, directly or through other groups: farthest first, then in the order of `groups`. */
  of(host: string): string[];
  /** The hosts a list of host and group names stands for, in inventory order; unknown names are left out. */
  hosts(names: string[]): string[];
  /** Host and group names, for did-you-mean. */
  names(): string[];
  isHost(name: string): boolean;
}

/**
 * Reads `groups`: members must be hosts or groups, a group may not share a host's name, and no group
 * may hold itself (directly or through others). Problems are located in hosts.yaml.
 */
export function resolveGroups(inventory: Inventory, source: YamlSource, problems: Diagnostic[]): Groups {
  const groups = inventory.groups ?? {};
  const hostNames = Object.keys(inventory.hosts);
  const groupNames = Object.keys(groups);
  const at = (path: (string | number)[], message: string) => problems.push({ file: source.file, ...positionAt(source, path), message });

  for (const [group, members] of Object.entries(groups)) {
    if (hostNames.includes(group)) at(['groups', group], `'${group}' is both a host and a group; rename the group`);
    members.forEach((member, i) => {
      if (!hostNames.includes(member) && !groupNames.includes(member)) {
        at(['groups', group, i], `'${member}' is neither a host nor a group${didYouMean(member, [...hostNames, ...groupNames])}`);
      }
    });
  }
  for (const group of Object.keys(inventory.group_vars ?? {})) {
    if (!groupNames.includes(group)) at(['group_vars', group], `'${group}' is not a group${didYouMean(group, groupNames)}`);
  }
  const cyclic = new Set<string>();
  for (const group of groupNames) {
    // Members that are groups lead on; a host ends the walk.
    const trail = cycleThrough(group, (g) => (groups[g] ?? []).filter((member) => member in groups));
    if (trail && !cyclic.has(group)) {
      trail.forEach((g) => cyclic.add(g));
      at(['groups', group], `group cycle: ${[...trail, group].join(' -> ')} (a group cannot hold itself)`);
    }
  }

  // Each host's groups, nearest last, worked out once: every resource's hosts: asks for them.
  const membership = new Map(
    hostNames.map((host) => {
      const found = distances(host, groups, cyclic);
      return [
        host,
        groupNames
          .filter((g) => found.has(g))
          .sort((a, b) => found.get(b)! - found.get(a)! || groupNames.indexOf(a) - groupNames.indexOf(b)),
      ];
    }),
  );
  return {
    of: (host) => membership.get(host) ?? [],
    hosts: (names) => hostNames.filter((h) => names.includes(h) || membership.get(h)!.some((g) => names.includes(g))),
    names: () => [...hostNames, ...groupNames],
    isHost: (name) => hostNames.includes(name),
  };
}

/** The distance from each group holding a host to it: 1 when the group names it. */
function distances(host: string, groups: Record<string, string[]>, cyclic: Set<string>): Map<string, number> {
  const found = new Map<string, number>();
  const visit = (name: string, distance: number) => {
    for (const [group, members] of Object.entries(groups)) {
      if (!members.includes(name) || cyclic.has(group) || (found.get(group) ?? Infinity) <= distance) continue;
      found.set(group, distance);
      visit(group, distance + 1);
    }
  };
  visit(host, 1);
  return found;
}

/** Every name in a resource's `hosts:` must be a host or a group, and the list must match some host. */
export function checkTargeting(setup: Setup, groups: Groups, source: YamlSource, problems: Diagnostic[]): void {
  setup.resources.forEach((r, i) => {
    if (r.hosts === undefined) return;
    const at = (path: (string | number)[], message: string) =>
      problems.push({ file: source.file, ...positionAt(source, ['resources', i, 'hosts', ...path]), message });
    const unknown = r.hosts.filter((name) => !groups.names().includes(name));
    for (const name of unknown)
      at([r.hosts.indexOf(name)], `'${name}' is neither a host nor a group of hosts.yaml${didYouMean(name, groups.names())}`);
    if (unknown.length === 0 && groups.hosts(r.hosts).length === 0)
      at([], `${r.hosts.join(', ')} holds no host: this resource would go nowhere`);
  });
}
