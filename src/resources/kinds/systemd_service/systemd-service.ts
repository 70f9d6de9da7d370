import type { Action, WaitStep } from '../../../model/plan.js';
import type { SystemdService } from '../../../model/generated/setup.js';
import { quote } from '../../../shell/quote.js';
import { fileProbe, keyValues, parsePathFacts, type PathFacts } from '../../facts.js';
import { contentChange, sha256, writeFileStep } from '../../steps.js';
import { afterReferences, notifyReferences, unitToken, type ResourcePlan, type ResourceType, type SpecProblem } from '../../types.js';
import { HOST_STATE } from '../../../model/host-state.js';
import type { HttpCall } from '../../../transport/http.js';
import {
  cancellationLost,
  cancellationProbe,
  observeWorker,
  runsPrefectWorker,
  staleRemoval,
  unnamedWorker,
  workerGate,
  type WorkerFindings,
} from './worker-health.js';
import { drainAction, observeDrain, type DrainFacts } from './drain.js';
import { daemonReload, journal, VERIFY_UNIT } from '../../systemd-units.js';

interface ServiceFacts {
  unitFile: PathFacts;
  loadState: string;
  activeState: string;
  unitFileState: string;
  needDaemonReload: boolean;
  /** A unit kept from before a change that has not passed its health gate yet (see KEPT_DIR). */
  keptUnit: boolean;
  /** The health URL's answer, when the service has one and runs (left out of the facts digest). */
  live?: { healthy: boolean; detail: string };
  /** A worker whose current run logged that it can no longer cancel flow runs (see worker-health.ts). */
  cancellationLost?: boolean;
  /** A worker's pool's OFFLINE records of workers without a name (see worker-health.ts). */
  staleWorkers?: string[];
  /** The pool its restarts drain, as the server has it; none when the server does not answer. */
  drain?: DrainFacts;
}

const UNIT_DIR = '/etc/systemd/system';
const SECTION = '@@systemctl';
/**
 * Where a changed unit's previous version waits until the new one passes its health gate: a failed
 * or interrupted gate (even one whose run died) puts that version back, never one that never passed.
 */
const KEPT_DIR = HOST_STATE.keptUnits;
/** The NRestarts a gate starts from (a restart does not reset systemd's counter). */
const GATE_DIR = HOST_STATE.gates;

const keptUnit = (unit: string) => quote(`${KEPT_DIR}/${unit}`);
const gateBaseline = (unit: string) => quote(`${GATE_DIR}/${unit}`);

/**
 * systemd_service: the unit file in /etc/systemd/system, enabled or not, running or stopped; without
 * `content`, a unit a package installs (postgresql.service), only enabled, started or stopped.
 * Reads the unit file and `systemctl show` (LoadState, ActiveState, UnitFileState, NeedDaemonReload).
 * Converged when the file matches, the enablement matches and the state matches. A changed unit is
 * verified with `systemd-analyze verify` under its real name, installed, and the service restarted
 * after all writes (daemon-reload first, once per host); a notification restarts it too.
 */
