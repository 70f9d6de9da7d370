import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';
import { loadSelectedSpec } from '../load-spec.js';
import { jsonEvenWhenStopped } from '../json-errors.js';

/** `reconcile validate`: both files checked, nothing sent anywhere. */
export async function validateCommand(options: GlobalOptions): Promise<ExitCode> {
  const spec = await jsonEvenWhenStopped(
    options,
    (why) => ({ valid: false, ...why }),
    () => loadSelectedSpec(options, 'placeholder'),
  );
  const hostNames = spec.hosts.map((h) => h.target.name);
  // With hosts: on resources, hosts differ in how many they have.
  const counts = [...new Set(spec.hosts.map((h) => h.resources.length))];
  const resources = counts.length === 1 ? counts[0]! : spec.hosts.map((h) => h.resources.length);
  if (options.json) {
    console.log(JSON.stringify({ valid: true, hosts: hostNames, resources }));
  } else {
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    const each = typeof resources === 'number' ? `${plural(resources, 'resource')} each` : `${resources.join('/')} resources`;
    console.log(`valid: ${plural(hostNames.length, 'host')} (${hostNames.join(', ')}), ${each} (${options.inventory}, ${options.file})`);
  }
  return ExitCode.ok;
}
