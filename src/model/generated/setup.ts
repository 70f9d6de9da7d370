/* Generated from schemas/setup.schema.json by scripts/gen-types.mjs; do not edit. Run: npm run gen:types */

/**
 * One resource; 'kind' says which type.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "resource".
 */
export type Resource =
  | Package
  | Directory
  | File
  | Line
  | SystemdService
  | PythonVenv
  | PrefectProfile
  | PrefectWorkPool
  | PrefectWorkQueue
  | PrefectVariable
  | PrefectConcurrencyLimit
  | PrefectBlock
  | PrefectAutomation
  | PrefectDeployments
  | PrefectServerDatabase
  | Git
  | PostgresRole
  | PostgresDatabase
  | DatabaseBackup;
/**
 * The resource's name in plans and reports. Default: kind and path (or unit, pool, profile). Names are unique.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "name".
 */
export type Name = string;
/**
 * The hosts this resource is for: host names and group names of hosts.yaml. Default: every host.
 *
 * @minItems 1
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "host_list".
 */
export type HostList = [string, ...string[]];
/**
 * A Debian package name, optionally =version.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "system_package".
 */
export type SystemPackage = string;
/**
 * An absolute path on the host.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "absolute_path".
 */
export type AbsolutePath = string;
/**
 * A systemd unit name, with its suffix.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "unit_name".
 */
export type UnitName = string;
/**
 * The Prefect API as seen from the host, e.g. http://{{ prefect_host }}:4200/api.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_api_url".
 */
export type PrefectApiUrl = string;
/**
 * A pip requirement pinned to one version: name==version.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "package_requirement".
 */
export type PackageRequirement = string;
/**
 * Services that must be running and healthy first (the Prefect server). A service on another host is HOST:UNIT (e.g. prefect-server:prefect-server.service): apply then starts this host only once that host has converged, and skips it, saying why, when that host fails.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "after_services".
 */
export type AfterServices = UnitName[];
/**
 * Automation actions, each with its `type` (send-notification, cancel-flow-run, run-deployment, pause-work-pool, call-webhook, …) and that action's fields; fields left out are the server's defaults. actions run when it triggers; actions_on_trigger and actions_on_resolve (default none) when it goes into the triggered or the resolved state.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_automation_actions".
 *
 * Items: One action: its type and that action's fields, as Prefect names them.
 */
export type PrefectAutomationActions = {
  /**
   * The action, as Prefect 3.8.3 names it (server/events/actions.py ServerActionTypes).
   */
  type:
    | 'do-nothing'
    | 'run-deployment'
    | 'pause-deployment'
    | 'resume-deployment'
    | 'cancel-flow-run'
    | 'delete-flow-run'
    | 'change-flow-run-state'
    | 'pause-work-queue'
    | 'resume-work-queue'
    | 'send-notification'
    | 'call-webhook'
    | 'pause-automation'
    | 'resume-automation'
    | 'suspend-flow-run'
    | 'resume-flow-run'
    | 'pause-work-pool'
    | 'resume-work-pool';
  [k: string]: unknown;
}[];
/**
 * A POSIX user or group name.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "user_name".
 */
export type UserName = string;
/**
 * Permission bits as an octal string, e.g. "0644".
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "mode".
 */
export type Mode = string;

/**
 * What every host in the inventory should look like: variables and an ordered list of resources.
 */
export interface ReconcileDesiredStateSetupYaml {
  /**
   * Optional schema reference for editors; ignored by reconcile.
   */
  $schema?: string;
  /**
   * Default variables, used in any string as {{ name }}. A host's vars in hosts.yaml override them. Built in: address (the host's address) and host_name (its inventory name). A value may itself use {{ address }} or {{ host_name }}.
   */
  vars?: {
    /**
     * A variable's value: a string, number or boolean.
     */
    [k: string]: string | number | boolean;
  };
  /**
   * Secret values, used in any string as {{ name }} like variables, but read on the control machine when reconcile runs (from an environment variable or a local file) and never written to plans, diffs, reports, run records or error messages: they show as [secret:name #hash], the hash keyed per machine so a change is visible without revealing the value. A file holding a secret must not be readable by every user (set mode: "0600"); a secret is refused where the host would show it to others (a line in a file of any mode, a unit file, a pip command line).
   */
  secrets?: {
    [k: string]: SecretSource;
  };
  /**
   * The resources to converge. Order matters only where no dependency decides it: directories come before what they contain, files and venvs before the services that use them.
   *
   * @minItems 1
   */
  resources: [Resource, ...Resource[]];
}
/**
 * Where the secret's value comes from on the control machine: exactly one of env, file and command.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "secret_source".
 */
