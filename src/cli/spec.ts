import { loadSpec, type Spec } from '../spec/load.js';
import type { SecretMode } from '../spec/secrets.js';
import { didYouMean } from '../spec/suggest.js';
import type { GlobalOptions } from './options.js';
import { UsageError } from './usage-error.js';

/** The spec, narrowed to the hosts --limit names (each must exist). */
export async function loadSelectedSpec(options: GlobalOptions, secrets: SecretMode = 'resolve'): Promise<Spec> {
  const loaded = await loadSpec(options.inventory, options.file, secrets);
  const timeout = options.timeout;
  const spec = timeout === undefined ? loaded : { ...loaded, hosts: loaded.hosts.map((h) => ({ ...h, target: { ...h.target, connectTimeoutMs: timeout * 1000 } })) };
  if (!options.limit) return spec;
  const known = spec.hosts.map((h) => h.target.name);
  const unknown = options.limit.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(unknown.map((n) => `--limit: no host '${n}' in ${options.inventory}${didYouMean(n, known)}`).join('\n'));
  }
  return { ...spec, hosts: spec.hosts.filter((h) => options.limit!.includes(h.target.name)) };
}
