import type { Action } from '../../../model/plan.js';
import type { Git } from '../../../model/generated/setup.js';
import { command, quote } from '../../../shell/quote.js';
import { keyValues } from '../../facts.js';
import { asUser } from '../../steps.js';
import { checkoutReaderToken, noChanges, type ResourceType } from '../../types.js';

interface GitFacts {
  /** yes: a checkout; other: something else is at the path; no: nothing. */
  exists: 'yes' | 'other' | 'no';
  head?: string;
  origin?: string;
  /** Tracked files with local changes (`git status --porcelain`), as git lists them. */
  changes: string[];
  /** The commit the version names (a pinned commit is itself), or why it could not be read. */
  wanted?: string;
  wantedError?: string;
}

const COMMIT = /^[0-9a-f]{40}$/;
const SECTION = '@@git-status';

/** ssh for git: the host key must be known (as for any host reconcile reaches), never asked about. */
const sshCommand = (spec: Git) =>
  `ssh -o BatchMode=yes -o StrictHostKeyChecking=yes${spec.known_hosts ? ` -o UserKnownHostsFile=${spec.known_hosts}` : ''}`;

/** Runs git as the checkout's owner, with their HOME (~/.ssh) and the strict ssh above. */
const gitAs = (spec: Git, script: string) =>
  asUser(spec.user, `GIT_SSH_COMMAND=${quote(sshCommand(spec))} && export GIT_SSH_COMMAND && ${script}`);

/**
 * The commit a version names in a checkout: the remote's branch first (the clone's local branch of
 * that name is never moved by a fetch), else a tag or a commit as it is.
 */
const commitOf = (version: string) =>
  `git rev-parse --verify --quiet ${quote(`refs/remotes/origin/${version}^{commit}`)} || git rev-parse --verify --quiet ${quote(`${version}^{commit}`)}`;

/**
 * git: a checkout of `repo` at `version`, owned by `user`. Reads HEAD, origin and local changes in
 * the fact script, and what the version names on the remote (`git ls-remote`, unless it is a commit).
 * Converged when HEAD is that commit and the tree is clean; local changes are drift that only
 * `force: true` discards.
 */
