"""Start ``dagster dev`` (webserver + daemon) on a loopback port and talk to it as a client would.

Used by the end-to-end test (``tests/test_ops_webserver.py``) and by the screenshot script
(``scripts/screenshots.py``). Plain HTTP + GraphQL (``requests``), nothing private.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""

BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id status numPartitions
      runs { runId status }
      error { message }
    }
    ... on PythonError { message }
  }
}"""

MATERIALISATIONS = """
query($key: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset {
      assetMaterializations(partitions: $partitions) {
        partition runId
        metadataEntries { label }
      }
    }
  }
}"""

LAUNCH_RUN = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""

REEXECUTE = """
mutation($params: ReexecutionParams) {
  launchPipelineReexecution(reexecutionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}"""

RUN_STATUS = """
query($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { runId status jobName tags { key value } }
    ... on Error { message }
  }
}"""

DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}
#: the code location of ``workspace.yaml`` and the repository a ``Definitions`` object becomes
LOCATION, REPOSITORY = "cohort", "__repository__"
#: the job Dagster makes of any asset selection (what the UI's Materialize launches)
ASSET_JOB = "__ASSET_JOB"


def dagster_command() -> list[str]:
    """The ``dagster`` of this interpreter's environment, whatever PATH holds: ``python -m dagster``
    with the running interpreter, as ``dagster dev`` itself starts its webserver and daemon
    (``sys.executable -m dagster_webserver``), so a shell without the venv's bin/ on PATH works."""
    return [sys.executable, "-m", "dagster"]


def workspace_file() -> Path:
    """The repository's ``workspace.yaml`` (beside the package in a clone), else the working
    folder's: ``cohort dev`` serves the same code location from whatever folder it is started in."""
    beside = REPO_ROOT / "workspace.yaml"
    return beside if beside.is_file() else Path("workspace.yaml").resolve()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # only a process of someone else can hold our group id now
        return False
    return True


def serve(args: list[str], cwd: Path, env: dict[str, str], grace: float = 30, poll: float = 0.2) -> int:
    """Run ``dagster <args>`` (``dev``) in a process group of its own until it ends or this
    process gets SIGINT (Ctrl-C) or SIGTERM; then stop the whole group and wait for it.

    Dagster stops cleanly on SIGINT (and maps SIGTERM to it), but only when its SIGINT is not
    ignored, as it is for a command started with ``&`` from a script: handlers of our own make the
    child start with default dispositions. The group gets SIGINT, as a terminal's Ctrl-C would
    send; what is still there after ``grace`` seconds gets SIGTERM, then SIGKILL. Returns 0 after
    a requested stop, else dagster's exit status."""
    stop_requested: list[int] = []
    started: list[subprocess.Popen] = []
    interrupted: list[bool] = []

    def interrupt_group() -> None:
        """SIGINT to the group, once: a second one would break dagster's own shutdown."""
        if started and not interrupted:
            interrupted.append(True)
            with suppress(ProcessLookupError):
                os.killpg(started[0].pid, signal.SIGINT)

    def forward(signum: int, _frame: object) -> None:
        stop_requested.append(signum)
        interrupt_group()  # none started yet: done as soon as it is

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        process = subprocess.Popen([*dagster_command(), *args], cwd=cwd, env=env, start_new_session=True)
        started.append(process)
        if stop_requested:  # a signal that came while the process was being started
            interrupt_group()
        while process.poll() is None and not stop_requested:
            time.sleep(poll)
        if _group_alive(process.pid):
            # dagster dev ended by itself: its webserver, daemon or code servers must not outlive it
            interrupt_group()
        _stop_group(process, grace, poll)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if stop_requested else int(process.returncode or 0)


