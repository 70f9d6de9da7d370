import type { Directory } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { fileProbe, parsePathFacts, type PathFacts } from '../../facts.js';
import { ownershipChanges, ownershipCommands } from '../../steps.js';
import { noChanges, type ResourceType } from '../../types.js';

/**
 * directory: a directory with owner, group and mode. Reads the path's stat. Converged when it is a
 * directory with the wanted owner, group and mode. Missing parents are created, owned by root.
 */
export const directory: ResourceType<Directory, PathFacts> = {
  kind: 'directory',
  defaultName: (spec) => `directory:${spec.path}`,
  location: (spec) => ({ path: spec.path, directory: true }),
  probe: (spec) => fileProbe(spec.path),
  parse: (_spec, output) => parsePathFacts(output),
  plan(spec, actual) {
    const name = spec.name ?? directory.defaultName(spec);
    if (actual.type !== 'absent' && actual.type !== 'directory') {
      throw new Error(`${spec.path} exists but is a ${actual.type}, not a directory; reconcile will not replace it`);
    }
    const fields =
      actual.type === 'absent'
        ? [
            { field: 'mode', before: null, after: spec.mode ?? '0755' },
            { field: 'owner', before: null, after: spec.owner ?? 'root' },
          ]
        : ownershipChanges(actual, spec, '0755');
    if (fields.length === 0) return noChanges();
    const script = `mkdir -p ${quote(spec.path)} && ${ownershipCommands(quote(spec.path), spec, '0755')}`;
    const verb = actual.type === 'absent' ? 'create' : 'update';
    return {
      now: [{ id: name, resource: name, verb, title: `directory ${spec.path}`, fields, steps: [{ script }] }],
      late: [],
      notifies: [],
    };
  },
};
