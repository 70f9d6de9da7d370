"""`prefect server start`: the REST API subset reconcile uses, with state in SQLite under
PREFECT_HOME, bound exactly where told. Shapes follow Prefect 3's server (src/prefect/server/api)."""
import copy
import datetime
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import __version__, scheduler, settings
from ._release import HEALTHY, MIGRATIONS

API_VERSION = "0.8.4"
RESERVED = "Work pools starting with 'Prefect' are reserved for internal use."
POOL_CREATE_KEYS = {"name", "description", "type", "base_job_template", "is_paused", "concurrency_limit", "storage_configuration"}
LIMIT_KEYS = {"active", "name", "limit", "active_slots", "denied_slots", "slot_decay_per_second"}
INTEGRITY_CONFLICT = ("Data integrity conflict. This usually means a unique or foreign key constraint was violated. "
                      "See server logs for details.")
QUEUE_CREATE_KEYS = {"name", "description", "is_paused", "concurrency_limit", "priority", "filter"}
QUEUE_UPDATE_KEYS = {"name", "description", "is_paused", "concurrency_limit", "priority", "last_polled", "filter"}
POOL_UPDATE_KEYS = {"description", "is_paused", "base_job_template", "concurrency_limit", "storage_configuration"}
DEPLOYMENT_KEYS = {
    "name", "flow_id", "work_pool_name", "work_queue_name", "entrypoint", "path", "pull_steps", "parameters",
    "parameter_openapi_schema", "tags", "description", "version", "paused", "job_variables",
    "enforce_parameter_schema", "concurrency_limit", "schedules", "labels", "concurrency_options",
}


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(moment=None):
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


FLOW_RUN_CREATE_KEYS = {
    "state", "name", "parameters", "enforce_parameter_schema", "context", "infrastructure_document_id",
    "empirical_policy", "tags", "idempotency_key", "labels", "parent_task_run_id", "work_queue_name", "job_variables",
}


STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING")
STATE_CREATE_KEYS = {"type", "name", "message", "data", "state_details"}


def valid_state(state, body):
    """A StateCreate (schemas/actions.py, extra forbidden): a known type is required."""
    if not isinstance(state, dict):
        raise unprocessable("missing", ["body", "state"], "Field required", body)
    extra_keys(state, STATE_CREATE_KEYS)
    if state.get("type") not in STATE_TYPES:
        raise unprocessable("enum", ["body", "state", "type"], f"Input should be {', '.join(repr(t) for t in STATE_TYPES)}", body)
    return state


def parse_iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def parse_stamp(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


class HttpError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body


def not_found(detail="Not Found"):
    return HttpError(404, {"detail": detail})


TABLES = ("work_pools", "work_queues", "concurrency_limits", "flows", "deployments", "workers", "variables", "block_types",
          "block_schemas", "block_documents", "flow_runs", "automations")


class Store:
    """JSON documents, one table per kind, in SQLite or PostgreSQL as the database URL says; one
    writer at a time, as with the real server."""

    def __init__(self, db):
        self.db = db
        self.lock = threading.Lock()
        migrate(self.db)
        for table in TABLES:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, doc TEXT NOT NULL)")

    def connectable(self):
        """database.is_db_connectable: SELECT 1 answers."""
        try:
            with self.lock:
                self.db.execute("SELECT 1").fetchone()
            return True
        except Exception:  # noqa: BLE001 - any failure to reach the database means not ready
            return False

    def get(self, table, key):
        with self.lock:
            row = self.db.execute(f"SELECT doc FROM {table} WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def all(self, table):
        with self.lock:
            rows = self.db.execute(f"SELECT doc FROM {table} ORDER BY key").fetchall()
        return [json.loads(r[0]) for r in rows]

    def put(self, table, key, doc):
        with self.lock:
            self.db.execute(f"INSERT INTO {table} (key, doc) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
                            (key, json.dumps(doc)))

    def delete(self, table, key):
        with self.lock:
            self.db.execute(f"DELETE FROM {table} WHERE key = ?", (key,))


class MigrationError(Exception):
    pass


def migrate(db):
    """`alembic upgrade head`, as the real server runs it on start (PREFECT_API_DATABASE_MIGRATE_ON_START):
    forward only, one revision at a time; a database at a revision this release does not know (one an
    upgrade migrated) is refused, as alembic refuses it."""
    db.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    current = row[0] if row else None
    if current is not None and current not in MIGRATIONS:
        raise MigrationError(f"Can't locate revision identified by '{current}'")
    for revision in MIGRATIONS[MIGRATIONS.index(current) + 1 if current else 0:]:
        print(f"INFO  [alembic.runtime.migration] Running upgrade {current or ''} -> {revision}", file=sys.stderr)
        db.execute("DELETE FROM alembic_version")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (revision,))
        current = revision


