"""`python -m prefect.engine`, as a worker starts it for a deployment's flow run (PREFECT__FLOW_RUN_ID):
reads the run and its deployment, runs the pull steps (set_working_directory), imports the
entrypoint from its file, and calls the flow with the run's parameters, proposing RUNNING, then
COMPLETED or FAILED."""
import importlib.util
import os
import sys
import time
import traceback

from . import client

SET_WORKING_DIRECTORY = ("prefect.deployments.steps.set_working_directory", "prefect.deployments.steps.pull.set_working_directory")


def set_state(run_id, state_type, message=None):
    """Proposes a state; told to WAIT (a run started before its scheduled time), sleeps and proposes again."""
    while True:
        result = client.request("POST", f"/flow_runs/{run_id}/set_state",
                                {"state": {"type": state_type, "name": state_type.title(), "message": message}})
        if result["status"] != "WAIT":
            return
        time.sleep(result["details"]["delay_seconds"])


def main():
    run_id = os.environ["PREFECT__FLOW_RUN_ID"]
    run = client.request("GET", f"/flow_runs/{run_id}")
    deployment = client.request("GET", f"/deployments/{run['deployment_id']}")
    for step in deployment["pull_steps"] or []:
        for name, args in step.items():
            if name not in SET_WORKING_DIRECTORY:
                raise ValueError(f"the stand-in runs only set_working_directory pull steps, not {name}")
            os.chdir(args["directory"])
    set_state(run_id, "RUNNING")
    entrypoint = deployment["entrypoint"]
    path, function = entrypoint.rsplit(":", 1) if ":" in entrypoint else entrypoint.rsplit(".", 1)
    try:
        getattr(load_module(entrypoint, path), function)(**run["parameters"])
    except Exception as error:  # noqa: BLE001 - any failure of the flow is the run's failure
        traceback.print_exc()
        set_state(run_id, "FAILED", f"Flow run encountered an exception: {type(error).__name__}: {error}")
        return 1
    set_state(run_id, "COMPLETED", "All states completed.")
    return 0


def load_module(entrypoint, path):
    """importtools.import_object: a script by its path, else a module imported from the working directory."""
    if ".py:" not in entrypoint:
        sys.path.insert(0, os.getcwd())
        return importlib.import_module(path)
    spec = importlib.util.spec_from_file_location("__prefect_loader__", os.path.abspath(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
