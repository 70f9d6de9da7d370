import { createTwoFilesPatch } from 'diff';
import type { ContentChange } from '../model/plan.js';

/** The unified diff of a text content change (host -> desired), as lines, without jsdiff's ==== separator. */
export function unifiedDiff(change: ContentChange): string[] {
  return createTwoFilesPatch(
    `${change.path} (on host)`,
    `${change.path} (desired)`,
    change.before ?? '',
    change.after,
    undefined,
    undefined,
    { context: 3 },
  )
    .split('\n')
    .slice(1);
}