def open_database():
    """The database PREFECT_SERVER_DATABASE_CONNECTION_URL names (PREFECT_API_DATABASE_CONNECTION_URL is
    its old name): sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME; else,
    as _defaults.py default_database_connection_url builds it, PREFECT_SERVER_DATABASE_DRIVER with
    _HOST, _PORT, _USER, _PASSWORD and _NAME; else SQLite under PREFECT_HOME."""
    url = settings.get("PREFECT_SERVER_DATABASE_CONNECTION_URL") or ""
    driver = settings.get("PREFECT_SERVER_DATABASE_DRIVER")
    if url.startswith("postgresql") or (not url and driver == "postgresql+asyncpg"):
        return Postgres(url or postgres_settings())
    if not url and driver == "sqlite+aiosqlite" and settings.get("PREFECT_SERVER_DATABASE_NAME"):
        url = f"sqlite+aiosqlite:///{settings.get('PREFECT_SERVER_DATABASE_NAME')}"
    elif not url and driver:
        raise ValueError(f"Unsupported database driver: {driver}")
    path = url.split(":///", 1)[1] if url.startswith("sqlite") else os.path.join(settings.home(), "prefect.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    # As Prefect's SQLite setup does: a write-ahead log beside the database file.
    db.execute("PRAGMA journal_mode=WAL")
    return db


def postgres_settings():
    """The connection of PREFECT_SERVER_DATABASE_HOST, _PORT, _USER, _PASSWORD and _NAME (host, user and name required)."""
    values = {key: settings.get(f"PREFECT_SERVER_DATABASE_{key.upper()}") for key in ("host", "port", "user", "password", "name")}
    missing = [key for key in ("host", "user", "name") if not values[key]]
    if missing:
        raise ValueError(f"Missing required database connection settings: {', '.join(missing)}")
    return {"host": values["host"], "port": int(values["port"] or 5432), "user": values["user"],
            "password": values["password"] or "", "dbname": values["name"]}


def admin_settings():
    """GET /api/admin/settings (admin.py read_settings): the server's Settings as JSON, secrets shown as
    pydantic's '**********'. The subset a caller reads: PREFECT_HOME and server.database, where the
    connection URL is always set (root.py post_hoc_settings fills in the default) and so always hidden."""
    database = {key: settings.get(f"PREFECT_SERVER_DATABASE_{key.upper()}") for key in ("driver", "host", "port", "user", "name")}
    if database["port"] is not None:
        database["port"] = int(database["port"])
    hidden = "**********"
    password = settings.get("PREFECT_SERVER_DATABASE_PASSWORD")
    return {"home": settings.home(),
            "server": {"database": {"connection_url": hidden, **database, "password": hidden if password else None,
                                    "echo": False, "migrate_on_start": True, "timeout": 10.0, "connection_timeout": 5.0}}}


class Postgres:
    """The stand-in's PostgreSQL connection, with sqlite3's execute(sql, params) so one Store serves both.
    Real Prefect talks to PostgreSQL through asyncpg, which its wheel brings; the stand-in borrows
    Debian's psycopg2 (python3-psycopg2, which the tests install on the host beside PostgreSQL). A lost
    connection is reopened on the next statement, as a pool would, so a restarted PostgreSQL is used again."""

    def __init__(self, connection):
        sys.path.append("/usr/lib/python3/dist-packages")
        import psycopg2  # noqa: PLC0415 - only a server on PostgreSQL needs it
        self.driver = psycopg2
        if isinstance(connection, str):
            parts = urllib.parse.urlsplit(connection)
            connection = {"host": parts.hostname or "localhost", "port": parts.port or 5432, "user": urllib.parse.unquote(parts.username or ""),
                          "password": urllib.parse.unquote(parts.password or ""), "dbname": parts.path.lstrip("/")}
        self.dsn = {**connection, "connect_timeout": 5}
        self.connection = None
        self.execute("SELECT 1")

    def execute(self, sql, params=()):
        try:
            if self.connection is None or self.connection.closed:
                self.connection = self.driver.connect(**self.dsn)
                self.connection.autocommit = True
            cursor = self.connection.cursor()
            cursor.execute(sql.replace("?", "%s"), params)
            return cursor
        except (self.driver.OperationalError, self.driver.InterfaceError):
            self.connection = None
            raise


class Api:
    def __init__(self, store):
        self.store = store
        register_system_blocks(store)
        # One claim at a time: two workers proposing PENDING for one run must not both win.
        self.claims = threading.Lock()
        # A change of a deployment and a pass of the scheduler do not interleave (each is one
        # transaction in the real server): runs of replaced schedules are not made after their removal.
        self.deployment_writes = threading.RLock()
        self.routes = [
            ("GET", r"/api/health", lambda m, b: (200, True)),
            ("GET", r"/api/ready", self.ready),
            ("GET", r"/api/version", lambda m, b: (200, API_VERSION)),
            ("GET", r"/api/admin/version", lambda m, b: (200, __version__)),
            ("GET", r"/api/admin/settings", lambda m, b: (200, admin_settings())),
            ("GET", r"/api/hello", lambda m, b: (200, "\U0001F44B")),
            ("POST", r"/api/work_pools/", self.create_pool),
            ("POST", r"/api/work_pools/filter", self.filter_pools),
            ("POST", r"/api/work_pools/(?P<name>[^/]+)/workers/heartbeat", self.heartbeat),
            ("POST", r"/api/work_pools/(?P<name>[^/]+)/workers/filter", self.filter_workers),
            ("DELETE", r"/api/work_pools/(?P<name>[^/]+)/workers/(?P<worker>[^/]+)", self.delete_worker),
            ("POST", r"/api/work_pools/(?P<name>[^/]+)/queues/filter", self.filter_queues),
            ("POST", r"/api/work_pools/(?P<name>[^/]+)/queues", self.create_queue),
            ("GET", r"/api/work_pools/(?P<name>[^/]+)/queues/(?P<queue>[^/]+)", self.read_queue),
            ("PATCH", r"/api/work_pools/(?P<name>[^/]+)/queues/(?P<queue>[^/]+)", self.update_queue),
            ("DELETE", r"/api/work_pools/(?P<name>[^/]+)/queues/(?P<queue>[^/]+)", self.delete_queue),
            ("GET", r"/api/work_pools/(?P<name>[^/]+)", self.read_pool),
            ("PATCH", r"/api/work_pools/(?P<name>[^/]+)", self.update_pool),
            ("DELETE", r"/api/work_pools/(?P<name>[^/]+)", self.delete_pool),
            ("POST", r"/api/flows/", self.create_flow),
            ("POST", r"/api/flows/filter", self.filter_flows),
            ("GET", r"/api/flows/name/(?P<name>[^/]+)", self.read_flow_by_name),
            ("GET", r"/api/flows/(?P<id>[0-9a-f-]{36})", self.read_flow),
            ("POST", r"/api/deployments/", self.upsert_deployment),
            ("POST", r"/api/deployments/filter", self.filter_deployments),
            ("POST", r"/api/deployments/count", lambda m, b: (200, len(self.store.all("deployments")))),
            ("GET", r"/api/deployments/name/(?P<flow>[^/]+)/(?P<name>[^/]+)", self.read_deployment_by_name),
            ("GET", r"/api/deployments/(?P<id>[0-9a-f-]{36})", self.read_deployment),
            ("PATCH", r"/api/deployments/(?P<id>[0-9a-f-]{36})", self.update_deployment),
            ("PATCH", r"/api/deployments/(?P<id>[0-9a-f-]{36})/schedules/(?P<schedule_id>[0-9a-f-]{36})", self.update_one_schedule),
            ("DELETE", r"/api/deployments/(?P<id>[0-9a-f-]{36})", self.delete_deployment),
            ("GET", r"/api/automations/related-to/(?P<resource>.+)", lambda m, b: (200, [])),
            ("POST", r"/api/automations/", self.create_automation),
            ("DELETE", r"/api/automations/owned-by/(?P<resource>.+)", self.delete_owned_automations),
            ("POST", r"/api/automations/filter", lambda m, b: (200, page([automation_view(a) for a in sorted(self.store.all("automations"), key=lambda a: a["name"])], b))),
            ("GET", r"/api/automations/(?P<id>[0-9a-f-]{36})", lambda m, b: (200, automation_view(self.require_automation(m)))),
            ("PUT", r"/api/automations/(?P<id>[0-9a-f-]{36})", self.replace_automation),
            ("PATCH", r"/api/automations/(?P<id>[0-9a-f-]{36})", self.patch_automation),
            ("DELETE", r"/api/automations/(?P<id>[0-9a-f-]{36})", self.delete_automation),
            ("POST", r"/api/block_types/", self.create_block_type),
            ("GET", r"/api/block_types/slug/(?P<slug>[^/]+)", self.read_block_type_by_slug),
            ("PATCH", r"/api/block_types/(?P<id>[0-9a-f-]{36})", self.update_block_type),
            ("POST", r"/api/block_schemas/", self.create_block_schema),
            ("POST", r"/api/block_schemas/filter", self.filter_block_schemas),
            ("POST", r"/api/block_documents/", self.create_block_document),
            ("POST", r"/api/block_documents/filter", self.filter_block_documents),
            ("GET", r"/api/block_documents/(?P<id>[0-9a-f-]{36})", self.read_block_document),
            ("PATCH", r"/api/block_documents/(?P<id>[0-9a-f-]{36})", self.update_block_document),
            ("DELETE", r"/api/block_documents/(?P<id>[0-9a-f-]{36})", self.delete_block_document),
            ("GET", r"/api/block_types/slug/(?P<slug>[^/]+)/block_documents/name/(?P<name>[^/]+)", self.read_block_document_by_name),
            ("POST", r"/api/deployments/(?P<id>[0-9a-f-]{36})/create_flow_run", self.create_flow_run),
            ("POST", r"/api/work_pools/(?P<name>[^/]+)/get_scheduled_flow_runs", self.scheduled_flow_runs),
            ("POST", r"/api/flow_runs/filter", self.filter_flow_runs),
            ("GET", r"/api/flow_runs/(?P<id>[0-9a-f-]{36})", self.read_flow_run),
            ("POST", r"/api/flow_runs/(?P<id>[0-9a-f-]{36})/set_state", self.set_flow_run_state),
            ("POST", r"/api/v2/concurrency_limits/", self.create_limit),
            ("POST", r"/api/v2/concurrency_limits/filter", lambda m, b: (200, page(sorted(self.store.all("concurrency_limits"), key=lambda c: c["name"]), b))),
            ("GET", r"/api/v2/concurrency_limits/(?P<name>[^/]+)", self.read_limit),
            ("PATCH", r"/api/v2/concurrency_limits/(?P<name>[^/]+)", self.update_limit),
            ("DELETE", r"/api/v2/concurrency_limits/(?P<name>[^/]+)", self.delete_limit),
            ("POST", r"/api/variables/", self.create_variable),
            ("POST", r"/api/variables/filter", lambda m, b: (200, page(sorted(self.store.all("variables"), key=lambda v: v["name"]), b))),
            ("GET", r"/api/variables/name/(?P<name>[^/]+)", self.read_variable),
            ("PATCH", r"/api/variables/name/(?P<name>[^/]+)", self.update_variable),
            ("DELETE", r"/api/variables/name/(?P<name>[^/]+)", self.delete_variable),
        ]

    def ready(self, _m, _b):
        """api/root.py perform_readiness_check: 503 when the database does not answer (/health does not look)."""
        if self.store.connectable():
            return 200, {"message": "OK"}
        return 503, {"message": "Database is not available"}

    def handle(self, method, path, body, query=None):
        self.contend(method, path)
        for route_method, pattern, handler in self.routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return handler({**{k: urldecode(v) for k, v in match.groupdict().items()}, "query": query or {}}, body)
        raise not_found()

    def contend(self, method, path):
        """The fault switch for SQLite under a fleet's load (the reference's fleet section): with
        PREFECT_STANDIN_LOCKED_EVERY=N in the server's environment, every Nth write answers HTTP 503
        {"exception_message": "Service Unavailable"}, as a write that met "database is locked" does.
        Reads (GET, and the POSTs that only read) are never refused."""
        every = int(os.environ.get("PREFECT_STANDIN_LOCKED_EVERY") or 0)
        reads = path.endswith("/filter") or path.endswith("/get_scheduled_flow_runs")
        if every <= 0 or method == "GET" or reads:
            return
        self.writes = getattr(self, "writes", 0) + 1
        if self.writes % every == 0:
            print("sqlite3.OperationalError: database is locked", file=sys.stderr, flush=True)
            raise HttpError(503, {"exception_message": "Service Unavailable"})

    # --- flow runs (api/deployments.py, api/workers.py, api/flow_runs.py) ------------
    def create_flow_run(self, m, body):
        """A run of a deployment, SCHEDULED for now unless a state is given; the deployment's
        parameters under the given ones, its tags unless given (DeploymentFlowRunCreate, extra forbidden)."""
        extra_keys(body, FLOW_RUN_CREATE_KEYS)
        d = self.require_deployment(m["id"], "Deployment not found")
        run = self.new_run(d, {
            "name": body.get("name"), "parameters": {**d["parameters"], **(body.get("parameters") or {})},
            "idempotency_key": body.get("idempotency_key"), "context": body.get("context") or {},
            "tags": body.get("tags") if body.get("tags") is not None else d["tags"], "labels": body.get("labels") or {},
            "job_variables": body.get("job_variables") or {}})
        state = valid_state(body["state"], body) if "state" in body else {"type": "SCHEDULED", "name": "Scheduled"}
        # A SCHEDULED state may say when: the run is expected then.
        due = (state.get("state_details") or {}).get("scheduled_time") if state["type"] == "SCHEDULED" else None
        if due:
            run["expected_start_time"] = run["next_scheduled_start_time"] = stamp(parse_iso(due).astimezone(datetime.timezone.utc))
        self.enter_state(run, state, {"scheduled_time": run["expected_start_time"]})
        return 201, run

    def insert_scheduled_run(self, d, schedule, date, key):
        """A run the scheduler made (_generate_scheduled_flow_runs): tagged auto-scheduled, the schedule's
        parameters over the deployment's, created_by the schedule, due at its date."""
        due = stamp(date.astimezone(datetime.timezone.utc))
        run = self.new_run(d, {
            "parameters": {**d["parameters"], **(schedule.get("parameters") or {})}, "idempotency_key": key,
            "tags": ["auto-scheduled"] + d["tags"], "auto_scheduled": True, "expected_start_time": due,
            "next_scheduled_start_time": due, "created_by": {
                "id": schedule["id"], "type": "SCHEDULE",
                "display_value": schedule.get("slug") or schedule_class(schedule["schedule"])}})
        self.enter_state(run, {"type": "SCHEDULED", "name": "Scheduled", "message": "Flow run scheduled"}, {"scheduled_time": due})

    def new_run(self, d, fields):
        """A flow run of deployment d (schemas/core.py FlowRun's fields, in the response's order)."""
        pool = self.require_pool(d["work_pool_name"]) if d["work_pool_name"] else None
        moment = stamp()
        run = {
            "id": str(uuid.uuid4()), "created": moment, "updated": moment,
            "name": f"{uuid.uuid4().hex[:6]}-run", "flow_id": d["flow_id"], "state_id": None,
            "deployment_id": d["id"], "deployment_version": d.get("version"),
            "work_queue_id": pool["default_queue_id"] if pool else None, "work_queue_name": d["work_queue_name"],
            "flow_version": None, "parameters": d["parameters"], "idempotency_key": None, "context": {},
            "empirical_policy": {"max_retries": 0, "retry_delay_seconds": 0.0, "retries": 0, "retry_delay": 0, "pause_keys": [], "resuming": False, "retry_type": None},
            "tags": d["tags"], "labels": {},
            "parent_task_run_id": None, "state_type": None, "state_name": None, "run_count": 0,
            "expected_start_time": moment, "next_scheduled_start_time": moment, "start_time": None, "end_time": None,
            "total_run_time": 0.0, "estimated_run_time": 0.0, "estimated_start_time_delta": 0.0, "auto_scheduled": False,
            "infrastructure_document_id": None, "infrastructure_pid": None, "created_by": None,
            "work_pool_id": pool["id"] if pool else None, "work_pool_name": d["work_pool_name"], "state": None,
            "job_variables": {},
        }
        run.update({k: v for k, v in fields.items() if v is not None})
        return run

    def delete_scheduled_runs(self, deployment_id, auto_scheduled_only=True, future_only=True):
        """models/deployments.py _delete_scheduled_runs: a deployment's SCHEDULED runs that never ran
        (only the scheduler's, only those still ahead, unless told), so that the next pass follows its
        new schedules."""
        current = now()
        for r in self.store.all("flow_runs"):
            if (r["deployment_id"] == deployment_id and r["state_type"] == "SCHEDULED" and r["run_count"] == 0
                    and (r["auto_scheduled"] or not auto_scheduled_only)
                    and (parse_stamp(r["next_scheduled_start_time"]) > current or not future_only)):
                self.store.delete("flow_runs", r["id"])

    def scheduled_flow_runs(self, m, body):
        """SCHEDULED runs of the pool's deployments due before `scheduled_before`, oldest first."""
        pool = self.require_pool(m["name"])
        queues = (body or {}).get("work_queue_names")
        # The stand-in's pools have their default queue and the queues their deployments name.
        known = {"default"} | {d["work_queue_name"] for d in self.store.all("deployments") if d["work_pool_name"] == pool["name"]}
        for queue in queues or []:
            if queue not in known:
                raise not_found(f"Work pool queue '{pool['name']}/{queue}' not found.")
        before = parse_iso((body or {}).get("scheduled_before")) or now()
        # get-runs-from-worker-queues.sql.jinja: nothing from a paused pool or a paused queue.
        if pool["is_paused"]:
            return 200, []
        paused = {name for name, q in self.queues_of(pool).items() if q["is_paused"]}
        due = [r for r in self.store.all("flow_runs") if r["work_pool_id"] == pool["id"] and r["state_type"] == "SCHEDULED"
               and parse_stamp(r["next_scheduled_start_time"]) <= before and (not queues or r["work_queue_name"] in queues)
               and r["work_queue_name"] not in paused]
        due.sort(key=lambda r: r["next_scheduled_start_time"])
        limit = (body or {}).get("limit") or 200
        return 200, [{"work_pool_id": pool["id"], "work_queue_id": r["work_queue_id"], "flow_run": r} for r in due[:limit]]

    def filter_flow_runs(self, _m, body):
        """api/flow_runs.py read_flow_runs, for the filters the stand-in knows: flow_runs.state.type
        (any_/not_any_) and work_pools.name.any_; the filter models forbid unknown keys (422), and
        a filter family the stand-in does not know is refused rather than ignored."""
        body = body or {}
        for key in body:
            if key not in ("sort", "limit", "offset", "flow_runs", "work_pools"):
                raise unprocessable("stand_in_unsupported", ["body", key], f"the stand-in does not filter flow runs by {key}", body)
        runs = self.store.all("flow_runs")
        state_type = filter_keys(body.get("flow_runs"), ["body", "flow_runs"], {"state": {"type": {"any_", "not_any_"}}}, body)
        types = ((state_type or {}).get("state") or {}).get("type") or {}
        if types.get("any_") is not None:
            runs = [r for r in runs if r["state_type"] in types["any_"]]
        if types.get("not_any_") is not None:
            runs = [r for r in runs if r["state_type"] not in types["not_any_"]]
        pools = filter_keys(body.get("work_pools"), ["body", "work_pools"], {"name": {"any_"}}, body)
        names = ((pools or {}).get("name") or {}).get("any_")
        if names is not None:
            ids = {p["id"] for p in self.store.all("work_pools") if p["name"] in names}
            runs = [r for r in runs if r["work_pool_id"] in ids]
        runs.sort(key=lambda r: r["id"], reverse=True)  # FlowRunSort.ID_DESC
        return 200, page(runs, body)

    def require(self, table, key, detail):
        doc = self.store.get(table, key)
        if doc is None:
            raise not_found(detail)
        return doc

    def read_flow_run(self, m, _b):
        return 200, self.require("flow_runs", m["id"], "Flow run not found")

    def set_flow_run_state(self, m, body):
        """The orchestration a worker and the engine meet: PENDING only from a state that is not
        running or pending already (PreventPendingTransitions aborts a second claim)."""
        self.require("flow_runs", m["id"], "Flow run not found")
        proposed = valid_state((body or {}).get("state"), body)
        with self.claims:
            run = self.store.get("flow_runs", m["id"])
            current = run["state_type"]
            # core_policy.py PreventPendingTransitions (a renamed PENDING sub-state aside); no new state: 200.
            if proposed.get("type") == "PENDING" and current in ("PENDING", "RUNNING", "CANCELLING", "CANCELLED") and not body.get("force"):
                reason = f"This run is in a {current} state and cannot transition to a PENDING state."
                return 200, {"status": "ABORT", "details": {"type": "abort_details", "reason": reason}, "state": run["state"]}
            scheduled = parse_iso((run["state"] or {}).get("state_details", {}).get("scheduled_time")) if current in ("SCHEDULED", "PENDING") else None
            # WaitForScheduledTime: RUNNING before the scheduled time (a worker prefetches runs due
            # within 10 s) is not written; the engine is told to wait and propose it again.
            delay = round((scheduled - now()).total_seconds()) if scheduled else 0
            if proposed.get("type") == "RUNNING" and delay > 0 and not body.get("force"):
                details = {"type": "wait_details", "delay_seconds": delay, "reason": "Scheduled time is in the future"}
                return 200, {"status": "WAIT", "details": details, "state": None}
            # CopyScheduledTime: the PENDING state keeps the time the run was scheduled for.
            state = self.enter_state(run, proposed, {"scheduled_time": stamp(scheduled)} if scheduled and proposed.get("type") == "PENDING" else {})
        return 201, {"status": "ACCEPT", "details": {"type": "accept_details"}, "state": state}

    def enter_state(self, run, proposed, details):
        moment = stamp()
        state_type = proposed.get("type")
        state = {"id": str(uuid.uuid4()), "type": state_type, "name": proposed.get("name") or state_type.title(),
                 "timestamp": moment, "message": proposed.get("message"), "data": None,
                 "state_details": {**(proposed.get("state_details") or {}), **details, "flow_run_id": run["id"]}}
        run.update({"state": state, "state_id": state["id"], "state_type": state_type, "state_name": state["name"], "updated": moment})
        if state_type == "RUNNING":
            run.update({"start_time": moment, "run_count": run["run_count"] + 1})
        if state_type in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            run["end_time"] = moment
        self.store.put("flow_runs", run["id"], run)
        return state

    # --- work pools ---------------------------------------------------------
    def pool_view(self, pool):
        workers = [w for w in self.store.all("workers") if w["work_pool_id"] == pool["id"]]
        online = any(self.worker_status(w) == "ONLINE" for w in workers)
        status = "PAUSED" if pool["is_paused"] else ("READY" if online else "NOT_READY")
        return {**pool, "status": status if pool["type"] != "prefect-agent" else None}

    def require_pool(self, name):
        pool = self.store.get("work_pools", name)
        if pool is None:
            raise not_found(f'Work pool "{name}" not found.')
        return pool

    def create_pool(self, _m, body):
        extra_keys(body, POOL_CREATE_KEYS)
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise unprocessable("missing", ["body", "name"], "Field required")
        if name.lower().startswith("prefect"):
            raise HttpError(403, {"detail": RESERVED})
        if self.store.get("work_pools", name):
            raise HttpError(409, {"detail": "A work pool with this name already exists."})
        moment = stamp()
        pool = {
            "id": str(uuid.uuid4()), "created": moment, "updated": moment, "name": name,
            "description": body.get("description"), "type": body.get("type") or "prefect-agent",
            "base_job_template": body.get("base_job_template") or {}, "is_paused": bool(body.get("is_paused", False)),
            "concurrency_limit": body.get("concurrency_limit"), "status": "NOT_READY",
            "default_queue_id": str(uuid.uuid4()),
            "storage_configuration": body.get("storage_configuration") or {
                "bundle_upload_step": None, "bundle_execution_step": None, "default_result_storage_block_id": None},
            "active_slots": None,
        }
        self.store.put("work_pools", name, pool)
        return 201, self.pool_view(pool)

    def read_pool(self, m, _b):
        return 200, self.pool_view(self.require_pool(m["name"]))

    def filter_pools(self, _m, body):
        names = (((body or {}).get("work_pools") or {}).get("name") or {}).get("any_")
        pools = [p for p in self.store.all("work_pools") if names is None or p["name"] in names]
        return 200, [self.pool_view(p) for p in sorted(pools, key=lambda p: p["name"])]

    def update_pool(self, m, body):
        extra_keys(body, POOL_UPDATE_KEYS)
        pool = self.require_pool(m["name"])
        pool.update({k: v for k, v in body.items()})
        pool["updated"] = stamp()
        self.store.put("work_pools", pool["name"], pool)
        return 204, None

    def delete_pool(self, m, _b):
        self.require_pool(m["name"])
        self.store.delete("work_pools", m["name"])
        return 204, None

    # --- workers --------------------------------------------------------------
    @staticmethod
    def worker_status(worker):
        age = (now() - parse_stamp(worker["last_heartbeat_time"])).total_seconds()
        return "ONLINE" if age < worker["heartbeat_interval_seconds"] * 3 else "OFFLINE"

    def heartbeat(self, m, body):
        pool = self.require_pool(m["name"])
        name = body.get("name")
        key = f"{pool['id']}/{name}"
        worker = self.store.get("workers", key) or {
            "id": str(uuid.uuid4()), "created": stamp(), "name": name, "work_pool_id": pool["id"]}
        worker.update({"updated": stamp(), "last_heartbeat_time": stamp(),
                       "heartbeat_interval_seconds": body.get("heartbeat_interval_seconds") or 30})
        self.store.put("workers", key, worker)
        return 204, None

    def delete_worker(self, m, _b):
        """api/workers.py delete_worker: 404 "Worker not found." when the pool has no worker of that name."""
        pool = self.require_pool(m["name"])
        key = f"{pool['id']}/{m['worker']}"
        if self.store.get("workers", key) is None:
            raise not_found("Worker not found.")
        self.store.delete("workers", key)
        return 204, None

    def filter_workers(self, m, _b):
        pool = self.require_pool(m["name"])
        workers = [w for w in self.store.all("workers") if w["work_pool_id"] == pool["id"]]
        return 200, [{**w, "status": self.worker_status(w)} for w in workers]

    # --- global concurrency limits (api/concurrency_limits_v2.py, schemas/actions.py ConcurrencyLimitV2Create/Update) ---
    def require_limit(self, m):
        """By name or by id, as /{id_or_name} is; 404 with the API's words."""
        key = m["name"]
        found = self.store.get("concurrency_limits", key) or next(
            (c for c in self.store.all("concurrency_limits") if c["id"] == key), None)
        if found is None:
            raise not_found("Concurrency Limit not found")
        return found

    @staticmethod
    def valid_limit_fields(body):
        """Name without / % & > <, NonNegativeInteger limit and slots, NonNegativeFloat decay, bool active."""
        name = body.get("name")
        if name is not None and not re.fullmatch(r"[^/%&><]+", name):
            raise unprocessable("string_pattern_mismatch", ["body", "name"], "String should match pattern '^[^/%&><]+$'", body)
        for key in ("limit", "active_slots", "denied_slots"):
            value = body.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise unprocessable("int_type", ["body", key], "Input should be a valid integer", body)
            if value is not None and value < 0:
                raise unprocessable("greater_than_equal", ["body", key], "Input should be greater than or equal to 0", body)
        decay = body.get("slot_decay_per_second")
        if decay is not None and (not isinstance(decay, (int, float)) or isinstance(decay, bool) or decay < 0):
            raise unprocessable("greater_than_equal", ["body", "slot_decay_per_second"], "Input should be greater than or equal to 0", body)
        if "active" in body and body["active"] is not None and not isinstance(body["active"], bool):
            raise unprocessable("bool_type", ["body", "active"], "Input should be a valid boolean", body)

    def create_limit(self, _m, body):
        extra_keys(body, LIMIT_KEYS)
        for required in ("name", "limit"):
            if body.get(required) is None:
                raise unprocessable("missing", ["body", required], "Field required", body)
        self.valid_limit_fields(body)
        if self.store.get("concurrency_limits", body["name"]):
            # The unique name is the database's: the integrity handler answers (api/server.py).
            raise HttpError(409, {"detail": INTEGRITY_CONFLICT})
        moment = stamp()
        limit = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, "active": body.get("active", True),
                 "name": body["name"], "limit": body["limit"], "active_slots": body.get("active_slots", 0),
                 "denied_slots": body.get("denied_slots", 0),
                 "slot_decay_per_second": float(body.get("slot_decay_per_second", 0)), "avg_slot_occupancy_seconds": 2.0}
        self.store.put("concurrency_limits", limit["name"], limit)
        return 201, limit

    def read_limit(self, m, _b):
        return 200, self.require_limit(m)

    def update_limit(self, m, body):
        extra_keys(body, LIMIT_KEYS)
        self.valid_limit_fields(body)
        limit = self.require_limit(m)
        changes = {k: v for k, v in body.items() if v is not None}
        if "slot_decay_per_second" in changes:
            changes["slot_decay_per_second"] = float(changes["slot_decay_per_second"])
        if changes.get("name", limit["name"]) != limit["name"] and self.store.get("concurrency_limits", changes["name"]):
            raise HttpError(409, {"detail": INTEGRITY_CONFLICT})
        self.store.delete("concurrency_limits", limit["name"])
        limit = {**limit, **changes, "updated": stamp()}
        self.store.put("concurrency_limits", limit["name"], limit)
        return 204, None

    def delete_limit(self, m, _b):
        self.store.delete("concurrency_limits", self.require_limit(m)["name"])
        return 204, None

    # --- work queues (api/workers.py /work_pools/NAME/queues, schemas/actions.py WorkQueueCreate/Update) ---
    def queues_of(self, pool):
        """The pool's queues by name: those stored, and its default queue, made with the pool."""
        stored = {q["name"]: q for q in self.store.all("work_queues") if q["work_pool_id"] == pool["id"]}
        default = {"id": pool["default_queue_id"], "created": pool["created"], "updated": pool["updated"],
                   "name": "default", "description": "The work pool's default queue.", "is_paused": False,
                   "concurrency_limit": None, "priority": 1, "last_polled": None, "status": "NOT_READY",
                   "filter": None, "work_pool_id": pool["id"], "work_pool_name": pool["name"]}
        return {"default": default, **stored}

    @staticmethod
    def queue_view(queue):
        # active_slots: counted only for a queue with a limit (read_work_queue); no runs hold slots here.
        return {**queue, "active_slots": 0 if queue["concurrency_limit"] is not None else None}

    def require_queue(self, m):
        pool = self.store.get("work_pools", m["name"])
        queue = self.queues_of(pool).get(m["queue"]) if pool else None
        if queue is None:
            raise not_found(f"Work pool queue '{m['name']}/{m['queue']}' not found.")
        return pool, queue

    @staticmethod
    def valid_queue_fields(body):
        """WorkQueueCreate/Update's types: Name without / % & > <, PositiveInteger, NonNegativeInteger."""
        name = body.get("name")
        if name is not None and not re.fullmatch(r"[^/%&><]+", name):
            raise unprocessable("string_pattern_mismatch", ["body", "name"], "String should match pattern '^[^/%&><]+$'", body)
        priority = body.get("priority")
        if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
            raise unprocessable("int_type", ["body", "priority"], "Input should be a valid integer", body)
        if priority is not None and priority < 1:
            raise unprocessable("greater_than", ["body", "priority"], "Input should be greater than 0", body)
        limit = body.get("concurrency_limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            raise unprocessable("int_type", ["body", "concurrency_limit"], "Input should be a valid integer", body)
        if limit is not None and limit < 0:
            raise unprocessable("greater_than_equal", ["body", "concurrency_limit"], "Input should be greater than or equal to 0", body)

    def filter_queues(self, m, body):
        pool = self.require_pool(m["name"])
        queues = sorted(self.queues_of(pool).values(), key=lambda q: (q["priority"], q["name"]))
        return 200, page([self.queue_view(q) for q in queues], body)

    def create_queue(self, m, body):
        extra_keys(body, QUEUE_CREATE_KEYS)
        if not isinstance(body.get("name"), str):
            raise unprocessable("missing", ["body", "name"], "Field required", body)
        self.valid_queue_fields(body)
        pool = self.require_pool(m["name"])
        queues = self.queues_of(pool)
        if body["name"] in queues:
            raise HttpError(409, {"detail": f"A work queue with this name already exists in work pool {m['name']!r}."})
        priority = body.get("priority")
        if priority is None:
            # models/workers.py create_work_queue: the first priority not taken, else the highest plus one.
            taken = sorted(q["priority"] for q in queues.values())
            priority = next((i + 1 for i, p in enumerate(taken) if p != i + 1), max(taken, default=0) + 1)
        moment = stamp()
        queue = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, "name": body["name"],
                 "description": body.get("description", ""), "is_paused": bool(body.get("is_paused", False)),
                 "concurrency_limit": body.get("concurrency_limit"), "priority": priority, "last_polled": None,
                 "status": "PAUSED" if body.get("is_paused") else "NOT_READY", "filter": None,
                 "work_pool_id": pool["id"], "work_pool_name": pool["name"]}
        self.store.put("work_queues", f"{pool['id']}/{queue['name']}", queue)
        if body.get("priority") is not None:
            self.reprioritize(pool, {queue["name"]: priority})
        return 201, self.queue_view(self.queues_of(pool)[queue["name"]])

    def read_queue(self, m, _b):
        return 200, self.queue_view(self.require_queue(m)[1])

    def update_queue(self, m, body):
        extra_keys(body, QUEUE_UPDATE_KEYS)
        self.valid_queue_fields(body)
        pool, queue = self.require_queue(m)
        # exclude_unset: only the fields sent change (models/workers.py update_work_queue).
        queue = {**queue, **{k: v for k, v in body.items() if k != "filter"}, "updated": stamp()}
        if "is_paused" in body:
            queue["status"] = "PAUSED" if body["is_paused"] else "NOT_READY"
        self.store.delete("work_queues", f"{pool['id']}/{m['queue']}")
        self.store.put("work_queues", f"{pool['id']}/{queue['name']}", queue)
        if body.get("priority") is not None:
            self.reprioritize(pool, {queue["name"]: body["priority"]})
        return 204, None

    def reprioritize(self, pool, wanted):
        """models/workers.py bulk_update_work_queue_priorities: the queues given take their priority;
        the others keep their order, moved up one where they would collide (priorities stay unique)."""
        queues = sorted(self.queues_of(pool).values(), key=lambda q: q["priority"])
        others = [q for q in queues if q["name"] not in wanted]
        for queue in sorted((q for q in queues if q["name"] in wanted), key=lambda q: wanted[q["name"]]):
            queue["priority"] = wanted[queue["name"]]
            for i, other in enumerate(others):
                if other["priority"] >= queue["priority"]:
                    others.insert(i, queue)
                    break
        last = 0
        for queue in others:
            if queue["priority"] <= last:
                last += 1
                queue["priority"] = last
            else:
                last = queue["priority"]
        for queue in queues:
            self.store.put("work_queues", f"{pool['id']}/{queue['name']}", queue)

    def delete_queue(self, m, _b):
        pool, queue = self.require_queue(m)
        if queue["id"] == pool["default_queue_id"]:
            # models/workers.py raises ValueError("Can't delete a pool's default queue."), which no
            # handler maps: the custom internal exception handler answers 500.
            raise HttpError(500, {"exception_message": "Internal Server Error"})
        self.store.delete("work_queues", f"{pool['id']}/{queue['name']}")
        return 204, None

    # --- flows -------------------------------------------------------------------
    def create_flow(self, _m, body):
        name = body.get("name")
        for flow in self.store.all("flows"):
            if flow["name"] == name:
                return 200, flow
        moment = stamp()
        flow = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, "name": name, "tags": [], "labels": {}}
        self.store.put("flows", flow["id"], flow)
        return 201, flow

    def read_flow(self, m, _b):
        return 200, self.require("flows", m["id"], "Flow not found")

    def read_flow_by_name(self, m, _b):
        for flow in self.store.all("flows"):
            if flow["name"] == m["name"]:
                return 200, flow
        raise not_found("Flow not found")

    def filter_flows(self, _m, body):
        names = (((body or {}).get("flows") or {}).get("name") or {}).get("any_")
        return 200, [f for f in self.store.all("flows") if names is None or f["name"] in names]

    # --- deployments ---------------------------------------------------------------
    def deployment_view(self, d):
        # The real response lists status between work_pool_name and enforce_parameter_schema.
        view = {k: v for k, v in d.items() if k != "enforce_parameter_schema"}
        return {**view, "status": "NOT_READY", "enforce_parameter_schema": d["enforce_parameter_schema"]}

    def find_deployment(self, flow_id, name):
        for d in self.store.all("deployments"):
            if d["flow_id"] == flow_id and d["name"] == name:
                return d
        return None

    def write_schedules(self, deployment_id, schedules):
        moment = stamp()
        return [{"id": str(uuid.uuid4()), "created": moment, "updated": moment, "deployment_id": deployment_id,
                 "schedule": normalize_schedule(s.get("schedule", {})), "active": s.get("active", True),
                 "max_scheduled_runs": s.get("max_scheduled_runs"), "parameters": s.get("parameters") or {},
                 "slug": s.get("slug")} for s in schedules]

    def apply_fields(self, d, body, replace_schedules):
        if "job_variables" in body and not body["job_variables"] and d.get("job_variables"):
            # update_deployment stores job_variables only when truthy: `if job_variables:`
            body = {k: v for k, v in body.items() if k != "job_variables"}
        for key in ("version", "description", "paused", "job_variables", "parameters", "tags", "labels",
                    "work_queue_name", "parameter_openapi_schema", "path", "pull_steps", "entrypoint",
                    "enforce_parameter_schema", "concurrency_options"):
            if key in body:
                d[key] = body[key]
        if "work_pool_name" in body:
            if body["work_pool_name"] is not None:
                self.require_pool(body["work_pool_name"])
            d["work_pool_name"] = body["work_pool_name"]
        if "concurrency_limit" in body:
            limit = body["concurrency_limit"]
            # Prefect keeps deployment limits as a global concurrency limit (since 3.0.3).
            d["global_concurrency_limit"] = None if limit is None else {
                "id": str(uuid.uuid4()), "created": stamp(), "updated": stamp(), "active": True,
                "name": f"deployment:{d['id']}", "limit": limit, "active_slots": 0, "slot_decay_per_second": 0.0}
            d["concurrency_limit"] = None
        if replace_schedules:
            d["schedules"] = self.write_schedules(d["id"], body.get("schedules") or [])
        # A deployment in a pool without a queue of its own uses the pool's default queue (create and update alike).
        if d["work_pool_name"] and not d["work_queue_name"]:
            d["work_queue_name"] = "default"
        d["updated"] = stamp()

    def upsert_deployment(self, _m, body):
        extra_keys(body, DEPLOYMENT_KEYS)
        flow = self.store.get("flows", body.get("flow_id") or "")
        if flow is None:
            raise not_found("Flow not found")
        with self.deployment_writes:
            return self.write_deployment(flow, body)

    def write_deployment(self, flow, body):
        existing = self.find_deployment(flow["id"], body.get("name"))
        moment = stamp()
        d = existing or {
            "id": str(uuid.uuid4()), "created": moment, "updated": moment, "name": body["name"], "version": None,
            "description": None, "flow_id": flow["id"], "paused": False, "schedules": [], "concurrency_limit": None,
            "global_concurrency_limit": None, "concurrency_options": None, "job_variables": {}, "parameters": {},
            "tags": [], "labels": {}, "work_queue_name": None, "work_queue_id": None, "last_polled": None,
            "parameter_openapi_schema": None, "path": None, "pull_steps": [], "entrypoint": None,
            "storage_document_id": None, "infrastructure_document_id": None, "created_by": None,
            "updated_by": None, "work_pool_name": None, "enforce_parameter_schema": True}
        # The upsert replaces the schedule list with what was sent (none sent: none kept), and the
        # scheduler's runs ahead with the ones its next pass makes.
        if existing:
            self.delete_scheduled_runs(d["id"])
        self.apply_fields(d, body, replace_schedules=True)
        d["labels"] = {**d.get("labels", {}), "prefect.flow.id": flow["id"]}
        self.store.put("deployments", d["id"], d)
        return (200 if existing else 201), self.deployment_view(d)

    def require_deployment(self, deployment_id, detail="Deployment not found."):
        d = self.store.get("deployments", deployment_id)
        if d is None:
            raise not_found(detail)
        return d

    def read_deployment(self, m, _b):
        return 200, self.deployment_view(self.require_deployment(m["id"], "Deployment not found"))

    def read_deployment_by_name(self, m, _b):
        for flow in self.store.all("flows"):
            if flow["name"] == m["flow"]:
                d = self.find_deployment(flow["id"], m["name"])
                if d:
                    return 200, self.deployment_view(d)
        raise not_found("Deployment not found")

    def update_deployment(self, m, body):
        """api/deployments.py update_deployment: when every schedule sent and every one stored has a slug,
        they are updated in place by slug (others kept); when only the stored ones all do, 422; else the
        list is replaced, without max_scheduled_runs (models/deployments.py keeps schedule, active,
        parameters and slug)."""
        extra_keys(body, DEPLOYMENT_KEYS)
        with self.deployment_writes:
            d = self.require_deployment(m["id"])
            self.patch_deployment(d, body)
            self.delete_scheduled_runs(d["id"])
        return 204, None

    def patch_deployment(self, d, body):
        sent = body.get("schedules")
        existing_slugged = bool(d["schedules"]) and all(s.get("slug") for s in d["schedules"])
        if sent is not None and existing_slugged and all(s.get("slug") for s in sent):
            self.patch_schedules_by_slug(d, sent)
            sent = None
        elif sent is not None and existing_slugged:
            raise HttpError(422, {"detail": "Please provide a slug for each schedule in your request to ensure schedules are updated correctly."})
        fields = {k: v for k, v in body.items() if k != "schedules"}
        if sent is not None:
            fields["schedules"] = [{k: v for k, v in s.items() if k != "max_scheduled_runs"} for s in sent]
        self.apply_fields(d, fields, replace_schedules=sent is not None)
        self.store.put("deployments", d["id"], d)

    def patch_schedules_by_slug(self, d, sent):
        for s in sent:
            current = next((c for c in d["schedules"] if c["slug"] == s["slug"]), None)
            if current is None:
                d["schedules"] += self.write_schedules(d["id"], [{k: v for k, v in s.items() if k != "max_scheduled_runs"}])
            else:
                self.update_schedule_fields(current, s)

    @staticmethod
    def update_schedule_fields(current, update):
        """models/deployments.py update_deployment_schedule: the fields sent, None ones skipped."""
        for key in ("active", "max_scheduled_runs", "parameters", "slug"):
            if update.get(key) is not None:
                current[key] = update[key]
        if update.get("schedule") is not None:
            current["schedule"] = normalize_schedule(update["schedule"])
        current["updated"] = stamp()

    def update_one_schedule(self, m, body):
        extra_keys(body, {"active", "schedule", "max_scheduled_runs", "parameters", "slug", "replaces"})
        d = self.require_deployment(m["id"])
        current = next((c for c in d["schedules"] if c["id"] == m["schedule_id"]), None)
        if current is None:
            raise not_found("Schedule not found.")
        with self.deployment_writes:
            self.update_schedule_fields(current, body)
            self.store.put("deployments", d["id"], d)
            self.delete_scheduled_runs(d["id"])
        return 204, None

    def delete_deployment(self, m, _b):
        self.require_deployment(m["id"])
        with self.deployment_writes:
            self.store.delete("deployments", m["id"])
            self.delete_scheduled_runs(m["id"], auto_scheduled_only=False, future_only=False)
        return 204, None

    def filter_deployments(self, _m, body):
        body = body or {}
        flow_names = ((body.get("flows") or {}).get("name") or {}).get("any_")
        names = ((body.get("deployments") or {}).get("name") or {}).get("any_")
        pools = ((body.get("work_pools") or {}).get("name") or {}).get("any_")
        flows = {f["id"]: f["name"] for f in self.store.all("flows")}
        found = [d for d in self.store.all("deployments")
                 if (flow_names is None or flows.get(d["flow_id"]) in flow_names)
                 and (names is None or d["name"] in names)
                 and (pools is None or d["work_pool_name"] in pools)]
        return 200, page([self.deployment_view(d) for d in sorted(found, key=lambda d: d["name"])], body)

    # --- blocks (server/api/block_types.py, block_schemas.py, block_documents.py) ------------
    def create_block_type(self, _m, body):
        extra_keys(body, {"name", "slug", "logo_url", "documentation_url", "description", "code_example"})
        if str(body.get("name", "")).lower().startswith("prefect"):
            raise HttpError(403, {"detail": "Block type names beginning with 'Prefect' are reserved."})
        if any(t["name"] == body.get("name") or t["slug"] == body.get("slug") for t in self.store.all("block_types")):
            raise HttpError(409, {"detail": f'Block type with name "{body.get("name")}" already exists'})
        return 201, put_block_type(self.store, body, protected=False)

    def read_block_type_by_slug(self, m, _b):
        return 200, self.require_block_type(m["slug"])

    def require_block_type(self, slug):
        found = next((t for t in self.store.all("block_types") if t["slug"] == slug), None)
        if found is None:
            raise not_found("Block type not found")
        return found

    def update_block_type(self, m, body):
        extra_keys(body, {"logo_url", "documentation_url", "description", "code_example"})
        t = self.store.get("block_types", m["id"])
        if t is None:
            raise not_found("Block type not found")
        self.store.put("block_types", t["id"], {**t, **(body or {}), "updated": stamp()})
        return 204, None

    def create_block_schema(self, _m, body):
        """A schema whose checksum and version exist already is answered with that one, 200 (api/block_schemas.py)."""
        extra_keys(body, {"fields", "block_type_id", "capabilities", "version"})
        if self.store.get("block_types", body.get("block_type_id") or "") is None:
            raise not_found(f"Block type {body.get('block_type_id')} not found.")
        version = body.get("version") or "non-versioned"
        existing = next((b for b in self.store.all("block_schemas")
                         if b["checksum"] == checksum(body.get("fields") or {}) and b["version"] == version), None)
        if existing:
            return 200, existing
        return 201, put_block_schema(self.store, body)

    def filter_block_schemas(self, _m, body):
        wanted = (((body or {}).get("block_schemas") or {}).get("block_type_id") or {}).get("any_")
        found = [b for b in self.store.all("block_schemas") if wanted is None or b["block_type_id"] in wanted]
        # models/block_schemas.py: newest first, so limit=1 gives the newest.
        return 200, page(sorted(found, key=lambda b: b["created"], reverse=True), body)

    def create_block_document(self, _m, body):
        extra_keys(body, {"name", "data", "block_schema_id", "block_type_id", "is_anonymous"})
        check_block_document_name(body)
        schema = self.store.get("block_schemas", body.get("block_schema_id") or "")
        if schema is None or schema["block_type_id"] != body.get("block_type_id"):
            raise not_found("Block schema not found.")
        if any(d["name"] == body.get("name") and d["block_type_id"] == body["block_type_id"] for d in self.store.all("block_documents")):
            raise HttpError(409, {"detail": "Block already exists"})
        moment = stamp()
        d = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, "name": body.get("name"), "data": body.get("data") or {},
             "block_schema_id": schema["id"], "block_type_id": schema["block_type_id"], "is_anonymous": bool(body.get("is_anonymous"))}
        self.store.put("block_documents", d["id"], d)
        return 201, self.block_document_view(d, include_secrets=False)

    def block_document_view(self, d, include_secrets):
        """Secret fields are obfuscated unless include_secrets=true (schemas/core.py BlockDocument)."""
        schema = self.store.get("block_schemas", d["block_schema_id"])
        block_type = self.store.get("block_types", d["block_type_id"])
        data = d["data"] if include_secrets else obfuscated(d["data"], schema["fields"].get("secret_fields", []))
        return {**d, "data": data, "block_schema": schema, "block_type": block_type, "block_type_name": block_type["name"],
                "block_document_references": {}}

    def require_block_document(self, m):
        d = self.store.get("block_documents", m["id"])
        if d is None:
            raise not_found("Block document not found")
        return d

    def read_block_document(self, m, _b):
        return 200, self.block_document_view(self.require_block_document(m), m["query"].get("include_secrets", "false").lower() == "true")

    def read_block_document_by_name(self, m, _b):
        block_type = next((t for t in self.store.all("block_types") if t["slug"] == m["slug"]), None)
        d = block_type and next((d for d in self.store.all("block_documents") if d["name"] == m["name"] and d["block_type_id"] == block_type["id"]), None)
        if d is None:
            raise not_found("Block document not found")
        return 200, self.block_document_view(d, m["query"].get("include_secrets", "false").lower() == "true")

    def filter_block_documents(self, _m, body):
        body = body or {}
        extra_keys(body, {"limit", "offset", "block_documents", "block_types", "block_schemas", "include_secrets", "sort"})
        slugs = ((body.get("block_types") or {}).get("slug") or {}).get("any_")
        anonymous = ((body.get("block_documents") or {}).get("is_anonymous") or {"eq_": False}).get("eq_")
        types = {t["id"]: t for t in self.store.all("block_types")}
        found = [d for d in self.store.all("block_documents")
                 if (slugs is None or types[d["block_type_id"]]["slug"] in slugs) and (anonymous is None or d["is_anonymous"] == anonymous)]
        views = [self.block_document_view(d, bool(body.get("include_secrets"))) for d in sorted(found, key=lambda d: d["name"] or "")]
        return 200, page(views, body)

    def update_block_document(self, m, body):
        """models/block_documents.py update_block_document: a shallow merge unless merge_existing_data is false;
        a secret field sent back obfuscated keeps its stored value."""
        extra_keys(body, {"block_schema_id", "data", "merge_existing_data"})
        d = self.require_block_document(m)
        schema = self.store.get("block_schemas", d["block_schema_id"])
        data = dict((body or {}).get("data") or {})
        for field in schema["fields"].get("secret_fields", []):
            if "." not in field and field in d["data"] and data.get(field) == OBFUSCATED:
                data[field] = d["data"][field]
        if (body or {}).get("data") is not None:
            d["data"] = {**d["data"], **data} if (body or {}).get("merge_existing_data", True) else data
        if (body or {}).get("block_schema_id"):
            d["block_schema_id"] = body["block_schema_id"]
        d["updated"] = stamp()
        self.store.put("block_documents", d["id"], d)
        return 204, None

    def delete_block_document(self, m, _b):
        d = self.require_block_document(m)
        self.store.delete("block_documents", d["id"])
        return 204, None

    # --- automations (server/api/automations.py, server/events/schemas/automations.py) ---------------
    def create_automation(self, _m, body):
        extra_keys(body, AUTOMATION_KEYS | {"owner_resource"})
        moment = stamp()
        a = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, **automation_fields(body)}
        # The owner is kept beside the automation (automation_related_resources), never shown in it.
        self.store.put("automations", a["id"], {**a, "_owner": body.get("owner_resource")})
        return 201, a

    def delete_owned_automations(self, m, _b):
        for a in self.store.all("automations"):
            if a.get("_owner") == m["resource"]:
                self.store.delete("automations", a["id"])
        return 202, None

    def require_automation(self, m):
        a = self.store.get("automations", m["id"])
        if a is None:
            # ObjectNotFoundError, answered by prefect_object_not_found_exception_handler (api/server.py).
            raise HttpError(404, {"exception_message": "Automation not found"})
        return a

    def replace_automation(self, m, body):
        """AutomationUpdate: the whole automation; the triggers get new ids, as update_automation resets them."""
        extra_keys(body, AUTOMATION_KEYS)
        a = self.require_automation(m)
        self.store.put("automations", a["id"], {**a, **automation_fields(body), "updated": stamp()})
        return 204, None

    def patch_automation(self, m, body):
        extra_keys(body, {"enabled"})
        a = self.require_automation(m)
        self.store.put("automations", a["id"], {**a, "enabled": bool((body or {}).get("enabled", True)), "updated": stamp()})
        return 204, None

    def delete_automation(self, m, _b):
        self.store.delete("automations", self.require_automation(m)["id"])
        return 204, None

    # --- variables (server/api/variables.py) -------------------------------------------------
    def create_variable(self, _m, body):
        extra_keys(body, {"name", "value", "tags"})
        check_variable(body, creating=True)
        if any(v["name"] == body.get("name") for v in self.store.all("variables")):
            raise HttpError(409, {"detail": f"A variable with the name {body.get('name')!r} already exists."})
        moment = stamp()
        v = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, "name": body["name"],
             "value": body.get("value"), "tags": body.get("tags") or []}
        self.store.put("variables", v["id"], v)
        return 201, v

    def find_variable(self, name):
        for v in self.store.all("variables"):
            if v["name"] == name:
                return v
        raise not_found("Variable not found.")

    def read_variable(self, m, _b):
        return 200, self.find_variable(m["name"])

    def update_variable(self, m, body):
        extra_keys(body, {"name", "value", "tags"})
        check_variable(body, creating=False)
        v = self.find_variable(m["name"])
        # A new name taken by another variable trips the unique index (integrity_exception_handler).
        if body.get("name") not in (None, v["name"]) and any(o["name"] == body["name"] for o in self.store.all("variables")):
            raise HttpError(409, {"detail": INTEGRITY_CONFLICT})
        v.update({k: body[k] for k in ("name", "value", "tags") if k in (body or {}) and (k != "name" or body[k] is not None)},
                 updated=stamp())
        self.store.put("variables", v["id"], v)
        return 204, None

    def delete_variable(self, m, _b):
        self.store.delete("variables", self.find_variable(m["name"])["id"])
        return 204, None


