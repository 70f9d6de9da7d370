"""`prefect deploy`: reads prefect.yaml in the working directory and registers deployments through
the API exactly as the real CLI's RunnerDeployment.aapply does (GET by name, then POST or PATCH)."""
import ast
import datetime
import fnmatch
import os

import yaml

from . import client, settings

SCHEDULE_KEYS = {"cron", "interval", "rrule", "timezone", "anchor_date", "active", "parameters", "slug", "replaces", "day_or"}
ENTRYPOINT_HELP = ("An entrypoint must be provided:\n\n\t[yellow]prefect deploy path/to/file.py:flow_function\n\n"
                   "You can also provide an entrypoint in a prefect.yaml file.")


def run(names, deploy_all, prefect_file):
    if deploy_all and names:
        print("Cannot use both `--all` and `--name` at the same time. Use only one.")
        return 1
    try:
        with open(prefect_file) as f:
            project = yaml.safe_load(f) or {}
    except OSError as error:
        print(f"Unable to read the specified config file. Reason: {error}. Skipping.")
        print(ENTRYPOINT_HELP)
        return 1
    configs = project.get("deployments") or []
    invalid = [c.get("name", "?") for c in configs if not valid_schedules(c)]
    if invalid:
        print("Invalid fields in deployments:\n")
        for name in invalid:
            print(f"  \u2022 {name}: schedules")
        print("\nFor valid deployment fields and examples, go to:\nhttps://docs.prefect.io/v3/concepts/deployments#deployment-schema\n")
        print("Skipping deployment configuration due to validation errors.")
        print(ENTRYPOINT_HELP)
        return 1
    selected = select(configs, names, deploy_all)
    if selected is None:
        return 1
    if deploy_all:
        print("Deploying all flows with an existing deployment configuration...")
    for config in selected:
        code = deploy_one(project, config)
        if code:
            return code
    return 0


def valid_schedules(config):
    return all(set(s) <= SCHEDULE_KEYS and sum(k in s for k in ("cron", "interval", "rrule")) == 1
               for s in config.get("schedules") or [])


def select(configs, names, deploy_all):
    if deploy_all:
        return [c for c in configs if c.get("name")]
    if not names:
        if len(configs) == 1:
            return configs
        print("Discovered one or more deployment configurations, but no name was given. "
              "Please specify the name of at least one deployment to create or update.")
        return None
    if len(configs) == 1:
        # As the real CLI does: a single config is deployed under whatever name was given.
        return [{**configs[0], "name": names[0].split("/")[-1]}]
    chosen, missing = [], []
    for name in names:
        matches = [c for c in configs if fnmatch.fnmatch(c.get("name", ""), name.split("/")[-1])]
        chosen += [c for c in matches if c not in chosen]
        if not matches:
            missing.append(name)
    if missing:
        print(f"The following deployment(s) could not be found and will not be deployed: {', '.join(missing)}")
        if not chosen:
            print(f"Could not find any deployment configurations with the given name(s): {', '.join(missing)}. "
                  "Your flow will be deployed with a new deployment configuration.")
            print(ENTRYPOINT_HELP)
            return None
    return chosen


def flow_of(entrypoint):
    """Flow name and parameter schema, read from the source without running it."""
    path, _, function = entrypoint.rpartition(":")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            name = function.replace("_", "-")
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call):
                    for kw in decorator.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            name = kw.value.value
            return name, parameter_schema(node)
    raise ValueError(f"Flow function with name {function!r} not found in {path!r}. ")


def parameter_schema(node):
    types = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object", "list": "array"}
    args = node.args.args
    defaults = [None] * (len(args) - len(node.args.defaults)) + list(node.args.defaults)
    properties, required = {}, []
    for position, (arg, default) in enumerate(zip(args, defaults)):
        prop = {"title": arg.arg, "position": position}
        if isinstance(arg.annotation, ast.Name) and arg.annotation.id in types:
            prop["type"] = types[arg.annotation.id]
        if isinstance(default, ast.Constant):
            prop["default"] = default.value
        elif default is None:
            required.append(arg.arg)
        properties[arg.arg] = prop
    schema = {"title": "Parameters", "type": "object", "properties": properties, "definitions": {}}
    if required:
        schema["required"] = required
    return schema


