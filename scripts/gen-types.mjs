// Generates src/model/generated/*.ts from schemas/*.schema.json, so the TypeScript types of the
// spec can never drift from the schemas that validate it at run time, and README.md's table of kinds. `--check` fails instead of
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
// The README's table of resource kinds is the schema's own description of each, in the order the
// schema lists them: a new kind documents itself there.
const README = 'README.md';
const [begin, end] = ['<!-- kinds: generated from schemas/setup.schema.json by npm run gen:types -->', '<!-- /kinds -->'];
const setup = JSON.parse(await readFile('schemas/setup.schema.json', 'utf8'));
const rows = setup.$defs.resource.oneOf.map(({ $ref }) => {
  const kind = $ref.split('/').at(-1);
  return `| \`${kind}\` | ${setup.$defs[kind].description.replaceAll('|', '\\|')} |`;
});
const table = [begin, '| kind | manages |', '| --- | --- |', ...rows, end].join('\n');
const readme = await readFile(README, 'utf8');
const [before, rest] = readme.split(begin);
if (rest === undefined) throw new Error(`${README} has no ${begin} line`);
const wanted = `${before}${table}${rest.slice(rest.indexOf(end) + end.length)}`;
if (wanted !== readme) {
  if (check) {
    console.error(`${README}'s table of kinds is out of date with schemas/setup.schema.json: run npm run gen:types`);
    stale++;
  } else {
    await writeFile(README, wanted);
    console.log(`wrote the table of kinds in ${README}`);
  }
}
process.exit(stale ? 1 : 0);
