"""`prefect deploy`, following Prefect 3.8.3's pipeline (src/prefect/cli/deploy/, deployments/runner.py):
prefect.yaml read with PyYAML and validated as its pydantic models do (one bad key skips the whole
file), entries picked by name or FLOW/NAME, defaults merged, templates resolved (blocks, variables,
the environment, then step outputs), the flow read for its name, docstring and version, then GET by
name and POST (create) or PATCH (update, with only the fields the real RunnerDeployment sets).
Errors go to stdout (exit_with_error), logs to stderr."""
import ast
import copy
import datetime
import hashlib
import os
import re
import subprocess
import sys

import yaml

from . import client, settings

SCHEDULE_KEYS = {"cron", "interval", "rrule", "timezone", "anchor_date", "active", "parameters", "slug", "replaces", "day_or"}
ENTRYPOINT_HELP = ("An entrypoint must be provided:\n\n \t[yellow]prefect deploy path/to/file.py:flow_function\n\n"
                   "You can also provide an entrypoint in a prefect.yaml file.")
PLACEHOLDER = re.compile(r"({{\s*([\w\.\-\[\]$]+)\s*}})")
NOT_SET = object()


class DeployError(Exception):
    """exit_with_error: the message on stdout, exit 1."""


def log(level, message):
    levels = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
    wanted = (settings.get("PREFECT_LOGGING_LEVEL") or "WARNING").upper()
    if levels[level] >= levels.get(wanted, 30):
        stamp = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]
        print(f"{stamp} | {level:<7} | prefect.cli.deploy - {message}", file=sys.stderr)


def run(names, deploy_all, prefect_file):
    try:
        if deploy_all and names:
            raise DeployError("Cannot use both `--all` and `--name` at the same time. Use only one.")
        configs, actions = load(prefect_file)
        log("DEBUG", f"loaded {len(configs)} deployment configuration(s) from {prefect_file}")
        parsed = []
        for name in names:
            parsed += names_from_pattern(configs, name) if "*" in name else [name]
        selected = pick(configs, parsed, deploy_all)
        if len(selected) > 1:
            if deploy_all:
                print("Deploying all flows with an existing deployment configuration...")
            for config in selected:
                deploy_one(config, actions, [])
        else:
            deploy_one(selected[0] if selected else {}, actions, [n.split("/", 1)[-1] for n in parsed])
        return 0
    except DeployError as error:
        print(str(error))
        return 1
    except client.Unreachable as error:
        print(f"Failed to reach API at {client.api_url()}/: {error}")
        return 1


# --- loading and validation (_config.py, _models.py) -------------------------------------------------
def load(prefect_file):
    try:
        with open(prefect_file) as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as error:
        print(f"Unable to read the specified config file. Reason: {error}. Skipping.")
        raw = {}
    if not isinstance(raw, dict):
        print("Unable to parse the specified config file. Skipping.")
        raw = {}
    top, bad = validate(raw)
    if top or bad:
        lines = []
        if top:
            lines += ["Invalid top-level fields in config file:\n"] + [f"  \u2022 {f}: {m}" for f, m in top]
            lines.append("\nFor valid prefect.yaml fields, see: https://docs.prefect.io/v3/how-to-guides/deployments/prefect-yaml")
        if bad:
            lines += ([""] if top else []) + ["Invalid fields in deployments:\n"]
            lines += [f"  \u2022 {name}: {', '.join(sorted(fields))}" for name, fields in sorted(bad.items())]
            lines.append("\nFor valid deployment fields and examples, go to: https://docs.prefect.io/v3/concepts/deployments#deployment-schema")
        print("\n".join(lines))
        print("\nSkipping deployment configuration due to validation errors.")
        raw = {}
    actions = {"build": wrap_steps(raw.get("build")) or [], "push": wrap_steps(raw.get("push")) or [], "pull": wrap_steps(raw.get("pull"))}
    configs = []
    for d in raw.get("deployments") or []:
        d = dict(d)
        for key in ("build", "push", "pull"):
            if key in d:
                d[key] = wrap_steps(d[key])
        if isinstance(d.get("schedules"), list):
            d["schedules"] = [json_schedule(s) for s in d["schedules"]]
        configs.append(jsonable(d))
    return configs, actions