def _stop_group(process: subprocess.Popen, grace: float, poll: float) -> None:
    """Wait up to ``grace`` seconds for the group of ``process`` (already sent SIGINT) to end, then
    SIGTERM it, then SIGKILL it."""
    pgid = process.pid
    for escalation in (None, signal.SIGTERM, signal.SIGKILL):
        if escalation is not None:
            with suppress(ProcessLookupError):
                os.killpg(pgid, escalation)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()  # reap our own child, so that it does not linger as a zombie of the group
            if process.returncode is not None and not _group_alive(pgid):
                return
            time.sleep(poll)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DevServer:
    """A running ``dagster dev``: its URL and its process group."""

    url: str
    process: subprocess.Popen
    log: Path

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def launch_backfill(
        self,
        asset_keys: list[list[str]],
        partitions: list[str],
        title: str = "",
        run_config: dict[str, Any] | None = None,
    ) -> str:
        """Launch an asset backfill as the UI does (``launchPartitionBackfill``); return its id."""
        params: dict[str, Any] = {
            "assetSelection": [{"path": k} for k in asset_keys],
            "partitionNames": partitions,
            "title": title or None,
        }
        if run_config:
            params["runConfigData"] = run_config
        result = self.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise RuntimeError(f"backfill refused: {result}")
        return result["backfillId"]

    def wait_backfill(self, backfill_id: str, timeout: float = 120, poll: float = 1.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            if status.get("status") in DONE:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"backfill {backfill_id} not done after {timeout} s: {status}\n{self.tail()}"
                )
            time.sleep(poll)

    def launch_run(
        self, asset_keys: list[list[str]], partition: str | None = None, job: str = ASSET_JOB
    ) -> str:
        """Launch one run of ``asset_keys`` (for ``partition``) as the UI's *Materialize* does
        (``launchRun``); return its id. The run is queued; the daemon starts it."""
        tags = [{"key": "dagster/partition", "value": partition}] if partition else []
        params = {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": job,
                "assetSelection": [{"path": k} for k in asset_keys],
            },
            "executionMetadata": {"tags": tags},
        }
        result = self.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"run refused: {result}")
        return result["run"]["runId"]

    def reexecute(self, run_id: str) -> str:
        """Launch run ``run_id`` again, every step, as the run page's *Re-execute all* does
        (``launchPipelineReexecution``); return the new run's id. The run is queued; the daemon starts it."""
        params = {"parentRunId": run_id, "strategy": "ALL_STEPS"}
        result = self.graphql(REEXECUTE, {"params": params})["launchPipelineReexecution"]
        if result["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"re-execution refused: {result}")
        return result["run"]["runId"]

    def wait_run(self, run_id: str, timeout: float = 120, poll: float = 1.0) -> dict[str, Any]:
        """The run's status once it has ended (SUCCESS, FAILURE or CANCELED)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.graphql(RUN_STATUS, {"id": run_id})["runOrError"]
            if run.get("status") in RUN_DONE:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} not done after {timeout} s: {run}\n{self.tail()}")
            time.sleep(poll)

    def wait_ready(self, timeout: float = 60, poll: float = 0.5) -> None:
        """Wait until the webserver answers GraphQL with the code location loaded; raise when the
        process ended or ``timeout`` seconds passed, with the end of its log."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if requests.get(f"{self.url}/server_info", timeout=2).ok and self.location_loaded():
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url} not ready after {timeout} s:\n{self.tail()}")
            time.sleep(poll)

    def location_loaded(self) -> bool:
        """True once every code location of the workspace has loaded; a location that failed to
        load raises with its error."""
        data = self.graphql("""{ workspaceOrError { __typename ... on Workspace {
            locationEntries { name loadStatus
              locationOrLoadError { __typename ... on PythonError { message } } } } } }""")
        entries = data["workspaceOrError"].get("locationEntries", [])
        if not entries or any(e["loadStatus"] != "LOADED" for e in entries):
            return False
        errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
        if errors:
            raise RuntimeError(f"code location failed to load: {errors[0]['locationOrLoadError']['message']}")
        return True

    def materialisations(self, key: list[str], partitions: list[str] | None = None) -> list[dict[str, Any]]:
        data = self.graphql(MATERIALISATIONS, {"key": {"path": key}, "partitions": partitions})[
            "assetOrError"
        ]
        return data.get("assetMaterializations", [])

    def tail(self, n: int = 4000) -> str:
        try:
            return self.log.read_text()[-n:]
        except OSError:
            return ""


def dev_environment(home: Path, data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "COHORT_DATA_DIR": str(data_dir),
        "COHORT_DEMO": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    env.pop("COHORT_WAREHOUSE_DIR", None)
    env.update(extra or {})
    return env


@contextmanager
def dagster_dev(
    home: Path,
    data_dir: Path,
    port: int | None = None,
    startup_timeout: float = 180,  # a bound on failure only: a loaded 2-core machine needs ~100 s
    extra_env: dict[str, str] | None = None,
    daemon: bool = True,
) -> Iterator[DevServer]:
    """Run ``dagster dev -w workspace.yaml`` on 127.0.0.1 until the block ends, then stop the
    whole process group (webserver, daemon, code servers, runs). ``daemon=False`` runs the
    webserver alone (``dagster-webserver``): the UI of an instance as it is, which no schedule,
    sensor or backfill of a daemon changes meanwhile."""
    port = port or free_port()
    log = home / ("dagster_dev.log" if daemon else "dagster_webserver.log")
    home.mkdir(parents=True, exist_ok=True)
    command = [*dagster_command(), "dev"] if daemon else [sys.executable, "-m", "dagster_webserver"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*command, "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(port), "-h", "127.0.0.1"],
            # run from the home: a dagster.yaml in the working folder that is not DAGSTER_HOME's only draws a
            # warning; the workspace file names the repository as the code's working directory
            cwd=home,
            env=dev_environment(home, data_dir, extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that we can stop everything it started
        )
    server = DevServer(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        server.wait_ready(startup_timeout)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen, grace: float = 10) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the group we created: dagster dev and its children only
        process.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
