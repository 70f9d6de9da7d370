import type { FieldChange, HttpRequest } from '../../../model/plan.js';
import type { PrefectBlock } from '../../../model/generated/setup.js';
import { ServiceUnreachable, unexpectedAnswer, type HttpCall } from '../../../transport/http.js';
import { canonicalJson } from '../../canonical-json.js';
import { quote } from '../../../shell/quote.js';
import { inLoginShell } from '../../steps.js';
import {
  apiBase,
  comparedAgainOnServer,
  readAll,
  readServerObject,
  strayRemovals,
  type ListedObject,
  type PruneScope,
} from '../../server-object.js';
import {
  afterReferences,
  compareWhenUp,
  noChanges,
  prefectObjectsToken,
  prefectServerDataToken,
  type PlanContext,
  type ResourceType,
} from '../../types.js';

/** A block schema's fields: a JSON Schema, with the paths of its secret fields (server/schemas/core.py BlockSchema). */
interface SchemaFields {
  properties?: Record<string, unknown>;
  required?: string[];
  secret_fields?: string[];
}

interface BlockSchema {
  id: string;
  fields: SchemaFields;
}

/** A block document as the server gives it with include_secrets=true. */
interface StoredBlock {
  id: string;
  data: Record<string, unknown>;
  block_schema: BlockSchema;
}

interface BlockFacts {
  unreachable?: string;
  stored?: StoredBlock;
  /** When there is no such block: its type and the type's newest schema; null when the type is not registered. */
  type?: { id: string; schema?: BlockSchema } | null;
  listed?: ListedObject[];
}

const blocksUrl = (spec: PrefectBlock) => `${apiBase(spec)}/block_types/slug/${encodeURIComponent(spec.block_type)}/block_documents`;
const blockTitle = (spec: PrefectBlock) => `${spec.block_type} block ${spec.block}`;
const documentUrl = (spec: PrefectBlock, id: string) => `${apiBase(spec)}/block_documents/${id}`;

/** Blocks of one type on one server are one namespace. */
const pruneScope = (spec: PrefectBlock): PruneScope<PrefectBlock> => ({
  noun: `${spec.block_type} block`,
  sameScope: (peer) => apiBase(peer) === apiBase(spec) && peer.block_type === spec.block_type,
  key: (peer) => peer.block,
});

/**
 * prefect_block: a block document on the Prefect server (server/api/block_documents.py), kept by its
 * type's slug and name with the field values the spec gives; a field left out is the server's (a
 * PATCH merges, as Prefect's own does). The block is read with its secrets, so a secret field is
 * compared by value; it is shown only as [hidden], and must come from `secrets:`.
 */
export const prefectBlock: ResourceType<PrefectBlock, BlockFacts> = {
  kind: 'prefect_block',
  defaultName: (spec) => `prefect_block:${spec.block_type}/${spec.block}`,
  provides: (spec) => [prefectObjectsToken(apiBase(spec)), prefectServerDataToken(apiBase(spec))],
  onNotify: (spec, _actual, because) => comparedAgainOnServer(spec.name ?? prefectBlock.defaultName(spec), blockTitle(spec), because),
  references: (spec) => afterReferences(spec.after),
  probe: () => 'true',
  parse: () => ({}),
  async observe(spec, http) {
    try {
      const facts = await readBlock(spec, http);
      return { into: () => facts };
    } catch (error) {
      if (error instanceof ServiceUnreachable) return { into: () => ({ unreachable: error.message }) };
      throw error;
    }
  },
  plan(spec, actual, context) {
    const resource = spec.name ?? prefectBlock.defaultName(spec);
    const title = blockTitle(spec);
    if (actual.unreachable) return compareWhenUp(resource, title, { url: apiBase(spec), why: actual.unreachable });
    const schema = actual.stored?.block_schema ?? actual.type?.schema;
    if (!actual.stored && !schema) {
      if (!spec.register) return { ...noChanges(), problems: [notRegistered(spec, actual.type === null)] };
      // Registered first; then the block is planned again against the type and schema the server now has.
      const steps = [{ script: registerScript(spec, spec.register) }, { replan: { resource } }];
      const because = `block type ${spec.block_type} is not registered`;
      return {
        now: [],
        late: [{ id: `register ${spec.block_type}`, resource, verb: 'create', title, because, fields: [], steps }],
        notifies: [],
      };
    }
    const problems = fieldProblems(spec, schema!.fields, context, !actual.stored);
    if (problems.length > 0) return { ...noChanges(), problems };
    const fields = differences(spec, actual.stored, schema!.fields);
    const removals = strayRemovals(spec, context, actual, pruneScope(spec));
    if (actual.stored && fields.length === 0) return removals.length === 0 ? noChanges() : { now: [], late: removals, notifies: [] };
    const request: HttpRequest = actual.stored
      ? { method: 'PATCH', url: documentUrl(spec, actual.stored.id), body: { data: spec.data, merge_existing_data: true } }
      : {
          method: 'POST',
          url: `${apiBase(spec)}/block_documents/`,
          body: { name: spec.block, block_type_id: actual.type!.id, block_schema_id: schema!.id, data: spec.data },
        };
    const verb = actual.stored ? 'update' : 'create';
    return { now: [], late: [{ id: resource, resource, verb, title, fields, steps: [{ request }] }, ...removals], notifies: [] };
  },
};

