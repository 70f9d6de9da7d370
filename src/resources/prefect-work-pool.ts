import type { PrefectWorkPool } from '../spec/generated/setup.js';
import { afterReferences, type ResourceType } from './types.js';

/** A work pool on the Prefect server. */
export const prefectWorkPool: ResourceType<PrefectWorkPool> = {
  kind: 'prefect_work_pool',
  defaultName: (spec) => `prefect_work_pool:${spec.pool}`,
  references: (spec) => afterReferences(spec.after),
  probe: () => 'true',
  parse: () => undefined,
  plan: () => {
    throw new Error('managing this through the Prefect API is not built yet (issue #5)');
  },
};