export const systemdService: ResourceType<SystemdService, ServiceFacts> = {
  kind: 'systemd_service',
  defaultName: (spec) => `systemd_service:${spec.unit}`,
  provides: (spec) => [unitToken(spec.unit)],
  references: (spec) => [...afterReferences(spec.after), ...notifyReferences(spec.notifies)],
  check: (spec) => [...installProblems(spec), ...healthProblems(spec)],
  exposure: (spec) => ({
    field: spec.content === undefined ? ['unit'] : ['content'],
    message:
      'unit files are readable by every user and `systemctl show` prints Environment=; put the secret in a file of mode 0600 (a file resource) and name it in EnvironmentFile=',
  }),
  probe: (spec) =>
    `${spec.content === undefined ? '' : fileProbe(`${UNIT_DIR}/${spec.unit}`, sha256(Buffer.from(spec.content)))}\necho ${SECTION}\n` +
    `systemctl show ${quote(spec.unit)} -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload\n` +
    `[ ! -f ${keptUnit(spec.unit)} ] || echo KeptUnit=yes` +
    (runsPrefectWorker(spec.content) ? `\n${cancellationProbe(spec.unit)}` : ''),
  parse(_spec, output) {
    const [file = '', show = ''] = output.split(`${SECTION}\n`);
    const props = keyValues(show);
    return {
      unitFile: parsePathFacts(file),
      loadState: props.get('LoadState') ?? 'not-found',
      activeState: props.get('ActiveState') ?? 'inactive',
      unitFileState: props.get('UnitFileState') ?? '',
      needDaemonReload: props.get('NeedDaemonReload') === 'yes',
      keptUnit: props.get('KeptUnit') === 'yes',
      ...(Number(props.get('CancellationLost') ?? 0) > 0 ? { cancellationLost: true } : {}),
    };
  },
  async observe(spec, http) {
    const [health, drain] = await Promise.all([observeHealth(spec, http), spec.drain && observeDrain(spec.drain, http)]);
    // Asked before the unit's state was known: health only means something for a running service.
    return {
      into: (actual) => ({
        ...actual,
        ...(health && actual.activeState === 'active' ? { live: health.live } : {}),
        ...(health && health.stale.length > 0 ? { staleWorkers: health.stale } : {}),
        ...(drain ? { drain } : {}),
      }),
    };
  },
  plan: (spec, actual) => planService(spec, actual, []),
  // Notified, a running service is restarted (a stopped one is started anyway: nothing to add).
  onNotify: (spec, actual, because) =>
    (spec.state ?? 'running') === 'running' && isRunning(actual) ? planService(spec, actual, because) : undefined,
};

/** The service's plan; notified (`notifiedBecause` not empty), a running service is also restarted. */
function planService(spec: SystemdService, actual: ServiceFacts, notifiedBecause: string[]): ResourcePlan {
  const name = spec.name ?? systemdService.defaultName(spec);
  const path = `${UNIT_DIR}/${spec.unit}`;
  const wanted = spec.content === undefined ? undefined : Buffer.from(spec.content);
  const unitChanged = wanted !== undefined && (actual.unitFile.type !== 'file' || actual.unitFile.sha256 !== sha256(wanted));
  const now: Action[] = [];
  if (wanted && unitChanged) {
    now.push({
      id: name,
      resource: name,
      verb: actual.unitFile.type === 'file' ? 'update' : 'create',
      title: `unit ${path}`,
      fields: [],
      content: contentChange(path, actual.unitFile.type === 'file' ? actual.unitFile.content : undefined, wanted),
      steps: [
        ...(keepsPrevious(spec, actual, true)
          ? [
              {
                script: `[ -f ${keptUnit(spec.unit)} ] || { mkdir -p ${quote(KEPT_DIR)} && cp -p ${quote(path)} ${keptUnit(spec.unit)}; }`,
              },
            ]
          : []),
        // systemd-analyze needs the real unit name, so it checks a copy under that name (not a temp name).
        writeFileStep({ path, content: wanted, owner: 'root', mode: '0644', defaultMode: '0644', validate: VERIFY_UNIT }),
      ],
    });
  }
  const late = lateActions(spec, actual, name, unitChanged, notifiedBecause);
  const worker = spec.health?.prefect_worker;
  if (worker && actual.staleWorkers) late.push(staleRemoval(name, worker, actual.staleWorkers));
  const startsOrRestarts = late.some((a) => a.verb === 'start' || a.verb === 'restart');
  if (actual.keptUnit && !startsOrRestarts && !unitChanged) {
    // Kept by a run that died after the gate passed, or for a service no longer started: nothing to go back to.
    late.push({
      id: `forget kept unit ${spec.unit}`,
      resource: name,
      verb: 'update',
      title: `forget the previous ${spec.unit} kept for a rollback`,
      fields: [],
      because: 'no start or restart of this unit is pending',
      steps: [{ script: `rm -f ${keptUnit(spec.unit)}` }],
    });
  }
  return {
    now,
    late,
    notifies: [
      // The restart a changed unit needs is owed from the moment the file is written.
      ...(unitChanged && actual.activeState === 'active' ? [unitToken(spec.unit)] : []),
      // Whatever this service's (re)start leaves needing a restart too (workers of a restarted server).
      ...(startsOrRestarts ? (spec.notifies ?? []).map(unitToken) : []),
    ],
    problems:
      actual.live && !actual.live.healthy && !startsOrRestarts
        ? [`running but unhealthy: ${healthTarget(spec)} (${actual.live.detail})`]
        : [],
  };
}

