import { createHash } from 'node:crypto';
import { isAlias, visit } from 'yaml';
import { sortDiagnostics, SpecError, type Diagnostic } from '../model/diagnostic.js';
import type { ReconcileInventoryHostsYaml as Inventory } from '../model/generated/hosts.js';
import type { ReconcileDesiredStateSetupYaml as Setup, Resource } from '../model/generated/setup.js';
import type { HostSpec, Spec } from '../model/spec.js';
import { resolveTargets } from './connection.js';
import { checkCrossHostReferences } from './cross-host.js';
import { resolveResources } from './declared-resources.js';
import { checkTargeting, resolveGroups } from './groups.js';
import { inventoryValues, resolveVariables, withSecrets } from './host-variables.js';
import { validateAgainstSchema } from './schema-validator.js';
import { resolveSecrets, withoutSecrets, type SecretMode } from './secrets.js';
import { SpecFiles } from './spec-files.js';
import { loadYaml, type YamlSource } from './yaml-source.js';

/**
 * Loading the spec: both files parsed and checked against their schemas, then resolved for every
 * host (secrets, connections, groups, variables, resources, references across hosts), every
 * problem collected before any is reported.
 */

/** An anchor/alias bomb expands a few lines into gigabytes; far fewer aliases suffice for any real spec. */
const MAX_ALIAS_EXPANSIONS = 100;

/** Loads, validates and resolves both spec files; throws SpecError with every problem found. */
export async function loadSpec(inventoryFile: string, setupFile: string, secretMode: SecretMode = 'resolve'): Promise<Spec> {
  const [inventorySource, setupSource] = await Promise.all([loadYaml(inventoryFile), loadYaml(setupFile)]);
  const problems: Diagnostic[] = [];
  if (!inventorySource.ok) problems.push(...inventorySource.diagnostics);
  if (!setupSource.ok) problems.push(...setupSource.diagnostics);
  const inventory = inventorySource.ok ? toPlain(inventorySource.value, 'hosts', problems) : undefined;
  const setup = setupSource.ok ? toPlain(setupSource.value, 'setup', problems) : undefined;
  if (!inventory || !setup || problems.length > 0 || !inventorySource.ok || !setupSource.ok) throw new SpecError(sortDiagnostics(problems));

  const files = new SpecFiles(inventorySource.value, setupSource.value);
  const secrets = resolveSecrets(setup.secrets, secretMode, files.setup, files.problems);
  const targets = await resolveTargets(inventory, secrets, files);
  const groups = resolveGroups(inventory, files.inventory, files.problems);
  checkTargeting(setup, groups, files.setup, files.problems);
  const sources = { inventory, setup, groups, others: inventoryValues(inventory, targets, groups) };
  const hosts = Object.entries(inventory.hosts).map(([name, host], i): HostSpec => {
    const target = targets[i]!;
    const vars = resolveVariables(name, { ...host, address: target.address }, sources, files);
    const applies = (r: Resource) => r.hosts === undefined || groups.hosts(r.hosts).includes(name);
    const view = { host: name, applies, vars: withSecrets(vars, secrets, files), groups, secrets };
    return { target, groups: groups.of(name), vars, resources: resolveResources(setup, view, files) };
  });
  checkCrossHostReferences(hosts, files);
  // A message may quote a filled-in value (a resource named by its line): no secret in it.
  if (files.problems.length > 0)
    throw new SpecError(sortDiagnostics(files.problems).map((p) => ({ ...p, message: withoutSecrets(p.message, secrets) })));
  return { inventoryFile, setupFile, specHash: hashSources([files.inventory, files.setup]), hosts, secrets, warnings: files.warnings };
}

/** What each schema describes once a document has passed it. */
interface SchemaShapes {
  hosts: Inventory;
  setup: Setup;
}

/** YAML document to plain data, refusing alias bombs, then checked against its schema. */
function toPlain<K extends keyof SchemaShapes>(source: YamlSource, schema: K, problems: Diagnostic[]): SchemaShapes[K] | undefined {
  let value: unknown;
  try {
    value = source.doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    const at = firstAliasOffset(source);
    problems.push({
      file: source.file,
      ...source.position(at),
      message: `YAML: ${(error as Error).message} (aliases may expand at most ${MAX_ALIAS_EXPANSIONS} times)`,
    });
    return undefined;
  }
  const diagnostics = validateAgainstSchema(schema, value, source);
  problems.push(...diagnostics);
  return diagnostics.length === 0 ? (value as SchemaShapes[K]) : undefined;
}

function firstAliasOffset(source: YamlSource): number {
  let offset = 0;
  visit(source.doc, {
    Alias(_key, node) {
      if (isAlias(node) && node.range) offset = node.range[0];
      return visit.BREAK;
    },
  });
  return offset;
}

function hashSources(sources: YamlSource[]): string {
  const hash = createHash('sha256');
  for (const s of sources) hash.update(s.text).update('\0');
  return hash.digest('hex');
}
