import { testContext } from '../../../../test/plan-context.js';
import { describe, expect, it } from 'vitest';
import { git } from './git.js';
import type { Git } from '../../../model/generated/setup.js';

// Table tests for the git resource: given what the fact script printed, expect this plan.
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const spec: Git = { kind: 'git', repo: 'file:///srv/git/project.git', path: '/home/app/project', version: 'main', user: 'app' };
const plan = (facts: string, over: Partial<Git> = {}) =>
  git.plan({ ...spec, ...over }, git.parse({ ...spec, ...over }, facts), testContext());
const checkout = (head: string, status = '') => `exists=yes\nhead=${head}\norigin=${spec.repo}\nwanted=${A}\n@@git-status\n${status}`;

describe('git checkout', () => {
  it('is converged at the wanted commit with a clean tree', () => {
    expect(plan(checkout(A))).toEqual({ now: [], late: [], notifies: [] });
  });

  it('clones what is not there yet, as its user, at the version', () => {
    const { now } = plan('exists=no\nwanted-error=git is not installed yet\n');
    expect(now.map((a) => [a.verb, a.title, a.because])).toEqual([['create', 'git /home/app/project at main', 'git is not installed yet']]);
    const script = (now[0]!.steps[0] as { script: string }).script;
    expect(script).toMatch(/^runuser -u 'app' -- /);
    // Quoted twice: once for git's shell, once for the one runuser starts.
    expect(script).toContain(`git clone --quiet --no-checkout '\\''file:///srv/git/project.git'\\'' '\\''/home/app/project'\\''`);
    expect(script).toContain("GIT_SSH_COMMAND='\\''ssh -o BatchMode=yes -o StrictHostKeyChecking=yes'\\''");
  });

  it('moves a checkout that is behind (or moved) to the wanted commit', () => {
    const { now } = plan(checkout(B));
    expect(now[0]!.fields).toEqual([{ field: 'commit', before: 'bbbbbbbbbbbb', after: 'aaaaaaaaaaaa' }]);
    expect((now[0]!.steps[0] as { script: string }).script).toContain('git fetch --quiet --tags origin');
  });

  it('reports local changes and keeps them, moving nothing, unless force is set', () => {
    const dirty = checkout(B, ' M flows/live_score.py\n');
    const kept = plan(dirty);
    expect(kept.now).toEqual([]);
    expect(kept.problems).toEqual([
      'local changes in /home/app/project (1 file: flows/live_score.py): kept, so the checkout is not moved; commit them elsewhere, or set force: true to discard them',
    ]);
    const forced = plan(dirty, { force: true });
    expect(forced.now[0]!.fields.map((f) => f.field)).toEqual(['commit', 'local changes']);
    expect((forced.now[0]!.steps[0] as { script: string }).script).toContain('git reset --quiet --hard');
  });

  it('says when the remote cannot be read, rather than acting on every run', () => {
    const unreadable = plan(
      `exists=yes\nhead=${A}\norigin=${spec.repo}\nwanted-error=fatal: could not read from remote repository\n@@git-status\n`,
    );
    expect(unreadable.now).toEqual([]);
    expect(unreadable.problems).toEqual(['cannot read main of file:///srv/git/project.git: fatal: could not read from remote repository']);
  });

  it('says how to go on when a file stands where the checkout goes, instead of failing the host', () => {
    expect(plan('exists=other\n').problems).toEqual([
      '/home/app/project is a file, not a directory: move it aside, and apply clones the repository there',
    ]);
  });

  describe('a directory that is not a checkout (the project copied by hand)', () => {
    const directory = (status: string) => `exists=directory\nwanted=${A}\n@@git-adopt\n${status}`;

    it('is made a checkout in place: what the commit has and it lacks is written, untracked and ignored files are kept', () => {
      const { now, notifies } = plan(directory(' D .gitignore\n?? .venv/\n?? notes.txt\n'));
      expect(now.map((a) => [a.verb, a.because])).toEqual([['update', 'a directory that is not a checkout: made one in place']]);
      expect(now[0]!.fields).toEqual([
        { field: 'checkout', before: 'a directory, not a checkout', after: 'aaaaaaaaaaaa' },
        { field: 'files of the commit it lacks', before: '1 (.gitignore)', after: 'written' },
        { field: 'untracked and ignored files', before: '2 (.venv/, notes.txt)', after: 'kept' },
      ]);
      const script = (now[0]!.steps[0] as { script: string }).script;
      // Its git directory is moved into place last; files that changed since the plan stop it.
      expect(script).toContain('read-tree');
      expect(script).toContain('files changed since the plan');
      expect(script).toMatch(/mv \.git-reconcile-adopting \.git\b/);
      expect(script).not.toMatch(/\bclean\b|reset --hard|rm -rf [^.]/);
      expect(notifies).toEqual(['checkout-reader:/home/app/project']);
    });

    it('keeps files that differ from the commit, and the directory as it is, unless force is set', () => {
      const differs = directory(' M prefect.yaml\n M flows/a.py\n');
      const kept = plan(differs);
      expect(kept.now).toEqual([]);
      expect(kept.problems).toEqual([
        "/home/app/project is not a git checkout, and 2 (prefect.yaml, flows/a.py) of its files differ from main of file:///srv/git/project.git: kept, so it is not made a checkout; commit them elsewhere, or set force: true to take the repository's version (untracked and ignored files are kept either way)",
      ]);
      const forced = plan(differs, { force: true });
      expect(forced.now[0]!.fields.map((f) => [f.field, f.after])).toEqual([
        ['checkout', 'aaaaaaaaaaaa'],
        ['files that differ', "the repository's (force: true)"],
      ]);
      expect((forced.now[0]!.steps[0] as { script: string }).script).not.toContain('files changed since the plan');
    });

    it('is compared once git is installed, on a fresh host whose setup installs it', () => {
      const { now, late } = plan('git=missing\nwanted-error=git is not installed yet\nexists=directory\n');
      expect(now).toEqual([]);
      expect(late.map((a) => [a.id, a.because, a.steps])).toEqual([
        [
          'compare git:/home/app/project',
          'git is not installed yet: compared once it is',
          [{ replan: { resource: 'git:/home/app/project' } }],
        ],
      ]);
    });

    it('is left alone, saying why, when the repository cannot be read to compare it with', () => {
      expect(plan('exists=directory\nwanted-error=fatal: could not read from remote repository\n').problems).toEqual([
        '/home/app/project is a directory but not a git checkout, and main of file:///srv/git/project.git could not be read to compare it with: fatal: could not read from remote repository',
      ]);
    });
  });
});