export interface SecretSource {
  /**
   * The environment variable holding the value, e.g. PREFECT_API_KEY.
   */
  env?: string;
  /**
   * A file on the control machine holding the value (one trailing newline is dropped); relative to setup.yaml's directory, ~ allowed. Keep it mode 0600.
   */
  file?: string;
  /**
   * A command run on the control machine with sh -c, in setup.yaml's directory, whose output is the value (one trailing newline dropped), e.g. pass show prefect/api-key. It must exit 0 within 30 seconds.
   */
  command?: string;
}
/**
 * System packages through the host's package manager (apt on Debian and Ubuntu). Installed ones are read from dpkg's database in the fact script; missing ones are installed in one non-interactive apt-get call, without recommended packages unless asked. The package lists are refreshed first only when something must be installed and they are missing or older than lists_max_age. Present (optionally name=version) or absent; another apt's lock is waited for up to lock_timeout, then the host fails naming the holder; a dry-run says when a package is not in the host's sources.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "package".
 */
export interface Package {
  /**
   * System packages.
   */
  kind: 'package';
  name?: Name;
  hosts?: HostList;
  /**
   * Package names, each optionally pinned to an exact version as name=version (apt's own syntax, e.g. python3-venv=3.11.2-1+b1).
   *
   * @minItems 1
   */
  packages: [SystemPackage, ...SystemPackage[]];
  /**
   * present (default): installed (at the pinned version, if any). absent: removed (configuration files kept, as apt-get remove does).
   */
  state?: 'present' | 'absent';
  /**
   * Also install the packages' recommended packages. Default false, as a minimal host wants.
   */
  install_recommends?: boolean;
  /**
   * Seconds: apt-get update runs before an install when the package lists are older than this (or missing). Default 86400 (one day).
   */
  lists_max_age?: number;
  /**
   * Seconds to wait for another apt or dpkg (unattended-upgrades on a fresh VM) to release its lock before failing this host; apt's message names the holder. Default 300.
   */
  lock_timeout?: number;
}
/**
 * A directory with its owner, group and mode. Missing parents are created (owned by root).
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "directory".
 */
export interface Directory {
  /**
   * A directory.
   */
  kind: 'directory';
  name?: Name;
  hosts?: HostList;
  path: AbsolutePath;
  /**
   * Owning user. Default root.
   */
  owner?: string;
  /**
   * Owning group. Default: the owner's primary group.
   */
  group?: string;
  /**
   * Permission bits. Default "0755".
   */
  mode?: string;
}
/**
 * A file with exact content, owner, group and mode, written atomically (temp file, fsync, rename). Inline content (templated) or a local source file, byte for byte; validate checks new content before it is installed, backup keeps the old version, notifies restarts services when it changes.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "file".
 */
export interface File {
  /**
   * A file.
   */
  kind: 'file';
  name?: Name;
  hosts?: HostList;
  path: AbsolutePath;
  /**
   * The file's content, with {{ variables }} filled in. Exactly one of content and source.
   */
  content?: string;
  /**
   * A file on the control machine, relative to setup.yaml, whose bytes are the content (not templated). Exactly one of content and source.
   */
  source?: string;
  /**
   * Owning user. Default root.
   */
  owner?: string;
  /**
   * Owning group. Default: the owner's primary group.
   */
  group?: string;
  /**
   * Permission bits. Default "0644".
   */
  mode?: string;
  /**
   * A command that checks the new content before it replaces the old; %s is a copy of the new file under its final name in a private temp dir. Non-zero exit refuses the change.
   */
  validate?: string;
  /**
   * Keep the previous version under /var/lib/reconcile/backups (never beside the file). Default false.
   */
  backup?: boolean;
  /**
   * Services (declared in this file) to restart after this file changes.
   */
  notifies?: UnitName[];
}
/**
 * One line in a file, leaving every other line alone. With match, the first line matching it is replaced; else the line is appended when absent. notifies restarts services when it changes.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "line".
 */
