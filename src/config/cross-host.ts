import { cycleThrough } from '../model/graph.js';
import type { HostSpec } from '../model/spec.js';
import { resourceType } from '../resources/registry.js';
import type { SpecFiles } from './spec-files.js';
import { didYouMean } from './suggest.js';

/**
 * A resource of another host named in `after` or `notifies` must exist there, and hosts may not wait
 * for each other in a circle (each would wait for the other to converge first); a host waits for
 * those whose resources notify its own.
 */
export function checkCrossHostReferences(hosts: HostSpec[], files: SpecFiles): void {
  const waitsOf = (h: HostSpec) => h.resources.flatMap((r) => r.waitsFor ?? []);
  const noticesOf = (h: HostSpec) => h.resources.flatMap((r) => r.notifiesElsewhere ?? []);
  for (const host of hosts) {
    for (const wait of [...waitsOf(host), ...noticesOf(host)]) {
      const there = hosts.find((h) => h.target.name === wait.host)!;
      const tokens = there.resources.flatMap((r) => resourceType(r.spec.kind).provides?.(r.spec) ?? []);
      if (tokens.includes(wait.token)) continue;
      // Tokens are KIND:VALUE; the candidates are the other host's tokens of the same kind.
      const kind = wait.token.slice(0, wait.token.indexOf(':') + 1);
      const value = wait.token.slice(kind.length);
      const candidates = tokens.filter((t) => t.startsWith(kind)).map((t) => t.slice(kind.length));
      const message = `'${value}' is not ${wait.what} of host '${wait.host}' (its resources' hosts: leave it out?)${didYouMean(value, candidates)}`;
      files.problem(files.setup, wait.at, message);
    }
  }
  const notifiers = (name: string) => hosts.filter((h) => noticesOf(h).some((n) => n.host === name)).map((h) => h.target.name);
  const waitsFor = new Map(
    hosts.map((h) => [h.target.name, [...new Set([...waitsOf(h).map((w) => w.host), ...notifiers(h.target.name)])]]),
  );
  for (const host of hosts) {
    const trail = cycleThrough(host.target.name, (name) => waitsFor.get(name) ?? []);
    // Each circle once: from its first host by name.
    if (trail && trail[0] === [...trail].sort()[0]) {
      const at = waitsOf(host)[0]?.at ?? noticesOf(hosts.find((h) => h.target.name === trail[1])!)[0]!.at;
      files.problem(files.setup, at, `hosts wait for each other in a circle: ${trail.join(' -> ')} -> ${trail[0]}`);
    }
  }
}
