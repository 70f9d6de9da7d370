import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { packagePath } from '../../model/package-root.js';
import { ExitCode } from '../exit-codes.js';
import { UsageError } from '../usage-error.js';

export interface InitOptions {
  address?: string;
  user?: string;
  json?: boolean;
}

/** Without --address: a name under .invalid (RFC 2606), which no resolver answers, so nothing is ever contacted by mistake. */
const PLACEHOLDER_ADDRESS = 'prefect-host.invalid';

/** The installed package: the starter files are the repository's own seed setup, shipped with it. */
const packageRoot = packagePath();
/** The seed's host and login user, replaced by the ones given. */
const SEED = { address: '100.78.180.34', user: 'daniel' };
const SCHEMAS = ['hosts.schema.json', 'setup.schema.json'];

/**
 * `reconcile init [--address ADDR] [--user USER] [DIR]`: a starter hosts.yaml and setup.yaml (the
 * single-box Prefect setup) and, beside them, the JSON Schemas their `yaml-language-server` lines
 * name. Copies rather than a path into the installed package: the relative `./schemas/` reference
 * then resolves for every editor and every colleague who clones the directory, offline, wherever
 * npm put the package, and the schemas match the version that wrote the files. Refuses to
 * overwrite anything.
 */
export async function initCommand(dir: string, options: InitOptions): Promise<ExitCode> {
  const user = options.user ?? userInfo().username;
  const address = options.address ?? PLACEHOLDER_ADDRESS;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user))
    throw new UsageError(`--user '${user}' is not a login name (lower-case letters, digits, '_' and '-')`);
  if (!/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/.test(address)) throw new UsageError(`--address '${address}' is not a host name or IP address`);
  const targets = ['hosts.yaml', 'setup.yaml', ...SCHEMAS.map((s) => join('schemas', s))].map((f) => join(dir, f));
  const existing = targets.filter((t) => existsSync(t));
  if (existing.length > 0)
    throw new UsageError(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; init writes only new files (nothing was written)`,
    );

  const home = user === 'root' ? '/root' : `/home/${user}`;
  const starter = (text: string) =>
    text
      .replaceAll(SEED.address, address)
      .replaceAll(`/home/${SEED.user}`, home)
      .replace(new RegExp(`\\b${SEED.user}\\b`, 'g'), user);
  await mkdir(join(dir, 'schemas'), { recursive: true });
  for (const name of ['hosts.yaml', 'setup.yaml']) {
    await writeFile(join(dir, name), starter(await readFile(join(packageRoot, name), 'utf8')), { flag: 'wx' });
  }
  for (const schema of SCHEMAS) await copyFile(join(packageRoot, 'schemas', schema), join(dir, 'schemas', schema));

  if (options.json) {
    console.log(JSON.stringify({ wrote: targets.map((t) => resolve(t)), user, address, addressIsPlaceholder: !options.address }, null, 2));
    return ExitCode.ok;
  }
  const cd = relative(process.cwd(), dir) ? `cd ${relative(process.cwd(), dir)} && ` : '';
  console.log(
    [
      `wrote ${targets.map((t) => relative(process.cwd(), t) || t).join(', ')}`,
      `for ${user}@${address}: the Prefect server and worker as systemd services, their venv, profile, work pool and deployments.`,
      ...(options.address ? [] : [`set the host's address in hosts.yaml (it says ${PLACEHOLDER_ADDRESS}), or start again with --address`]),
      '',
      'next:',
      `  ${cd}reconcile validate      check both files (nothing is sent anywhere)`,
      '  reconcile plan          see every change apply would make (the host must be in ~/.ssh/known_hosts: ssh to it once)',
      '  reconcile apply         converge the host',
    ].join('\n'),
  );
  return ExitCode.ok;
}
