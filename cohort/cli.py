"""The ``cohort`` command line: what users do outside the Dagster UI.

Each domain adds its commands by exposing ``commands: list[click.Command]`` in a module
listed in ``COMMAND_MODULES``. This is the top of the layers: nothing in ``cohort`` imports it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from cohort import clock, storage
from cohort.analysis import cli as analysis_cli
from cohort.ops import analyses as secure_analyses
from cohort.ops import cli as operations_cli
from cohort.ops import commands as project_commands
from cohort.privacy.pseudonym import demo_mode
from cohort.warehouse import cli as warehouse_cli

COMMAND_MODULES = [warehouse_cli, operations_cli, project_commands, analysis_cli]
# `cohort analysis build` runs in the lake's Dagster instance, which only the operations layer knows
analysis_cli.analysis.add_command(secure_analyses.analysis_build)


@contextmanager
def _one_line_mistakes() -> Iterator[None]:
    """A mistake on the command line is shown as its one ``Error:`` line (exit status 2): click
    would print the command's usage and a help hint above it, which buries the line that names it."""
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise  # a group called alone: its help, as click shows it
    except click.UsageError as exc:
        raise click.UsageError(exc.format_message()) from None


class CommandLine(click.Group):
    """The ``cohort`` group: every command's usage mistake (an unknown option or command, a bad
    value, a missing lake, an unknown project) ends in one line and exit status 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        with _one_line_mistakes():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_mistakes():
            return super().invoke(ctx)


@click.group(cls=CommandLine, context_settings={"help_option_names": ["-h", "--help"]})
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
