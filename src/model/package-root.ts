import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * A file of the installed package (package.json, schemas/, bin/), by its path from the package's
 * root. The root is found by walking up from this module, because this module runs from src/ (tests),
 * dist/ (tsc's output) and dist/bundle/ (what bin/reconcile.js loads), each at another depth.
 */
export function packagePath(...parts: string[]): string {
  root ??= findRoot(dirname(fileURLToPath(import.meta.url)));
  return join(root, ...parts);
}

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: is reconcile installed whole?`);
  }
}