def check_variable(body, creating):
    """VariableCreate / VariableUpdate (server/schemas/actions.py): VariableName is lower-case letters,
    digits, dashes and underscores, at most 255 (types/names.py); the value's JSON at most 5000
    characters (types/__init__.py check_variable_value); name and value required on create."""
    for key in ("name", "value"):
        if creating and key not in body:
            raise unprocessable("missing", ["body", key], "Field required", body)
    name = body.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise unprocessable("string_type", ["body", "name"], "Input should be a valid string", body)
        if len(name) > 255:
            raise unprocessable("string_too_long", ["body", "name"], "String should have at most 255 characters", body)
        if not re.match(r"^[a-z0-9-_]*$", name):
            raise unprocessable("value_error", ["body", "name"],
                                "Value error, Variable name must only contain lowercase letters, numbers, and dashes or underscores.", body)
    value = body.get("value")
    if value is not None and len(json.dumps(value, separators=(",", ":"), ensure_ascii=False)) > 5000:
        raise unprocessable("value_error", ["body", "value"], "Value error, Variable value must be less than 5000 characters", body)
    tags = body.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise unprocessable("list_type", ["body", "tags"], "Input should be a valid list of strings", body)


AUTOMATION_KEYS = {"name", "description", "enabled", "tags", "trigger", "actions", "actions_on_trigger", "actions_on_resolve"}
ACTION_TYPES = {"do-nothing", "run-deployment", "pause-deployment", "resume-deployment", "cancel-flow-run", "delete-flow-run",
                "change-flow-run-state", "pause-work-queue", "resume-work-queue", "send-notification", "call-webhook",
                "pause-automation", "resume-automation", "suspend-flow-run", "resume-flow-run", "pause-work-pool", "resume-work-pool"}


