"""Runs executed in process that the UI can run again: recorded with the code location's origin.

``execute_in_process`` (how ``cohort demo``, ``cohort project build`` and ``cohort analysis build`` run
their jobs, so that a command line build needs no daemon) creates its run without a *remote job
origin*. The webserver's **Re-execute** (``launchPipelineReexecution``) finds the code location of the
run it re-executes through that origin, and fails on a run without one (HTTP 500, "Expected non-None
value"). So while our runs are created, the instance's ``create_run_for_job`` is given the origin of
the job in the code location of ``workspace.yaml`` (location ``cohort``, repository
``__repository__``), named with a ``RegisteredCodeLocationOrigin`` as the demo's ticks are
(:mod:`cohort.ops.ticks`): whoever reads it resolves the location by name.

The origin classes are private in Dagster 1.13 (``dagster._core.remote_origin``), and so is the
keyword the run is created with; they are used here and in :mod:`cohort.ops.ticks` only.
``tests/test_ui_browser.py`` re-executes a run made in process through a real webserver, so an upgrade
that breaks this fails there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from cohort.ops.devserver import LOCATION, REPOSITORY

__all__ = ["job_origin", "repository_origin", "with_job_origins"]


def repository_origin() -> RemoteRepositoryOrigin:
    """The repository of the code location of ``workspace.yaml``, by name."""
    return RemoteRepositoryOrigin(RegisteredCodeLocationOrigin(LOCATION), REPOSITORY)


def job_origin(job_name: str) -> RemoteJobOrigin:
    return RemoteJobOrigin(repository_origin(), job_name)


@contextmanager
def with_job_origins(instance: dg.DagsterInstance) -> Iterator[dg.DagsterInstance]:
    """Within the block, runs that ``instance`` creates for a named job carry that job's origin in the
    code location (Dagster's own ``__ASSET_JOB`` / ephemeral jobs are not in it: left without)."""
    create = instance.create_run_for_job

    def create_with_origin(*args: Any, **kwargs: Any) -> dg.DagsterRun:
        job_def = kwargs["job_def"] if "job_def" in kwargs else args[0]
        if kwargs.get("remote_job_origin") is None and not job_def.name.startswith("__"):
            kwargs["remote_job_origin"] = job_origin(job_def.name)
        return create(*args, **kwargs)

    instance.create_run_for_job = create_with_origin  # type: ignore[method-assign]
    try:
        yield instance
    finally:
        del instance.create_run_for_job  # the class's method again
