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

  it('refuses to replace something that is not a checkout', () => {
    expect(() => plan('exists=other\n')).toThrow('/home/app/project exists but is not a git checkout');
  });
});
