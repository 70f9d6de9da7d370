import { ExitCode } from '../exit-codes.js';
import type { GlobalOptions } from '../options.js';
import { loadSelectedSpec } from '../spec.js';

/** `reconcile validate`: both files checked, nothing sent anywhere. */
export async function validateCommand(options: GlobalOptions): Promise<ExitCode> {
  const spec = await loadSelectedSpec(options, 'placeholder');
  const resources = spec.hosts[0]?.resources.length ?? 0;
  const hostNames = spec.hosts.map((h) => h.target.name);
  if (options.json) {
    console.log(JSON.stringify({ valid: true, hosts: hostNames, resources }));
  } else {
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    console.log(`valid: ${plural(hostNames.length, 'host')} (${hostNames.join(', ')}), ${plural(resources, 'resource')} each (${options.inventory}, ${options.file})`);
  }
  return ExitCode.ok;
}