def automation_view(a):
    return {k: v for k, v in a.items() if k != "_owner"}


def automation_fields(body):
    """AutomationCore as the server validates and stores it: defaults filled, each trigger given an id."""
    body = body or {}
    for key in ("name", "trigger", "actions"):
        if key not in body:
            raise unprocessable("missing", ["body", key], "Field required", body)
    if not isinstance(body["name"], str):
        raise unprocessable("string_type", ["body", "name"], "Input should be a valid string", body)
    return {"name": body["name"], "description": body.get("description", ""), "enabled": body.get("enabled", True),
            "tags": body.get("tags") or [], "trigger": server_trigger(body["trigger"], body, ["body", "trigger"]),
            **{key: [server_action(a, body, ["body", key, i]) for i, a in enumerate(body.get(key) or [])]
               for key in ("actions", "actions_on_trigger", "actions_on_resolve")}}


def server_trigger(trigger, body, loc):
    """EventTrigger, CompoundTrigger or SequenceTrigger (server/events/schemas/automations.py)."""
    if not isinstance(trigger, dict) or trigger.get("type", "event") not in ("event", "compound", "sequence"):
        raise unprocessable("union_tag_invalid", loc, "Input tag does not match any of the expected tags: 'event', 'compound', 'sequence'", body)
    kind = trigger.get("type", "event")
    if kind != "event":
        for key in ["triggers", "within"] + (["require"] if kind == "compound" else []):
            if key not in trigger:
                raise unprocessable("missing", loc + [kind, key], "Field required", body)
        children = [server_trigger(t, body, loc + [kind, "triggers", i]) for i, t in enumerate(trigger["triggers"])]
        return {"type": kind, "id": str(uuid.uuid4()), "triggers": children, "within": trigger["within"],
                **({"require": trigger["require"]} if kind == "compound" else {})}
    if trigger.get("posture") not in ("Reactive", "Proactive"):
        raise unprocessable("literal_error", loc + ["event", "posture"], "Input should be 'Reactive' or 'Proactive'", body)
    within = trigger.get("within", 0)
    if not isinstance(within, (int, float)) or within < 0:
        raise unprocessable("timedelta_type", loc + ["event", "within"], "Input should be a valid timedelta", body)
    if trigger["posture"] == "Proactive":
        if within == 0:
            within = 10.0
        elif within < 10:
            raise unprocessable("value_error", loc + ["event"],
                                "Value error, `within` for Proactive triggers must be greater than or equal to 10 seconds", body)
    return {"type": "event", "id": str(uuid.uuid4()), "match": trigger.get("match") or {}, "match_related": trigger.get("match_related", {}),
            "after": list(set(trigger.get("after") or [])), "expect": list(set(trigger.get("expect") or [])),
            "for_each": list(set(trigger.get("for_each") or [])), "posture": trigger["posture"],
            "threshold": trigger.get("threshold", 1), "within": float(within)}


