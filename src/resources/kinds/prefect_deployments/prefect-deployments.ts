import type { Action } from '../../../model/plan.js';
import type { PrefectDeployments, PrefectVariable, Resource } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { apiBase, comparedAgainOnServer, readAll } from '../../server-object.js';
import { ServiceUnreachable } from '../../../transport/http.js';
import { fileProbe, parsePathFacts, type PathFacts } from '../../facts.js';
import { inLoginShell } from '../../steps.js';
import { compareDeployment, createdFields, type Fix, type Registered } from './compare.js';
import {
  deploymentEntries,
  isMapping,
  PrefectYamlProblem,
  storedDeployment,
  type ProjectContext,
  type StoredDeployment,
} from './deploy-config.js';
import { Unknowable } from './flow-source.js';
import { parsePyYaml } from './yaml11.js';
import {
  afterReferences,
  checkoutReaderToken,
  compareWhenUp,
  noChanges,
  prefectObjectsToken,
  prefectServerDataToken,
  type ResourceType,
} from '../../types.js';

interface DeploymentsFacts {
  file: PathFacts;
  /** Flow files named by an `entrypoint:` line, by their path relative to the project. */
  flowFiles: Map<string, { source: string; md5: string }>;
  /** The environment `prefect deploy` gets, read only when the file has templates. */
  env?: Map<string, string>;
  gitCommit?: string;
  /** undefined when the server did not answer. */
  registered?: Registered[];
  variables?: Map<string, unknown>;
  unreachable?: string;
}

/** sed patterns for what an entrypoint names before its colon: a script, or a dotted module. */
const ENTRYPOINT_SCRIPT = `\\([^:\\"']*\\.py\\)`;
const ENTRYPOINT_MODULE = '\\([A-Za-z_][A-Za-z0-9_.]*\\)';

const fileName = (spec: PrefectDeployments) => spec.prefect_file ?? 'prefect.yaml';
const fileOf = (spec: PrefectDeployments) => `${spec.project_dir}/${fileName(spec)}`;

/**
 * prefect_deployments: the deployments a project's prefect.yaml declares, as registered on the server.
 * prefect.yaml is read as `prefect deploy` reads it (YAML 1.1, merge keys, templates resolved with the
 * deploying user's environment and the server's variables, the flow's docstring and version) and
 * every field the file can set is compared with what the server stores. A changed deployment is
 * redeployed alone (`prefect deploy -n FUNCTION/NAME`) as the project's user. With the server down,
 * nothing is guessed: apply compares once the server is up.
 */
