import type { Action } from '../../../model/plan.js';
import type { Git } from '../../../model/generated/setup.js';
import { command, quote } from '../../../shell/quote.js';
import { keyValues } from '../../facts.js';
import { asUser } from '../../steps.js';
import { checkoutReaderToken, compareAgain, noChanges, type ResourceType } from '../../types.js';

interface GitFacts {
  /** yes: a checkout; directory: a directory that is not one (a project copied by hand); other: a file; no: nothing. */
  exists: 'yes' | 'directory' | 'other' | 'no';
  head?: string;
  origin?: string;
  /** Tracked files with local changes (`git status --porcelain`), as git lists them. */
  changes: string[];
  /** The commit the version names (a pinned commit is itself), or why it could not be read. */
  wanted?: string;
  wantedError?: string;
  /** git is not installed yet (a fresh host whose setup installs it): what is at the path is compared once it is. */
  gitMissing: boolean;
  /** A directory that is not a checkout, against the wanted commit (see ADOPT); none when that could not be read. */
  adopt?: AdoptPreview;
}

/** What adopting a directory as a checkout would do to its files. */
interface AdoptPreview {
  /** Tracked files whose content differs from the commit: overwritten only with force. */
  differ: string[];
  /** Files of the commit the directory lacks: written. */
  missing: string[];
  /** Files and directories the commit does not have (a venv, data), ignored or not: kept. */
  untracked: string[];
}