/** The block by name; when there is none, its type and newest schema (what a create needs); with prune, every block of the type. */
async function readBlock(spec: PrefectBlock, http: HttpCall): Promise<BlockFacts> {
  const [read, listed] = await Promise.all([
    readServerObject<StoredBlock>(http, `${blocksUrl(spec)}/name/${encodeURIComponent(spec.block)}?include_secrets=true`),
    spec.prune ? listBlocks(spec, http) : undefined,
  ]);
  if ('unreachable' in read) return { unreachable: read.unreachable };
  if (read.found) return { stored: read.found, listed };
  const type = await readServerObject<{ id: string }>(http, `${apiBase(spec)}/block_types/slug/${encodeURIComponent(spec.block_type)}`);
  if ('unreachable' in type) return { unreachable: type.unreachable };
  if (!type.found) return { type: null, listed };
  const url = `${apiBase(spec)}/block_schemas/filter`;
  const schemas = await http('POST', url, { block_schemas: { block_type_id: { any_: [type.found.id] } }, limit: 1 });
  if (schemas.status !== 200) throw unexpectedAnswer('POST', url, schemas);
  return { type: { id: type.found.id, schema: (schemas.body as BlockSchema[])[0] }, listed };
}

async function listBlocks(spec: PrefectBlock, http: HttpCall): Promise<ListedObject[]> {
  const filter = { block_types: { slug: { any_: [spec.block_type] } }, block_documents: { is_anonymous: { eq_: false } } };
  const blocks = (await readAll(http, `${apiBase(spec)}/block_documents/filter`, filter)) as { id: string; name: string }[];
  return blocks.map((b) => ({ key: b.name, url: documentUrl(spec, b.id) }));
}

/** `prefect block register -m MODULE` (or `-f FILE`) as the user, with the venv's Prefect, against this server. */
function registerScript(spec: PrefectBlock, register: NonNullable<PrefectBlock['register']>): string {
  const source = register.module !== undefined ? `-m ${quote(register.module)}` : `-f ${quote(register.file!)}`;
  return inLoginShell(
    register.user,
    `PREFECT_API_URL=${quote(apiBase(spec))} ${quote(`${register.venv}/bin/prefect`)} block register ${source}`,
  );
}

function notRegistered(spec: PrefectBlock, typeMissing: boolean): string {
  return typeMissing
    ? `block type '${spec.block_type}' is not registered on the server: register it with \`prefect block register -m MODULE\` (the module that defines it, e.g. prefect_aws), or give the block register: {venv, user, module} and apply does it`
    : `block type '${spec.block_type}' has no schema on the server: register it again with \`prefect block register -m MODULE\``;
}

/** What Prefect's client would refuse when it loads the block, and a secret given in clear. */
function fieldProblems(spec: PrefectBlock, fields: SchemaFields, context: PlanContext, creating: boolean): string[] {
  const known = Object.keys(fields.properties ?? {});
  const unknown = known.length === 0 ? [] : Object.keys(spec.data).filter((key) => !known.includes(key));
  const missing = creating ? (fields.required ?? []).filter((key) => !(key in spec.data)) : [];
  const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const inClear = Object.keys(spec.data).filter((key) => isSecretField(fields, key) && !context.isSecret(text(spec.data[key])));
  return [
    ...unknown.map((key) => `a ${spec.block_type} block has no field '${key}' (its fields: ${known.join(', ')})`),
    ...missing.map((key) => `a ${spec.block_type} block needs the field '${key}'`),
    ...inClear.map(
      (key) => `'${key}' is a secret field of a ${spec.block_type} block: give its value from secrets: ({{ NAME }}), not in setup.yaml`,
    ),
  ];
}

/** A top-level field is secret when its schema lists it, or anything under it (`headers.*`), as secret. */
const isSecretField = (fields: SchemaFields, key: string) =>
  (fields.secret_fields ?? []).some((path) => path === key || path.startsWith(`${key}.`));

/** The fields whose stored value differs, as JSON; a secret one never shows its value. */
function differences(spec: PrefectBlock, stored: StoredBlock | undefined, fields: SchemaFields): FieldChange[] {
  return Object.entries(spec.data)
    .filter(([key, value]) => !stored || !(key in stored.data) || canonicalJson(stored.data[key]) !== canonicalJson(value))
    .map(([key, value]) => {
      const before = stored && key in stored.data ? stored.data[key] : undefined;
      if (isSecretField(fields, key)) return { field: key, before: before === undefined ? null : '[hidden]', after: '[hidden]' };
      return { field: key, before: before === undefined ? null : JSON.stringify(before), after: JSON.stringify(value) };
    });
}