export const prefectDeployments: ResourceType<PrefectDeployments, DeploymentsFacts> = {
  kind: 'prefect_deployments',
  defaultName: (spec) => `prefect_deployments:${spec.project_dir}`,
  // prefect.yaml may read any variable or block of the server: those this setup declares are converged first.
  references: (spec) => [
    ...afterReferences(spec.after),
    { field: ['api_url'], token: prefectObjectsToken(apiBase(spec)), what: 'a Prefect variable or block', ifDeclared: true },
  ],
  // A checkout of the project (or of a directory holding it) is moved first, and then this compared
  // again; so when the server moves to another database.
  provides: (spec) => [...ancestors(spec.project_dir).map(checkoutReaderToken), prefectServerDataToken(apiBase(spec))],
  probe: (spec) =>
    [
      fileProbe(fileOf(spec)),
      `cd ${quote(spec.project_dir)} 2>/dev/null && [ -f ${quote(fileName(spec))} ] || exit 0`,
      // The flow files, found by the entrypoint lines (an anchor or merge key still has one somewhere):
      // a script path (`flows/etl.py:etl`) or a module Python imports from the project (`flows.etl:etl`).
      `sed -n ${[ENTRYPOINT_SCRIPT, ENTRYPOINT_MODULE].map((pattern) => `-e "s/^[[:space:]-]*entrypoint:[[:space:]]*[\\"']\\{0,1\\}${pattern}:.*/\\1/p"`).join(' ')} ${quote(fileName(spec))} | sort -u | while IFS= read -r rc_flow; do`,
      `  case $rc_flow in *.py) rc_file=$rc_flow ;; *) rc_file=$(printf %s "$rc_flow" | tr . /).py; [ -f "$rc_file" ] || rc_file=\${rc_file%.py}/__init__.py ;; esac`,
      `  [ -f "$rc_file" ] && [ "$(stat -c %s "$rc_file")" -le 1048576 ] && printf 'flow=%s\\t%s\\t%s\\n' "$(printf %s "$rc_flow" | base64 -w0)" "$(md5sum < "$rc_file" | cut -c1-32)" "$(base64 -w0 < "$rc_file")"`,
      'done',
      `if grep -q '{{' ${quote(fileName(spec))}; then printf 'env='; ${deployEnvironment(spec, 'env -0')} | base64 -w0; echo; fi`,
      // Prefect versions a deployment by the git commit when the project is a checkout with an origin.
      `if [ -d .git ] && command -v git >/dev/null && git -c safe.directory='*' config --get remote.origin.url >/dev/null; then printf 'git=%s\\n' "$(git -c safe.directory='*' rev-parse HEAD)"; fi`,
      'true',
    ].join('\n'),
  parse: (_spec, output) => {
    const flowFiles = new Map<string, { source: string; md5: string }>();
    let env: Map<string, string> | undefined;
    let gitCommit: string | undefined;
    for (const line of output.split('\n')) {
      if (line.startsWith('flow=')) {
        const [path, md5, source] = line.slice(5).split('\t');
        flowFiles.set(Buffer.from(path!, 'base64').toString(), { md5: md5!, source: Buffer.from(source ?? '', 'base64').toString('utf8') });
      } else if (line.startsWith('env=')) {
        env = new Map(
          Buffer.from(line.slice(4), 'base64')
            .toString('utf8')
            .split('\0')
            .filter(Boolean)
            .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
        );
      } else if (line.startsWith('git=')) gitCommit = line.slice(4).trim() || undefined;
    }
    return { file: parsePathFacts(output), flowFiles, env, gitCommit };
  },
  async observe(spec, http) {
    try {
      const [registered, variables, automations] = await Promise.all([
        readAll(http, `${apiBase(spec)}/deployments/filter`) as Promise<Registered[]>,
        readAll(http, `${apiBase(spec)}/variables/filter`) as Promise<{ name: string; value: unknown }[]>,
        readAll(http, `${apiBase(spec)}/automations/filter`) as Promise<NonNullable<Registered['automations']>>,
      ]);
      const values = new Map(variables.map((v) => [v.name, v.value]));
      // A deployment's automations are those that run it (its prefect.yaml triggers make them).
      const runs = (id: string) => automations.filter((a) => a.actions.some((x) => x.type === 'run-deployment' && x.deployment_id === id));
      const withAutomations = registered.map((r) => ({ ...r, automations: runs(r.id) }));
      return { into: (actual) => ({ ...actual, registered: withAutomations, variables: values }) };
    } catch (error) {
      if (error instanceof ServiceUnreachable) return { into: (actual) => ({ ...actual, unreachable: error.message }) };
      throw error;
    }
  },
  plan(spec, actual, context) {
    const name = spec.name ?? prefectDeployments.defaultName(spec);
    let wanted: StoredDeployment[];
    try {
      wanted = declared(spec, actual, afterThisRun(spec, actual.variables, context.declared));
    } catch (error) {
      if (error instanceof PrefectYamlProblem) return { ...noChanges(), problems: [error.message] };
      throw error;
    }
    // Guessing "create" for each would redeploy them all, which replaces their schedules and scheduled runs.
    if (actual.unreachable)
      return compareWhenUp(name, `${wanted.length} deployment${wanted.length === 1 ? '' : 's'} of ${fileOf(spec)}`, {
        url: apiBase(spec),
        why: actual.unreachable,
      });
    const late: Action[] = [];
    const problems: string[] = [];
    for (const deployment of wanted) {
      if (deployment.workPool === null || deployment.workPool === '') {
        problems.push(
          `${fileOf(spec)}: deployment '${deployment.name}' names no work pool; Prefect refuses to deploy it ("A work pool is required to deploy this flow"): set its work_pool.name`,
        );
        continue;
      }
      const current = pick(actual.registered ?? [], deployment);
      const compared = current
        ? compareDeployment(deployment, current, (how) => fixCommand(deployment, how))
        : { fields: [], problems: [] };
      problems.push(...compared.problems);
      if (current && compared.fields.length === 0) continue;
      late.push({
        id: `deploy ${deployment.name}`,
        resource: name,
        verb: current ? 'update' : 'create',
        title: `deployment ${deployment.name}`,
        because: current ? undefined : 'not registered',
        fields: current ? compared.fields : createdFields(deployment),
        steps: [{ script: deployScript(spec, deployment) }],
      });
    }
    for (const stray of strays(spec, actual, wanted)) {
      if (spec.prune) {
        late.push({
          id: `delete deployment ${stray.name}`,
          resource: name,
          verb: 'remove',
          title: `deployment ${stray.name}`,
          because: `not in ${fileOf(spec)}`,
          fields: [],
          steps: [{ request: { method: 'DELETE', url: `${apiBase(spec)}/deployments/${stray.id}` } }],
        });
      } else {
        problems.push(`deployment ${stray.name} is on the server but not in ${fileOf(spec)} (prune: true removes it)`);
      }
    }
    return late.length === 0 && problems.length === 0 ? noChanges() : { now: [], late, notifies: [], problems };
  },
  // The checkout the project is in moves in this run (prefect.yaml, the flows and the commit, the
  // deployments' version, are read again once it has), or the server moves to another database.
  onNotify: (spec, _actual, because) =>
    comparedAgainOnServer(spec.name ?? prefectDeployments.defaultName(spec), `deployments of ${fileOf(spec)}`, because, 'redeployed'),
};

