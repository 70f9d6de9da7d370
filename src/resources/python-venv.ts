import type { PythonVenv } from '../spec/generated/setup.js';
import { command, quote } from '../shell/quote.js';
import { keyValues } from './facts.js';
import { asUser } from './steps.js';
import { noChanges, unitToken, type ResourceType } from './types.js';

interface VenvFacts {
  exists: boolean;
  /** Without it the venv is half-made: `python3 -m venv` stops before pip when ensurepip is missing (no python3-venv). */
  hasPip: boolean;
  /** Installed distributions by normalised name (PEP 503), with their versions. */
  packages: Map<string, string>;
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
 * owner; pip options come from the host's pip configuration and `pip_args`.
 */
export const pythonVenv: ResourceType<PythonVenv, VenvFacts> = {
  kind: 'python_venv',
  defaultName: (spec) => `python_venv:${spec.path}`,
  references: (spec) =>
    (spec.notifies ?? []).map((unit, i) => ({ field: ['notifies', i], token: unitToken(unit), what: 'a systemd_service' })),
  exposure: () => ({ field: ['packages'], message: 'package requirements reach pip on its command line, which every user on the host can read in the process list' }),
  probe: (spec) => {
    const venv = quote(spec.path);
    // One awk over every METADATA file rather than a few processes per installed package.
    return `if [ -x ${venv}/bin/python ]; then echo exists=yes; [ -x ${venv}/bin/pip ] && echo pip=yes
  for rc_m in ${venv}/lib/python3*/site-packages/*.dist-info/METADATA; do [ -f "$rc_m" ] && set -- "$@" "$rc_m"; done
  [ $# -eq 0 ] || awk 'FNR == 1 { name = "" } /^Name: / && name == "" { name = $2 } /^Version: / && name != "" { print "package:" name "=" $2; nextfile }' "$@"
else echo exists=no; fi`;
  },
  parse(_spec, output) {
    const packages = new Map<string, string>();
    for (const [key, value] of keyValues(output)) if (key.startsWith('package:')) packages.set(normalise(key.slice(8)), value.trim());
    const facts = keyValues(output);
    return { exists: facts.get('exists') === 'yes', hasPip: facts.get('pip') === 'yes', packages };
  },
  plan(spec, actual) {
    const name = spec.name ?? pythonVenv.defaultName(spec);
    const wrong = pins(spec).filter(([pkg, version]) => actual.packages.get(pkg) !== version);
    const halfMade = actual.exists && !actual.hasPip;
    if (actual.exists && !halfMade && wrong.length === 0) return noChanges();
    const owner = spec.owner ?? 'root';
    const pip = [`${spec.path}/bin/pip`, 'install', '--disable-pip-version-check', '--quiet', ...(spec.pip_args ?? []), ...wrong.map(([, , r]) => r)];
    // A half-made venv is made again from scratch (--clear): it holds nothing pip put there.
    const create = `${quote(spec.python ?? '/usr/bin/python3')} -m venv${halfMade ? ' --clear' : ''} ${quote(spec.path)}`;
    const steps = [
      ...(actual.exists && !halfMade ? [] : [{ script: asUser(owner, create) }]),
      { script: asUser(owner, command(...pip)) },
    ];
    return {
      now: [{
        id: name, resource: name, verb: actual.exists ? 'update' : 'create', title: `venv ${spec.path}`,
        because: halfMade ? 'the venv is half-made (no pip: created without ensurepip, i.e. without python3-venv?)' : undefined,
        fields: wrong.map(([pkg, version]) => ({ field: pkg, before: actual.packages.get(pkg) ?? null, after: version })),
        steps,
      }],
      late: [],
      notifies: (spec.notifies ?? []).map(unitToken),
    };
  },
};
