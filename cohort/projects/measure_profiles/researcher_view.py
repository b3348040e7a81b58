"""The researcher's view of seed 001's frames: the columns of the preparation extract, in both settings.

§2 of advice 16/39: the three frames (``profile``, ``inflow``, ``outflow``) stay at the KSZ; the researchers
get "een extract van enkele duizenden records" to prepare their processing, which then runs on the frames
there, and only aggregated results leave. An analysis (:mod:`cohort.analysis`) reads the frames under
their own names with exactly the columns of ``extract_<frame>`` (the spec's table), so that one SQL text
runs on the extract (``cohort analysis run``) and, submitted, on the full frames (the sandbox of the
secure build): the secure-only ``measure_type`` is left out, ``reference_date`` becomes the
extract's ``reference_quarter``.

``record_number``: in the extract a meaningless number 1..n in the sample's random order. The secure
view has one too, so that a query naming it runs in both settings: 1..n in a seeded hash order of the
row's classes (:func:`secure_view_sql`), the same on every build of the same frame, linkable to
nothing (not to the extract's numbers either). Rows with the same classes tie, and since they are equal
any query gives the same result whichever of them gets which number.

No Dagster here: ``cohort analysis run`` loads this module without loading Dagster.
"""

from cohort.projects.spec import ProjectSpec, load_spec

PROJECT = "measure_profiles"
FRAMES = ("profile", "inflow", "outflow")
RECORD_NUMBER = "record_number"
# columns of the extract computed from a column of the frame (the rest are the frame's own)
DERIVED = {"reference_quarter": "year_quarter(CAST(reference_date AS DATE))"}


def spec() -> ProjectSpec:
    return load_spec(PROJECT)


def extract_table(frame: str) -> str:
    """The spec's table of the extract of ``frame``."""
    return f"extract_{frame}"


def view_columns(frame: str, s: ProjectSpec | None = None) -> list[str]:
    """The researcher's columns of ``frame``: those of its extract, in the extract's order."""
    return list((s or spec()).table(extract_table(frame)).columns)


def columns_sql(frame: str, source: str, s: ProjectSpec | None = None) -> str:
    """SELECT of the extract's columns of ``frame`` but ``record_number`` from ``source`` (a table name
    or a parenthesised query of the frame's rows): one spelling for the extract and the secure view."""
    cols = [
        f"{DERIVED[c]} AS {c}" if c in DERIVED else c for c in view_columns(frame, s) if c != RECORD_NUMBER
    ]
    return f"SELECT {', '.join(cols)} FROM {source}"


def secure_view_sql(frame: str, source: str, s: ProjectSpec | None = None) -> str:
    """The analysis's table ``frame`` in the secure area: the extract's columns, ``record_number``
    numbered in a seeded hash order of the row (see the module's docstring)."""
    s = s or spec()
    seed = int(s.extra["extract"]["seed"])
    rest = [c for c in view_columns(frame, s) if c != RECORD_NUMBER]
    order = f"md5('{seed}:' || CAST(ROW({', '.join(rest)}) AS VARCHAR))"
    return (
        f"SELECT CAST(row_number() OVER (ORDER BY {order}) AS BIGINT) AS {RECORD_NUMBER}, {', '.join(rest)} "
        f"FROM ({columns_sql(frame, source, s)})"
    )


def extract_size(frame_rows: int, scale: float, s: ProjectSpec | None = None) -> int:
    """Rows of the extract of a frame of ``frame_rows`` rows on a warehouse of ``scale`` (spec ``extract``):
    ``records`` times the scale, at least ``min_records``, never more than ``max_share`` of the frame."""
    x = (s or spec()).extra["extract"]
    wanted = max(int(x["min_records"]), round(float(x["records"]) * scale))
    return int(min(wanted, int(float(x["max_share"]) * frame_rows)))