export interface Line {
  /**
   * A line in a file.
   */
  kind: 'line';
  name?: Name;
  hosts?: HostList;
  path: AbsolutePath;
  /**
   * The exact line, without its line break.
   */
  line: string;
  /**
   * A regular expression (JavaScript syntax) for the line to replace, e.g. ^alias prefect-cli=.
   */
  match?: string;
  /**
   * Owner when the file is created. Default root.
   */
  owner?: string;
  /**
   * Group when the file is created. Default: the owner's primary group.
   */
  group?: string;
  /**
   * Mode when the file is created. Default "0644".
   */
  mode?: string;
  /**
   * Services (declared in this file) to restart after this line changes (a setting a service reads from this file).
   */
  notifies?: UnitName[];
}
/**
 * A systemd service: its unit file, enabled at boot or not, running or stopped. A changed unit is daemon-reloaded once and restarted once, after all writes. after orders it behind other services; a health check (an HTTP URL, or a Prefect worker's record on its server) gates every start and restart: a unit that crashes fails the gate at once, and a changed unit that does not get healthy is replaced by the last version that did.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "systemd_service".
 */
export interface SystemdService {
  /**
   * A systemd service.
   */
  kind: 'systemd_service';
  name?: Name;
  hosts?: HostList;
  /**
   * A systemd unit name, with its suffix.
   */
  unit: string;
  /**
   * The unit file's content, with {{ variables }} filled in. Checked with systemd-analyze verify under its real name before it is installed. Left out for a unit a package installs (postgresql.service from Debian's postgresql): reconcile then writes nothing and only enables, starts or stops it; put the package's resource before it.
   */
  content?: string;
  /**
   * Started at boot. Default true.
   */
  enabled?: boolean;
  /**
   * Running or stopped. Default running.
   */
  state?: 'running' | 'stopped';
  /**
   * Services declared here that must be converged (and healthy) before this one is started or restarted. A service on another host is HOST:UNIT (e.g. prefect-server:prefect-server.service): apply then starts this host only once that host has converged, and skips it, saying why, when that host fails.
   */
  after?: UnitName[];
  /**
   * Services restarted once this one has been started or restarted by apply and passed its health gate (workers that must reconnect to a restarted server). A service on another host is HOST:UNIT, on every host of a group GROUP:UNIT (e.g. workers:prefect-worker.service): those hosts wait for this host, and restart theirs after it.
   */
  notifies?: UnitName[];
  health?: ServiceHealth;
  /**
   * A Prefect work pool emptied around every restart of this service by apply (the server's unit changed, its venv upgraded): the pool is paused, so workers take no new runs, apply waits for its PENDING, RUNNING and CANCELLING flow runs to end, the service restarts, and the pool is resumed at the end of the host's run, or when anything in the run fails or it is interrupted. Runs due meanwhile wait and start after; none is lost to the restart. A pool paused already stays paused.
   */
  drain?: {
    api_url: PrefectApiUrl;
    /**
     * The work pool's name, e.g. projections-local.
     */
    pool: string;
    /**
     * Seconds to wait for the pool's runs to end. Default 600. Still running then, the restart is not made: the pool is resumed and apply fails, naming them.
     */
    timeout?: number;
  };
}
/**
 * What says the service works, not only that systemd runs it: an HTTP URL that answers 2xx, or a Prefect worker's own record in its pool (a worker's /health answers 200 for minutes while it cannot reach its server). After a start or restart, apply waits for it and rolls a changed unit back if it never passes; check reports it. Give url or prefect_worker.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "service_health".
 */
