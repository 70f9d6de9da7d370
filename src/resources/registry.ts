import type { Resource } from '../model/generated/setup.js';
import { directory } from './directory.js';
import { file } from './file.js';
import { git } from './git.js';
import { line } from './line.js';
import { systemPackage } from './package.js';
import { prefectDeployments } from './prefect-deployments.js';
import { prefectProfile } from './prefect-profile.js';
import { prefectWorkPool } from './prefect-work-pool.js';
import { pythonVenv } from './python-venv.js';
import { systemdService } from './systemd-service.js';
import { factPrelude } from './facts.js';
import type { ResourceType, ResourceTypes } from './types.js';

type Registry = { [K in Resource['kind']]: ResourceType<Extract<Resource, { kind: K }>> };

/** Every resource type, by kind: the one place that lists them. */
const registry: Registry = {
  package: systemPackage,
  directory,
  file,
  line,
  systemd_service: systemdService,
  python_venv: pythonVenv,
  prefect_profile: prefectProfile,
  prefect_work_pool: prefectWorkPool,
  prefect_deployments: prefectDeployments,
  git,
};

export function resourceType(kind: Resource['kind']): ResourceType {
  return registry[kind];
}

/** What the engine is given to work with (it imports no resource module itself). */
export const resourceTypes: ResourceTypes = { of: resourceType, prelude: factPrelude };
