"""`prefect worker start`: heartbeats to the pool, serves the healthcheck where the real
ProcessWorker does (PREFECT_WORKER_WEBSERVER_HOST:PORT, GET /health), and runs the pool's scheduled
flow runs as a ProcessWorker does: claims each by proposing PENDING, then starts
`python -m prefect.engine` with PREFECT__FLOW_RUN_ID in a temporary directory, at most --limit at once."""
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import client, settings

ERROR_THRESHOLD_SECONDS = 40
# How often the stand-in looks for its runs set to CANCELLING (the real worker hears of them by events).
CANCEL_POLL_SECONDS = 2


def start(pool, worker_type, limit, with_healthcheck, name, create_pool=True):
    try:
        client.api_url()
    except ValueError as error:
        print("Traceback (most recent call last):", file=sys.stderr)
        print(f"ValueError: {error}", file=sys.stderr)
        print("An exception occurred.")
        return 1
    if worker_type is None:
        try:
            worker_type = client.request("GET", f"/work_pools/{pool}")["type"]
            print(f"Discovered type '{worker_type}' for work pool '{pool}'.")
        except client.ApiError:
            print(f"Work pool '{pool}' does not exist and no worker type was provided. Starting a process worker...")
            worker_type = "process"
        except client.Unreachable as error:
            print(f"Unable to reach the Prefect API to determine the type of work pool '{pool}': {error}. "
                  "Provide a worker type with '--type' to start a worker while the API is unavailable.")
            return 1
    name = name or f"ProcessWorker {uuid.uuid4()}"
    # As workers/base.py: the last poll counts from the worker's start, so /health answers 200 for
    # PREFECT_WORKER_QUERY_SECONDS * 30 (300 s) even when the server never answers.
    state = {"last_poll": time.monotonic()}
    running = threading.BoundedSemaphore(limit or 10)
    print(f"Worker '{name}' started!", flush=True)
    if with_healthcheck:
        serve_healthcheck(state)

    stop = threading.Event()

    def on_term(*_):
        print(f"Worker '{name}' stopped!", flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    processes = {}
    threading.Thread(target=watch_cancellations, args=(pool, processes, stop), daemon=True).start()
    heartbeat_every = int(settings.get("PREFECT_WORKER_HEARTBEAT_SECONDS"))
    query_every = int(settings.get("PREFECT_WORKER_QUERY_SECONDS"))
    failing_since = None
    last_heartbeat = 0.0
    while not stop.is_set():
        try:
            ensure_pool(pool, worker_type, create_pool)
            if time.monotonic() - last_heartbeat >= heartbeat_every:
                client.request("POST", f"/work_pools/{pool}/workers/heartbeat",
                               {"name": name, "heartbeat_interval_seconds": heartbeat_every})
                last_heartbeat = time.monotonic()
            submit_scheduled_runs(name, pool, limit, running, processes)
            state["last_poll"] = time.monotonic()
            failing_since = None
        except (client.Unreachable, client.ApiError) as error:
            if failing_since is None:
                failing_since = time.monotonic()
                print("Unable to reach the Prefect API while starting up; the worker will keep attempting to connect",
                      file=sys.stderr, flush=True)
            elif time.monotonic() - failing_since > ERROR_THRESHOLD_SECONDS:
                print(f"RuntimeError: Service exceeded error threshold. ({error})", file=sys.stderr, flush=True)
                return 1
        stop.wait(min(query_every, heartbeat_every))
    return 0


def watch_cancellations(pool, processes, stop):
    """The worker's cancellation watcher, as real Prefect 3.8.3 behaved (the reference's fleet
    section): a run of this worker set to CANCELLING is marked CANCELLED and its process terminated;
    but once the server has been unreachable for about 30 s (PREFECT_STANDIN_CANCEL_GIVE_UP_SECONDS),
    the watcher gives up for good, and runs set to CANCELLING run to their end until the worker restarts."""
    give_up = float(os.environ.get("PREFECT_STANDIN_CANCEL_GIVE_UP_SECONDS") or 30)
    failing_since = None
    while not stop.wait(CANCEL_POLL_SECONDS):
        try:
            cancelling = client.request("POST", "/flow_runs/filter", {
                "flow_runs": {"state": {"type": {"any_": ["CANCELLING"]}}}, "work_pools": {"name": {"any_": [pool]}}})
            failing_since = None
        except (client.Unreachable, client.ApiError):
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > give_up:
                # The words of _internal/observers.py's _handle_polling_task_done, logged at ERROR.
                print("Cancellation polling task failed. Execution will continue, but flow run cancellation will fail.",
                      file=sys.stderr, flush=True)
                return
            continue
        for run in cancelling:
            process = processes.get(run["id"])
            if process is None or process.poll() is not None:
                continue
            client.request("POST", f"/flow_runs/{run['id']}/set_state",
                           {"state": {"type": "CANCELLED", "name": "Cancelled", "message": "Flow run was cancelled successfully."}})
            process.terminate()
            print(f"Cancelled flow run '{run['name']}'!", flush=True)


def submit_scheduled_runs(worker, pool, limit, running, processes):
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=10)
    due = client.request("POST", f"/work_pools/{pool}/get_scheduled_flow_runs",
                         {"scheduled_before": soon.isoformat(), "limit": limit or 10})
    for item in due:
        run = item["flow_run"]
        if not running.acquire(blocking=False):
            return
        claim = client.request("POST", f"/flow_runs/{run['id']}/set_state", {"state": {"type": "PENDING", "name": "Pending"}})
        if claim["status"] != "ACCEPT":
            running.release()
            continue
        print(f"Worker '{worker}' submitting flow run '{run['id']}'", flush=True)
        threading.Thread(target=execute, args=(run, running, processes), daemon=True).start()


