import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../model/diagnostic.js';
import { packagePath } from '../model/package-root.js';
import { didYouMean } from './suggest.js';
import { positionAt, type YamlSource } from './yaml-source.js';

// The generated validators are CommonJS (ajv's standalone output); require() loads them.
const require = createRequire(import.meta.url);

type Schema = Record<string, unknown>;
export type SchemaName = 'hosts' | 'setup';

export function readSchema(name: SchemaName | 'report'): Schema {
  return JSON.parse(readFileSync(packagePath('schemas', `${name}.schema.json`), 'utf8')) as Schema;
}

const compiled = new Map<SchemaName, { validate: ValidateFunction; root: Schema }>();

/** The validator generated from the schema at build time (schemas/compiled, npm run gen:types): nothing is compiled at start-up. */
function validatorFor(name: SchemaName) {
  let entry = compiled.get(name);
  if (!entry) {
    entry = { validate: require(packagePath('schemas', 'compiled', `${name}.cjs`)) as ValidateFunction, root: readSchema(name) };
    compiled.set(name, entry);
  }
  return entry;
}

/** Validates a plain value against a schema; each error is located at its YAML node in `source`. */
export function validateAgainstSchema(name: SchemaName, value: unknown, source: YamlSource): Diagnostic[] {
  const { validate, root } = validatorFor(name);
  if (validate(value)) return [];
  return relevantErrors(validate.errors ?? []).map((error) => locate(error, source, root));
}

/**
 * ajv reports every failed branch of a oneOf along with the oneOf itself; a person wants one line
 * saying which forms are allowed. Discriminated unions (resources) are already narrowed by ajv.
 */
function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  // A bad mapping key is reported by the keyword that failed inside propertyNames; ajv adds a vaguer repeat.
  return errors
    .filter((e) => e.keyword !== 'propertyNames')
    .filter(
      (e) =>
        !oneOfs.some(
          (o) =>
            o !== e && e.schemaPath.startsWith(o.schemaPath.replace(/\/oneOf$/, '/oneOf/')) && e.instancePath.startsWith(o.instancePath),
        ),
    );
}

function pathOf(error: ErrorObject): string[] {
  return error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function locate(error: ErrorObject, source: YamlSource, root: Schema): Diagnostic {
  const path = pathOf(error);
  const { field, message, at } = describe(error, path, root);
  const position = positionAt(source, field, at);
  return { file: source.file, ...position, message };
}

interface Description {
  field: string[];
  message: string;
  at: 'value' | 'key';
}

function describe(error: ErrorObject, path: string[], root: Schema): Description {
  const parent = (error.parentSchema ?? {}) as Schema;
  const label = labelOf(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const key = String(params.additionalProperty ?? params.unevaluatedProperty);
      const known = knownKeys(parent, root);
      return {
        field: [...path, key],
        at: 'key',
        message: `unknown key '${key}'${didYouMean(key, known) || `; allowed: ${known.join(', ')}`}`,
      };
    }
    case 'required':
      return { field: path, at: 'value', message: `${label}missing required key '${String(params.missingProperty)}'` };
    case 'discriminator':
      return describeDiscriminator(params, path, root);
    case 'type': {
      const hint = parent['x-type-error'];
      return {
        field: path,
        at: 'value',
        message: `${label}${typeof hint === 'string' ? hint : `must be ${article(String(params.type))}, not ${kindOf(error.data)}`}`,
      };
    }
    case 'enum':
    case 'const': {
      const allowed = (params.allowedValues as unknown[] | undefined) ?? [params.allowedValue];
      return {
        field: path,
        at: 'value',
        message: `${label}must be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}, not ${JSON.stringify(error.data)}${didYouMean(String(error.data), allowed.map(String))}`,
      };
    }
    case 'pattern': {
      const custom = typeof parent.patternErrorMessage === 'string' ? parent.patternErrorMessage : undefined;
      const key = error.propertyName;
      if (key !== undefined)
        return { field: [...path, key], at: 'key', message: `'${key}': ${custom ?? `must match ${String(params.pattern)}`}` };
      return { field: path, at: 'value', message: `${label}${custom ?? `must match ${String(params.pattern)}`}` };
    }
    case 'oneOf': {
      const forms = ((parent.oneOf as Schema[] | undefined) ?? []).map((s) =>
        typeof s.description === 'string' ? s.description : JSON.stringify(s),
      );
      return { field: path, at: 'value', message: `${label}must be ${forms.join(' or ')}` };
    }
    case 'minLength':
      return { field: path, at: 'value', message: `${label}must not be empty` };
    case 'minItems':
    case 'minProperties':
    case 'maxItems':
    case 'maxProperties': {
      const n = Number(params.limit);
      const hint = parent['x-count-error'];
      const bound = error.keyword.startsWith('min') ? 'at least' : 'at most';
      return {
        field: path,
        at: 'value',
        message: `${label}${typeof hint === 'string' ? hint : `must have ${bound} ${n} ${n === 1 ? 'entry' : 'entries'}`}`,
      };
    }
    default:
      return { field: path, at: 'value', message: `${label}${error.message ?? 'is invalid'}` };
  }
}

function describeDiscriminator(params: Record<string, unknown>, path: string[], root: Schema): Description {
  const kinds = resourceKindsOf(root);
  if (params.error === 'mapping') {
    const value = String(params.tagValue);
    return {
      field: [...path, 'kind'],
      at: 'value',
      message: `unknown resource kind '${value}'${didYouMean(value, kinds)}; kinds: ${kinds.join(', ')}`,
    };
  }
  return { field: [...path, 'kind'], at: 'value', message: `kind must be a string naming a resource type: ${kinds.join(', ')}` };
}

/** "resources[2].mode: " for nested values; top-level keys speak for themselves. */
function labelOf(path: string[]): string {
  if (path.length === 0) return '';
  const text = path.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  return `${text}: `;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${article(typeof value)} (${JSON.stringify(value)})`;
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    integer: 'an integer',
    string: 'a string',
    number: 'a number',
    boolean: 'a boolean (true or false)',
    null: 'null',
  };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

/** Keys a mapping schema allows, following allOf and local $refs (unevaluatedProperties needs this). */
function knownKeys(schema: Schema, root: Schema): string[] {
  const own = Object.keys((schema.properties as Schema | undefined) ?? {});
  const inherited = ((schema.allOf as Schema[] | undefined) ?? []).flatMap((s) => knownKeys(resolveRef(s, root), root));
  return [...new Set([...own, ...inherited])].filter((k) => k !== '$schema');
}

function resolveRef(schema: Schema, root: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  return ref
    .slice(2)
    .split('/')
    .reduce<Schema>((node, key) => (node[key] ?? {}) as Schema, root);
}

function resourceKindsOf(root: Schema): string[] {
  const resource = resolveRef({ $ref: '#/$defs/resource' }, root);
  return ((resource.oneOf as Schema[] | undefined) ?? []).map((s) => {
    const kind = (resolveRef(s, root).properties as Schema).kind as Schema;
    return String(kind.const);
  });
}
