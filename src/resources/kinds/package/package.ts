import type { FieldChange, Step } from '../../../model/plan.js';
import type { Package } from '../../../model/generated/setup.js';
import { apt, listsAge, type PackageFacts, type PackageManager } from './apt.js';
import { noChanges, type ResourceType } from '../../types.js';

/** The package managers reconcile knows, by the name their probe reports. Another (dnf) is one more module here. */
const managers: Record<string, PackageManager> = { apt };

const DEFAULT_LISTS_MAX_AGE = 86_400;
const DEFAULT_LOCK_TIMEOUT = 300;

interface Wanted {
  name: string;
  version?: string;
}

const wanted = (spec: Package): Wanted[] =>
  spec.packages.map((p) => {
    const [name = '', version] = p.split('=');
    return { name, version };
  });

/**
 * package: system packages, present (at a version, if pinned) or absent. The host's package manager
 * is found by the probe; its facts come from its own database inside the one fact script (no extra
 * round trip), and converging is one non-interactive install or remove, after refreshing the lists
 * only when they are missing or stale. Another apt or dpkg holding the lock is waited for up to
 * lock_timeout, then the host fails with the package manager's own message, which names the holder.
 */
export const systemPackage: ResourceType<Package, PackageFacts> = {
  kind: 'package',
  defaultName: (spec) => `package:${spec.packages.map((p) => p.split('=')[0]).join(',')}`,
  probe: (spec) => apt.probe(wanted(spec).map((w) => w.name)),
  parse: (_spec, output) => apt.parse(output),
  plan(spec, actual) {
    const name = spec.name ?? systemPackage.defaultName(spec);
    const manager = managers[actual.manager];
    if (!manager)
      return {
        ...noChanges(),
        problems: [`no package manager reconcile knows on this host (${actual.manager}); it knows ${Object.keys(managers).join(', ')}`],
      };
    const absent = spec.state === 'absent';
    const changing = wanted(spec).filter((w) => {
      const installed = actual.installed.get(w.name);
      if (absent) return installed !== undefined;
      return installed?.complete !== true || (w.version !== undefined && installed.version !== w.version);
    });
    if (changing.length === 0) return noChanges();
    const problems = absent ? [] : unavailable(changing, actual);
    const fields: FieldChange[] = changing.map((w) => {
      const installed = actual.installed.get(w.name);
      const before = installed ? `${installed.version}${installed.complete ? '' : ` (${installed.state})`}` : null;
      return { field: w.name, before, after: absent ? null : (w.version ?? 'present') };
    });
    const age = listsAge(actual);
    const listsStale = age === undefined || age > (spec.lists_max_age ?? DEFAULT_LISTS_MAX_AGE);
    const options = {
      lockTimeout: spec.lock_timeout ?? DEFAULT_LOCK_TIMEOUT,
      recommends: spec.install_recommends ?? false,
      repair: [...actual.installed.values()].some((p) => !p.complete),
    };
    const requests = changing.map((w) => (w.version ? `${w.name}=${w.version}` : w.name));
    const steps: Step[] = absent
      ? [{ script: manager.remove(requests, options) }]
      : [...(listsStale ? [{ script: manager.refresh(options) }] : []), { script: manager.install(requests, options) }];
    return {
      now: [
        {
          id: name,
          resource: name,
          verb: absent ? 'remove' : changing.some((w) => actual.installed.has(w.name)) ? 'update' : 'create',
          title: `${absent ? 'remove' : 'install'} ${requests.join(' ')}`,
          because:
            !absent && listsStale
              ? `package lists ${age === undefined ? 'missing' : 'older than lists_max_age'}: refreshed first`
              : undefined,
          fields,
          steps,
        },
      ],
      late: [],
      notifies: [],
      problems,
    };
  },
};

/** What the host's sources do not have, when its lists are there to say so: the install would fail. */
function unavailable(changing: Wanted[], actual: PackageFacts): string[] {
  if (actual.listsUpdated === undefined) return [];
  return changing.flatMap((w) => {
    const versions = actual.available.get(w.name);
    if (!versions || versions.length === 0)
      return [`${w.name}: no such package in this host's apt sources (apt-cache policy has no candidate); apply will fail`];
    if (w.version && !versions.includes(w.version))
      return [`${w.name}: version ${w.version} is not in this host's apt sources (they have ${versions.join(', ')}); apply will fail`];
    return [];
  });
}