def server_action(action, body, loc):
    """ServerActionTypes, with the defaults of the ones the tests use (server/events/actions.py)."""
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        raise unprocessable("union_tag_invalid", loc, "Input tag does not match any of the expected tags", body)
    defaults = {"send-notification": {"subject": "Prefect automated notification"},
                "run-deployment": {"source": "selected", "parameters": None, "job_variables": None},
                "pause-work-pool": {"source": "selected"}, "resume-work-pool": {"source": "selected"}}.get(action["type"], {})
    if action["type"] == "send-notification":
        for key in ("block_document_id", "body"):
            if key not in action:
                raise unprocessable("missing", loc + ["send-notification", key], "Field required", body)
    return {**defaults, **action}


OBFUSCATED = "********"


def obfuscated(data, secret_fields):
    """utilities/collections obfuscate: each secret field's value (every value under a `field.*`) as eight stars."""
    data = copy.deepcopy(data)
    for field in secret_fields:
        head, _, rest = field.partition(".")
        if head not in data:
            continue
        if rest == "*" and isinstance(data[head], dict):
            data[head] = {k: OBFUSCATED for k in data[head]}
        elif not rest:
            data[head] = OBFUSCATED
    return data


def check_block_document_name(body):
    name = body.get("name")
    if name is None and not body.get("is_anonymous"):
        raise unprocessable("value_error", ["body"], "Value error, Names must be provided for block documents.", body)
    if name is not None and not re.fullmatch(r"[a-z0-9-]*", name):
        raise unprocessable("value_error", ["body", "name"],
                            "Value error, Block document name must only contain lowercase letters, numbers, and dashes.", body)


