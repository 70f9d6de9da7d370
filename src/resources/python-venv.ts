import type { Action } from '../engine/model.js';
import type { PythonVenv } from '../spec/generated/setup.js';
import { command, quote } from '../shell/quote.js';
import { keyValues } from './facts.js';
import { asUser } from './steps.js';
import { noChanges, notifyReferences, unitToken, type ResourceType } from './types.js';
import { openSnapshotProbe, snapshotRoot, takeSnapshot, upgradeTransaction } from './venv-snapshot.js';

interface VenvFacts {
  exists: boolean;
  /** Without it the venv is half-made: `python3 -m venv` stops before pip when ensurepip is missing (no python3-venv). */
  hasPip: boolean;
  /** Installed distributions by normalised name (PEP 503), with their versions. */
  packages: Map<string, string>;
  /** The snapshot of an upgrade that a cut connection left unfinished. */
  openSnapshot?: string;
}

/** PEP 503: names compare lower-case with runs of -, _ and . as one -. */
const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

function pins(spec: PythonVenv): [name: string, version: string, requirement: string][] {
  return spec.packages.map((requirement) => {
    const [name = '', version = ''] = requirement.split('==');
    return [normalise(name.replace(/\[.*\]$/, '')), version, requirement];
  });
}

/**
 * python_venv: a venv created with the given interpreter, owned by its user, with pinned packages.
 * Reads the venv's interpreter and every installed distribution's METADATA (no Python started).
 * Converged when each pin is installed at its version. Converges with the venv's own pip, as the
 * owner; pip options come from the host's pip configuration and `pip_args`. Changing an existing
 * venv is a transaction (see venv-snapshot.ts): snapshot first, then pip, the services' restarts and
 * gates, and the snapshot put back if anything of the run fails.
 */
export const pythonVenv: ResourceType<PythonVenv, VenvFacts> = {
  kind: 'python_venv',
  defaultName: (spec) => `python_venv:${spec.path}`,
  references: (spec) => notifyReferences(spec.notifies),
  exposure: () => ({ field: ['packages'], message: 'package requirements reach pip on its command line, which every user on the host can read in the process list' }),
  probe: (spec) => {
    const venv = quote(spec.path);
    // One awk over every METADATA file rather than a few processes per installed package.
    return `if [ -x ${venv}/bin/python ]; then echo exists=yes; [ -x ${venv}/bin/pip ] && echo pip=yes
  for rc_m in ${venv}/lib/python3*/site-packages/*.dist-info/METADATA; do [ -f "$rc_m" ] && set -- "$@" "$rc_m"; done
  [ $# -eq 0 ] || awk 'FNR == 1 { name = "" } /^Name: / && name == "" { name = $2 } /^Version: / && name != "" { print "package:" name "=" $2; nextfile }' "$@"
else echo exists=no; fi
${openSnapshotProbe(spec)}`;
  },
  parse(_spec, output) {
    const packages = new Map<string, string>();
    for (const [key, value] of keyValues(output)) if (key.startsWith('package:')) packages.set(normalise(key.slice(8)), value.trim());
    const facts = keyValues(output);
    return { exists: facts.get('exists') === 'yes', hasPip: facts.get('pip') === 'yes', packages, openSnapshot: facts.get('upgrade-open') };
  },
  plan(spec, actual) {
    const name = spec.name ?? pythonVenv.defaultName(spec);
    const wrong = pins(spec).filter(([pkg, version]) => actual.packages.get(pkg) !== version);
    const halfMade = actual.exists && !actual.hasPip;
    const install = !actual.exists || halfMade || wrong.length > 0;
    if (!install && !actual.openSnapshot) return noChanges();
    const owner = spec.owner ?? 'root';
    const pip = [`${spec.path}/bin/pip`, 'install', '--disable-pip-version-check', '--quiet', ...(spec.pip_args ?? []), ...wrong.map(([, , r]) => r)];
    // A half-made venv is made again from scratch (--clear): it holds nothing pip put there.
    const create = `${quote(spec.python ?? '/usr/bin/python3')} -m venv${halfMade ? ' --clear' : ''} ${quote(spec.path)}`;
    const installAction: Action = {
      id: name, resource: name, verb: actual.exists ? 'update' : 'create', title: `venv ${spec.path}`,
      because: halfMade ? 'the venv is half-made (no pip: created without ensurepip, i.e. without python3-venv?)' : undefined,
      fields: wrong.map(([pkg, version]) => ({ field: pkg, before: actual.packages.get(pkg) ?? null, after: version })),
      steps: [
        ...(actual.exists && !halfMade ? [] : [{ script: asUser(owner, create) }]),
        { script: asUser(owner, command(...pip)) },
      ],
    };
    return {
      now: [...transactionStart(spec, name, actual, wrong), ...(install ? [installAction] : [])],
      late: [],
      notifies: install ? (spec.notifies ?? []).map(unitToken) : [],
    };
  },
};

/**
 * What begins the transaction of a change to a working venv: a new snapshot, or, after a cut
 * connection, the one left open (whatever pip had done since, the next steps finish it or undo it).
 */
function transactionStart(spec: PythonVenv, name: string, actual: VenvFacts, wrong: ReturnType<typeof pins>): Action[] {
  const transaction = upgradeTransaction(spec);
  if (actual.openSnapshot) {
    return [{
      id: `resume upgrade ${name}`, resource: name, verb: 'update', title: `resume the upgrade of ${spec.path} begun by an interrupted run`,
      because: `snapshot ${snapshotRoot(spec)}/${actual.openSnapshot} is still open: finished now, or put back if a step or gate fails`,
      fields: [], steps: [{ script: `test -f ${quote(`${snapshotRoot(spec)}/open`)}` }], transaction,
    }];
  }
  if (!actual.exists || !actual.hasPip || wrong.length === 0) return [];
  const before = wrong.map(([pkg]) => `${pkg}==${actual.packages.get(pkg) ?? '(none)'}`);
  const databases = spec.upgrade?.databases ?? [];
  return [{
    id: `snapshot ${name}`, resource: name, verb: 'create',
    title: `snapshot ${spec.path}${databases.map((db) => ` and ${db}`).join('')} before the upgrade`,
    because: `into ${snapshotRoot(spec)}/; if a step or health gate fails: ${transaction.undo}`,
    fields: [], steps: [{ script: takeSnapshot(spec, { before, after: wrong.map(([, , r]) => r) }) }], transaction,
  }];
}
