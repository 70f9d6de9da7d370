import type { PrefectProfile } from '../spec/generated/setup.js';
import { quote } from '../shell/quote.js';
import { fileProbeOf, keyValues, parsePathFacts, type PathFacts } from './facts.js';
import { writeFileStep } from './steps.js';
import { readTable, setKeys } from './toml-edit.js';
import { noChanges, type ResourceType } from './types.js';

interface ProfileFacts {
  /** PREFECT_HOME of the user: the spec's, or ~/.prefect. */
  prefectHome: string;
  file: PathFacts;
}

const SECTION = '@@profiles';

/**
 * prefect_profile: one profile in a user's profiles.toml ($PREFECT_HOME/profiles.toml, default
 * ~/.prefect). Reads the file. Converged when the profile has the wanted settings (and is active,
 * when asked). Edits only those keys: other profiles, keys and comments survive, and the dry-run
 * shows key-level changes. The file belongs to the user, mode 0600, as Prefect writes it.
 */
export const prefectProfile: ResourceType<PrefectProfile, ProfileFacts> = {
  kind: 'prefect_profile',
  defaultName: (spec) => `prefect_profile:${spec.user}:${spec.profile}`,
  probe: (spec) =>
    `rc_home=${spec.prefect_home ? quote(spec.prefect_home) : `"$(getent passwd ${quote(spec.user)} | cut -d: -f6)/.prefect"`}\n` +
    `echo "prefect_home=$rc_home"\necho ${SECTION}\n${fileProbeOf('"$rc_home/profiles.toml"')}`,
  parse(_spec, output) {
    const [head = '', file = ''] = output.split(`${SECTION}\n`);
    return { prefectHome: keyValues(head).get('prefect_home') ?? '', file: parsePathFacts(file) };
  },
  plan(spec, actual) {
    const name = spec.name ?? prefectProfile.defaultName(spec);
    const path = `${actual.prefectHome}/profiles.toml`;
    if (actual.file.type !== 'absent' && actual.file.type !== 'file') throw new Error(`${path} is a ${actual.file.type}, not a file`);
    const before = actual.file.content?.toString('utf8') ?? '';
    const table = `profiles.${spec.profile}`;
    const current = readTable(before, table) ?? new Map<string, string>();
    const updates = new Map(Object.entries(spec.settings).filter(([k, v]) => current.get(k) !== v));
    const fields = [...updates].map(([k, v]) => ({ field: `${spec.profile}.${k}`, before: current.get(k) ?? null, after: v }));
    let after = updates.size > 0 || !readTable(before, table) ? setKeys(before, table, updates) : before;
    const active = readTable(before, '')?.get('active');
    if (spec.active && active !== spec.profile) {
      after = setKeys(after, '', new Map([['active', spec.profile]]));
      fields.push({ field: 'active', before: active ?? null, after: spec.profile });
    }
    if (after === before && actual.file.type === 'file') return noChanges();
    const makeHome = `install -d -o ${quote(spec.user)} -g "$(id -gn ${quote(spec.user)})" -m 0700 ${quote(actual.prefectHome)}`;
    const write = writeFileStep({ path, content: Buffer.from(after), owner: spec.user, mode: '0600', defaultMode: '0600' });
    return {
      now: [{
        id: name, resource: name, verb: actual.file.type === 'file' ? 'update' : 'create', title: `profile ${spec.profile} in ${path}`,
        // Key-level changes only: the whole file is the user's, and a file diff would bury them.
        fields,
        steps: [{ script: `[ -d ${quote(actual.prefectHome)} ] || ${makeHome}` }, write],
      }],
      late: [],
      notifies: [],
    };
  },
};
