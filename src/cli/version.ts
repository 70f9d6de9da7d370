import { readFileSync } from 'node:fs';
import { packagePath } from '../model/package-root.js';

/** The package version, read once from package.json (no import of anything heavier). */
export function toolVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
