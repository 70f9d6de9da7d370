import type { Resource } from '../model/generated/setup.js';
import { databaseBackup } from './kinds/database_backup/database-backup.js';
import { directory } from './kinds/directory/directory.js';
import { file } from './kinds/file/file.js';
import { git } from './kinds/git/git.js';
import { line } from './kinds/line/line.js';
import { systemPackage } from './kinds/package/package.js';
import { postgresDatabase } from './kinds/postgres_database/postgres-database.js';
import { postgresRole } from './kinds/postgres_role/postgres-role.js';
import { prefectAutomation } from './kinds/prefect_automation/prefect-automation.js';
import { prefectBlock } from './kinds/prefect_block/prefect-block.js';
import { prefectConcurrencyLimit } from './kinds/prefect_concurrency_limit/prefect-concurrency-limit.js';
import { prefectDeployments } from './kinds/prefect_deployments/prefect-deployments.js';
import { prefectProfile } from './kinds/prefect_profile/prefect-profile.js';
import { prefectServerDatabase } from './kinds/prefect_server_database/prefect-server-database.js';
import { prefectVariable } from './kinds/prefect_variable/prefect-variable.js';
import { prefectWorkPool } from './kinds/prefect_work_pool/prefect-work-pool.js';
import { prefectWorkQueue } from './kinds/prefect_work_queue/prefect-work-queue.js';
import { pythonVenv } from './kinds/python_venv/python-venv.js';
import { systemdService } from './kinds/systemd_service/systemd-service.js';
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
  prefect_work_queue: prefectWorkQueue,
  prefect_variable: prefectVariable,
  prefect_concurrency_limit: prefectConcurrencyLimit,
  prefect_block: prefectBlock,
  prefect_automation: prefectAutomation,
  prefect_deployments: prefectDeployments,
  prefect_server_database: prefectServerDatabase,
  git,
  postgres_role: postgresRole,
  postgres_database: postgresDatabase,
  database_backup: databaseBackup,
};

/** The kinds in the registry's order: the order of the schema's resource list and the README's table. */
export const resourceKinds = Object.keys(registry) as Resource['kind'][];

export function resourceType(kind: Resource['kind']): ResourceType {
  return registry[kind];
}

/** What the engine is given to work with (it imports no resource module itself). */
export const resourceTypes: ResourceTypes = { of: resourceType, prelude: factPrelude };
