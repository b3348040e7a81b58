"""The ``cohort`` command line: what users do outside the Dagster UI.

Each domain adds its commands by exposing ``commands: list[click.Command]`` in a module
listed in ``COMMAND_MODULES``.
"""

import importlib

import click

from cohort import clock

COMMAND_MODULES = [
    "cohort.warehouse.cli",
    "cohort.ops.cli",
    "cohort.ops.commands",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cohort")
def main() -> None:
    """Build the research deliveries of the data warehouse: warehouse, projects, exports, releases."""
    try:  # every retention decision reads the clock: a bad setting stops here, in one line
        clock.today()
    except clock.InvalidClockSetting as exc:
        raise click.UsageError(str(exc)) from None


for _name in COMMAND_MODULES:
    for _command in importlib.import_module(_name).commands:
        main.add_command(_command)
