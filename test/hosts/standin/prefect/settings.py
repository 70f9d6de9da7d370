"""Settings and profiles as Prefect 3 resolves them: CLI --profile, then PREFECT_PROFILE, then the
file's `active`; a setting comes from the environment first, then the active profile, then defaults."""
import os
import tomllib

DEFAULTS = {
    "PREFECT_SERVER_API_HOST": "127.0.0.1",
    "PREFECT_SERVER_API_PORT": "4200",
    "PREFECT_WORKER_WEBSERVER_HOST": "0.0.0.0",
    "PREFECT_WORKER_WEBSERVER_PORT": "8080",
    "PREFECT_WORKER_HEARTBEAT_SECONDS": "30",
    "PREFECT_WORKER_QUERY_SECONDS": "10",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "true",
    "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "60",
    "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "5",
}
# Old names Prefect accepts and stores under the canonical one.
ALIASES = {
    "PREFECT_API_DATABASE_CONNECTION_URL": "PREFECT_SERVER_DATABASE_CONNECTION_URL",
    "PREFECT_UI_API_URL": "PREFECT_SERVER_UI_API_URL",
}
KNOWN_PREFIX = "PREFECT_"
UNSETTABLE = {"PREFECT_HOME", "PREFECT_PROFILES_PATH"}

# Set by the CLI's global --profile flag.
cli_profile = None


def home():
    return os.path.expanduser(os.environ.get("PREFECT_HOME", "~/.prefect"))


def profiles_path():
    path = os.environ.get("PREFECT_PROFILES_PATH")
    if path:
        return os.path.expanduser(path.replace("$PREFECT_HOME", home()))
    return os.path.join(home(), "profiles.toml")


def load_profiles():
    try:
        with open(profiles_path(), "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        data = {}
    return {"active": data.get("active"), "profiles": dict(data.get("profiles", {}))}


def _toml_string(value):
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def save_profiles(data):
    """Rewrites the whole file in toml.dumps' layout, as Prefect does: comments do not survive."""
    blocks = []
    if data.get("active") is not None:
        blocks.append(f"active = {_toml_string(data['active'])}\n")
    for name, values in data["profiles"].items():
        blocks.append(f"[profiles.{name}]\n" + "".join(f"{k} = {_toml_string(v)}\n" for k, v in values.items()))
    path = profiles_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(blocks))


def active_profile_name(data=None):
    data = data or load_profiles()
    return cli_profile or os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"


def canonical(name):
    return ALIASES.get(name, name)


def get(name, data=None):
    name = canonical(name)
    if name in os.environ:
        return os.environ[name]
    for alias, canon in ALIASES.items():
        if canon == name and alias in os.environ:
            return os.environ[alias]
    data = data or load_profiles()
    profile = data["profiles"].get(active_profile_name(data), {})
    if name in profile:
        return profile[name]
    return DEFAULTS.get(name)


def source_of(name, data):
    if canonical(name) in os.environ:
        return "env"
    if canonical(name) in data["profiles"].get(active_profile_name(data), {}):
        return "profile"
    return "defaults"
