"""``cohort warehouse``: build the synthetic warehouse and check it against published figures.

cohort warehouse build --scale 0.01 --seed 20260101 --out data/warehouse [--years 2020-2026]
cohort warehouse calibrate --warehouse data/warehouse --targets targets.csv [--json report.json]
"""

import json
import time
from pathlib import Path

import click

DEFAULT_SEED = 20260101


def parse_years(text: str | None) -> tuple[int, int]:
    """``"2005-2026"`` -> (2005, 2026); ``"2020"`` -> (2020, 2020); None -> the full window."""
    if not text:
        return 2005, 2026
    parts = text.replace(" ", "").split("-")
    try:
        if len(parts) == 1:
            a = b = int(parts[0])
        elif len(parts) == 2:
            a, b = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected YEAR or FIRST-LAST, e.g. 2020-2026", param_hint="--years"
        ) from None
    if a > b or a < 1950 or b > 2099:
        raise click.BadParameter(
            f"{text!r}: first year must not exceed the last (1950-2099)", param_hint="--years"
        )
    return a, b


@click.group()
def warehouse() -> None:
    """The synthetic social-security data warehouse (or a real extract with the same contract)."""


@warehouse.command()
@click.option("--scale", type=float, default=0.01, show_default=True, help="1.0 = the real population size.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Warehouse folder to write.",
)
@click.option(
    "--years",
    default=None,
    help="FIRST-LAST (default 2005-2026); the base population is drawn for 1 January of FIRST.",
)
@click.option("--demography-only", is_flag=True, help="Write the National Register tables only.")
@click.option(
    "--defects/--no-defects",
    default=True,
    show_default=True,
    help="Add a few documented delivery errors (about 1 row in 20,000 of four tables) for the quarantine.",
)
def build(
    scale: float, seed: int, out: Path, years: str | None, demography_only: bool, defects: bool
) -> None:
    """Simulate the warehouse and write it as Parquet (same scale, seed and years: same bytes)."""
    from cohort.warehouse.build import build_warehouse

    if scale <= 0:
        raise click.BadParameter("must be positive", param_hint="--scale")
    first, last = parse_years(years)
    start = time.perf_counter()
    with click.progressbar(length=1000, label=f"warehouse scale {scale} seed {seed} {first}-{last}") as bar:
        done = [0]

        def progress(label: str, fraction: float) -> None:
            step = int(fraction * 1000) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step
            bar.label = f"warehouse: {label}"

        manifest = build_warehouse(
            out, scale, seed, first, last, progress=progress, with_labour=not demography_only, defects=defects
        )
    click.echo(
        f"Built {out} in {time.perf_counter() - start:.1f} s (generator {manifest['generator_version']}):"
    )
    width = max(len(t) for t in manifest["tables"])
    for table, n in manifest["tables"].items():
        click.echo(f"  {table:<{width}}  {n:>12,d} rows")
    for table, rules in manifest["defects"].items():
        click.echo(f"  defects in {table}: " + ", ".join(f"{rule} {n}" for rule, n in rules.items()))


@warehouse.command()
@click.option("--data-dir", default=None, help="Lake root (default COHORT_DATA_DIR or ./data).")
@click.option("--table", "tables", multiple=True, help="Only these tables (default: every table present).")
def check(data_dir: str | None, tables: tuple[str, ...]) -> None:
    """Check the warehouse (COHORT_WAREHOUSE_DIR, else <lake>/warehouse) against its contract: each
    table's rows that break a rule go to <lake>/quarantine/<table>/ with their reason. Prints rows,
    rejected rows and rules per table; exit code 1 if a table cannot be read at all."""
    from cohort import settings
    from cohort.sources import checks
    from cohort.sources.contract import TABLES

    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}: not a table of the warehouse contract ({', '.join(sorted(TABLES))})",
            param_hint="'--table'",
        )
    lake = settings.lake(data_dir)
    try:  # a file or an empty folder named as the lake or warehouse: one line, exit status 2
        settings.require_warehouse(lake, TABLES)
    except settings.LakeError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        with checks.checking(lake.quarantine):
            results = checks.load_sources(None, lake.warehouse, list(tables) or None, 1.0, lake.quarantine)
    except checks.SourceContractError as exc:
        click.echo(f"Refused: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{'table':<26} {'rows':>13} {'rejected':>9}  rules")
    for table, r in results.items():
        rules = ", ".join(f"{rule} {n:,}" for rule, n in sorted(r.counts.items())) or "-"
        click.echo(f"{table:<26} {r.rows:>13,} {r.rejected:>9,}  {rules}")
    click.echo(f"Rejected rows and their reasons: {lake.quarantine}/<table>/data.parquet")


@warehouse.command()
@click.option(
    "--warehouse", "wh", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True
)
@click.option(
    "--targets",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Targets CSV (metric,scope,year,value,tolerance,unit,...); default: the shipped copy.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the rows as JSON.",
)
@click.option(
    "--scale",
    type=float,
    default=None,
    help="Override the scale of the manifest (counts are compared with value x scale).",
)
def calibrate(wh: Path, targets: Path | None, json_out: Path | None, scale: float | None) -> None:
    """Measure the warehouse against published figures; exit code 1 if any row fails."""
    from cohort.warehouse import calibration

    rows = calibration.calibrate(wh, targets or calibration.DEFAULT_TARGETS, scale=scale)
    records = calibration.as_records(rows)
    header = f"{'metric':<48} {'scope':<16} {'year':>4} {'target':>12} {'generated':>12} {'tol':>9}  ok"
    click.echo(header)
    click.echo("-" * len(header))
    for r in rows:
        click.echo(
            f"{r.metric:<48} {r.scope:<16} {r.year:>4} {calibration.format_figure(r.target):>12} "
            f"{calibration.format_figure(r.generated):>12} {calibration.format_figure(r.tolerance):>9}  "
            f"{'yes' if r.ok else 'NO ' + r.reason}"
        )
    failed = sum(not r.ok for r in rows)
    click.echo(f"{len(rows) - failed} of {len(rows)} rows within tolerance")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(records, indent=2) + "\n")
    if failed:
        raise SystemExit(1)


commands = [warehouse]
