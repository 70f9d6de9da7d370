import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadSpec } from '../../config/load.js';
import { connect } from '../../engine/run.js';
import { projectsWithPrefectYaml, readHost, type FoundUnit, type HostFindings } from '../../import/host-reading.js';
import { readServer, type SecretToFill } from '../../import/server-reading.js';
import { readTable } from '../../resources/kinds/prefect_profile/toml-edit.js';
import type { Resource } from '../../model/generated/setup.js';
import type { HostTarget } from '../../model/target.js';
import { packagePath } from '../../model/package-root.js';
import { ExitCode } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';

export interface ImportOptions {
  host?: string;
  out?: string;
  inventory: string;
  json?: boolean;
  acceptNewHostKeys?: boolean;
}

/** Settings whose values are secrets: written as references to fill in, never as values. */
const SECRET_SETTING = /KEY|PASSWORD|SECRET|TOKEN|AUTH_STRING/;

/**
 * `reconcile import --host NAME [--out DIR]`: reads a host set up by hand and its Prefect server and
 * writes a setup.yaml (and the host's hosts.yaml entry) that reproduces it, as Terraform's import
 * does for the box a user already has. Secret values are never written: each becomes a secret
 * reference to a file the user fills in. Refuses to overwrite anything.
 */
export async function importCommand(given: ImportOptions): Promise<ExitCode> {
  if (!given.host) throw new UsageError('import needs --host NAME: the host to read, by its name in hosts.yaml');
  const options = { ...given, host: given.host };
  const out = resolve(options.out ?? `${options.host}-import`);
  const files = [join(out, 'setup.yaml'), join(out, 'hosts.yaml')];
  const existing = files.filter((f) => existsSync(f));
  if (existing.length > 0) throw new UsageError(`${existing.join(', ')} already exist; import writes only new files (nothing was written)`);
  if (!existsSync(options.inventory))
    throw new UsageError(`no inventory at ${options.inventory}: give -i FILE, a hosts.yaml that names ${options.host}`);
  const target = await targetOf(options.inventory, options.host);

  const transport = await connect(target, { acceptNewHostKeys: options.acceptNewHostKeys });
  let setup: { resources: Resource[]; secrets: SecretToFill[]; leftOut: string[] };
  try {
    const host = await readHost(transport, target.become);
    const api = apiOf(host);
    const server = host.units.find((u) => u.serves);
    const fromServer = api ? await readServer(transport.request, api, server ? [server.unit] : []) : undefined;
    const projects = await projectsWithPrefectYaml(transport, target.become, fromServer?.projectDirs ?? []);
    const profileSecrets: SecretToFill[] = [];
    setup = {
      resources: [
        ...hostResources(host, profileSecrets),
        ...(fromServer?.resources ?? []),
        ...projects.flatMap((dir) => deploymentsOf(dir, host, api!, server)),
      ],
      secrets: [...profileSecrets, ...(fromServer?.secrets ?? [])],
      leftOut: [
        ...(api ? [] : ['the Prefect server: no unit runs `prefect server start` and no profile names PREFECT_API_URL']),
        ...(fromServer?.leftOut ?? []),
      ],
    };
  } finally {
    await transport.close();
  }

  await mkdir(join(out, 'schemas'), { recursive: true });
  await writeFile(files[0]!, setupYaml(options.host, setup.resources, setup.secrets, setup.leftOut), { flag: 'wx' });
  await writeFile(files[1]!, await hostsYaml(options.inventory, options.host), { flag: 'wx' });
  // The schemas the files' yaml-language-server lines name, as init writes them.
  for (const schema of ['hosts.schema.json', 'setup.schema.json'])
    await copyFile(join(packagePath(), 'schemas', schema), join(out, 'schemas', schema));
  if (options.json) {
    console.log(
      JSON.stringify({ wrote: files, resources: setup.resources.length, secrets: setup.secrets, leftOut: setup.leftOut }, null, 2),
    );
    return ExitCode.ok;
  }
  console.log(`wrote ${files.join(' and ')}: ${setup.resources.length} resources read from ${options.host}`);
  for (const s of setup.secrets) console.log(`  fill in ${join(out, 'secrets', s.name)} (mode 0600): ${s.what}`);
  for (const left of setup.leftOut) console.log(`  not imported: ${left}`);
  console.log(`then: reconcile check -i ${files[1]} -f ${files[0]} (in sync, once the secrets are filled in)`);
  return ExitCode.ok;
}