def wrap_steps(value):
    return [value] if isinstance(value, dict) and value else value


def validate(raw):
    """The pydantic models' verdict: (top-level errors, {deployment name: bad fields})."""
    top, bad = [], {}
    for key in ("build", "push", "pull"):
        if not valid_steps(raw.get(key)):
            top.append((key, "Input should be a valid list"))
    for key in ("prefect-version", "name"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            top.append((key, "Input should be a valid string"))
    deployments = raw.get("deployments")
    if deployments is not None and not isinstance(deployments, list):
        top.append(("deployments", "Input should be a valid list"))
        return top, bad
    for index, d in enumerate(deployments or []):
        name = d.get("name", f"#{index}") if isinstance(d, dict) else f"#{index}"
        fields = bad_fields(d) if isinstance(d, dict) else {"deployments"}
        if fields:
            bad.setdefault(name, set()).update(fields)
    return top, bad


def valid_steps(value):
    return value is None or isinstance(value, dict) or (isinstance(value, list) and all(isinstance(s, dict) for s in value))


def bad_fields(d):
    fields = set()
    strings = ("name", "version", "version_type", "description", "flow_name", "entrypoint")
    fields |= {k for k in strings if d.get(k) is not None and not isinstance(d[k], str)}
    if d.get("tags") is not None and not isinstance(d["tags"], (str, list)):
        fields.add("tags")
    for key in ("paused", "enforce_parameter_schema"):
        if d.get(key) is not None and lax_bool(d[key]) is None:
            fields.add(key)
    if "parameters" in d and not isinstance(d["parameters"], dict):
        fields.add("parameters")
    limit = d.get("concurrency_limit")
    if limit is not None and not (is_int(limit) or (isinstance(limit, dict) and valid_limit(limit))):
        fields.add("concurrency_limit")
    pool = d.get("work_pool")
    if pool is not None and not (isinstance(pool, dict) and all(pool.get(k) is None or isinstance(pool[k], str) for k in ("name", "work_queue_name"))
                                 and isinstance(pool.get("job_variables", {}), dict)):
        fields.add("work_pool")
    if d.get("schedules") is not None and not (isinstance(d["schedules"], list) and all(valid_schedule(s) for s in d["schedules"])):
        fields.add("schedules")
    if d.get("schedule") is not None and d["schedule"] != {} and not valid_schedule(d["schedule"]):  # Dict[None, None]
        fields.add("schedule")
    fields |= {k for k in ("build", "push", "pull") if not valid_steps(d.get(k))}
    return fields


def valid_limit(limit):
    return all(limit.get(k) is None or is_int(limit[k]) for k in ("limit", "grace_period_seconds")) and \
        (limit.get("collision_strategy") is None or isinstance(limit["collision_strategy"], str))


def valid_schedule(s):
    return isinstance(s, dict) and set(s) <= SCHEDULE_KEYS and sum(s.get(k) is not None for k in ("cron", "interval", "rrule")) == 1 \
        and (s.get("interval") is None or interval_seconds(s["interval"]) is not None)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def lax_bool(value):
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "t", "yes", "y", "on", "1", "false", "f", "no", "n", "off", "0"):
        return value.strip().lower() in ("true", "t", "yes", "y", "on", "1")
    return None


def json_schedule(s):
    """RawScheduleConfig.model_dump(mode="json", exclude_unset=True): the interval as an ISO 8601 duration."""
    s = dict(s)
    if s.get("interval") is not None:
        s["interval"] = iso_duration(interval_seconds(s["interval"]))
    return s


