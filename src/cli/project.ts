import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { GlobalOptions } from './options.js';
import { UsageError } from './usage-error.js';

/**
 * A project: one pair of spec files, named by their absolute paths. Schedules, their status and
 * the run history belong to a project, so several projects on one machine (or one user) keep their
 * own: the id names its cron entry and its systemd units, and run records carry the same paths.
 */
export interface Project {
  inventory: string;
  setup: string;
  /** Short and stable: the first 8 hex digits of the sha256 of both paths. */
  id: string;
  /** Where its files are, to name it to a person. */
  dir: string;
}

export function projectOf(files: { inventory: string; setup: string }): Project {
  const inventory = resolve(files.inventory);
  const setup = resolve(files.setup);
  const id = createHash('sha256').update(`${inventory}\0${setup}`).digest('hex').slice(0, 8);
  return { inventory, setup, id, dir: dirname(setup) };
}

/** The project -i and -f name (or that reconcile found); an error that says how to name one when there is none. */
export function currentProject(options: GlobalOptions): Project {
  if (options.missingSpec) throw new UsageError(options.missingSpec);
  return projectOf({ inventory: options.inventory, setup: options.file });
}

/** Whether a run record is of this project. */
export const ranFor = (project: Project) => (record: { inventory: string; setup: string }) =>
  record.inventory === project.inventory && record.setup === project.setup;