/** The host's connection, resolved as every command resolves it (from the inventory alone). */
async function targetOf(inventory: string, name: string): Promise<HostTarget> {
  const scratch = await mkdtemp(join(tmpdir(), 'reconcile-import-'));
  try {
    // The loader resolves connections with a setup beside the inventory: one that declares nothing but '/', read by no one.
    await writeFile(join(scratch, 'setup.yaml'), `resources:\n  - { kind: directory, path: /, hosts: [${JSON.stringify(name)}] }\n`);
    const spec = await loadSpec(inventory, join(scratch, 'setup.yaml'));
    const host = spec.hosts.find((h) => h.target.name === name);
    if (!host) throw new UsageError(`${inventory} has no host ${name}; it has ${spec.hosts.map((h) => h.target.name).join(', ')}`);
    return host.target;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The server's API: from its own unit, else what a worker or profile is told. */
function apiOf(host: HostFindings): string | undefined {
  const fromUnits = host.units.find((u) => u.serves)?.serves ?? host.units.find((u) => u.apiUrl)?.apiUrl;
  if (fromUnits) return fromUnits.replace(/\/$/, '');
  for (const unit of host.units) {
    const profile = host.profiles.get(unit.user);
    const url = unit.profile && profile ? readTable(profile.text, `profiles.${unit.profile}`)?.get('PREFECT_API_URL') : undefined;
    if (url) return url.replace(/\/$/, '');
  }
  return undefined;
}

/** The package a venv needs, the venvs, the profiles the units use, and the units. */
function hostResources(host: HostFindings, secrets: SecretToFill[]): Resource[] {
  const profiles = [...new Map(host.units.filter((u) => u.profile).map((u) => [`${u.user}:${u.profile!}`, u])).values()];
  return [
    ...(host.venvPackage && host.venvs.length > 0 ? [{ kind: 'package' as const, packages: ['python3-venv'] }] : []),
    ...host.venvs.map((v) => ({
      kind: 'python_venv' as const,
      path: v.path,
      owner: v.owner,
      packages: v.prefectVersion ? [`prefect==${v.prefectVersion}`] : ['prefect'],
    })),
    ...profiles.flatMap((u) => {
      const settings = readTable(host.profiles.get(u.user)?.text ?? '', `profiles.${u.profile!}`);
      if (!settings) return [];
      const kept = Object.fromEntries(
        [...settings].map(([key, value]) => {
          if (!SECRET_SETTING.test(key)) return [key, value];
          const name = `${u.profile!}_${key}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
          secrets.push({ name, what: `${key} of the Prefect profile ${u.profile!} of ${u.user}` });
          return [key, `{{ ${name} }}`];
        }),
      );
      return [{ kind: 'prefect_profile' as const, profile: u.profile!, user: u.user, settings: kept }];
    }),
    ...host.units.map((u) => ({
      kind: 'systemd_service' as const,
      unit: u.unit,
      content: u.content,
      enabled: u.enabled,
      state: u.active ? ('running' as const) : ('stopped' as const),
      ...(u.serves || !host.units.some((s) => s.serves) ? {} : { after: host.units.filter((s) => s.serves).map((s) => s.unit) }),
    })),
  ] as Resource[];
}

/** A project whose deployments work in it: deployed by the user and venv of the unit that works there, else the first. */
function deploymentsOf(dir: string, host: HostFindings, api: string, server: FoundUnit | undefined): Resource[] {
  const unit = host.units.find((u) => u.content.includes(`WorkingDirectory=${dir}`) && u.venv) ?? host.units.find((u) => u.venv);
  if (!unit) return [];
  return [
    {
      kind: 'prefect_deployments',
      project_dir: dir,
      prefect_file: 'prefect.yaml',
      names: 'all',
      user: unit.user,
      venv: unit.venv!,
      ...(unit.profile ? { profile: unit.profile } : {}),
      api_url: api,
      ...(server ? { after: [server.unit] } : {}),
    },
  ];
}

function setupYaml(host: string, resources: Resource[], secrets: SecretToFill[], leftOut: string[]): string {
  const header = [
    '# yaml-language-server: $schema=./schemas/setup.schema.json',
    `# Written by reconcile import from ${host}. What it reproduces is what the host had when read;`,
    '# the secrets it held are not here: write each into the file its secret names (mode 0600).',
    ...leftOut.map((l) => `# Not imported: ${l}`),
  ];
  const body = {
    ...(secrets.length > 0 ? { secrets: Object.fromEntries(secrets.map((s) => [s.name, { file: `./secrets/${s.name}` }])) } : {}),
    resources,
  };
  return `${header.join('\n')}\n${stringify(body, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** The host's entry, with the inventory's defaults folded in and its paths made absolute. */
async function hostsYaml(inventory: string, name: string): Promise<string> {
  const source = parse(await readFile(inventory, 'utf8')) as {
    defaults?: Record<string, unknown>;
    hosts: Record<string, Record<string, unknown>>;
  };
  const entry: Record<string, unknown> = { ...source.defaults, ...source.hosts[name] };
  for (const key of ['identity_file', 'known_hosts'])
    if (typeof entry[key] === 'string' && !entry[key].startsWith('~')) entry[key] = resolve(dirname(inventory), entry[key]);
  return `# yaml-language-server: $schema=./schemas/hosts.schema.json\n${stringify({ hosts: { [name]: entry } })}`;
}
