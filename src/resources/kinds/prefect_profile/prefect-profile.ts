import type { PrefectProfile } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { fileProbeOf, keyValues, parsePathFacts, type PathFacts } from '../../facts.js';
import { writeFileStep } from '../../steps.js';
import { readTable, setKeys } from './toml-edit.js';
import { SETTING_ALIASES } from './setting-aliases.js';
import { noChanges, notifyReferences, unitToken, type ResourceType } from '../../types.js';
import type { FieldChange } from '../../../model/plan.js';

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
 * shows key-level changes. The file belongs to the user, mode 0600, as Prefect writes it. Notifies
 * the services in `notifies` when it changes.
 */
export const prefectProfile: ResourceType<PrefectProfile, ProfileFacts> = {
  kind: 'prefect_profile',
  defaultName: (spec) => `prefect_profile:${spec.user}:${spec.profile}`,
  references: (spec) => notifyReferences(spec.notifies),
  check: (spec) => {
    const keys = Object.keys(spec.settings);
    return keys.flatMap((key, i) => {
      const same = keys.slice(0, i).find((other) => namesOf(other).includes(key));
      return same
        ? [{ field: ['settings', key], message: `${key} and ${same} are one Prefect setting (${namesOf(key).join(' = ')}); keep one` }]
        : [];
    });
  },
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
    const updates = new Map<string, string>();
    const fields: FieldChange[] = [];
    for (const [key, value] of Object.entries(spec.settings)) {
      // Under whichever of its names the profile holds it, the one Prefect reads first.
      const held = namesOf(key).find((n) => current.has(n));
      if (held !== undefined && current.get(held) === value) continue;
      updates.set(held ?? key, value);
      fields.push({ field: `${spec.profile}.${key}`, before: held === undefined ? null : current.get(held)!, after: value });
    }
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
      now: [
        {
          id: name,
          resource: name,
          verb: actual.file.type === 'file' ? 'update' : 'create',
          title: `profile ${spec.profile} in ${path}`,
          // Key-level changes only: the whole file is the user's, and a file diff would bury them.
          fields,
          steps: [{ script: `[ -d ${quote(actual.prefectHome)} ] || ${makeHome}` }, write],
        },
      ],
      late: [],
      // A running server or worker read its profile when it started: a change reaches it by a restart.
      notifies: (spec.notifies ?? []).map(unitToken),
    };
  },
};

/** Every name of a setting, in the order Prefect reads them; a setting without aliases has its own name only. */
function namesOf(key: string): readonly string[] {
  return SETTING_ALIASES.find((names) => names.includes(key)) ?? [key];
}