def execute(run, running, processes):
    try:
        env = {**os.environ, "PREFECT__FLOW_RUN_ID": run["id"], **(run.get("job_variables") or {}).get("env", {})}
        print("Opening process...", flush=True)
        process = subprocess.Popen([sys.executable, "-m", "prefect.engine"], env=env, cwd=tempfile.mkdtemp(prefix="prefect-"))
        processes[run["id"]] = process
        process.wait()
        processes.pop(run["id"], None)
        if process.returncode == 0:
            print(f"Process for flow run '{run['name']}' exited cleanly.", flush=True)
            return
        print(f"Process for flow run '{run['name']}' exited with status code: {process.returncode}", flush=True)
        now = client.request("GET", f"/flow_runs/{run['id']}")
        if now["state_type"] not in ("COMPLETED", "FAILED", "CANCELLED", "CRASHED"):
            client.request("POST", f"/flow_runs/{run['id']}/set_state",
                           {"state": {"type": "CRASHED", "name": "Crashed", "message": f"Flow run infrastructure exited with non-zero status code {process.returncode}."}})
    finally:
        running.release()


def ensure_pool(pool, worker_type, create_pool):
    try:
        client.request("GET", f"/work_pools/{pool}")
    except client.ApiError as error:
        if error.status != 404:
            raise
        if create_pool:
            client.request("POST", "/work_pools/", {"name": pool, "type": worker_type})
        else:
            print(f"WARNING  Work pool '{pool}' not found!", file=sys.stderr)


def serve_healthcheck(state):
    window = int(settings.get("PREFECT_WORKER_QUERY_SECONDS")) * 30

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/health":
                return self.reply(404, {"detail": "Not Found"})
            polled = time.monotonic() - state["last_poll"] <= window
            if polled:
                self.reply(200, {"message": "OK"})
            else:
                self.reply(503, {"message": "Worker may be unresponsive at this time"})

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    host = settings.get("PREFECT_WORKER_WEBSERVER_HOST")
    port = int(settings.get("PREFECT_WORKER_WEBSERVER_PORT"))
    try:
        server = ThreadingHTTPServer((host, port), Health)
    except OSError as error:
        # The real worker logs this and keeps running without a healthcheck.
        print(f"ERROR:    [Errno {error.errno}] error while attempting to bind on address ('{host}', {port}): "
              f"{error.strerror.lower()}", file=sys.stderr, flush=True)
        return
    threading.Thread(target=server.serve_forever, daemon=True).start()