export interface ServiceHealth {
  /**
   * URL requested from the host itself, e.g. http://{{ prefect_host }}:4200/api/health.
   */
  url?: string;
  /**
   * The worker is healthy when its server lists it ONLINE in its pool (it heartbeated within three heartbeat intervals); after a start or restart, once the server has a heartbeat of the new process. The unit must start it with --name and this name (without one, every start adds an anonymous 'ProcessWorker <uuid>' record). apply also removes the pool's OFFLINE records of workers that ran without a name.
   */
  prefect_worker?: {
    api_url: PrefectApiUrl;
    /**
     * The work pool the worker polls (its --pool).
     */
    pool: string;
    /**
     * The worker's --name, e.g. {{ host_name }}: one record per host.
     */
    name: string;
  };
  /**
   * Seconds to wait for health after a start or restart. Default 60.
   */
  timeout?: number;
}
/**
 * A Python virtual environment with pinned packages, installed with pip. A half-made venv (no pip: created without python3-venv) is made again. A change of its packages restarts the services in notifies and is an upgrade: downloaded first, snapshotted, and undone if they do not get healthy (see upgrade).
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "python_venv".
 */
export interface PythonVenv {
  /**
   * A Python venv.
   */
  kind: 'python_venv';
  name?: Name;
  hosts?: HostList;
  path: AbsolutePath;
  /**
   * An absolute path on the host.
   */
  python?: string;
  /**
   * User that owns the venv and runs pip. Default root.
   */
  owner?: string;
  /**
   * Pinned packages, e.g. prefect==3.6.4.
   *
   * @minItems 1
   */
  packages: [PackageRequirement, ...PackageRequirement[]];
  /**
   * Extra pip install options, e.g. [--index-url, https://pypi.example/simple]. The host's pip configuration applies too.
   *
   * Items: One pip argument.
   */
  pip_args?: string[];
  /**
   * Services (declared in this file) that run from this venv: restarted once, health-gated, after its packages change; an upgrade that fails their health gates is rolled back (see upgrade).
   */
  notifies?: UnitName[];
  /**
   * How a change of an existing venv's packages is made safe. Before pip runs, the venv is copied, with the SQLite databases listed here (through SQLite's own backup, consistent while a server writes to it) and a pg_dump of the PostgreSQL databases listed, to /var/lib/reconcile/upgrades/VENV_PATH/TIMESTAMP/. If pip or any later action of the host's run fails (a service in notifies does not get healthy), the services are stopped, the venv and databases put back and the services started again and health-checked; an interrupted run is finished or undone by the next apply.
   */
  upgrade?: {
    /**
     * SQLite database files that the new versions may migrate, e.g. the Prefect server's /home/daniel/.prefect/prefect.db ($PREFECT_HOME/prefect.db of the server's user). A file that does not exist yet is removed again by a rollback.
     */
    databases?: AbsolutePath[];
    /**
     * PostgreSQL databases of this host's cluster that the new versions may migrate, e.g. prefect for a server on PostgreSQL. Each is dumped (pg_dump --format=custom, as the postgres user, consistent while the server runs) into the snapshot; a rollback drops it and restores the dump (pg_restore --create, its owner and encoding as they were), the services stopped.
     */
    postgres?: string[];
    /**
     * The PostgreSQL cluster's port, for postgres. Default 5432.
     */
    postgres_port?: number;
    /**
     * Snapshots kept per venv, newest first; older ones are deleted when an upgrade ends. Default 3.
     */
    keep?: number;
  };
}
/**
 * A profile in the user's Prefect profiles.toml. Only this profile's keys are edited; other profiles, keys and comments stay. A setting's older names (PREFECT_UI_API_URL for PREFECT_SERVER_UI_API_URL, …, as Prefect's settings models list them) count as the same key. notifies restarts services when it changes (a running server or worker reads its profile only when it starts).
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_profile".
 */
export interface PrefectProfile {
  /**
   * A Prefect profile.
   */
  kind: 'prefect_profile';
  name?: Name;
  hosts?: HostList;
  /**
   * Profile name, e.g. selfhost.
   */
  profile: string;
  /**
   * The user whose profiles.toml this is; it owns the file.
   */
  user: string;
  /**
   * An absolute path on the host.
   */
  prefect_home?: string;
  /**
   * Settings of the profile, e.g. PREFECT_API_URL.
   */
  settings: {
    /**
     * The setting's value.
     */
    [k: string]: string;
  };
  /**
   * Make this the active profile. Default false (leave 'active' alone).
   */
  active?: boolean;
  /**
   * Services (declared in this file) to restart after the profile changes: a running server or worker reads its profile only when it starts.
   */
  notifies?: UnitName[];
}
/**
 * A Prefect work pool on the server, read and changed through the server's REST API from the host. Type, concurrency limit, paused, and optionally a live worker heartbeat.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_work_pool".
 */
