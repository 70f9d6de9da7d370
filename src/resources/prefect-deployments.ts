import type { PrefectDeployments } from '../spec/generated/setup.js';
import { afterReferences, type ResourceType } from './types.js';

/** The deployments a project's prefect.yaml declares, registered on the server. */
export const prefectDeployments: ResourceType<PrefectDeployments> = {
  kind: 'prefect_deployments',
  defaultName: (spec) => `prefect_deployments:${spec.project_dir}`,
  references: (spec) => afterReferences(spec.after),
  probe: () => 'true',
  parse: () => undefined,
  plan: () => {
    throw new Error('managing this through the Prefect API is not built yet (issue #5)');
  },
};