/** The directory and every directory above it: a checkout at any of them holds the project. */
function ancestors(dir: string): string[] {
  const parts = dir.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`).reverse();
}

/**
 * The server's variables as they will be once this run has converged the ones the setup declares (they
 * come first): a deployment reading a variable changed in the spec is redeployed in the same apply.
 */
function afterThisRun(spec: PrefectDeployments, onServer: Map<string, unknown> | undefined, declared: readonly Resource[]) {
  if (!onServer) return undefined;
  const ours = declared.filter((r): r is PrefectVariable => r.kind === 'prefect_variable' && apiBase(r) === apiBase(spec));
  return new Map([...onServer, ...ours.map((v): [string, unknown] => [v.variable, v.value ?? null])]);
}

function declared(spec: PrefectDeployments, actual: DeploymentsFacts, variables: Map<string, unknown> | undefined): StoredDeployment[] {
  if (actual.file.type !== 'file' || !actual.file.content)
    throw new PrefectYamlProblem(`${fileOf(spec)} is not a readable file on the host`);
  let project: unknown;
  try {
    project = parsePyYaml(actual.file.content.toString('utf8'));
  } catch (error) {
    throw new PrefectYamlProblem(`${fileOf(spec)} is not valid YAML: ${(error as Error).message}`);
  }
  const entries = deploymentEntries(fileOf(spec), project).filter((d) => typeof d.name === 'string');
  const context: ProjectContext = {
    projectDir: spec.project_dir,
    env: actual.env,
    variables,
    flowFiles: actual.flowFiles,
    gitCommit: actual.gitCommit,
  };
  const all = entries.map((entry) => {
    try {
      return storedDeployment(entry, isMapping(project) ? project : {}, context);
    } catch (error) {
      if (error instanceof PrefectYamlProblem) throw new PrefectYamlProblem(`${fileOf(spec)}: ${error.message}`);
      throw error;
    }
  });
  if (spec.names === undefined || spec.names === 'all') return all;
  const missing = spec.names.filter((n) => !all.some((d) => d.name === n));
  if (missing.length > 0) throw new PrefectYamlProblem(`${fileOf(spec)} declares no deployment named ${missing.join(', ')}`);
  return all.filter((d) => (spec.names as string[]).includes(d.name));
}

/** The server's deployment of that name; with several (other flows), the one with the same entrypoint. */
function pick(registered: Registered[], wanted: StoredDeployment): Registered | undefined {
  const named = registered.filter((r) => r.name === wanted.name);
  return named.find((r) => r.entrypoint === wanted.entrypoint) ?? named[0];
}

/** Deployments of this project (their pull step works in project_dir) that the file does not declare. */
function strays(spec: PrefectDeployments, actual: DeploymentsFacts, declared: StoredDeployment[]): Registered[] {
  if (!actual.registered || (spec.names !== undefined && spec.names !== 'all')) return [];
  return actual.registered.filter(
    (r) =>
      !declared.some((d) => d.name === r.name) &&
      (r.pull_steps ?? []).some((step) =>
        Object.values(step).some((s) => (s as { directory?: string } | null)?.directory === spec.project_dir),
      ),
  );
}

/** A command run as the project's user, with their login environment, in the project, with the venv's Prefect settings. */
function deployEnvironment(spec: PrefectDeployments, command: string): string {
  const env = [`PREFECT_API_URL=${quote(spec.api_url)}`, ...(spec.profile ? [`PREFECT_PROFILE=${quote(spec.profile)}`] : [])];
  return inLoginShell(spec.user, `cd ${quote(spec.project_dir)} && env ${env.join(' ')} ${command}`);
}

/** `-n FUNCTION/NAME`: a bare name deploys every entry with that name (cli/deploy/_config.py _filter_matching_deploy_config). */
function deployScript(spec: PrefectDeployments, deployment: StoredDeployment): string {
  return deployEnvironment(
    spec,
    `${quote(`${spec.venv}/bin/prefect`)} --no-prompt deploy -n ${quote(`${deployment.functionName}/${deployment.name}`)} --prefect-file ${quote(fileName(spec))}`,
  );
}

/** How a person fixes what a redeploy cannot: through Prefect's CLI, as the project's user. */
function fixCommand(deployment: StoredDeployment, how: Fix): string {
  const flow = deployment.flowName instanceof Unknowable ? deployment.functionName.replace(/_/g, '-') : deployment.flowName;
  const full = quote(`${flow}/${deployment.name}`);
  if (how === 'delete') return `prefect deployment delete ${full}, then apply again`;
  if (how === 'clear-schedules') return `prefect deployment schedule clear ${full} --accept-yes`;
  return `prefect deployment schedule delete ${full} ${how.deleteSchedule} --accept-yes, then apply again`;
}