export interface PrefectWorkPool {
  /**
   * A Prefect work pool.
   */
  kind: 'prefect_work_pool';
  name?: Name;
  hosts?: HostList;
  /**
   * The pool's name, e.g. projections-local.
   */
  pool: string;
  /**
   * Worker type, e.g. process.
   */
  type: string;
  /**
   * Most flow runs at once in the pool; null for no limit.
   */
  concurrency_limit?: number | null;
  /**
   * Paused pools hand out no runs. Default false.
   */
  paused?: boolean;
  api_url: PrefectApiUrl;
  /**
   * If set, a worker must have sent a heartbeat to this pool within this many seconds (checked after apply and by check).
   */
  worker_heartbeat_within?: number;
  after?: AfterServices;
}
/**
 * A work queue in a Prefect work pool: its priority, concurrency limit, paused state and description, read and changed through the server's REST API from the host. Comes after the pool when this file declares it.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_work_queue".
 */
export interface PrefectWorkQueue {
  /**
   * A work queue of a Prefect work pool.
   */
  kind: 'prefect_work_queue';
  name?: Name;
  hosts?: HostList;
  /**
   * The queue's name in its pool, e.g. high-priority.
   */
  queue: string;
  /**
   * The work pool the queue belongs to, e.g. projections-local.
   */
  pool: string;
  /**
   * 1 is served first. Left out: the server's (the first free priority when it creates the queue) is kept.
   */
  priority?: number;
  /**
   * Most flow runs of this queue at once; null for no limit. Left out: not managed.
   */
  concurrency_limit?: number | null;
  /**
   * A paused queue hands out no runs. Default false.
   */
  paused?: boolean;
  /**
   * Left out: not managed.
   */
  description?: string;
  api_url: PrefectApiUrl;
  /**
   * Also delete the queues of the same pool (its default queue aside, which Prefect never deletes) that no resource of this host's setup declares. Default false. Set it on one resource of the kind: the first that sets it plans the removals, and the plan names each.
   */
  prune?: boolean;
  after?: AfterServices;
}
/**
 * A Prefect variable on the server (what flows read with Variable.get and prefect.yaml with {{ prefect.variables.NAME }}): its JSON value and tags, read and changed through the server's REST API from the host, as the work pool is.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_variable".
 */
export interface PrefectVariable {
  /**
   * A Prefect variable.
   */
  kind: 'prefect_variable';
  name?: Name;
  hosts?: HostList;
  /**
   * The variable's name on the server, e.g. default_league.
   */
  variable: string;
  /**
   * Any JSON value: a string, number, boolean, null, list or mapping, at most 5000 characters as JSON (Prefect's limit). Compared as JSON: 1 and 1.0 are the same value.
   */
  value: unknown;
  /**
   * Tags on the variable; compared without regard to order. Default none.
   *
   * Items: One tag.
   */
  tags?: string[];
  api_url: PrefectApiUrl;
  /**
   * Also delete the variables on the same server that no resource of this host's setup declares. Default false. Set it on one resource of the kind: the first that sets it plans the removals, and the plan names each.
   */
  prune?: boolean;
  after?: AfterServices;
}
/**
 * A global concurrency limit on the Prefect server (what flows take slots from with `concurrency(NAME)` or `rate_limit(NAME)`): its limit, whether it is active and its slot decay, read and changed through the server's REST API (/v2/concurrency_limits) from the host.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_concurrency_limit".
 */
export interface PrefectConcurrencyLimit {
  /**
   * A global concurrency limit.
   */
  kind: 'prefect_concurrency_limit';
  name?: Name;
  hosts?: HostList;
  /**
   * The limit's name, as flows name it, e.g. database.
   */
  concurrency_limit: string;
  /**
   * How many slots can be taken at once.
   */
  limit: number;
  /**
   * An inactive limit lets everything through. Default true.
   */
  active?: boolean;
  /**
   * Slots freed per second without being released (a rate limit). Left out: not managed.
   */
  slot_decay_per_second?: number;
  api_url: PrefectApiUrl;
  /**
   * Also delete the global concurrency limits on the same server that no resource of this host's setup declares. Default false. Set it on one resource of the kind: the first that sets it plans the removals, and the plan names each.
   */
  prune?: boolean;
  after?: AfterServices;
}
/**
 * A Prefect block document (credentials, a Secret, a webhook: what flows load with Block.load and prefect.yaml reads as {{ prefect.blocks.TYPE.NAME }}), kept by its type's slug and its name with the field values the spec gives, read and changed through the server's REST API from the host. The block's secret fields (its schema's secret_fields) take their values from secrets: only, and are compared without ever being shown.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_block".
 */
