import type { Line } from '../spec/generated/setup.js';
import type { ResourceType } from './types.js';

/** One line in a file; the other lines are left alone. */
export const line: ResourceType<Line> = {
  kind: 'line',
  // Several lines may live in one file (~/.bashrc), so the line itself is part of the name.
  defaultName: (spec) => `line:${spec.path}:${spec.match ?? spec.line}`,
  check: (spec) => {
    if (spec.match === undefined) return [];
    try {
      new RegExp(spec.match);
      return [];
    } catch (error) {
      return [{ field: ['match'], message: `match: ${(error as Error).message.replace(/^Invalid regular expression: /, 'not a valid regular expression: ')}` }];
    }
  },
};