const COMMIT = /^[0-9a-f]{40}$/;
const SECTION = '@@git-status';
const ADOPT = '@@git-adopt';
/** Where adopting keeps its git directory until the checkout is complete, so a failure leaves no half checkout. */
const ADOPTING = '.git-reconcile-adopting';

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
    return `if ! command -v git >/dev/null 2>&1; then echo git=missing; echo 'wanted-error=git is not installed yet'
  if [ -d ${path}/.git ]; then echo exists=yes; elif [ -d ${path} ]; then echo exists=directory; elif [ -e ${path} ]; then echo exists=other; else echo exists=no; fi
elif [ -d ${path}/.git ]; then echo exists=yes; ${gitAs(spec, `${remote}; ${local}`)}
elif [ -d ${path} ]; then echo exists=directory; ${gitAs(spec, `${remote}; ${adoptPreview(spec)}`)}
else
  if [ -e ${path} ]; then echo exists=other; else echo exists=no; fi
  ${COMMIT.test(spec.version) ? remote : gitAs(spec, remote)}
fi`;
  },
  parse(_spec, output) {
    const [read = '', adopt] = output.split(`${ADOPT}\n`);
    const [head = '', status = ''] = read.split(`${SECTION}\n`);
    const facts = keyValues(head);
    return {
      exists: (facts.get('exists') ?? 'no') as GitFacts['exists'],
      head: facts.get('head') || undefined,
      origin: facts.get('origin') || undefined,
      changes: lines(status),
      wanted: facts.get('wanted') || undefined,
      wantedError: facts.get('wanted-error') || undefined,
      gitMissing: facts.get('git') === 'missing',
      ...(adopt === undefined ? {} : { adopt: adoptPreviewOf(adopt) }),
    };
  },
  plan(spec, actual) {
    const name = spec.name ?? git.defaultName(spec);
    if (actual.exists === 'other')
      return {
        ...noChanges(),
        problems: [`${spec.path} is a file, not a directory: move it aside, and apply clones the repository there`],
      };
    const action = (verb: Action['verb'], fields: Action['fields'], script: string, because?: string): Action => ({
      id: name,
      resource: name,
      verb,
      title: `git ${spec.path} at ${spec.version}`,
      fields,
      because,
      steps: [{ script }],
    });
    // Something is there already: what to do with it needs git to say; apply asks again once git is installed.
    if (actual.gitMissing && (actual.exists === 'yes' || actual.exists === 'directory'))
      return {
        now: [],
        notifies: [],
        late: [compareAgain(name, `git ${spec.path} at ${spec.version}`, 'git is not installed yet: compared once it is')],
      };
    const commitField = { field: 'commit', before: actual.head?.slice(0, 12) ?? null, after: actual.wanted?.slice(0, 12) ?? spec.version };
    if (actual.exists === 'directory') return planAdoption(spec, actual, action);
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

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/**
 * Read-only, as the checkout's owner: the repository fetched into a temporary git directory, its
 * wanted commit read into a temporary index, and `git status` of the directory against it (the
 * directory's own .gitignore files apply). Nothing in the directory is written.
 */
function adoptPreview(spec: Git): string {
  const env = 'GIT_DIR="$rc_tmp/.git" GIT_WORK_TREE=' + quote(spec.path) + ' GIT_INDEX_FILE="$rc_tmp/index"';
  return [
    'rc_tmp=$(mktemp -d)',
    `git init -q "$rc_tmp" && ( export ${env}; git fetch -q ${quote(spec.repo)} '+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*' 2>/dev/null && rc_c=$(${commitOf(spec.version)}) && git update-ref HEAD "$rc_c" && git read-tree "$rc_c" && echo ${ADOPT} && git status --porcelain --untracked-files=normal | head -n 500 )`,
    'rm -rf "$rc_tmp"',
  ].join('; ');
}

function adoptPreviewOf(status: string): AdoptPreview {
  const entries = lines(status).map((l) => ({ code: l.slice(0, 2), path: l.slice(3) }));
  return {
    // The second column compares the directory with the commit read into the index.
    differ: entries.filter((e) => e.code[1] === 'M' || e.code[1] === 'T').map((e) => e.path),
    missing: entries.filter((e) => e.code[1] === 'D').map((e) => e.path),
    untracked: entries.filter((e) => e.code === '??').map((e) => e.path),
  };
}

const some = (files: string[]) => `${files.length} (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''})`;

/**
 * A directory that is not a checkout (the project copied onto the host before the fleet) becomes one
 * in place: the files of the wanted commit it lacks are written, files that differ are kept (and the
 * directory left as it is) unless force is set, and nothing else is touched: untracked and ignored
 * files, such as a venv inside it, stay.
 */
function planAdoption(
  spec: Git,
  actual: GitFacts,
  action: (verb: Action['verb'], fields: Action['fields'], script: string, because?: string) => Action,
) {
  const preview = actual.adopt;
  if (!preview || actual.wanted === undefined)
    return {
      ...noChanges(),
      problems: [
        `${spec.path} is a directory but not a git checkout, and ${spec.version} of ${spec.repo} could not be read to compare it with: ${actual.wantedError ?? 'no answer'}`,
      ],
    };
  if (preview.differ.length > 0 && !spec.force)
    return {
      ...noChanges(),
      problems: [
        `${spec.path} is not a git checkout, and ${some(preview.differ)} of its files differ from ${spec.version} of ${spec.repo}: kept, so it is not made a checkout; commit them elsewhere, or set force: true to take the repository's version (untracked and ignored files are kept either way)`,
      ],
    };
  const git = `git --git-dir=${ADOPTING} --work-tree=.`;
  const script = [
    `cd ${quote(spec.path)}`,
    `rm -rf ${ADOPTING}`,
    `{ ${[
      `git init -q --bare ${ADOPTING}`,
      `${git} config core.bare false`,
      `${git} remote add origin ${quote(spec.repo)}`,
      `${git} fetch --quiet --tags origin`,
      `rc_c=$(GIT_DIR=${ADOPTING} sh -c ${quote(commitOf(spec.version))})`,
      `${git} read-tree "$rc_c"`,
      ...(spec.force
        ? []
        : [
            `{ [ -z "$(${git} diff --name-only --diff-filter=MT)" ] || { echo 'files changed since the plan:'; ${git} diff --name-only --diff-filter=MT; false; }; }`,
          ]),
      `${git} checkout-index --all --force`,
      `${git} update-ref --no-deref HEAD "$rc_c"`,
      `mv ${ADOPTING} .git`,
    ].join(' && ')}; } || { rc=$?; rm -rf ${ADOPTING}; exit $rc; }`,
  ].join(' && ');
  const fields = [
    { field: 'checkout', before: 'a directory, not a checkout', after: actual.wanted.slice(0, 12) },
    ...(preview.missing.length > 0 ? [{ field: 'files of the commit it lacks', before: some(preview.missing), after: 'written' }] : []),
    ...(preview.differ.length > 0
      ? [{ field: 'files that differ', before: some(preview.differ), after: "the repository's (force: true)" }]
      : []),
    ...(preview.untracked.length > 0 ? [{ field: 'untracked and ignored files', before: some(preview.untracked), after: 'kept' }] : []),
  ];
  return {
    now: [action('update', fields, gitAs(spec, script), 'a directory that is not a checkout: made one in place')],
    late: [],
    notifies: [checkoutReaderToken(spec.path)],
  };
}