# The blocks a server registers on start (models/block_registration.py run_block_auto_registration): the
# protected system blocks and those of the client's registry that the tests use, with pydantic's schemas.
SYSTEM_BLOCKS = [
    ({"name": "Secret", "slug": "secret", "description": "A block that represents a secret value. The value stored in this block will be obfuscated when this block is viewed or edited in the UI."},
     {"title": "Secret", "type": "object", "block_type_slug": "secret", "secret_fields": ["value"], "block_schema_references": {},
      "properties": {"value": {"title": "Value", "description": "A value that should be kept secret.", "format": "password", "writeOnly": True,
                               "anyOf": [{"type": "string", "format": "password", "writeOnly": True}, {"title": "JSON"}]}},
      "required": ["value"]}),
    ({"name": "Webhook", "slug": "webhook", "description": "Block that enables calling webhooks."},
     {"title": "Webhook", "type": "object", "block_type_slug": "webhook", "secret_fields": ["url", "headers.*"], "block_schema_references": {},
      "properties": {"method": {"title": "Method", "default": "POST", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "type": "string"},
                     "url": {"title": "Webhook URL", "type": "string", "format": "password", "writeOnly": True},
                     "headers": {"title": "Webhook Headers", "type": "object", "format": "password", "writeOnly": True},
                     "allow_private_urls": {"title": "Allow Private URLs", "default": True, "type": "boolean"},
                     "verify": {"title": "Verify", "default": True, "type": "boolean"}},
      "required": ["url"]}),
    ({"name": "Local File System", "slug": "local-file-system", "description": "Store data as a file on a local file system."},
     {"title": "LocalFileSystem", "type": "object", "block_type_slug": "local-file-system", "secret_fields": [], "block_schema_references": {},
      "properties": {"basepath": {"title": "Basepath", "description": "Default local path for this block to write to.", "type": "string"}}}),
]


