import { createHash } from 'node:crypto';
import type { HostFacts } from './gather.js';

/**
 * What the plan was computed from; a saved plan is stale when this changed. Observations kept under
 * a `live` key (health answers, heartbeat times) change by the second and are left out.
 */
export function factsDigest(facts: HostFacts): string {
  const replacer = (key: string, value: unknown) => {
    if (key === 'live') return undefined;
    if (value instanceof Map) return [...value];
    if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer')
      return Buffer.from((value as { data: number[] }).data).toString('base64');
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify([[...facts.actual], [...facts.owed], facts.bootId], replacer))
    .digest('hex');
}
