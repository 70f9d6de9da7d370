import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isAlive, run } from './exec.js';

/**
 * The test-host image: a Debian root built once per machine with debootstrap and cached under a
 * key derived from its inputs, so changing the package list or a fixture rebuilds it. Builds go to
 * a temporary directory that is renamed into place, so a concurrent build can never leave a
 * half-built image behind: the loser of the rename race throws its copy away.
 */
export const cacheDir = process.env.RECONCILE_TESTHOST_CACHE ?? '/var/cache/reconcile-testhosts';
const hostsDir = new URL('.', import.meta.url).pathname;
const mirror = process.env.RECONCILE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** The Debian releases test hosts run: 12 (the default) and 13. */
export const RELEASES = { bookworm: 'Debian 12', trixie: 'Debian 13' } as const;
export type Release = keyof typeof RELEASES;

export async function ensureImage(
  log: (line: string) => void = () => {},
  release: Release = 'bookworm',
): Promise<{ image: string; aptRepo: string }> {
  await removeAbandonedBuilds();
  const packages = await packageList('image/packages.txt');
  const repoOnly = await packageList('repo-packages.txt');
  const baseKey = digest([release, 'minbase', ...packages].join('\n'));
  const base = await buildOnce(join(cacheDir, `base-${baseKey}`), log, async (dir) => {
    log(`debootstrap of a ${RELEASES[release]} base (about 2 minutes, once per machine) into ${dir}`);
    await run('debootstrap', ['--variant=minbase', `--include=${packages.join(',')}`, release, dir, mirror], { timeoutMs: 15 * 60_000 });
  });
  // The hosts' apt source: the very .debs debootstrap installed into the base, indexed. Real apt-get
  // installs from it inside a host, without the network, at the versions the image has.
  // Also the packages a setup may install that the image never has (PostgreSQL), with what they need.
  const aptRepo = await buildOnce(join(cacheDir, `apt-${digest([baseKey, ...repoOnly].join('\n'))}`), log, async (dir) => {
    await run('sh', ['-c', 'cp "$1"/var/cache/apt/archives/*.deb "$2"/', 'sh', base, dir]);
    await downloadPackages(base, repoOnly, dir, log);
    await run('python3', [join(hostsDir, 'image/apt-index.py'), dir]);
  });
  const imageKey = digest(baseKey + (await digestTree([join(hostsDir, 'image'), join(hostsDir, 'standin')])));
  const image = await buildOnce(join(cacheDir, `image-${imageKey}`), log, async (dir) => {
    log(`customising the test-host image in ${dir}`);
    await run('cp', ['-a', '--reflink=auto', `${base}/.`, dir]);
    await run('sh', [join(hostsDir, 'image/customize.sh'), dir, hostsDir]);
  });
  return { image, aptRepo };
}

async function packageList(file: string): Promise<string[]> {
  return (await readFile(join(hostsDir, file), 'utf8'))
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/**
 * The .debs of `packages` and of everything they need beyond the base, recommended ones included,
 * from the base's own Debian mirror: apt-get --download-only in a scratch copy of the base.
 */
async function downloadPackages(base: string, packages: string[], into: string, log: (line: string) => void): Promise<void> {
  if (packages.length === 0) return;
  log(`downloading ${packages.join(', ')} and what they need into the hosts' apt repository`);
  const scratch = `${into}.scratch`;
  try {
    await run('cp', ['-a', '--reflink=auto', `${base}/.`, scratch]);
    await run('cp', ['/etc/resolv.conf', join(scratch, 'etc/resolv.conf')]);
    await run('chroot', [scratch, 'apt-get', '-qq', 'update'], { timeoutMs: 10 * 60_000 });
    await run('chroot', [scratch, 'apt-get', '-qq', '-y', '--download-only', 'install', ...packages], { timeoutMs: 15 * 60_000 });
    await run('sh', ['-c', 'cp "$1"/var/cache/apt/archives/*.deb "$2"/', 'sh', scratch, into]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function buildOnce(target: string, log: (line: string) => void, build: (dir: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return target;
  const temporary = `${target}.building-${process.pid}-${Date.now()}`;
  await mkdir(temporary, { recursive: true });
  try {
    await build(temporary);
    await rename(temporary, target).catch(async (error: unknown) => {
      if (!existsSync(target)) throw error;
      log(`another build of ${target} finished first; keeping it`);
      await rm(temporary, { recursive: true, force: true });
    });
    return target;
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Content hash of every file under the given directories (path and bytes). */
async function digestTree(roots: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const root of roots) {
    const files = (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.endsWith('.pyc'))
      .map((e) => join(e.parentPath, e.name))
      .sort();
    for (const file of files)
      hash
        .update(relative(hostsDir, file))
        .update('\0')
        .update(await readFile(file))
        .update('\0');
  }
  return hash.digest('hex');
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** A build whose process died (interrupted run) leaves its temporary directory; nobody else will. */
async function removeAbandonedBuilds(): Promise<void> {
  if (!existsSync(cacheDir)) return;
  for (const entry of await readdir(cacheDir)) {
    const pid = Number(/\.building-(\d+)-/.exec(entry)?.[1]);
    if (pid && !isAlive(pid)) await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
}
