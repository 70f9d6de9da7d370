"""The `prefect` command: the subset of Prefect 3's CLI that reconcile and its tests use, with the
real flags, exit codes (errors print to stdout and exit 1) and key output lines."""
import argparse
import json
import os
import platform
import sys
import time

from . import __version__, client, settings

KNOWN_POOL_TYPES = ["process", "docker", "kubernetes", "ecs", "cloud-run", "azure-container-instance", "prefect:managed"]
PROCESS_TEMPLATE = {
    "job_configuration": {k: "{{ %s }}" % k for k in ("command", "env", "labels", "name", "stream_output", "working_dir")},
    "variables": {"type": "object", "properties": {k: {"title": k} for k in ("name", "env", "labels", "command", "stream_output", "working_dir")}},
}


class Exit(Exception):
    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def fail(message):
    raise Exit(message, 1)


def dumps(value):
    return json.dumps(value, indent=2)


# --- server --------------------------------------------------------------------------
def server_start(a):
    from . import server
    return server.start(a.host, a.port)


def server_status(a):
    deadline = time.monotonic() + (a.timeout or 0)
    url = settings.get("PREFECT_API_URL")
    if not url:
        fail("No API URL configured. Set PREFECT_API_URL to the address of your server.")
    while True:
        try:
            client.request("GET", "/health", retries=0, timeout=3)
            version = client.request("GET", "/admin/version", retries=0, timeout=3)
            if a.output == "json":
                print(json.dumps({"status": "available", "api_url": url, "server_version": version}))
            else:
                print(f"Connecting to server at {url}...\nServer is available.\n  API URL: {url}\n  Server version: {version}")
            return 0
        except (client.Unreachable, client.ApiError) as error:
            if not a.wait or time.monotonic() > deadline:
                status = "timed_out" if a.wait else "unavailable"
                if a.output == "json":
                    print(json.dumps({"status": status, "api_url": url, "error": str(error)}))
                else:
                    print(f"Server is not available at {url}: {error}")
                return 1
            time.sleep(1)


# --- worker --------------------------------------------------------------------------
def worker_start(a):
    from . import worker
    if not a.pool:
        fail("Missing required option '--pool' / '-p'.")
    return worker.start(a.pool, a.type, a.limit, a.with_healthcheck, a.name, a.create_pool_if_not_found)


# --- profiles and config -------------------------------------------------------------------
def profile_ls(a):
    data = settings.load_profiles()
    active = settings.active_profile_name(data)
    if a.output == "json":
        print(json.dumps([{"name": n, "active": n == active} for n in data["profiles"]]))
    else:
        print("Available Profiles:")
        for n in data["profiles"]:
            print(f"  {'* ' if n == active else '  '}{n}")
        print("   * active profile")
    return 0


def profile_create(a):
    data = settings.load_profiles()
    if a.name in data["profiles"]:
        fail(f"Profile {a.name!r} already exists.\nTo create a new profile, remove the existing profile first:\n\n"
             f"    prefect profile delete {a.name!r}")
    data["profiles"][a.name] = dict(data["profiles"].get(a.from_, {})) if a.from_ else {}
    settings.save_profiles(data)
    print(f"Created profile with properties:\n    name - {a.name!r}\n    from name - {a.from_}\n\n"
          f"Use created profile for future, subsequent commands:\n    prefect profile use {a.name!r}\n\n"
          f"Use created profile temporarily for a single command:\n    prefect -p {a.name!r} config view")
    return 0


def profile_use(a):
    data = settings.load_profiles()
    if a.name not in data["profiles"]:
        fail(f"Profile {a.name!r} not found.")
    data["active"] = a.name
    settings.save_profiles(data)
    settings.cli_profile = a.name
    if not settings.get("PREFECT_API_URL"):
        fail(f"Prefect server URL not configured using profile {a.name!r} - please configure the server URL or enable ephemeral mode.")
    try:
        client.request("GET", "/health", retries=0, timeout=3)
    except (client.Unreachable, client.ApiError):
        fail(f"Error connecting to Prefect server using profile {a.name!r}")
    print(f"Connected to Prefect server using profile {a.name!r}")
    return 0


