import type { File } from '../spec/generated/setup.js';
import { unitToken, type ResourceType } from './types.js';

/** A file with exact content, written atomically. */
export const file: ResourceType<File> = {
  kind: 'file',
  defaultName: (spec) => `file:${spec.path}`,
  references: (spec) =>
    (spec.notifies ?? []).map((unit, i) => ({ field: ['notifies', i], token: unitToken(unit), what: 'a systemd_service' })),
  check: (spec) =>
    (spec.content === undefined) === (spec.source === undefined)
      ? [{ field: [], message: 'a file needs exactly one of content and source' }]
      : [],
};
