"""The ``cohort`` command line: what users do outside the Dagster UI.

Each domain adds its commands by exposing ``commands: list[click.Command]`` in a module
listed in ``COMMAND_MODULES``. This is the top of the layers: nothing in ``cohort`` imports it.
"""

import click

from cohort import clock, storage
from cohort.ops import cli as operations_cli
from cohort.ops import commands as project_commands
from cohort.privacy.pseudonym import demo_mode
from cohort.warehouse import cli as warehouse_cli

COMMAND_MODULES = [warehouse_cli, operations_cli, project_commands]


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


for _module in COMMAND_MODULES:
    for _command in _module.commands:
        main.add_command(_command)