def profile_inspect(a):
    data = settings.load_profiles()
    name = a.name or settings.active_profile_name(data)
    if name not in data["profiles"]:
        fail(f"Profile {name!r} not found.")
    values = data["profiles"][name]
    if a.output == "json":
        print(json.dumps(values))
    else:
        if not a.name:
            print(f"No name provided, defaulting to {name!r}")
        if not values:
            print(f"Profile {name!r} is empty.")
        for k, v in values.items():
            print(f"{k}={v!r}")
    return 0


def profile_delete(a):
    data = settings.load_profiles()
    if a.name not in data["profiles"]:
        fail(f"Profile {a.name!r} not found.")
    if a.name == settings.active_profile_name(data):
        fail(f"Profile {a.name!r} is the active profile. You must switch profiles before it can be deleted.")
    del data["profiles"][a.name]
    settings.save_profiles(data)
    print(f"Removed profile {a.name!r}.")
    return 0


def config_set(a):
    data = settings.load_profiles()
    name = settings.active_profile_name(data)
    updates = {}
    for pair in a.settings:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"Failed to parse argument {key!r}. Use the format 'VAR=VAL'.")
        if not key.startswith(settings.KNOWN_PREFIX):
            fail(f"Unknown setting name {key!r}.")
        if key in settings.UNSETTABLE:
            fail(f"Setting {key!r} cannot be changed with this command. Use an environment variable instead.")
        updates[settings.canonical(key)] = value
    if data.get("active") is None:
        data["active"] = "ephemeral"
    data["profiles"].setdefault(name, {}).update(updates)
    settings.save_profiles(data)
    for key, value in updates.items():
        print(f"Set {key!r} to {value!r}.")
    print(f"Updated profile {name!r}.")
    return 0


def config_unset(a):
    data = settings.load_profiles()
    name = settings.active_profile_name(data)
    profile = data["profiles"].setdefault(name, {})
    for key in a.settings:
        if settings.canonical(key) not in profile:
            fail(f"{key!r} is not set in profile {name!r}.")
        del profile[settings.canonical(key)]
        print(f"Unset {key!r}.")
    settings.save_profiles(data)
    print(f"Updated profile {name!r}.")
    return 0


def config_view(a):
    data = settings.load_profiles()
    name = settings.active_profile_name(data)
    keys = sorted(set(data["profiles"].get(name, {})) | {k for k in os.environ if k.startswith("PREFECT_")}
                  - {"PREFECT_PROFILE"} | (set(settings.DEFAULTS) if a.show_defaults else set()))
    rows = [{"name": k, "value": settings.get(k, data), "source": settings.source_of(k, data)} for k in keys]
    api = settings.get("PREFECT_API_URL", data)
    ui_url = api[:-4] if api and api.endswith("/api") else api
    if a.output == "json":
        print(json.dumps({"profile": name, "settings": rows, "ui_url": ui_url}))
        return 0
    if ui_url:
        print(f"\U0001F680 you are connected to:\n{ui_url}")
    print(f"PREFECT_PROFILE={name!r}")
    for r in rows:
        print(f"{r['name']}={r['value']!r}" + ("" if a.hide_sources else f" (from {r['source']})"))
    return 0


# --- work pools --------------------------------------------------------------------------
def pool_block(pool):
    url = client.api_url()[:-4]
    status = {"READY": "Ready", "NOT_READY": "Not ready", "PAUSED": "Paused"}.get(pool.get("status"), pool.get("status"))
    return (f"\u2514\u2500\u2500 UUID: {pool['id']}\n\u2514\u2500\u2500 Type: {pool['type']}\n"
            f"\u2514\u2500\u2500 Description: {pool['description']}\n\u2514\u2500\u2500 Status: {status}\n"
            f"\u2514\u2500\u2500 URL: {url}/work-pools/work-pool/{pool['name']}")


