import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The sample project served as a git repository that test hosts reach without the network: a bare
 * repository on this machine, to bind read-only at /srv/git (`bind`), its URL there
 * file:///srv/git/project.git. It belongs to uid 1000 (the hosts' daniel), so git there treats it as
 * daniel's own.
 */
export interface ServedRepo {
  bind: string;
  url: string;
  head(): string;
  /** Commits `change` (by default a line appended to a flow file) and returns the commit's id. */
  commit(message: string, change?: (work: string) => void): string;
}

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.org',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.org',
};

export function serveSampleProject(): ServedRepo {
  const served = mkdtempSync(join(tmpdir(), 'reconcile-git-'));
  chmodSync(served, 0o755);
  const bare = join(served, 'project.git');
  const work = join(served, 'work');
  const git = (...args: string[]) => execFileSync('git', ['-C', work, ...args], { encoding: 'utf8', env }).trim();
  // git here pushes only into a repository of its own user; the hosts' daniel gets it back after.
  const push = () => {
    execFileSync('chown', ['-R', '0:0', bare]);
    git('push', '--quiet', 'origin', 'HEAD:main');
    execFileSync('chown', ['-R', '1000:1000', bare]);
  };
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  cpSync('test/hosts/image/project', work, { recursive: true });
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', work]);
  writeFileSync(join(work, '.gitignore'), '.venv/\n');
  git('remote', 'add', 'origin', bare);
  git('add', '.');
  git('commit', '--quiet', '-m', 'the sample project');
  push();
  return {
    bind: `${served}:/srv/git`,
    url: 'file:///srv/git/project.git',
    head: () => git('rev-parse', 'HEAD'),
    commit(message, change = (dir) => writeFileSync(join(dir, 'flows/live_score.py'), `# ${message}\n`, { flag: 'a' })) {
      change(work);
      git('add', '--all');
      git('commit', '--quiet', '-m', message);
      push();
      return git('rev-parse', 'HEAD');
    },
  };
}

/** examples/fleet's setup.yaml (or a variant of it) with this repository at a version for `project_repo`/`project_version`. */
export function withProjectAt(setup: string, repo: ServedRepo, version: string): string {
  const at = setup.replace(/project_repo: \S+/, `project_repo: ${repo.url}`).replace(/project_version: \S+/, `project_version: ${version}`);
  if (!at.includes(repo.url) || !at.includes(`project_version: ${version}`))
    throw new Error('examples/fleet/setup.yaml no longer has the project_repo and project_version vars');
  return at;
}

/**
 * A change to the sample project adding a flow NAME that sleeps `seconds` (its parameter), and a
 * deployment NAME of it in the pool; `more` adds lines to that deployment (a schedule, parameters).
 */
export function addSleepingFlow(name: string, more = ''): (work: string) => void {
  return (work) => {
    writeFileSync(
      join(work, `flows/${name}.py`),
      `import time\n\nfrom prefect import flow\n\n\n@flow\ndef ${name}(seconds: float = 1) -> None:\n    time.sleep(seconds)\n`,
    );
    const deployment = `\n  - name: ${name}\n    entrypoint: flows/${name}.py:${name}\n    work_pool:\n      name: projections-local\n${more}`;
    writeFileSync(join(work, 'prefect.yaml'), `${readFileSync(join(work, 'prefect.yaml'), 'utf8')}${deployment}`);
  };
}
