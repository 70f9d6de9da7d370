import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ssh, useTestHosts } from '../hosts/fixture.js';
import type { TestHost } from '../hosts/host.js';
import { serveSampleProject } from '../hosts/served-repo.js';
import { reconcile, reconcileJson, workspace } from './helpers.js';

const repo = serveSampleProject();
/** The sample project as the image bakes it onto every host (a copy, not a checkout). */
const initial = repo.head();

const CHECKOUT = '/home/daniel/checkout';
const setup = (version: string, force = false) => `resources:
  - kind: package
    packages: [git]
  - kind: git
    repo: ${repo.url}
    path: ${CHECKOUT}
    version: ${version}
    user: daniel
${force ? '    force: true\n' : ''}`;

describe('git checkouts at a pinned version', () => {
  const hosts = useTestHosts(1, 'gt', { binds: [repo.bind] });
  let host: TestHost;
  let dir: string;
  const head = async () => (await ssh(host, `git -C ${CHECKOUT} rev-parse HEAD`)).stdout.trim();
  const pin = (version: string, force = false) => writeFileSync(join(dir, 'setup.yaml'), setup(version, force));

  beforeAll(() => {
    host = hosts[0]!;
    dir = workspace(hosts);
  });

  it('on a bare host: installs git, then clones at the pinned commit as the user', async () => {
    const first = repo.head();
    pin(first);
    const applied = await reconcile(dir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    expect(await head()).toBe(first);
    expect((await ssh(host, `stat -c %U ${CHECKOUT}/prefect.yaml`)).stdout.trim()).toBe('daniel');
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 120_000);

  it('a new commit pinned: check reports the checkout behind; apply moves it', async () => {
    const before = await head();
    const next = repo.commit('second');
    pin(next);
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.hosts[0]!.actions[0]!.fields).toEqual([{ field: 'commit', before: before.slice(0, 12), after: next.slice(0, 12) }]);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await head()).toBe(next);
  });

  it('a branch: the checkout follows its newest commit on the remote', async () => {
    pin('main');
    expect((await reconcile(dir, 'check')).code).toBe(0);
    const next = repo.commit('third');
    expect((await reconcile(dir, 'check')).code).toBe(2);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await head()).toBe(next);
  });

  it('local changes are drift, reported and kept; force: true discards them', async () => {
    await ssh(host, `echo '# edited on the host' >> ${CHECKOUT}/flows/live_score.py`);
    const next = repo.commit('fourth');
    const check = await reconcileJson(dir, 'check');
    expect(check.code).toBe(2);
    expect(check.hosts[0]!.problems).toEqual([
      `git:${CHECKOUT}: local changes in ${CHECKOUT} (1 file: flows/live_score.py): kept, so the checkout is not moved; commit them elsewhere, or set force: true to discard them`,
    ]);
    await reconcile(dir, 'apply');
    expect((await ssh(host, `tail -n 1 ${CHECKOUT}/flows/live_score.py`)).stdout).toBe('# edited on the host\n');
    pin('main', true);
    expect((await reconcile(dir, 'apply')).code).toBe(0);
    expect(await head()).toBe(next);
    expect((await ssh(host, `git -C ${CHECKOUT} status --porcelain`)).stdout).toBe('');
  });

  it('a directory that is not a checkout (the single box joining a fleet) is made one in place, its venv kept', async () => {
    const project = '/home/daniel/projects/projections-v2';
    const adopt = (force = false) =>
      writeFileSync(join(dir, 'setup.yaml'), setup(initial, force).replace(`path: ${CHECKOUT}`, `path: ${project}`));
    // The single box's venv and a note of its own, inside the project directory.
    await ssh(host, `mkdir -p ${project}/.venv/bin && echo venv > ${project}/.venv/bin/marker && echo mine > ${project}/NOTES`);
    await ssh(host, `echo '# edited by hand' >> ${project}/prefect.yaml`);
    adopt();
    const refused = await reconcileJson(dir, 'check');
    expect(refused.code).toBe(2);
    expect(refused.hosts[0]!.problems).toEqual([
      `git:${project}: ${project} is not a git checkout, and 1 (prefect.yaml) of its files differ from ${initial} of ${repo.url}: kept, so it is not made a checkout; commit them elsewhere, or set force: true to take the repository's version (untracked and ignored files are kept either way)`,
    ]);
    // Nothing was written by the comparison.
    expect((await ssh(host, `ls -A ${project}`)).stdout.split('\n').filter(Boolean).sort()).toEqual([
      '.venv',
      'NOTES',
      'flows',
      'prefect.yaml',
    ]);
    await ssh(host, `sed -i '$ d' ${project}/prefect.yaml`);

    const plan = await reconcileJson(dir, 'check');
    expect(plan.hosts[0]!.actions.map((a) => a.fields)).toEqual([
      [
        { field: 'checkout', before: 'a directory, not a checkout', after: initial.slice(0, 12) },
        { field: 'files of the commit it lacks', before: '1 (.gitignore)', after: 'written' },
        { field: 'untracked and ignored files', before: '2 (.venv/, NOTES)', after: 'kept' },
      ],
    ]);
    const applied = await reconcile(dir, 'apply');
    expect(applied.code, applied.stdout).toBe(0);
    expect((await ssh(host, `git -C ${project} rev-parse HEAD`)).stdout.trim()).toBe(initial);
    expect((await ssh(host, `cat ${project}/.venv/bin/marker ${project}/NOTES`)).stdout).toBe('venv\nmine\n');
    expect((await ssh(host, `git -C ${project} status --porcelain`)).stdout).toBe('?? NOTES\n');
    expect((await ssh(host, `stat -c %U ${project}/.git ${project}/.gitignore`)).stdout).toBe('daniel\ndaniel\n');
    expect((await reconcile(dir, 'check')).code).toBe(0);
  }, 120_000);
});