def pool_create(a):
    if a.name.lower().startswith("prefect"):
        fail("Work pools starting with 'Prefect' are reserved for internal use.")
    if a.type is None:
        fail("When not using an interactive terminal, you must supply a `--type` value.")
    if a.type not in KNOWN_POOL_TYPES:
        fail(f"Unknown work pool type {a.type!r}. Please choose from {', '.join(KNOWN_POOL_TYPES)}.")
    template = PROCESS_TEMPLATE if a.type == "process" else {}
    if a.base_job_template:
        with open(a.base_job_template) as f:
            template = json.load(f)
    body = {"name": a.name, "type": a.type, "base_job_template": template, "is_paused": a.paused}
    try:
        pool = client.request("POST", "/work_pools/", body)
        verb = "Created"
    except client.ApiError as error:
        if error.status != 409:
            raise
        if not a.overwrite:
            fail(f"Work pool named {a.name!r} already exists. Use --overwrite to update it.")
        client.request("PATCH", f"/work_pools/{a.name}", {"base_job_template": template, "is_paused": a.paused})
        pool = client.request("GET", f"/work_pools/{a.name}")
        verb = "Updated"
    print(f"{verb} work pool {a.name!r}!\n")
    if not a.paused:
        print(f"To start a worker for this work pool, run:\n\n\tprefect worker start --pool {a.name}\n")
    print(pool_block(pool))
    if a.set_as_default:
        data = settings.load_profiles()
        data["profiles"].setdefault(settings.active_profile_name(data), {})["PREFECT_DEFAULT_WORK_POOL_NAME"] = a.name
        settings.save_profiles(data)
    return 0


def get_or_fail(path, missing):
    """GET an API object; a 404 ends the command with the real CLI's not-found line."""
    try:
        return client.request("GET", path)
    except client.ApiError as error:
        if error.status == 404:
            fail(missing)
        raise


def read_pool_or_fail(name):
    return get_or_fail(f"/work_pools/{name}", f"Work pool {name!r} not found!")


def pool_inspect(a):
    pool = read_pool_or_fail(a.name)
    print(dumps(pool) if a.output == "json" else "WorkPool(\n" + "".join(f"    {k}={v!r},\n" for k, v in pool.items() if v not in (None, False)) + ")")
    return 0


def pool_ls(a):
    pools = client.request("POST", "/work_pools/filter", {})
    if a.output == "json":
        print(dumps(pools))
    elif not pools:
        print("No work pools found.")
    else:
        print("Work Pools\nName | Type | ID | Concurrency Limit")
        for p in pools:
            print(f"{p['name']}{' (**)' if p['is_paused'] else ''} | {p['type']} | {p['id']} | {p['concurrency_limit']}")
    return 0


def pool_patch(name, body):
    try:
        client.request("PATCH", f"/work_pools/{name}", body)
        return True
    except client.ApiError as error:
        if error.status == 404:
            return False
        raise


def pool_change(body_of, done, missing=lambda name: f"Work pool {name!r} does not exist."):
    """A work-pool subcommand that PATCHes the pool: its body, its success line, its not-found line."""

    def command(a):
        if not pool_patch(a.name, body_of(a)):
            fail(missing(a.name))
        print(done(a))
        return 0

    return command


# set-concurrency-limit on a missing pool prints the empty ObjectNotFound: "None" (real behaviour).
pool_set_limit = pool_change(lambda a: {"concurrency_limit": a.limit},
                             lambda a: f"Set concurrency limit for work pool {a.name!r} to {a.limit}", lambda _name: "None")
pool_clear_limit = pool_change(lambda a: {"concurrency_limit": None}, lambda a: f"Cleared concurrency limit for work pool {a.name!r}")
pool_pause = pool_change(lambda a: {"is_paused": True}, lambda a: f"Paused work pool {a.name!r}")
pool_resume = pool_change(lambda a: {"is_paused": False}, lambda a: f"Resumed work pool {a.name!r}")
pool_update = pool_change(
    lambda a: {k: v for k, v in (("concurrency_limit", a.concurrency_limit), ("description", a.description)) if v is not None},
    lambda a: f"Updated work pool {a.name!r}")


def pool_delete(a):
    try:
        client.request("DELETE", f"/work_pools/{a.name}")
    except client.ApiError as error:
        if error.status == 404:
            fail(f"Work pool {a.name!r} does not exist.")
        raise
    print(f"Deleted work pool {a.name!r}")
    return 0


# --- deployments -------------------------------------------------------------------------
def deploy(a):
    from . import deploy as deploy_module
    return deploy_module.run(a.name or [], a.all, a.prefect_file)


def with_flow_names(deployments):
    flows = {f["id"]: f["name"] for f in client.request("POST", "/flows/filter", {})}
    return [{**d, "flow_name": flows.get(d["flow_id"])} for d in deployments]