def register_system_blocks(store):
    """Each type by slug (updated when it exists), each schema by its checksum (kept when it exists)."""
    for block_type, fields in SYSTEM_BLOCKS:
        existing = next((t for t in store.all("block_types") if t["slug"] == block_type["slug"]), None)
        registered = put_block_type(store, block_type, protected=True, existing=existing)
        if not any(b["checksum"] == checksum(fields) for b in store.all("block_schemas")):
            put_block_schema(store, {"fields": fields, "block_type_id": registered["id"], "capabilities": [], "version": "3.8.3"})


def put_block_type(store, body, protected, existing=None):
    moment = stamp()
    t = {"id": existing["id"] if existing else str(uuid.uuid4()), "created": existing["created"] if existing else moment, "updated": moment,
         "name": body["name"], "slug": body["slug"], "logo_url": body.get("logo_url"), "documentation_url": body.get("documentation_url"),
         "description": body.get("description"), "code_example": body.get("code_example"), "is_protected": protected}
    store.put("block_types", t["id"], t)
    return t


def checksum(fields):
    """BlockSchema checksums: sha256 of the fields as sorted JSON."""
    return "sha256:" + hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def put_block_schema(store, body):
    moment = stamp()
    fields = body.get("fields") or {}
    schema = {"id": str(uuid.uuid4()), "created": moment, "updated": moment, "checksum": checksum(fields), "fields": fields,
              "block_type_id": body["block_type_id"], "capabilities": body.get("capabilities") or [],
              "version": body.get("version") or "non-versioned"}
    store.put("block_schemas", schema["id"], schema)
    return schema