def jsonable(value):
    """pydantic's JSON mode: dates and datetimes as ISO text."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def interval_seconds(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        return float(text)
    m = re.fullmatch(r"([-+]?)P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?", text, re.I)
    if m and re.search(r"\d", text):
        w, d, h, mi, s = (float(x or 0) for x in m.groups()[1:])
        total = w * 604800 + d * 86400 + h * 3600 + mi * 60 + s
        return -total if m.group(1) == "-" else total
    m = re.fullmatch(r"(?:(-?\d+) days?,? )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)", text)
    if m:
        return float(m.group(1) or 0) * 86400 + float(m.group(2)) * 3600 + float(m.group(3)) * 60 + float(m.group(4))
    return None


def iso_duration(seconds):
    return f"PT{int(seconds)}S" if float(seconds).is_integer() else f"PT{seconds}S"


# --- picking entries (_config.py) ----------------------------------------------------------------------
def names_from_pattern(configs, pattern):
    flow_part, _, deploy_part = pattern.rpartition("/") if "/" in pattern else (None, "", pattern)
    found = []
    for c in configs:
        if not c.get("entrypoint"):
            continue
        function = c["entrypoint"].split(":")[-1].replace("_", "-")
        flow_ok = flow_part is None or re.fullmatch(re.escape(flow_part).replace(r"\*", ".*"), function)
        if flow_ok and re.fullmatch(re.escape(deploy_part).replace(r"\*", ".*"), c.get("name") or ""):
            found.append(c["name"])
    return found


def pick(configs, names, deploy_all):
    if not configs:
        return [{}]
    if len(configs) == 1 and len(names) <= 1:
        return [configs[0]]
    if not names and not deploy_all:
        raise DeployError("Discovered one or more deployment configurations, but no name was given. Please "
                          "specify the name of at least one deployment to create or update.")
    if deploy_all:
        return list(configs)
    matched, wanted = [], []
    for name in names:
        if "/" in name:
            flow, deployment = name.split("/")
            flow = flow.replace("-", "_")
            matched += [c for c in configs if c.get("name") == deployment and (c.get("entrypoint") or "").split(":")[-1] == flow]
        else:
            matched += [c for c in configs if c.get("name") == name]
        wanted.append(name.split("/")[-1])
    missing = set(wanted) - {c.get("name") for c in matched}
    if missing:
        print(f"The following deployment(s) could not be found and will not be deployed: {', '.join(sorted(missing))}")
    if not matched:
        print(f"Could not find any deployment configurations with the given name(s): {', '.join(names)}. "
              "Your flow will be deployed with a new deployment configuration.")
    return matched


# --- one deployment (_core.py _run_single_deploy) -------------------------------------------------------
def with_defaults(config):
    config = copy.deepcopy(config)
    for key, value in {"name": None, "version": None, "tags": [], "concurrency_limit": None, "description": None,
                       "flow_name": None, "entrypoint": None, "parameters": {}}.items():
        config.setdefault(key, value)
    if not isinstance(config.get("work_pool"), dict):
        config["work_pool"] = {}
    pool = config["work_pool"]
    for key, value in {"name": None, "work_queue_name": None, "job_variables": {}}.items():
        pool.setdefault(key, value)
    if config.get("schedule") and "schedules" in config:
        raise DeployError("Both 'schedule' and 'schedules' keys are present in the deployment configuration. Please use only use `schedules`.")
    if config.get("schedule") and isinstance(config["schedule"], dict):
        config["schedules"] = [json_schedule(config["schedule"])]
    return config


def deploy_one(config, actions, names):
    config = with_defaults(config)
    if len(names) == 1:
        config["name"] = names[0]
    if any(config.get(k, actions.get(k)) for k in ("build", "push")):
        raise DeployError("The stand-in runs no build or push steps.")
    raw_pull = config["pull"] if "pull" in config else actions.get("pull")
    pull_steps = raw_pull or []
    config = resolve_blocks(config)
    config = apply_values(config, variable, remove=False)
    config = apply_values(config, environ, remove=False)
    if not config.get("entrypoint"):
        raise DeployError(ENTRYPOINT_HELP)
    flow = load_flow(config["entrypoint"])
    if not config.get("name"):
        raise DeployError("A deployment name must be provided.")
    pool = config["work_pool"].get("name") or settings.get("PREFECT_DEFAULT_WORK_POOL_NAME")
    if not pool:
        raise DeployError("A work pool is required to deploy this flow. Please specify a work pool name via the '--pool' flag or in your prefect.yaml file.")
    try:
        client.request("GET", f"/work_pools/{pool}")
    except client.ApiError as error:
        if error.status != 404:
            raise
        raise DeployError(f"This deployment configuration references work pool {pool!r} which does not exist. This means "
                          "no worker will be able to pick up its runs. You can create a work pool in the Prefect UI.")
    if raw_pull == []:
        pull_steps = []
    elif not pull_steps:
        pull_steps = [{"prefect.deployments.steps.set_working_directory": {"directory": os.getcwd()}}]
    if not config.get("description"):
        config["description"] = flow["description"]
    schedules = [schedule_body(s) for s in apply_values(config.get("schedules") or [], lambda n: NOT_SET, remove=True)]
    config.pop("schedules", None)
    config = apply_values(config, lambda n: "KEEP" if n.startswith("ctx.") else NOT_SET, remove=True)
    options = None
    limit = config.get("concurrency_limit")
    if isinstance(limit, dict):
        options = {"collision_strategy": limit.get("collision_strategy")}
        if limit.get("grace_period_seconds") is not None:
            options["grace_period_seconds"] = limit["grace_period_seconds"]
        limit = limit.get("limit")
    pull_steps = apply_values(pull_steps, lambda n: NOT_SET, remove=False)
    fields = {
        "work_pool_name": pool, "work_queue_name": config["work_pool"].get("work_queue_name"),
        "parameters": config.get("parameters") or {}, "description": config.get("description"),
        "version": config.get("version") or flow["version"], "tags": list_of_non_empty_strings(config.get("tags") or []),
        "concurrency_limit": limit, "concurrency_options": options,
        "paused": bool(lax_bool(config["paused"])) if config.get("paused") is not None else False,
        "job_variables": config["work_pool"].get("job_variables") or {}, "entrypoint": config["entrypoint"],
        "pull_steps": pull_steps, "parameter_openapi_schema": flow["schema"],
    }
    if config.get("enforce_parameter_schema") is not None:
        fields["enforce_parameter_schema"] = bool(lax_bool(config["enforce_parameter_schema"]))
    log("DEBUG", f"deployment {flow['name']}/{config['name']}: {fields}")
    deployment_id = register(flow["name"], config["name"], fields, schedules)
    create_triggers(deployment_id, config["name"], config.get("triggers") or [])
    print_success(f"{flow['name']}/{config['name']}", deployment_id, pool)


def create_triggers(deployment_id, deployment_name, specs):
    """_triggers.py _create_deployment_triggers: the deployment's own automations deleted, then one per trigger
    (deployment_triggers.py as_automation), named DEPLOYMENT__automation_I unless named, running the deployment."""
    client.request("DELETE", f"/automations/owned-by/prefect.deployment.{deployment_id}")
    for index, spec in enumerate(specs, start=1):
        spec = dict(spec)
        name = spec.pop("name", None) or f"{deployment_name}__automation_{index}"
        action = {"type": "run-deployment", "source": "selected", "deployment_id": deployment_id,
                  "parameters": spec.pop("parameters", None), "job_variables": spec.pop("job_variables", None),
                  "schedule_after": interval_seconds(spec.pop("schedule_after", 0)) or 0.0}
        body = {"name": name, "description": spec.pop("description", ""), "enabled": spec.pop("enabled", True), "tags": [],
                "trigger": client_trigger(spec), "actions": [action], "actions_on_trigger": [], "actions_on_resolve": [],
                "owner_resource": f"prefect.deployment.{deployment_id}"}
        client.request("POST", "/automations/", body)


def client_trigger(spec):
    """The client's EventTrigger with its defaults, dumped as JSON (within in seconds)."""
    kind = spec.get("type") or ("compound" if "require" in spec else "sequence" if "triggers" in spec else "event")
    if kind != "event":
        return {**spec, "type": kind, "triggers": [client_trigger(t) for t in spec.get("triggers") or []],
                "within": interval_seconds(spec["within"]) if spec.get("within") is not None else None}
    posture = spec.get("posture", "Reactive")
    within = interval_seconds(spec.get("within", 0)) or 0.0
    if posture == "Proactive" and within == 0:
        within = 10.0
    return {"type": "event", "match": spec.get("match", {}), "match_related": spec.get("match_related", {}),
            "after": spec.get("after", []), "expect": spec.get("expect", []), "for_each": spec.get("for_each", []),
            "posture": posture, "threshold": spec.get("threshold", 1), "within": within}


