import { readFile } from 'node:fs/promises';
import type { HostPlan } from '../model/plan.js';
import type { Spec } from '../model/spec.js';
import type { HostOutcome } from '../engine/run.js';
import { writeFileAtomic } from '../report/atomic.js';
import { UsageError } from './usage-error.js';

/** A saved plan: what `plan -o` writes and `apply FILE` executes, guarded by the spec's hash and each host's facts digest. */
interface SavedPlan {
  reconcilePlan: 1;
  createdAt: string;
  specHash: string;
  hosts: HostPlan[];
}

export async function savePlan(file: string, spec: Spec, outcomes: HostOutcome[]): Promise<void> {
  const plan: SavedPlan = {
    reconcilePlan: 1,
    createdAt: new Date().toISOString(),
    specHash: spec.specHash,
    hosts: outcomes.flatMap((o) => (o.plan ? [o.plan] : [])),
  };
  await writeFileAtomic(file, JSON.stringify(plan, null, 2), 0o600);
}

export async function loadPlan(file: string, spec: Spec): Promise<Map<string, HostPlan>> {
  let parsed: Partial<Record<keyof SavedPlan, unknown>>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as typeof parsed;
  } catch (error) {
    throw new UsageError(`${file}: not a readable plan file (${(error as Error).message})`);
  }
  if (parsed.reconcilePlan !== 1 || !Array.isArray(parsed.hosts)) throw new UsageError(`${file}: not a plan written by reconcile plan -o`);
  const plan = parsed as SavedPlan;
  if (plan.specHash !== spec.specHash) {
    throw new UsageError(
      `${file} was made from other spec files than ${spec.inventoryFile} and ${spec.setupFile} as they are now; make a new plan`,
    );
  }
  return new Map(plan.hosts.map((h) => [h.host, h]));
}
