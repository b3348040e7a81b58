"""``cohort purge`` and ``cohort audit``: retention and accountability from the command line."""

import json
from datetime import date

import click

from cohort import settings
from cohort.ops.commands import unknown_project
from cohort.privacy import audit_log, retention
from cohort.projects.spec import load_spec


def _existing_lake(data_dir: str | None, must_exist: bool = True) -> settings.Lake:
    """The lake to read, refused with exit status 2 when it is a file or (``must_exist``) not there."""
    try:
        return settings.require_lake_root(settings.lake(data_dir), must_exist=must_exist)
    except settings.LakeError as exc:
        raise click.UsageError(str(exc)) from None


def _retention_date_of(project: str) -> date:
    """The retention date in the project's spec (``cohort/projects/<project>/spec.yaml``)."""
    try:
        return load_spec(project).retention_date
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise click.UsageError(
            f"no spec found for project {project!r} ({type(exc).__name__}); give --retention-date YYYY-MM-DD"
        ) from None


@click.command("purge")
@click.argument("project")
@click.option("--force", is_flag=True, help="Purge before the retention date (deliberation withdrawn).")
@click.option(
    "--retention-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Retention date when the project has no spec in the package.",
)
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
def purge(project: str, force: bool, retention_date, data_dir: str | None) -> None:
    """Remove a project's pseudonymised data (secure/ and exports/) after its retention date, and log it."""
    lake = _existing_lake(data_dir, must_exist=False)  # a purge of nothing is still logged
    when = retention_date.date() if retention_date else _retention_date_of(project)
    try:
        result = retention.purge_project(lake, project, when, force=force)
    except retention.PurgeRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"purged {project}: {result.removed_files} files in {', '.join(result.removed_dirs) or 'nothing left'}"
    )
    click.echo("Destroy the project's key outside the lake (COHORT_KEY_* / COHORT_KEY_DIR) as well.")


@click.group("audit")
def audit_group() -> None:
    """The append-only audit log of exports, releases, purges and refusals."""


@audit_group.command("verify")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
def verify(data_dir: str | None) -> None:
    """Check the hash chain of the audit log; print the number of entries and the head hash."""
    lake = _existing_lake(data_dir)
    try:
        report = audit_log.verify_chain(lake)
    except audit_log.AuditChainBroken as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"audit log intact: {report.entries} entries, head {report.head}")


@audit_group.command("show")
@click.option("--project", default=None, help="Only this project's entries.")
@click.option("--last", "last", type=int, default=20, show_default=True, help="Number of entries.")
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option("--json", "as_json", is_flag=True, help="One JSON entry per line.")
def show(project: str | None, last: int, data_dir: str | None, as_json: bool) -> None:
    """Print the most recent audit entries."""
    entries = audit_log.read_entries(_existing_lake(data_dir))
    if project:
        entries = [e for e in entries if e.get("project") == project]
        refusal = unknown_project(project)
        if refusal and not entries:  # a project that is gone (no spec) still has its entries
            raise click.BadParameter(refusal, param_hint="'--project'")
    for e in entries[-last:] if last > 0 else entries:
        if as_json:
            click.echo(json.dumps(e, sort_keys=True))
        else:
            what = ", ".join(e.get("what", [])) or json.dumps(e.get("detail", {}), sort_keys=True)
            click.echo(
                f"{e['time']}  {e['action']:<8} {e.get('project') or '-':<16} run={e.get('run_id') or '-'}  "
                f"user={e.get('user')}  {what}"
            )


commands = [purge, audit_group]