def list_of_non_empty_strings(tags):
    """types.ListOfNonEmptyStrings, as RunnerDeployment validates its tags: text becomes its characters."""
    return [str(s) for s in tags if str(s).strip()]


def register(flow_name, name, fields, schedules):
    """RunnerDeployment.aapply: GET by name; 404 -> _create (every field), else _update (what the runner sets)."""
    try:
        flow = client.request("POST", "/flows/", {"name": flow_name})
        try:
            existing = client.request("GET", f"/deployments/name/{flow_name}/{name}")
        except client.ApiError as error:
            if error.status != 404:
                raise
            existing = None
        if existing is None:
            body = {**fields, "name": name, "flow_id": flow["id"], "path": None, "schedules": schedules,
                    "enforce_parameter_schema": fields.get("enforce_parameter_schema", True),
                    # The client's DeploymentCreate turns a missing description into the text "None".
                    "description": str(fields["description"]) if fields["description"] is None else fields["description"]}
            return client.request("POST", "/deployments/", body)["id"]
        body = dict(fields)
        if schedules:
            body["schedules"] = schedules
        client.request("PATCH", f"/deployments/{existing['id']}", body)
        return existing["id"]
    except client.ApiError as error:
        raise DeployError(f"Failed to create deployment: {error}")


def schedule_body(s):
    if s.get("cron"):
        inner = {"cron": s["cron"], "timezone": s.get("timezone"), "day_or": s.get("day_or") if s.get("day_or") is not None else True}
    elif s.get("interval"):
        inner = {"interval": interval_seconds(s["interval"]), "timezone": s.get("timezone")}
        if s.get("anchor_date"):
            inner["anchor_date"] = s["anchor_date"]
        if inner["timezone"] is None:
            inner["timezone"] = "UTC"
        inner.setdefault("anchor_date", datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"))
    else:
        inner = {"rrule": s["rrule"], "timezone": s.get("timezone") or "UTC"}
    return {"schedule": inner, "active": lax_bool(s["active"]) if s.get("active") is not None else True,
            "parameters": s.get("parameters") or {}, "slug": s.get("slug"), "max_scheduled_runs": None}


# --- templating (utilities/templating) -------------------------------------------------------------------
def apply_values(template, lookup, remove):
    if isinstance(template, str):
        found = PLACEHOLDER.findall(template)
        if not found:
            return template
        # Only a plain placeholder is replaced by its (typed) value; {{ $VAR }} always by text.
        if len(found) == 1 and found[0][0] == template and not found[0][1].startswith("$"):
            value = lookup(found[0][1])
            if value == "KEEP" or (value is NOT_SET and not remove):
                return template
            return value
        for whole, name in found:
            value = lookup(name)
            if value == "KEEP":
                continue
            if value is NOT_SET:
                if remove:
                    template = template.replace(whole, "")
                continue
            template = template.replace(whole, str(value))
        return template
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            applied = apply_values(value, lookup, remove)
            if applied is not NOT_SET:
                out[key] = applied
        return out
    if isinstance(template, list):
        return [v for v in (apply_values(item, lookup, remove) for item in template) if v is not NOT_SET]
    return template


def environ(name):
    if name.startswith(("prefect.", "ctx.")):
        return NOT_SET
    return os.environ.get(name[1:] if name.startswith("$") else name, NOT_SET)


def variable(name):
    if not name.startswith("prefect.variables."):
        return NOT_SET
    try:
        return client.request("GET", f"/variables/name/{name[len('prefect.variables.'):]}")["value"]
    except client.ApiError as error:
        if error.status == 404:
            return ""
        raise


def resolve_blocks(template):
    """resolve_block_document_references: {"$ref": {"block_document_id": ...}} and {{ prefect.blocks.TYPE.NAME[.path] }}."""
    if isinstance(template, dict):
        ref = template.get("$ref")
        if isinstance(ref, dict) and ref.get("block_document_id"):
            return copy.deepcopy(client.request("GET", f"/block_documents/{ref['block_document_id']}?include_secrets=true")["data"])
        return {k: resolve_blocks(v) for k, v in template.items()}
    if isinstance(template, list):
        return [resolve_blocks(v) for v in template]
    if not isinstance(template, str):
        return template
    found = [(whole, name) for whole, name in PLACEHOLDER.findall(template) if name.startswith("prefect.blocks.")]
    if not found:
        return template
    if len(PLACEHOLDER.findall(template)) == 1 and found[0][0] == template:
        return block_value(found[0][1], template)
    for whole, name in found:
        value = block_value(name, template)
        if isinstance(value, (dict, list)):
            raise DeployError(f"Invalid template: {template!r}. Block placeholder {whole!r} resolved to a {type(value).__name__}, "
                              "which cannot be used for inline string substitution. Resolve a scalar attribute instead (e.g., '.value' or '.url').")
        template = template.replace(whole, str(value))
    return template


def block_value(name, template):
    parts = name[len("prefect.blocks."):].split(".", 2)
    if len(parts) < 2:
        raise DeployError(f"Invalid block placeholder format: '{name}'. Expected format: prefect.blocks.<block-type-slug>.<block-document-name>")
    slug, document, *keypath = parts
    try:
        data = client.request("GET", f"/block_types/slug/{slug}/block_documents/name/{document}?include_secrets=true")["data"]
    except client.ApiError as error:
        if error.status != 404:
            raise
        raise DeployError(f"Block not found: '{document}' of type '{slug}'. This block was referenced in your deployment or work pool "
                          "configuration but no longer exists. It may have been deleted. Please check your configuration or create a new block.")
    if len(data) == 1 and "value" in data and not (keypath and keypath[0].startswith("value")):
        data = data["value"]
    if not keypath:
        return copy.deepcopy(data)
    value = data
    for key in re.findall(r"[^.\[\]]+", keypath[0]):
        try:
            value = value[int(key)] if isinstance(value, list) else value[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise DeployError(f"Invalid template: {template!r}. Could not resolve the keypath in the block document data.")
    return copy.deepcopy(value)


# --- the flow (flows.py) ---------------------------------------------------------------------------------
def load_flow(entrypoint):
    """Name, description, version and parameter schema, read from the source without running it."""
    path, function = entrypoint.rsplit(":", 1) if ":" in entrypoint else entrypoint.rsplit(".", 1)
    if ".py:" not in entrypoint:
        path = module_file(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
        tree = ast.parse(data, path)
    except (OSError, SyntaxError) as error:
        raise DeployError(f"Script at {entrypoint!r} encountered an exception: {error}")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            kwargs = {}
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call):
                    kwargs.update({kw.arg: kw.value.value for kw in decorator.keywords if isinstance(kw.value, ast.Constant)})
            return {"name": kwargs.get("name") or function.replace("_", "-"),
                    "description": kwargs.get("description") or ast.get_docstring(node),
                    "version": kwargs.get("version") or git_version() or hashlib.md5(data).hexdigest(),
                    "schema": parameter_schema(node)}
    raise DeployError(f"Script at {entrypoint!r} encountered an exception: Flow function with name {function!r} not found in {path!r}. ")


def module_file(module):
    """import_object's module form (package.module:flow): the module's file, imported from the project directory."""
    base = module.replace(".", "/")
    return base + ".py" if os.path.isfile(base + ".py") else base + "/__init__.py"


def git_version():
    """_internal/versioning.py get_git_version_info: the commit's first 8 characters, when there is an origin."""
    try:
        origin = subprocess.run(["git", "config", "--get", "remote.origin.url"], capture_output=True, text=True)
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    except OSError:
        return None
    if origin.returncode or head.returncode or not origin.stdout.strip():
        return None
    return head.stdout.strip()[:8]


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


def print_success(full_name, deployment_id, pool):
    ui = (settings.get("PREFECT_API_URL") or "").rstrip("/")
    ui = ui[: -len("/api")] if ui.endswith("/api") else ui
    print(f"Deployment '{full_name}' successfully created with id '{deployment_id}'.")
    print(f"\nView Deployment in UI: {ui}/deployments/deployment/{deployment_id}\n")
    if pool:
        print("To execute flow runs from these deployments, start a worker in a separate\n"
              f"terminal that pulls work from the '{pool}' work pool:\n\n\t$ prefect worker start --pool '{pool}'\n")
    print(f"To schedule a run for this deployment, use the following command:\n\n\t$ prefect deployment run '{full_name}'\n")