/** Enabling a unit without [Install] does nothing (systemctl calls it static): the plan would never converge. */
function installProblems(spec: SystemdService): SpecProblem[] {
  if (!(spec.enabled ?? true) || spec.content === undefined || /^\s*\[Install\]\s*$/m.test(spec.content)) return [];
  return [
    {
      field: spec.enabled === undefined ? ['content'] : ['enabled'],
      message:
        'a unit without an [Install] section cannot be enabled; add [Install] with WantedBy=multi-user.target, or set enabled: false',
    },
  ];
}

function healthProblems(spec: SystemdService): SpecProblem[] {
  const health = spec.health;
  if (!health) return [];
  if ((health.url === undefined) === (health.prefect_worker === undefined))
    return [{ field: ['health'], message: 'give the health check either url or prefect_worker (one of them)' }];
  return health.prefect_worker ? unnamedWorker(health.prefect_worker, spec.content ?? '') : [];
}

async function observeHealth(spec: SystemdService, http: HttpCall): Promise<WorkerFindings | undefined> {
  const worker = spec.health?.prefect_worker;
  const url = spec.health?.url;
  if (worker) return observeWorker(worker, http);
  return url ? { live: await urlHealth(url, http), stale: [] } : undefined;
}

async function urlHealth(url: string, http: HttpCall): Promise<{ healthy: boolean; detail: string }> {
  try {
    // A hung service (stopped process, full backlog) must not stall the whole check.
    const response = await http('GET', url, undefined, 5000);
    return { healthy: response.status >= 200 && response.status < 300, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { healthy: false, detail: (error as Error).message };
  }
}

/** What the health check reads, for messages: its URL, or the worker's record. */
const healthTarget = (spec: SystemdService) =>
  spec.health?.prefect_worker ? `worker ${spec.health.prefect_worker.name} in pool ${spec.health.prefect_worker.pool}` : spec.health!.url!;

const isRunning = (actual: ServiceFacts) =>
  actual.activeState === 'active' || actual.activeState === 'activating' || actual.activeState === 'reloading';

function lateActions(spec: SystemdService, actual: ServiceFacts, name: string, unitChanged: boolean, notifiedBecause: string[]): Action[] {
  const unit = quote(spec.unit);
  const late: Action[] = [];
  const action = (verb: Action['verb'], script: string, because?: string): Action => ({
    id: `${verb} ${spec.unit}`,
    resource: name,
    verb,
    title: `${verb} ${spec.unit}`,
    fields: [],
    because,
    steps: [{ script }],
  });
  const touchesUnit = (spec.state ?? 'running') === 'running' || (spec.enabled ?? true);
  if ((unitChanged || actual.needDaemonReload) && touchesUnit) late.push(daemonReload);

  const wantEnabled = spec.enabled ?? true;
  const isEnabled = actual.unitFileState === 'enabled';
  if (wantEnabled && !isEnabled) late.push(action('enable', `systemctl enable ${unit}`, `is ${actual.unitFileState || 'not installed'}`));
  if (!wantEnabled && isEnabled) late.push(action('disable', `systemctl disable ${unit}`, 'is enabled'));

  const running = isRunning(actual);
  if ((spec.state ?? 'running') === 'running') {
    const gatedAction = (verb: 'start' | 'restart', because: string) => {
      const command = `systemctl ${verb} ${unit}`;
      return gated(spec, actual, unitChanged, action(verb, command, because), command);
    };
    const restartBecause = [...notifiedBecause, ...(actual.cancellationLost ? [cancellationLost] : [])];
    if (!running) late.push(gatedAction('start', `is ${actual.activeState}`));
    else if (restartBecause.length > 0) {
      if (spec.drain && actual.drain) late.push(drainAction(name, spec.drain, actual.drain));
      late.push(gatedAction('restart', restartBecause.join('; ')));
    }
  } else if (running) {
    late.push(action('stop', `systemctl stop ${unit}`, `is ${actual.activeState}`));
  }
  return late;
}

/**
 * Whether a gated start or restart has a previous unit to go back to: one kept by an earlier run whose
 * gate never passed, or the installed unit this run replaces.
 */
const keepsPrevious = (spec: SystemdService, actual: ServiceFacts, unitChanged: boolean) =>
  spec.health !== undefined && (actual.keptUnit || (unitChanged && actual.unitFile.type === 'file'));

/**
 * A start or restart is done when the service is healthy, not when systemd says "active"
 * (Restart=always hides a crash loop). The gate gives up at once when the unit crashes and systemd
 * restarts it, or fails. If it never gets healthy (or the run is interrupted while waiting) after its
 * unit changed, the kept previous unit goes back and the service restarts on it; the failure report
 * carries the unit's journal. Once healthy, the kept unit is dropped: this version passed.
 */
function gated(spec: SystemdService, actual: ServiceFacts, unitChanged: boolean, action: Action, command: string): Action {
  const unit = quote(spec.unit);
  const kept = keepsPrevious(spec, actual, unitChanged);
  if (!spec.health) return { ...action, diagnose: journal(spec.unit) };
  const baseline = `mkdir -p ${quote(GATE_DIR)} && systemctl show -p NRestarts --value ${unit} > ${gateBaseline(spec.unit)}`;
  const path = quote(`${UNIT_DIR}/${spec.unit}`);
  return {
    ...action,
    steps: [
      { script: `${command} && ${baseline}` },
      healthGate(spec.health, crashedSince(spec.unit)),
      ...(kept ? [{ script: `rm -f ${keptUnit(spec.unit)}` }] : []),
    ],
    onFailure: kept
      ? [
          {
            script: `if [ -f ${keptUnit(spec.unit)} ]; then cp -p ${keptUnit(spec.unit)} ${path}.reconcile-kept && mv -f ${path}.reconcile-kept ${path} && rm -f ${keptUnit(spec.unit)}; fi\nsystemctl daemon-reload && systemctl restart ${unit}`,
          },
        ]
      : undefined,
    diagnose: journal(spec.unit),
  };
}

function healthGate(health: NonNullable<SystemdService['health']>, failFast: string): WaitStep {
  const timeoutSeconds = health.timeout ?? 60;
  return health.prefect_worker
    ? workerGate(health.prefect_worker, timeoutSeconds, failFast)
    : { waitForHealth: { url: health.url!, timeoutSeconds, failFast } };
}

/** Exits 1, saying why, once the unit has failed or crashed since its gate began: waiting longer cannot help. */
function crashedSince(unit: string): string {
  const u = quote(unit);
  return [
    `rc_s=$(systemctl show -p ActiveState -p SubState -p NRestarts ${u})`,
    `rc_n=$(printf '%s\n' "$rc_s" | sed -n 's/^NRestarts=//p'); rc_base=$(cat ${gateBaseline(unit)} 2>/dev/null || echo 0)`,
    `case "$rc_s" in *ActiveState=failed*) echo ${quote(`${unit} entered the failed state`)}; exit 1;; esac`,
    `if [ "\${rc_n:-0}" -gt "\${rc_base:-0}" ]; then echo ${quote(`${unit} crashed and systemd restarted it`)} "$((rc_n - rc_base)) time(s) since the gate began"; exit 1; fi`,
    `case "$rc_s" in *SubState=auto-restart*) echo ${quote(`${unit} crashed; systemd is about to restart it`)}; exit 1;; esac`,
  ].join('\n');
}
