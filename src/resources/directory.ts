import type { Directory } from '../spec/generated/setup.js';
import type { ResourceType } from './types.js';

/** A directory with owner, group and mode. */
export const directory: ResourceType<Directory> = {
  kind: 'directory',
  defaultName: (spec) => `directory:${spec.path}`,
};
