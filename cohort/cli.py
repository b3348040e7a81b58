"""The ``cohort`` command line: what users do outside the Dagster UI.

Each domain adds its commands by exposing ``commands: list[click.Command]`` in a module
listed in ``COMMAND_MODULES``.
"""

import importlib

import click

from cohort import clock, storage
from cohort.privacy.pseudonym import demo_mode

COMMAND_MODULES = [
    "cohort.warehouse.cli",
    "cohort.ops.cli",
    "cohort.ops.commands",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cohort")
def main() -> None:
    """Build the research deliveries of the data warehouse: warehouse, projects, exports, releases."""
    # the settings every command reads: a bad value stops here, in one line, before any work
    try:
        clock.today()
        demo_mode()
        storage.duckdb_threads()
        storage.duckdb_memory_limit()
    except ValueError as exc:  # InvalidClockSetting, DemoModeError, a DuckDB size
        raise click.UsageError(str(exc)) from None


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).commands:
        main.add_command(_command)
