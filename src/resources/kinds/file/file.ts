import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { File } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { fileProbe, parsePathFacts, type PathFacts } from '../../facts.js';
import { contentChange, ownershipChanges, ownershipCommands, readableByAll, sha256, writeFileStep } from '../../steps.js';
import { noChanges, notifyReferences, unitToken, type ResourceType } from '../../types.js';

/**
 * file: exact content (inline, templated; or a local source file, byte for byte), owner, group, mode.
 * Reads stat, sha256 and (only when it differs) the content. Converged when all match. Writes are
 * atomic; `validate` checks new content first; `backup` keeps the old version outside the directory.
 * Notifies the services in `notifies` whenever it changes.
 */
export const file: ResourceType<File, PathFacts> = {
  kind: 'file',
  defaultName: (spec) => `file:${spec.path}`,
  location: (spec) => ({ path: spec.path }),
  references: (spec) => notifyReferences(spec.notifies),
  check: (spec, { specDir }) => {
    if ((spec.content === undefined) === (spec.source === undefined))
      return [{ field: [], message: 'a file needs exactly one of content and source' }];
    if (spec.source !== undefined) {
      try {
        readFileSync(resolve(specDir, spec.source));
      } catch (error) {
        return [
          {
            field: ['source'],
            message: `cannot read ${resolve(specDir, spec.source)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          },
        ];
      }
    }
    return [];
  },
  exposure: (spec) => readableByAll(spec.mode, '0644'),
  probe: (spec) => fileProbe(spec.path, sha256(spec.content !== undefined ? Buffer.from(spec.content) : Buffer.alloc(0))),
  parse: (_spec, output) => parsePathFacts(output),
  plan(spec, actual, { specDir }) {
    const name = spec.name ?? file.defaultName(spec);
    const wanted = spec.source !== undefined ? readFileSync(resolve(specDir, spec.source)) : Buffer.from(spec.content ?? '');
    if (actual.type === 'directory' || actual.type === 'other') {
      throw new Error(`${spec.path} is a ${actual.type} on the host; reconcile will not replace it with a file`);
    }
    const exists = actual.type === 'file';
    const contentDiffers = !exists || actual.sha256 !== sha256(wanted);
    const fields = exists ? ownershipChanges(actual, spec, '0644') : [];
    // A symlink planted at a managed path is replaced by the file, never followed.
    if (actual.type === 'symlink') fields.push({ field: 'type', before: `symlink to ${actual.target}`, after: 'file' });
    if (!contentDiffers && fields.length === 0) return noChanges();
    const before = exists ? (actual.content ?? Buffer.from(`(${actual.size} bytes, too large to show)\n`)) : undefined;
    const step = contentDiffers
      ? writeFileStep({ ...spec, content: wanted, defaultMode: '0644' })
      : { script: ownershipCommands(quote(spec.path), spec, '0644') };
    return {
      now: [
        {
          id: name,
          resource: name,
          verb: exists ? 'update' : 'create',
          title: `file ${spec.path}`,
          fields,
          content: contentDiffers ? contentChange(spec.path, before, wanted) : undefined,
          steps: [step],
        },
      ],
      late: [],
      notifies: (spec.notifies ?? []).map(unitToken),
    };
  },
};