export interface PrefectBlock {
  /**
   * A Prefect block document.
   */
  kind: 'prefect_block';
  name?: Name;
  hosts?: HostList;
  /**
   * The block type's slug, as `prefect block type ls` lists it, e.g. secret, webhook, aws-credentials. The server registers Prefect's own types on start; others with `prefect block register -m MODULE`.
   */
  block_type: string;
  /**
   * The block's name, e.g. projections-api-key.
   */
  block: string;
  /**
   * Field values by field name, as the block's schema names them (any JSON). Fields left out are the server's. A secret field's value must come from secrets: ({{ name }}).
   */
  data: {
    [k: string]: unknown;
  };
  api_url: PrefectApiUrl;
  /**
   * Also delete the blocks of the same type on that server that no resource of this host's setup declares (anonymous blocks, which Prefect makes for itself, aside). Default false.
   */
  prune?: boolean;
  /**
   * When the server has no such block type: register it as `prefect block register` does, with the Prefect of `venv` as `user` (the code that defines the block must be importable there), then make the block. Without it, a missing type is a problem that names the command.
   */
  register?: {
    /**
     * The venv whose prefect registers it, e.g. /home/daniel/projects/projections-v2/.venv.
     */
    venv: string;
    /**
     * Who runs it (their login environment and profile).
     */
    user: string;
    /**
     * A module that defines the block type, as `prefect block register -m`, e.g. prefect_aws.credentials.
     */
    module?: string;
    /**
     * A .py file on the host that defines it, as `prefect block register -f`.
     */
    file?: string;
  };
  after?: AfterServices;
}
/**
 * A Prefect automation (notify or cancel when a flow run fails or hangs, pause a pool, run a deployment), kept by its name: trigger and actions in Prefect's own automation schema, the shape `prefect automation create --from-file` takes, read and changed through the server's REST API from the host.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_automation".
 */
export interface PrefectAutomation {
  /**
   * A Prefect automation.
   */
  kind: 'prefect_automation';
  name?: Name;
  hosts?: HostList;
  /**
   * The automation's name on the server, e.g. notify-on-failure. Prefect allows several of one name; reconcile keeps one per name and reports the others.
   */
  automation: string;
  /**
   * Default empty, as Prefect's.
   */
  description?: string;
  /**
   * Whether the server evaluates it. Default true.
   */
  enabled?: boolean;
  /**
   * Tags; compared without regard to order. Default none.
   *
   * Items: One tag.
   */
  tags?: string[];
  /**
   * Prefect's trigger: an event trigger (type: event, with match, match_related, after, expect, for_each, posture, threshold, within) or a compound or sequence of triggers (type: compound with require, or sequence; triggers; within). Left-out fields take the defaults Prefect's client gives them (posture Reactive, threshold 1, within 0, or 10 seconds when Proactive). within is seconds or an ISO 8601 duration (PT10M).
   */
  trigger: {
    /**
     * The kind of trigger.
     */
    type: 'event' | 'compound' | 'sequence';
    [k: string]: unknown;
  };
  actions: PrefectAutomationActions;
  actions_on_trigger?: PrefectAutomationActions;
  actions_on_resolve?: PrefectAutomationActions;
  api_url: PrefectApiUrl;
  /**
   * Also delete the automations on that server that no resource of this host's setup names (those a deployment owns aside: its prefect.yaml keeps them). Default false.
   */
  prune?: boolean;
  after?: AfterServices;
}
/**
 * The deployments declared in a project's prefect.yaml on the host, kept registered on the server with 'prefect deploy'. prefect.yaml is read as `prefect deploy` reads it; each deployment that differs is redeployed alone.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_deployments".
 */
