import type { Action } from '../../../model/plan.js';
import type { PythonVenv } from '../../../model/generated/setup.js';
import { command, quote } from '../../../shell/quote.js';
import { keyValues } from '../../facts.js';
import { asUser } from '../../steps.js';
import { noChanges, notifyReferences, unitToken, type ResourceType } from '../../types.js';
import {
  downloadScript,
  downloadsDir,
  failedUpgrade,
  snapshotDatabases,
  snapshotRoot,
  takeSnapshot,
  upgradeRecordsProbe,
  upgradeTransaction,
} from './venv-snapshot.js';

interface VenvFacts {
  exists: boolean;
  /** Without it the venv is half-made: `python3 -m venv` stops before pip when ensurepip is missing (no python3-venv). */
  hasPip: boolean;
  /** Installed distributions by normalised name (PEP 503), with their versions. */
  packages: Map<string, string>;
  /** The snapshot of an upgrade that a cut connection left unfinished. */
  openSnapshot?: string;
  /** The record of the last upgrade rolled back: its pins, and when. */
  failedUpgrade?: string;
  /** The pins of the last upgrade that ended well and migrated the venv's databases. */
  migratedBy?: string;
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
  location: (spec) => ({ path: spec.path }),
  references: (spec) => notifyReferences(spec.notifies),
  exposure: () => ({
    field: ['packages'],
    message: 'package requirements reach pip on its command line, which every user on the host can read in the process list',
  }),
  probe: (spec) => {
    const venv = quote(spec.path);
    // One awk over every METADATA file rather than a few processes per installed package.
    return `if [ -x ${venv}/bin/python ]; then echo exists=yes; [ -x ${venv}/bin/pip ] && echo pip=yes
  for rc_m in ${venv}/lib/python3*/site-packages/*.dist-info/METADATA; do [ -f "$rc_m" ] && set -- "$@" "$rc_m"; done
  [ $# -eq 0 ] || awk 'FNR == 1 { name = "" } /^Name: / && name == "" { name = $2 } /^Version: / && name != "" { print "package:" name "=" $2; nextfile }' "$@"
else echo exists=no; fi
${upgradeRecordsProbe(spec)}`;
  },
  parse(_spec, output) {
    const packages = new Map<string, string>();
    for (const [key, value] of keyValues(output)) if (key.startsWith('package:')) packages.set(normalise(key.slice(8)), value.trim());
    const facts = keyValues(output);
    return {
      exists: facts.get('exists') === 'yes',
      hasPip: facts.get('pip') === 'yes',
      packages,
      openSnapshot: facts.get('upgrade-open'),
      failedUpgrade: facts.get('upgrade-failed'),
      migratedBy: facts.get('upgrade-migrated'),
    };
  },
  plan(spec, actual, { retryFailed }) {
    const name = spec.name ?? pythonVenv.defaultName(spec);
    const wrong = pins(spec).filter(([pkg, version]) => actual.packages.get(pkg) !== version);
    const halfMade = actual.exists && !actual.hasPip;
    const install = !actual.exists || halfMade || wrong.length > 0;
    if (!install && !actual.openSnapshot) return noChanges();
    const upgrade = actual.exists && !halfMade && wrong.length > 0;
    const refused = upgrade && !actual.openSnapshot ? refusedUpgrade(spec, actual, wrong, retryFailed ?? false) : undefined;
    if (refused) return { ...noChanges(), problems: [refused] };
    const owner = spec.owner ?? 'root';
    const requirements = wrong.map(([, , r]) => r);
    // An upgrade installs what its first action downloaded; pip still reaches its index for anything else.
    const fromDownloads = upgrade ? ['--find-links', downloadsDir(spec)] : [];
    const pip = [
      `${spec.path}/bin/pip`,
      'install',
      '--disable-pip-version-check',
      '--quiet',
      ...(spec.pip_args ?? []),
      ...fromDownloads,
      ...requirements,
    ];
    // A half-made venv is made again from scratch (--clear): it holds nothing pip put there.
    const create = `${quote(spec.python ?? '/usr/bin/python3')} -m venv${halfMade ? ' --clear' : ''} ${quote(spec.path)}`;
    const installAction: Action = {
      id: name,
      resource: name,
      verb: actual.exists ? 'update' : 'create',
      title: `venv ${spec.path}`,
      because: halfMade ? 'the venv is half-made (no pip: created without ensurepip, i.e. without python3-venv?)' : undefined,
      fields: wrong.map(([pkg, version]) => ({ field: pkg, before: actual.packages.get(pkg) ?? null, after: version })),
      steps: [...(actual.exists && !halfMade ? [] : [{ script: asUser(owner, create) }]), { script: asUser(owner, command(...pip)) }],
    };
    const download: Action[] =
      upgrade && !actual.openSnapshot
        ? [
            {
              id: `download ${name}`,
              resource: name,
              verb: 'update',
              title: `download ${requirements.join(' ')} for ${spec.path}`,
              because: 'resolved before anything is stopped or snapshotted: a pin pip cannot resolve changes nothing',
              fields: [],
              prepares: true,
              steps: [
                {
                  script: downloadScript(
                    spec,
                    owner,
                    asUser(
                      owner,
                      command(
                        `${spec.path}/bin/pip`,
                        'download',
                        '--disable-pip-version-check',
                        '--quiet',
                        '-d',
                        downloadsDir(spec),
                        ...(spec.pip_args ?? []),
                        ...requirements,
                      ),
                    ),
                  ),
                },
              ],
            },
          ]
        : [];
    return {
      now: [...download, ...transactionStart(spec, name, actual, wrong), ...(install ? [installAction] : [])],
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
    return [
      {
        id: `resume upgrade ${name}`,
        resource: name,
        verb: 'update',
        title: `resume the upgrade of ${spec.path} begun by an interrupted run`,
        because: `snapshot ${snapshotRoot(spec)}/${actual.openSnapshot} is still open: finished now, or put back if a step or gate fails`,
        fields: [],
        steps: [{ script: `test -f ${quote(`${snapshotRoot(spec)}/open`)}` }],
        transaction,
      },
    ];
  }
  if (!actual.exists || !actual.hasPip || wrong.length === 0) return [];
  const before = wrong.map(([pkg]) => `${pkg}==${actual.packages.get(pkg) ?? '(none)'}`);
  const databases = snapshotDatabases(spec);
  return [
    {
      id: `snapshot ${name}`,
      resource: name,
      verb: 'create',
      title: `snapshot ${spec.path}${databases.map((db) => ` and ${db}`).join('')} before the upgrade`,
      because: `into ${snapshotRoot(spec)}/; if a step or health gate fails: ${transaction.undo}`,
      fields: [],
      steps: [{ script: takeSnapshot(spec, { before, after: wrong.map(([, , r]) => r) }) }],
      transaction,
    },
  ];
}

/** Release numbers compared part by part (3.10.0 > 3.9.1); enough for the exact pins a venv takes. */
function olderThan(version: string, other: string): boolean {
  const parts = (v: string) => v.split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  const [a, b] = [parts(version), parts(other)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/**
 * Why an upgrade is not planned: its pins were rolled back before (until they change, or
 * --retry-failed), or one is below the version that migrated the venv's databases, which an older
 * release cannot open.
 */
function refusedUpgrade(spec: PythonVenv, actual: VenvFacts, wrong: ReturnType<typeof pins>, retryFailed: boolean): string | undefined {
  const wanted = wrong.map(([, , r]) => r).join(' ');
  const failed = failedUpgrade(actual.failedUpgrade);
  if (failed?.pins === wanted && !retryFailed) {
    return `the upgrade to ${wanted} was rolled back on ${failed.when} and is not tried again until the pins change (or: reconcile apply --retry-failed); see ${snapshotRoot(spec)}/`;
  }
  for (const migrated of (actual.migratedBy ?? '').split(' ').filter(Boolean)) {
    const [pkg = '', version = ''] = migrated.split('==');
    const pin = wrong.find(([name]) => name === normalise(pkg));
    const installed = actual.packages.get(normalise(pkg));
    // Installed below it: the databases were put back by hand with an older venv, and the record is stale.
    if (pin && olderThan(pin[1], version) && installed !== undefined && !olderThan(installed, version)) {
      return `${pin[2]} is older than ${pkg}==${version}, which migrated ${snapshotDatabases(spec).join(', ')}: an older release cannot open a database a newer one migrated; pin ${version} or later, or restore a snapshot by hand (see the README)`;
    }
  }
  return undefined;
}