export const git: ResourceType<Git, GitFacts> = {
  kind: 'git',
  defaultName: (spec) => `git:${spec.path}`,
  // A venv or anything else inside the checkout comes after the clone (git clones only into an empty directory).
  location: (spec) => ({ path: spec.path, directory: true }),
  // What reads the checkout's files (a project's prefect.yaml) is compared after it moves.
  references: (spec) => [
    { field: ['path'], token: checkoutReaderToken(spec.path), what: 'a reader of the checkout', before: true, ifDeclared: true },
  ],
  exposure: () => ({
    field: ['repo'],
    message:
      "the repository URL reaches git's command line, which every user on the host can read in the process list; use an SSH key of the user instead of a token in the URL",
  }),
  probe: (spec) => {
    const path = quote(spec.path);
    // Everything git reads runs as the owner, in one process per checkout: the remote's answer first.
    const remote = COMMIT.test(spec.version)
      ? `echo wanted=${spec.version}`
      : // A tag's own commit (^{}) comes after the tag in ls-remote's output, so the last line wins.
        `rc_ref=$(${command('git', 'ls-remote', spec.repo, `refs/heads/${spec.version}`, `refs/tags/${spec.version}`, `refs/tags/${spec.version}^{}`)} 2>&1) && ` +
        `{ rc_sha=$(printf '%s\\n' "$rc_ref" | tail -n 1 | cut -f1); [ -n "$rc_sha" ] && echo "wanted=$rc_sha" || echo ${quote(`wanted-error=no branch or tag '${spec.version}' in ${spec.repo}`)}; } || ` +
        `echo "wanted-error=$(printf '%s' "$rc_ref" | tail -n 1)"`;
    const local =
      `cd ${path} && echo "head=$(git rev-parse HEAD 2>/dev/null)" && echo "origin=$(git remote get-url origin 2>/dev/null)" && ` +
      `echo ${SECTION} && git status --porcelain --untracked-files=no 2>/dev/null | head -n 50`;
    return `if ! command -v git >/dev/null 2>&1; then echo exists=no; echo 'wanted-error=git is not installed yet'
elif [ -d ${path}/.git ]; then echo exists=yes; ${gitAs(spec, `${remote}; ${local}`)}
else
  if [ -e ${path} ]; then echo exists=other; else echo exists=no; fi
  ${COMMIT.test(spec.version) ? remote : gitAs(spec, remote)}
fi`;
  },
  parse(_spec, output) {
    const [head = '', status = ''] = output.split(`${SECTION}\n`);
    const facts = keyValues(head);
    return {
      exists: (facts.get('exists') ?? 'no') as GitFacts['exists'],
      head: facts.get('head') || undefined,
      origin: facts.get('origin') || undefined,
      changes: status.split('\n').filter((l) => l.trim() !== ''),
      wanted: facts.get('wanted') || undefined,
      wantedError: facts.get('wanted-error') || undefined,
    };
  },
  plan(spec, actual) {
    const name = spec.name ?? git.defaultName(spec);
    if (actual.exists === 'other') throw new Error(`${spec.path} exists but is not a git checkout; reconcile will not replace it`);
    const action = (verb: Action['verb'], fields: Action['fields'], script: string, because?: string): Action => ({
      id: name,
      resource: name,
      verb,
      title: `git ${spec.path} at ${spec.version}`,
      fields,
      because,
      steps: [{ script }],
    });
    const commitField = { field: 'commit', before: actual.head?.slice(0, 12) ?? null, after: actual.wanted?.slice(0, 12) ?? spec.version };
    if (actual.exists === 'no') {
      const clone = `git clone --quiet --no-checkout ${quote(spec.repo)} ${quote(spec.path)} && cd ${quote(spec.path)} && git checkout --quiet --detach "$(${commitOf(spec.version)})"`;
      return {
        now: [action('create', [commitField], gitAs(spec, clone), actual.wantedError)],
        late: [],
        notifies: [checkoutReaderToken(spec.path)],
      };
    }
    // Without the remote's answer nothing is known to be wrong: say so rather than act on every run.
    if (actual.wanted === undefined)
      return { ...noChanges(), problems: [`cannot read ${spec.version} of ${spec.repo}: ${actual.wantedError ?? 'no answer'}`] };
    const moved = actual.head !== actual.wanted;
    const originMoved = actual.origin !== spec.repo;
    if (actual.changes.length > 0 && !spec.force) {
      return {
        ...noChanges(),
        problems: [
          `local changes in ${spec.path} (${actual.changes.length} file${actual.changes.length === 1 ? '' : 's'}: ${actual.changes
            .slice(0, 3)
            .map((c) => c.slice(3))
            .join(', ')}): kept, so the checkout is not moved; commit them elsewhere, or set force: true to discard them`,
        ],
      };
    }
    if (!moved && !originMoved && actual.changes.length === 0) return noChanges();
    const fields = [
      ...(moved ? [commitField] : []),
      ...(originMoved ? [{ field: 'origin', before: actual.origin ?? null, after: spec.repo }] : []),
      ...(actual.changes.length > 0
        ? [{ field: 'local changes', before: `${actual.changes.length} file(s)`, after: 'discarded (force: true)' }]
        : []),
    ];
    const update = [
      `cd ${quote(spec.path)}`,
      ...(originMoved ? [`git remote set-url origin ${quote(spec.repo)}`] : []),
      'git fetch --quiet --tags origin',
      ...(actual.changes.length > 0 ? ['git reset --quiet --hard'] : []),
      `git checkout --quiet --detach "$(${commitOf(spec.version)})"`,
    ].join(' && ');
    return { now: [action('update', fields, gitAs(spec, update))], late: [], notifies: moved ? [checkoutReaderToken(spec.path)] : [] };
  },
};
