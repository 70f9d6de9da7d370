import { createRequire } from 'node:module';
import { readSchema } from '../src/config/schema-validator.js';

const require = createRequire(import.meta.url);

/** What is wrong with a report against schemas/report.schema.json; empty when it is valid. */
export function validateReport(report: unknown): string[] {
  const Ajv2020 = (require('ajv/dist/2020.js') as { default: typeof import('ajv').default }).default;
  const addFormats = require('ajv-formats') as (ajv: InstanceType<typeof Ajv2020>) => void;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(readSchema('report'));
  return validate(report) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