def deployment_ls(a):
    deployments = with_flow_names(client.request("POST", "/deployments/filter", {}))
    if a.output == "json":
        print(dumps(deployments))
    else:
        print("Deployments\nName | ID | Work Pool")
        for d in deployments:
            print(f"{d['flow_name']}/{d['name']} | {d['id']} | {d['work_pool_name']}")
    return 0


def read_deployment_or_fail(full_name):
    if "/" not in full_name:
        fail("Invalid deployment name. Expected '<flow-name>/<deployment-name>'")
    flow, name = full_name.split("/", 1)
    return get_or_fail(f"/deployments/name/{flow}/{name}", f"Deployment {full_name!r} not found!")


def deployment_inspect(a):
    d = read_deployment_or_fail(a.name)
    d = {**d, "automations": client.request("GET", f"/automations/related-to/prefect.deployment.{d['id']}")}
    print(dumps(d) if a.output == "json" else repr(d))
    return 0


def deployment_delete(a):
    d = read_deployment_or_fail(a.name)
    client.request("DELETE", f"/deployments/{d['id']}")
    print(f"Deleted deployment '{a.name}'.")
    return 0


def block_register(a):
    """cli/block.py register: every Block subclass of a module or .py file, its type by slug (updated when it
    exists), its schema by checksum (made when new)."""
    import importlib
    import importlib.util
    from .blocks.core import Block
    if bool(a.file) == bool(a.module):
        fail("Please specify either a module or a file containing blocks to be registered, but not both.")
    if a.module:
        try:
            module = importlib.import_module(a.module)
        except ModuleNotFoundError:
            fail(f"Unable to load {a.module}. Please make sure the module is installed in your current environment.")
    else:
        if not a.file.endswith(".py"):
            fail(f"{a.file} is not a .py file. Please specify a .py that contains blocks to be registered.")
        spec = importlib.util.spec_from_file_location("__prefect_loader__", a.file)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # noqa: BLE001 - the CLI reports any failure of the script
            fail(f"Unable to load file at {a.file}: {error}")
    blocks = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Block) and v is not Block]
    if not blocks:
        fail(f"No blocks were found in {a.module or a.file}.")
    for block in blocks:
        body = {"name": block.block_type_name(), "slug": block.block_type_slug(), "description": block._description}
        try:
            existing = client.request("GET", f"/block_types/slug/{body['slug']}")
            client.request("PATCH", f"/block_types/{existing['id']}", {"description": body["description"]})
            type_id = existing["id"]
        except client.ApiError as error:
            if error.status != 404:
                raise
            type_id = client.request("POST", "/block_types/", body)["id"]
        client.request("POST", "/block_schemas/", {"block_type_id": type_id, "fields": block.schema_fields(), "capabilities": []})
    print(f"Successfully registered {len(blocks)} block{'s' if len(blocks) != 1 else ''}")
    return 0


