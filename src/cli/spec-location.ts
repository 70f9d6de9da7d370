import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const INVENTORY = 'hosts.yaml';
export const SETUP = 'setup.yaml';

export interface SpecLocation {
  inventory: string;
  file: string;
  /** The directory above the working one where both files were found (said on stderr). */
  foundAbove?: string;
  /** Neither here nor above: why, and how to fix it. */
  missing?: string;
}

/**
 * Where the spec files are, as users of Ansible, Terraform and kubectl expect: paths given are used
 * as given, and the other file is looked for beside the one given (`-i prod/hosts.yaml` reads
 * prod/setup.yaml); with neither given, the nearest directory from here upward that has both.
 */
export function locateSpecFiles(given: { inventory?: string; file?: string }, cwd = process.cwd()): SpecLocation {
  if (given.inventory !== undefined || given.file !== undefined) {
    return {
      inventory: given.inventory ?? join(dirname(given.file!), INVENTORY),
      file: given.file ?? join(dirname(given.inventory!), SETUP),
    };
  }
  const here = resolve(cwd);
  const has = (dir: string, name: string) => existsSync(join(dir, name));
  // One of the two here: these are the files meant; the loader says which one is missing.
  if (has(here, INVENTORY) || has(here, SETUP)) return { inventory: INVENTORY, file: SETUP };
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    if (has(dir, INVENTORY) && has(dir, SETUP)) {
      const at = relative(here, dir);
      return { inventory: join(at, INVENTORY), file: join(at, SETUP), foundAbove: dir };
    }
    if (dirname(dir) === dir) break;
  }
  return {
    inventory: INVENTORY,
    file: SETUP,
    missing: `no ${INVENTORY} and ${SETUP} in ${here} or any directory above it: write a starter pair with \`reconcile init\`, or name them with -i HOSTS.yaml and -f SETUP.yaml`,
  };
}