def schedule_body(s):
    if "cron" in s:
        inner = {"cron": s["cron"], "timezone": s.get("timezone"), "day_or": s.get("day_or", True)}
    elif "interval" in s:
        inner = {"interval": float(s["interval"]), "timezone": s.get("timezone") or "UTC",
                 "anchor_date": s.get("anchor_date") or datetime.datetime.now(datetime.timezone.utc).isoformat()}
    else:
        inner = {"rrule": s["rrule"], "timezone": s.get("timezone") or "UTC"}
    return {"schedule": inner, "active": s.get("active", True), "parameters": s.get("parameters") or {},
            "slug": s.get("slug"), "max_scheduled_runs": None}


def deploy_one(project, config):
    entrypoint = config.get("entrypoint")
    if not entrypoint:
        print(ENTRYPOINT_HELP)
        return 1
    try:
        flow_name, schema = flow_of(entrypoint)
    except (OSError, ValueError, SyntaxError) as error:
        print(f"Script at {entrypoint!r} encountered an exception: {error}")
        return 1
    pool = (config.get("work_pool") or {}).get("name") or settings.get("PREFECT_DEFAULT_WORK_POOL_NAME")
    try:
        if pool:
            try:
                client.request("GET", f"/work_pools/{pool}")
            except client.ApiError as error:
                if error.status != 404:
                    raise
                print(f"This deployment configuration references work pool '{pool}' which does not exist. This means "
                      "no worker will be able to pick up its runs. You can create a work pool in the Prefect UI.")
                return 1
        flow = client.request("POST", "/flows/", {"name": flow_name})
        body = deployment_body(project, config, flow["id"], pool, schema)
        try:
            existing = client.request("GET", f"/deployments/name/{flow_name}/{config['name']}")
        except client.ApiError as error:
            if error.status != 404:
                raise
            existing = None
        if existing is None:
            deployment_id = client.request("POST", "/deployments/", body)["id"]
        else:
            body.pop("flow_id")
            body.pop("name")
            if not body["schedules"]:
                # The real CLI sends schedules only when there are some: emptying them keeps the old ones.
                body.pop("schedules")
            client.request("PATCH", f"/deployments/{existing['id']}", body)
            deployment_id = existing["id"]
    except client.Unreachable as error:
        print(f"Failed to reach API at {client.api_url()}/: {error}")
        return 1
    except client.ApiError as error:
        print(f"Failed to create deployment: {error}")
        return 1
    print_success(f"{flow_name}/{config['name']}", deployment_id, pool)
    return 0


def deployment_body(project, config, flow_id, pool, schema):
    work_pool = config.get("work_pool") or {}
    limit = config.get("concurrency_limit")
    pull = config.get("pull", project.get("pull"))
    if pull is None:
        pull = [{"prefect.deployments.steps.set_working_directory": {"directory": os.getcwd()}}]
    body = {
        "name": config["name"], "flow_id": flow_id, "work_pool_name": pool,
        "work_queue_name": work_pool.get("work_queue_name"), "entrypoint": config["entrypoint"], "path": None,
        "pull_steps": pull, "parameters": config.get("parameters") or {}, "parameter_openapi_schema": schema,
        "tags": config.get("tags") or [], "description": config.get("description"), "version": config.get("version"),
        "paused": bool(config.get("paused", False)), "job_variables": work_pool.get("job_variables") or {},
        "enforce_parameter_schema": config.get("enforce_parameter_schema", True),
        "schedules": [schedule_body(s) for s in config.get("schedules") or []],
    }
    if limit is not None:
        body["concurrency_limit"] = limit["limit"] if isinstance(limit, dict) else limit
    return body


def print_success(full_name, deployment_id, pool):
    ui = (settings.get("PREFECT_API_URL") or "").rstrip("/")
    ui = ui[: -len("/api")] if ui.endswith("/api") else ui
    print(f"Deployment '{full_name}' successfully created with id '{deployment_id}'.")
    print(f"\nView Deployment in UI: {ui}/deployments/deployment/{deployment_id}\n")
    if pool:
        print("To execute flow runs from these deployments, start a worker in a separate\n"
              f"terminal that pulls work from the '{pool}' work pool:\n\n\t$ prefect worker start --pool '{pool}'\n")
    print(f"To schedule a run for this deployment, use the following command:\n\n\t$ prefect deployment run '{full_name}'\n")
