import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resourceKinds } from '../../src/resources/registry.js';

/**
 * What adding a kind takes: its folder (module, schema fragment, table test with a converged
 * recording) and one registry line. The folder is named after the kind, so nothing else maps them.
 */
describe('every registered kind has its folder', () => {
  const KINDS = 'src/resources/kinds';

  it.each(resourceKinds)('%s: schema.json, a table test and a converged recording', (kind) => {
    const files = readdirSync(join(KINDS, kind));
    expect(files).toContain('schema.json');
    expect(files).toContain(`${kind}.table.test.ts`);
    expect(files.some((f) => /^converged(-[\w-]+)?\.json$/.test(f))).toBe(true);
  });

  it('has no folder the registry does not know', () => {
    const folders = readdirSync(KINDS, { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(folders.map((e) => e.name).sort()).toEqual([...resourceKinds].sort());
  });
});