export interface PrefectDeployments {
  /**
   * Deployments from prefect.yaml.
   */
  kind: 'prefect_deployments';
  name?: Name;
  hosts?: HostList;
  /**
   * An absolute path on the host.
   */
  project_dir: string;
  /**
   * File name of the deployment file. Default prefect.yaml.
   */
  prefect_file?: string;
  /**
   * Which deployments: "all" (default) or a list of names.
   */
  names?: 'all' | [string, ...string[]];
  /**
   * User that runs prefect deploy (the project's owner).
   */
  user: string;
  /**
   * An absolute path on the host.
   */
  venv: string;
  /**
   * Prefect profile to deploy with (PREFECT_PROFILE).
   */
  profile?: string;
  api_url: PrefectApiUrl;
  /**
   * Delete deployments on the server that the file no longer declares. Default false: they are only reported.
   */
  prune?: boolean;
  after?: AfterServices;
}
/**
 * Which database the Prefect server keeps its state in, as the server itself says (GET /api/admin/settings: its database driver and name). It changes nothing by itself: the server's settings (an environment file, its unit) move it. When the server runs on another database, the plan says what moves and what does not: Prefect has no migrator, so the deployments, work pools, queues, variables, blocks, automations and concurrency limits this setup declares are compared again on the new database once the server has moved (after its restart), and made there; flow runs, their logs and what the setup does not declare stay in the old database, which is kept as it is. Apply then checks that the server did move. Give PostgreSQL by its settings (PREFECT_SERVER_DATABASE_DRIVER, _HOST, _NAME...), not as one connection URL: the server hides the URL (a secret), so it cannot say where that points.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "prefect_server_database".
 */
export interface PrefectServerDatabase {
  /**
   * The Prefect server's database.
   */
  kind: 'prefect_server_database';
  name?: Name;
  hosts?: HostList;
  api_url: PrefectApiUrl;
  /**
   * The PostgreSQL database the server runs on (its PREFECT_SERVER_DATABASE_NAME, with the driver postgresql+asyncpg). Give this or sqlite.
   */
  postgres?: string;
  /**
   * An absolute path on the host.
   */
  sqlite?: string;
  after?: AfterServices;
  /**
   * Services (declared in this file) to restart once the server has moved to another database: a worker, whose pool and heartbeat were in the old one.
   */
  notifies?: UnitName[];
}
/**
 * A git checkout of a repository at a pinned version, made and kept by its owner. Drift: the checkout is at another commit (it moved, or the pin did), or its working tree has local changes; local changes are reported and kept unless force is true. An ssh:// or user@host: repository's host key must be in known_hosts (StrictHostKeyChecking=yes). A directory at the path that is not a checkout (the project copied by hand) is made one in place: the files of the commit it lacks are written, untracked and ignored files (a venv in it) are kept, and files that differ from the commit are kept and reported unless force is true. What lies inside the checkout (a venv) is made after the clone, and prefect_deployments of a project in it are compared again once it has moved, in the same apply.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "git".
 */
export interface Git {
  /**
   * A git checkout.
   */
  kind: 'git';
  name?: Name;
  hosts?: HostList;
  /**
   * Where to clone from, as git takes it: https://, ssh://, user@host:path or file://.
   */
  repo: string;
  /**
   * An absolute path on the host.
   */
  path: string;
  /**
   * A commit (40 hex digits: pinned exactly), a tag, or a branch (its newest commit on the remote, read by check).
   */
  version: string;
  /**
   * The user who owns the checkout and runs git (with their ~/.ssh).
   */
  user: string;
  /**
   * An absolute path on the host.
   */
  known_hosts?: string;
  /**
   * Discard local changes in the working tree (git reset --hard; untracked files stay) to reach the version, or, adopting a directory that is not a checkout, overwrite its files that differ from the commit. Default false: they are reported, and the checkout is left alone.
   */
  force?: boolean;
}
/**
 * A role of the host's PostgreSQL cluster (Debian's postgresql package), able to log in or not, with a password from secrets:. Read from pg_authid as the postgres system user over the local socket. The password is compared by computing the SCRAM-SHA-256 verifier of the secret with the stored salt, so it is never read back or shown; a changed one is set by sending a new verifier, so the password itself reaches no SQL text, server log or process list on the host. Compared once PostgreSQL answers when it is installed or started earlier in the same apply.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "postgres_role".
 */
