import type { Diagnostic } from '../model/diagnostic.js';
import type { ReconcileInventoryHostsYaml as Inventory } from '../model/generated/hosts.js';
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
    const trail = cycleThrough(group, groups);
    if (trail && !cyclic.has(group)) {
      trail.forEach((g) => cyclic.add(g));
      at(['groups', group], `group cycle: ${trail.join(' -> ')} (a group cannot hold itself)`);
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

/** A path from a group back to itself through its members, if there is one. */
function cycleThrough(start: string, groups: Record<string, string[]>): string[] | undefined {
  const walk = (group: string, trail: string[]): string[] | undefined => {
    for (const member of groups[group] ?? []) {
      if (member === start) return [...trail, member];
      if (!trail.includes(member) && groups[member]) {
        const found = walk(member, [...trail, member]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(start, [start]);
}
