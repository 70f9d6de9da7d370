// Generates src/model/generated/*.ts from schemas/*.schema.json, so the TypeScript types of the
// spec can never drift from the schemas that validate it at run time. `--check` fails instead of
// writing when a generated file is out of date (used by the test suite).
import { compileFromFile } from 'json-schema-to-typescript';
import { readFile, writeFile } from 'node:fs/promises';

const targets = [
  ['schemas/hosts.schema.json', 'src/model/generated/hosts.ts'],
  ['schemas/setup.schema.json', 'src/model/generated/setup.ts'],
];
const check = process.argv.includes('--check');
let stale = 0;
for (const [schema, out] of targets) {
  const ts = await compileFromFile(schema, {
    bannerComment: `/* Generated from ${schema} by scripts/gen-types.mjs; do not edit. Run: npm run gen:types */`,
    additionalProperties: false,
    unreachableDefinitions: true,
    style: { singleQuote: true },
  });
  const current = await readFile(out, 'utf8').catch(() => '');
  if (current === ts) continue;
  if (check) {
    console.error(`${out} is out of date with ${schema}: run npm run gen:types`);
    stale++;
  } else {
    await writeFile(out, ts);
    console.log(`wrote ${out}`);
  }
}
process.exit(stale ? 1 : 0);
