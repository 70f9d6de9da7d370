import { loadSpec } from '../config/load.js';
import type { Spec } from '../model/spec.js';
import { formatDiagnostic } from '../model/diagnostic.js';
import type { SecretMode } from '../config/secrets.js';
import { didYouMean } from '../config/suggest.js';
import type { GlobalOptions } from './options.js';
import { askHidden } from './prompt.js';
import { UsageError } from './usage-error.js';

/** The spec, narrowed to the hosts --limit names (each must exist). */
export async function loadSelectedSpec(options: GlobalOptions, secrets: SecretMode = 'resolve'): Promise<Spec> {
  if (options.missingSpec) throw new UsageError(options.missingSpec);
  const loaded = await loadSpec(options.inventory, options.file, secrets);
  for (const warning of loaded.warnings)
    process.stderr.write(`${formatDiagnostic({ ...warning, message: `warning: ${warning.message}` })}\n`);
  const timeout = options.timeout;
  const spec =
    timeout === undefined
      ? loaded
      : { ...loaded, hosts: loaded.hosts.map((h) => ({ ...h, target: { ...h.target, connectTimeoutMs: timeout * 1000 } })) };
  const selected = options.limit ? limited(spec, options.limit, options.inventory) : spec;
  // validate reads no secrets and reaches no host: it has nothing to ask for.
  return options.askBecomePass && secrets === 'resolve' ? withAskedBecomePassword(selected) : selected;
}

/** The hosts --limit names, itself or through a group. */
function limited(spec: Spec, limit: string[], inventory: string): Spec {
  const known = [...new Set(spec.hosts.flatMap((h) => [h.target.name, ...h.groups]))];
  const unknown = limit.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(unknown.map((n) => `--limit: no host or group '${n}' in ${inventory}${didYouMean(n, known)}`).join('\n'));
  }
  return { ...spec, hosts: spec.hosts.filter((h) => limit.includes(h.target.name) || h.groups.some((g) => limit.includes(g))) };
}

/**
 * --ask-become-pass: asked once, for every host that becomes root; it joins the secrets, so the mask
 * keeps it out of every output and record like any other.
 */
async function withAskedBecomePassword(spec: Spec): Promise<Spec> {
  if (!spec.hosts.some((h) => h.target.become)) return spec;
  const password = await askHidden('BECOME password: ', '--ask-become-pass');
  return {
    ...spec,
    secrets: [...spec.secrets, { name: 'become_password', value: password }],
    hosts: spec.hosts.map((h) => (h.target.become ? { ...h, target: { ...h.target, becomePassword: password } } : h)),
  };
}