export interface PostgresRole {
  /**
   * A PostgreSQL role.
   */
  kind: 'postgres_role';
  name?: Name;
  hosts?: HostList;
  /**
   * The role's name, e.g. prefect.
   */
  role: string;
  /**
   * The role's password, from secrets: ({{ NAME }}); a password written in setup.yaml is refused. Left out, the role's password is not managed (peer authentication alone, or one set by hand).
   */
  password?: string;
  /**
   * Whether the role may log in (a user) or not (a group). Default true.
   */
  login?: boolean;
  /**
   * present (default) or absent (DROP ROLE: PostgreSQL refuses while the role owns a database or objects, and apply says so).
   */
  state?: 'present' | 'absent';
  /**
   * The cluster's port on this host (Debian's first cluster listens on 5432, a second on 5433). Default 5432.
   */
  port?: number;
  after?: AfterServices;
}
/**
 * A database of the host's PostgreSQL cluster: its owner and encoding. Created from template0; a different owner is handed over (ALTER DATABASE ... OWNER TO); an encoding cannot change in place, which the plan reports instead of dropping data. Its owner's postgres_role, when declared, is converged first. Compared once PostgreSQL answers when it is installed or started earlier in the same apply.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "postgres_database".
 */
export interface PostgresDatabase {
  /**
   * A PostgreSQL database.
   */
  kind: 'postgres_database';
  name?: Name;
  hosts?: HostList;
  /**
   * The database's name, e.g. prefect.
   */
  database: string;
  /**
   * The role that owns it. Default postgres.
   */
  owner?: string;
  /**
   * Its character encoding, as CREATE DATABASE takes it. Default UTF8.
   */
  encoding?: string;
  /**
   * present (default) or absent (DROP DATABASE, with every table in it: only when written).
   */
  state?: 'present' | 'absent';
  /**
   * The cluster's port on this host (Debian's first cluster listens on 5432, a second on 5433). Default 5432.
   */
  port?: number;
  after?: AfterServices;
}
/**
 * Backups of a database (Prefect's, in SQLite or PostgreSQL), consistent while its server runs, taken by a systemd timer the setup installs: SQLite through its online backup API as the file's owner (its -wal and -shm stay theirs), PostgreSQL with pg_dump --format=custom as the postgres user. Each is written aside (a hidden .partial file), synced and renamed into place whole, as DIRECTORY/BACKUP-UTCTIME.db or .dump (root only, mode 0600); the newest `keep` stay. Check drifts when the newest is older than max_age or there is none, and apply then takes one at once. The README says how to restore one.
 *
 * This interface was referenced by `ReconcileDesiredStateSetupYaml`'s JSON-Schema
 * via the `definition` "database_backup".
 */
export interface DatabaseBackup {
  /**
   * Backups of a database.
   */
  kind: 'database_backup';
  name?: Name;
  hosts?: HostList;
  /**
   * The backups' name: the files are BACKUP-UTCTIME.EXT, the units reconcile-backup-BACKUP.service and .timer, the script /usr/local/sbin/reconcile-backup-BACKUP.
   */
  backup: string;
  /**
   * An absolute path on the host.
   */
  sqlite?: string;
  /**
   * The PostgreSQL database to back up, on this host's cluster. Give this or sqlite.
   */
  postgres?: string;
  /**
   * The PostgreSQL cluster's port. Default 5432.
   */
  port?: number;
  /**
   * An absolute path on the host.
   */
  directory: string;
  /**
   * How many of the newest backups stay; older ones are removed after each new one is whole. Default 7.
   */
  keep?: number;
  /**
   * When the timer takes one, as systemd's OnCalendar= (systemd.time(7)): daily, hourly, *-*-* 03:30:00, Mon..Fri 02:00. Checked by systemd-analyze before it is installed. Default daily. A backup missed while the host was off is taken at boot (Persistent=true).
   */
  on_calendar?: string;
  /**
   * Seconds: check drifts when the newest backup is older than this (a timer that stopped, a backup that fails), and apply takes one. Default 93600 (26 hours), for daily backups; set it to fit on_calendar.
   */
  max_age?: number;
  after?: AfterServices;
}