def filter_keys(value, loc, allowed, body):
    """A filter object of Prefect's filter models (extra="forbid"): only the keys `allowed` names, nested."""
    if value is None:
        return None
    for key, inner in value.items():
        if key not in allowed:
            raise unprocessable("extra_forbidden", [*loc, key], "Extra inputs are not permitted", body)
        if isinstance(allowed, dict) and isinstance(allowed[key], (dict, set)) and inner is not None:
            filter_keys(inner, [*loc, key], allowed[key], body)
    return value


def page(items, body):
    """`limit` (default PREFECT_API_DEFAULT_LIMIT, 200) and `offset` of the filter endpoints."""
    offset = (body or {}).get("offset") or 0
    return items[offset:offset + ((body or {}).get("limit") or 200)]


def normalize_schedule(schedule):
    if "rrule" in schedule and not schedule["rrule"].startswith("DTSTART"):
        schedule = {**schedule, "rrule": "DTSTART:20200101T000000\n" + schedule["rrule"]}
    if "cron" in schedule:
        return {"cron": schedule["cron"], "timezone": schedule.get("timezone"), "day_or": schedule.get("day_or", True)}
    if "interval" in schedule:
        return {"interval": float(schedule["interval"]), "anchor_date": schedule.get("anchor_date") or stamp(),
                "timezone": schedule.get("timezone") or "UTC"}
    return {"rrule": schedule.get("rrule"), "timezone": schedule.get("timezone") or "UTC"}


def schedule_class(schedule):
    return "CronSchedule" if "cron" in schedule else "IntervalSchedule" if "interval" in schedule else "RRuleSchedule"


def extra_keys(body, allowed):
    for key in body or {}:
        if key not in allowed:
            raise unprocessable("extra_forbidden", ["body", key], "Extra inputs are not permitted", body)


def unprocessable(kind, loc, msg, body=None):
    return HttpError(422, {"exception_message": "Invalid request received.",
                           "exception_detail": [{"type": kind, "loc": loc, "msg": msg}], "request_body": body})


def urldecode(text):
    from urllib.parse import unquote
    return unquote(text)


def make_handler(api):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _dispatch(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return self._send(422, {"exception_message": "Invalid request received."})
            try:
                path, _, query = self.path.partition("?")
                status, payload = api.handle(method, path, body, dict(urllib.parse.parse_qsl(query)))
            except HttpError as error:
                status, payload = error.status, error.body
            except Exception as error:  # noqa: BLE001 - the real server answers 500 too
                # ...or 503 for what its client may retry (utilities/database.py is_client_retryable_exception):
                # a database that cannot be reached.
                retryable = type(error).__name__ in ("OperationalError", "InterfaceError")
                status, payload = (503, {"exception_message": "Service Unavailable"}) if retryable else (500, {"exception_message": "Internal Server Error"})
            self._send(status, payload)

        def _send(self, status, payload):
            data = b"" if status == 204 else json.dumps(payload).encode()
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PATCH(self):
            self._dispatch("PATCH")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def do_PUT(self):
            self._dispatch("PUT")

        def log_message(self, fmt, *args):
            sys.stderr.write("INFO:     %s - %s\n" % (self.address_string(), fmt % args))

    return Handler


def start(host, port):
    host = host or settings.get("PREFECT_SERVER_API_HOST")
    port = int(port or settings.get("PREFECT_SERVER_API_PORT"))
    try:
        family = socket.getaddrinfo(host, port)[0][0]
    except socket.gaierror:
        print(f"Invalid host '{host}'. Please specify a valid hostname or IP address.")
        return 1
    ThreadingHTTPServer.address_family = family
    ThreadingHTTPServer.allow_reuse_address = True
    try:
        store = Store(open_database())
    except MigrationError as error:
        print(f"alembic.util.exc.CommandError: {error}", file=sys.stderr)
        print("Application startup failed. Exiting.", file=sys.stderr)
        return 3
    except Exception as error:  # noqa: BLE001 - a database that cannot be reached fails the startup's migration
        if type(error).__name__ not in ("OperationalError", "ValueError"):
            raise
        print(f"{type(error).__name__}: {str(error).strip()}", file=sys.stderr)
        print("Application startup failed. Exiting.", file=sys.stderr)
        return 3
    if not HEALTHY:
        # The broken release: migrated, then fails on every start, as a bad release would.
        print(f"RuntimeError: prefect {__version__} cannot start (a deliberately broken test release)", file=sys.stderr)
        print("Application startup failed. Exiting.", file=sys.stderr)
        return 3
    try:
        api = Api(store)
        httpd = ThreadingHTTPServer((host, port), make_handler(api))
    except OSError as error:
        if error.errno == 98:
            print(f"Port {port} is already in use. Please specify a different port with the `--port` flag.")
        else:
            print(f"Invalid host '{host}'. Please specify a valid hostname or IP address.")
        return 1
    print(BLURB.format(url=f"http://{host}:{port}"), flush=True)
    scheduler.start(api, now)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


BLURB = """
 ___ ___ ___ ___ ___ ___ _____
| _ \\ _ \\ __| __| __/ __|_   _|
|  _/   / _|| _|| _| (__  | |
|_| |_|_\\___|_| |___\\___| |_|

Configure Prefect to communicate with the server with:

    prefect config set PREFECT_API_URL={url}/api

View the API reference documentation at {url}/docs

Check out the dashboard at {url}
"""
