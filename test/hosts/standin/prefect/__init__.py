"""A test-only stand-in for Prefect 3, for reconcile's test hosts.

It follows the real Prefect 3 CLI and REST API for the subset reconcile uses (see
shared/prefect-reference.md and prefect-source-notes.md in the project's steering notes): the same
commands, flags, exit codes, key output lines, files (profiles.toml) and JSON shapes. Its worker
runs deployments' flow runs (worker.py, engine.py). Never install it anywhere but a disposable test host.
"""

# Written by build_wheels.py into each release's wheel: its version, database revisions and health.
from ._release import VERSION as __version__  # noqa: E402


def flow(fn=None, **options):
    """`@flow` and `@flow(...)`: marks a function as a flow; calling it runs it, as a flow run does."""

    def mark(f):
        f.__prefect_flow__ = options
        return f

    return mark(fn) if fn is not None else mark


def task(fn=None, **options):
    return flow(fn, **options)
