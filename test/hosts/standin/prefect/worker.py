"""`prefect worker start`: heartbeats to the pool and serves the healthcheck where the real
ProcessWorker does (PREFECT_WORKER_WEBSERVER_HOST:PORT, GET /health). It runs no flows."""
import json
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import client, settings

ERROR_THRESHOLD_SECONDS = 40


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
    state = {"last_poll": None}
    print(f"Worker '{name}' started!", flush=True)
    if with_healthcheck:
        serve_healthcheck(state)

    stop = threading.Event()

    def on_term(*_):
        print(f"Worker '{name}' stopped!", flush=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
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
            polled = state["last_poll"] is not None and time.monotonic() - state["last_poll"] <= window
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