def version(_a):
    data = settings.load_profiles()
    print(f"Version:             {__version__}\nAPI version:         0.8.4\n"
          f"Python version:      {platform.python_version()}\nOS/Arch:             {sys.platform}/{platform.machine()}\n"
          f"Profile:             {settings.active_profile_name(data)}\n"
          f"Server type:         {'server' if settings.get('PREFECT_API_URL', data) else 'ephemeral'}")
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="prefect")
    p.add_argument("--profile", "-p")
    p.add_argument("--prompt", dest="prompt", action="store_true", default=None)
    p.add_argument("--no-prompt", dest="prompt", action="store_false")
    p.add_argument("--version", "-v", action="store_true")
    sub = p.add_subparsers(dest="command")

    def command(parent, name, handler, *args):
        c = parent.add_parser(name)
        c.set_defaults(handler=handler)
        for flags, options in args:
            c.add_argument(*flags, **options)
        return c

    output = (["--output", "-o"], {"choices": ["json"]})
    server = sub.add_parser("server").add_subparsers(dest="sub", required=True)
    command(server, "start", server_start, (["--host"], {}), (["--port"], {"type": int}), (["--no-services"], {"action": "store_true"}),
            (["--ui"], {"action": "store_true"}), (["--no-ui"], {"action": "store_true"}), (["--log-level"], {}),
            (["--background", "-b"], {"action": "store_true"}), (["--workers"], {"type": int}))
    command(server, "status", server_status, (["--wait"], {"action": "store_true"}), (["--timeout", "-t"], {"type": int, "default": 0}), output)

    worker = sub.add_parser("worker").add_subparsers(dest="sub", required=True)
    command(worker, "start", worker_start, (["--pool", "-p"], {}), (["--type", "-t"], {}), (["--limit", "-l"], {"type": int}),
            (["--with-healthcheck"], {"action": "store_true"}), (["--name", "-n"], {}), (["--work-queue", "-q"], {"action": "append"}),
            (["--prefetch-seconds"], {"type": int}), (["--run-once"], {"action": "store_true"}),
            (["--create-pool-if-not-found"], {"dest": "create_pool_if_not_found", "action": "store_true", "default": True}),
            (["--no-create-pool-if-not-found"], {"dest": "create_pool_if_not_found", "action": "store_false"}))

    profile = sub.add_parser("profile").add_subparsers(dest="sub", required=True)
    command(profile, "ls", profile_ls, output)
    command(profile, "create", profile_create, (["name"], {}), (["--from"], {"dest": "from_"}))
    command(profile, "use", profile_use, (["name"], {}))
    command(profile, "inspect", profile_inspect, (["name"], {"nargs": "?"}), output)
    command(profile, "delete", profile_delete, (["name"], {}))

    config = sub.add_parser("config").add_subparsers(dest="sub", required=True)
    command(config, "set", config_set, (["settings"], {"nargs": "+"}))
    command(config, "unset", config_unset, (["settings"], {"nargs": "+"}), (["-y", "--yes"], {"action": "store_true"}))
    command(config, "view", config_view, (["--show-defaults"], {"action": "store_true"}), (["--hide-sources"], {"action": "store_true"}),
            (["--show-sources"], {"action": "store_true"}), (["--show-secrets"], {"action": "store_true"}), output)

    pool = sub.add_parser("work-pool").add_subparsers(dest="sub", required=True)
    command(pool, "create", pool_create, (["name"], {}), (["--type", "-t"], {}), (["--paused"], {"action": "store_true"}),
            (["--overwrite"], {"action": "store_true"}), (["--base-job-template"], {}), (["--set-as-default"], {"action": "store_true"}))
    command(pool, "inspect", pool_inspect, (["name"], {}), output)
    command(pool, "ls", pool_ls, (["--verbose", "-v"], {"action": "store_true"}), output)
    command(pool, "set-concurrency-limit", pool_set_limit, (["name"], {}), (["limit"], {"type": int}))
    command(pool, "clear-concurrency-limit", pool_clear_limit, (["name"], {}))
    command(pool, "pause", pool_pause, (["name"], {}))
    command(pool, "resume", pool_resume, (["name"], {}))
    command(pool, "update", pool_update, (["name"], {}), (["--concurrency-limit"], {"type": int}), (["--description"], {}),
            (["--base-job-template"], {}))
    command(pool, "delete", pool_delete, (["name"], {}))

    command(sub, "deploy", deploy, (["entrypoint"], {"nargs": "?"}), (["--name", "-n"], {"action": "append"}),
            (["--all"], {"action": "store_true"}), (["--prefect-file"], {"default": "prefect.yaml"}))
    deployment = sub.add_parser("deployment").add_subparsers(dest="sub", required=True)
    command(deployment, "ls", deployment_ls, output)
    command(deployment, "inspect", deployment_inspect, (["name"], {}), output)
    command(deployment, "delete", deployment_delete, (["name"], {}))
    block = sub.add_parser("block").add_subparsers(dest="sub", required=True)
    command(block, "register", block_register, (["--module", "-m"], {}), (["--file", "-f"], {}))
    command(sub, "version", version)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.version:
        print(__version__)
        return 0
    if not getattr(args, "handler", None):
        build_parser().print_help()
        return 1
    if args.profile:
        data = settings.load_profiles()
        if args.profile not in data["profiles"]:
            print(f"Unknown profile {args.profile!r}.")
            return 1
        settings.cli_profile = args.profile
    try:
        return args.handler(args)
    except Exit as error:
        print(str(error))
        return error.code
    except client.Unreachable as error:
        print(f"Failed to reach API at {settings.get('PREFECT_API_URL')}: {error}")
        return 1
    except ValueError as error:
        print(str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main())
