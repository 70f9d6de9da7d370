import { parseDocument, type ScalarTag, type Tags } from 'yaml';

/**
 * prefect.yaml as Prefect reads it: PyYAML's `yaml.safe_load` (YAML 1.1 with `<<` merge keys), not
 * YAML 1.2. The npm `yaml` package's 1.1 schema is close but not PyYAML's: it takes `y`/`n` for
 * booleans, `1e3` (no dot, no exponent sign) for a float, and gives timestamps as JS Dates. The tags
 * below use PyYAML's own resolver patterns (yaml/resolver.py) and turn timestamps into the text that
 * pydantic's JSON mode makes of the Python datetime or date, which is what Prefect sends the server.
 */
export function parsePyYaml(text: string): unknown {
  if (!parsedTexts.has(text)) parsedTexts.set(text, deepFreeze(parseOnce(text)));
  return parsedTexts.get(text);
}

/**
 * Each distinct prefect.yaml is parsed once per run: a fleet's hosts share one project, and parsing
 * it again for each host was most of the control side's CPU per extra host. Frozen, so no reader can
 * change what the next host gets. Errors are not kept (they are thrown again, from a fresh parse).
 */
const parsedTexts = new Map<string, unknown>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function parseOnce(text: string): unknown {
  const document = parseDocument(text, { version: '1.1', merge: true, customTags: pyYamlTags, uniqueKeys: false });
  if (document.errors.length > 0) throw new Error(document.errors[0]!.message.split('\n')[0]);
  return document.toJS({ maxAliasCount: 1000 });
}

const BOOL = 'tag:yaml.org,2002:bool';
const FLOAT = 'tag:yaml.org,2002:float';
const INT = 'tag:yaml.org,2002:int';
const TIMESTAMP = 'tag:yaml.org,2002:timestamp';

const pyBool = (value: boolean, test: RegExp): ScalarTag => ({
  identify: (v) => v === value,
  default: true,
  tag: BOOL,
  test,
  resolve: () => value,
});

const pyFloat: ScalarTag = {
  identify: (v) => typeof v === 'number' && !Number.isInteger(v),
  default: true,
  tag: FLOAT,
  test: /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  resolve: (source) => {
    const text = source.replace(/_/g, '').toLowerCase();
    if (text.endsWith('.nan')) return NaN;
    if (text.endsWith('.inf')) return text.startsWith('-') ? -Infinity : Infinity;
    return text.includes(':') ? sexagesimal(text) : Number(text);
  },
};

/** Decimal and base-60 integers as PyYAML reads them (`09` is no integer there: it stays a string). */
const pyInt: ScalarTag = {
  identify: (v) => typeof v === 'number' && Number.isInteger(v),
  default: true,
  tag: INT,
  test: /^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  resolve: (source) => {
    const text = source.replace(/_/g, '');
    return text.includes(':') ? sexagesimal(text) : Number(text);
  },
};

function sexagesimal(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  return (
    sign *
    text
      .replace(/^[-+]/, '')
      .split(':')
      .reduce((total, part) => total * 60 + Number(part), 0)
  );
}

const pyTimestamp: ScalarTag = {
  identify: () => false,
  default: true,
  tag: TIMESTAMP,
  test: /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$/,
  resolve: pydanticDateTime,
};

/** The ISO text pydantic writes for the date or datetime PyYAML builds from a YAML 1.1 timestamp. */
function pydanticDateTime(source: string): string {
  const m =
    /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/.exec(
      source,
    )!;
  const two = (s: string) => s.padStart(2, '0');
  const date = `${m[1]}-${two(m[2]!)}-${two(m[3]!)}`;
  if (m[4] === undefined) return date;
  // PyYAML keeps six digits of a fraction; Python prints it only when it is not zero.
  const micro = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  const fraction = /^0*$/.test(micro) ? '' : `.${micro}`;
  return `${date}T${two(m[4])}:${m[5]}:${m[6]}${fraction}${offset(m[8])}`;
}

function offset(zone: string | undefined): string {
  if (zone === undefined) return '';
  if (zone === 'Z') return 'Z';
  const [hours, minutes = '00'] = zone.slice(1).split(':');
  const text = `${zone[0]}${hours!.padStart(2, '0')}:${minutes}`;
  // pydantic writes a zero offset as Z.
  return /^[-+]00:00$/.test(text) ? 'Z' : text;
}

function pyYamlTags(tags: Tags): Tags {
  const replaced = new Set([BOOL, FLOAT, TIMESTAMP]);
  const kept = tags.filter((t) => {
    if (typeof t === 'string') return true;
    const tag = t as ScalarTag;
    // The decimal int of the 1.1 schema reads `09` as 9; PyYAML's does not. Binary, octal and hex stay.
    if (tag.tag === INT && String(tag.test) === String(/^[-+]?[0-9][0-9_]*$/)) return false;
    return !replaced.has(tag.tag);
  });
  return [
    ...kept,
    pyInt,
    pyBool(true, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/),
    pyBool(false, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/),
    pyFloat,
    pyTimestamp,
  ];
}
