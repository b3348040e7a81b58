"""Pictures a person looks at in the Dagster UI and in the project reports.

Every function takes a Polars frame and returns PNG bytes (matplotlib, Agg backend: no display
needed, safe in worker processes). Attach a picture to a materialisation with :func:`md_image`,
which wraps it in a Markdown data-URI image that the Dagster UI renders in the metadata panel,
and gather pictures and tables into one HTML page per project with :func:`write_report`
(``<lake>/reports/<project>/index.html``).

For project engineers::

    from cohort.ops import pictures
    png = pictures.population_pyramid(frame, age="age", sex="sex")
    return dg.MaterializeResult(metadata={"population pyramid": pictures.md_image(png, "pyramid")})

Pictures are made from aggregated counts only and are small (about 20-40 KB at 80 dpi): the
event log stores them with every materialisation. Counts below the project's disclosure
threshold are not suppressed here: reports are for operators in the secure area (see
data/README.md), not for recipients.
"""

import base64
import fcntl
import html
import io
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import polars as pl

from cohort import settings

DPI = 80
NO_DESTINATION = "(none)"  # the T+1 position of a person not observed in T+1
MALE_CODES = frozenset({"1", "m", "M", "male", "man"})


# ---------------------------------------------------------------- helpers


def _pyplot() -> Any:
    """matplotlib with the Agg backend (no display in workers, CI or containers). Imported on
    first use: it costs seconds, and every step process loads this module with the code location."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _weights(frame: pl.DataFrame, weight: str | None) -> pl.Expr:
    return pl.col(weight).cast(pl.Float64) if weight else pl.lit(1.0)


def md_image(png: bytes, alt: str = "picture") -> dg.MetadataValue:
    """A PNG as Markdown metadata (a base64 data URI), rendered by the Dagster UI."""
    data = base64.b64encode(png).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{data})")


def _empty(title: str, message: str) -> bytes:
    fig, ax = _pyplot().subplots(figsize=(5, 2))
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return _png(fig)


# ---------------------------------------------------------------- pictures


def age_band(age: pl.Expr, width: int = 5, top: int = 95) -> pl.Expr:
    """Five-year age bands as text (``"20-24"``), the last one open (``"95+"``)."""
    lower = (age.clip(0, top) // width) * width
    return (
        pl.when(lower >= top)
        .then(pl.lit(f"{top}+"))
        .otherwise(
            lower.cast(pl.Int64).cast(pl.Utf8) + "-" + (lower + width - 1).cast(pl.Int64).cast(pl.Utf8)
        )
    )


def pyramid_counts(
    frame: pl.DataFrame, age: str = "age", sex: str = "sex", weight: str | None = None
) -> pl.DataFrame:
    """Counts per (age band, sex) as a frame ``band, male, female`` ordered from the youngest band.

    ``age`` is a number (banded into five years) or already a class label (kept as is, sorted
    by its leading number); ``sex`` is ``1``/``2`` (Statbel) or ``M``/``F``.
    """
    if frame.is_empty():
        return pl.DataFrame(
            {"band": [], "male": [], "female": []},
            schema={"band": pl.Utf8, "male": pl.Float64, "female": pl.Float64},
        )
    numeric = frame.schema[age].is_numeric()
    band = age_band(pl.col(age)) if numeric else pl.col(age).cast(pl.Utf8)
    male = pl.col(sex).cast(pl.Utf8).is_in(sorted(MALE_CODES))
    counts = (
        frame.select(band.alias("band"), male.alias("is_male"), _weights(frame, weight).alias("w"))
        .drop_nulls("band")
        .group_by("band")
        .agg(
            pl.col("w").filter(pl.col("is_male")).sum().alias("male"),
            pl.col("w").filter(~pl.col("is_male")).sum().alias("female"),
        )
    )
    lead = pl.col("band").str.extract(r"(\d+)", 1).cast(pl.Int64, strict=False).fill_null(-1)
    return counts.with_columns(lead.alias("_o")).sort("_o", "band").drop("_o")


def population_pyramid(
    frame: pl.DataFrame,
    age: str = "age",
    sex: str = "sex",
    weight: str | None = None,
    title: str = "Population pyramid",
) -> bytes:
    """A population pyramid (men left, women right) of one year's persons, as PNG bytes.

    ``weight`` (optional) sums a design weight instead of counting rows, giving the
    estimated population rather than the sample.
    """
    counts = pyramid_counts(frame, age, sex, weight)
    if counts.is_empty():
        return _empty(title, "no persons")
    bands = counts["band"].to_list()
    y = np.arange(len(bands))
    fig, ax = _pyplot().subplots(figsize=(6, max(3.0, 0.22 * len(bands) + 1)))
    ax.barh(y, -counts["male"].to_numpy(), color="#3b75af", label="men")
    ax.barh(y, counts["female"].to_numpy(), color="#d1605e", label="women")
    ax.set_yticks(y, bands, fontsize=7)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):,.0f}" for t in ticks], fontsize=7)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel("weighted persons" if weight else "persons")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=7)
    return _png(fig)


def transition_matrix(
    frame: pl.DataFrame, origin: str, destination: str, weight: str | None = None
) -> pl.DataFrame:
    """Row percentages of ``origin`` -> ``destination`` (long form: ``origin, destination, n, pct``).

    Rows with a null origin are left out; a null destination is shown as ``"(none)"`` (not yet
    observed, died, emigrated, ...), so the rows of the matrix still add up to 100 %.
    """
    data = frame.select(
        pl.col(origin).cast(pl.Utf8).alias("origin"),
        pl.col(destination).cast(pl.Utf8).fill_null(NO_DESTINATION).alias("destination"),
        _weights(frame, weight).alias("w"),
    ).drop_nulls("origin")
    counts = data.group_by("origin", "destination").agg(pl.col("w").sum().alias("n"))
    return counts.with_columns((100 * pl.col("n") / pl.col("n").sum().over("origin")).alias("pct")).sort(
        "origin", "destination"
    )


def code_label(code: str, labels: Mapping[str, str] | None, width: int = 34) -> str:
    """``code`` with its label, shortened to ``width`` characters (``"111 Employee, one salaried
    job"``); the bare code when ``labels`` does not name it."""
    label = (labels or {}).get(code)
    if not label:
        return code
    text = f"{code} {label}"
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def transition_heatmap(
    frame: pl.DataFrame,
    origin: str = "sep_code",
    destination: str = "sep_code_next",
    weight: str | None = None,
    title: str = "Transitions T -> T+1 (row %)",
    labels: Mapping[str, str] | None = None,
) -> bytes:
    """The T to T+1 transition matrix of socio-economic positions as a heat map (row percentages).

    ``origin`` is the position in year T, ``destination`` the same variable in T+1 (the
    ``<column>_next`` of a mobility table, see :mod:`cohort.projects.mobility`). ``labels`` names
    the codes on the axes (``111`` -> ``111 Employee, one salaried job``, see :func:`code_label`).
    """
    long = transition_matrix(frame, origin, destination, weight)
    if long.is_empty():
        return _empty(title, "no transitions")
    rows = sorted(long["origin"].unique().to_list())
    cols = sorted(long["destination"].unique().to_list(), key=lambda c: (c == NO_DESTINATION, c))
    grid = np.zeros((len(rows), len(cols)))
    for o, d, pct in long.select("origin", "destination", "pct").iter_rows():  # cells, not persons
        grid[rows.index(o), cols.index(d)] = pct
    size = max(4.0, 0.3 * max(len(rows), len(cols)) + 3)
    fig, ax = _pyplot().subplots(figsize=(size + 1, size))
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(cols)), [code_label(c, labels) for c in cols], rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), [code_label(c, labels) for c in rows], fontsize=7)
    ax.set_xlabel(f"{destination}: position in T+1")
    ax.set_ylabel(f"{origin}: position in T")
    if len(rows) * len(cols) <= 400:
        for i in range(len(rows)):
            for j in range(len(cols)):
                if grid[i, j] >= 0.5:
                    ax.text(
                        j,
                        i,
                        f"{grid[i, j]:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if grid[i, j] < 60 else "black",
                    )
    fig.colorbar(im, ax=ax, label="% of row")
    ax.set_title(title)
    return _png(fig)


def composition(frame: pl.DataFrame, by: Sequence[str], weight: str | None = None) -> pl.DataFrame:
    """Rows and summed weights per group of ``by`` (``n``, ``weight_sum``, ``share``)."""
    data = frame.select(
        pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("?") for c in by], separator=" / ").alias("group"),
        _weights(frame, weight).alias("w"),
    )
    out = data.group_by("group").agg(pl.len().alias("n"), pl.col("w").sum().alias("weight_sum")).sort("group")
    return out.with_columns((100 * pl.col("n") / pl.col("n").sum()).alias("share"))


def sample_composition(
    frame: pl.DataFrame,
    by: str | Sequence[str] = "stratum",
    weight: str | None = None,
    title: str = "Sample composition",
) -> bytes:
    """Sample persons per stratum (bars) and, with ``weight``, the population each stratum stands for."""
    by = [by] if isinstance(by, str) else list(by)
    comp = composition(frame, by, weight)
    if comp.is_empty():
        return _empty(title, "empty sample")
    groups = comp["group"].to_list()
    y = np.arange(len(groups))
    panels = 2 if weight else 1
    fig, axes = _pyplot().subplots(
        1, panels, figsize=(5 * panels, max(2.5, 0.3 * len(groups) + 1)), squeeze=False
    )
    ax = axes[0][0]
    ax.barh(y, comp["n"].to_numpy(), color="#4c9a6a")
    ax.set_yticks(y, groups, fontsize=7)
    ax.set_xlabel("sample persons")
    ax.invert_yaxis()
    for i, (n, share) in enumerate(comp.select("n", "share").iter_rows()):
        ax.text(n, i, f" {n:,} ({share:.0f}%)", va="center", fontsize=7)
    if weight:
        ax2 = axes[0][1]
        ax2.barh(y, comp["weight_sum"].to_numpy(), color="#8c6bb1")
        ax2.set_yticks(y, [""] * len(groups))
        ax2.set_xlabel(f"sum of {weight}")
        ax2.invert_yaxis()
    fig.suptitle(title)
    return _png(fig)


# ---------------------------------------------------------------- the HTML report


@dataclass
class Section:
    """One part of a report: a heading, a line of text, pictures and small tables.

    ``tables`` maps a caption to a Polars frame (or a mapping of label to value); keep
    them small (aggregates only).
    """

    title: str
    text: str = ""
    pictures: dict[str, bytes] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # file-name stem; sections with the same key replace each other
    links: dict[str, str] = field(default_factory=dict)  # caption -> address relative to the page

    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.key or self.title).strip("_") or "section"


def _table_html(value: Any) -> str:
    if isinstance(value, pl.DataFrame):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in value.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
            for row in value.iter_rows()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(value, Mapping):
        body = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in value.items()
        )
        return f"<table><tbody>{body}</tbody></table>"
    return f"<pre>{html.escape(str(value))}</pre>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return "" if v is None else str(v)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-top:1em}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}
th{background:#f4f4f4}figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
figcaption{font-size:.8em;color:#555}nav a{margin-right:1em}"""


def write_report(
    project: str,
    sections: Iterable[Section],
    reports_dir: Path | None = None,
    title: str | None = None,
    intro: Sequence[str] = (),
) -> Path:
    """Add ``sections`` to the HTML report of ``project`` and return the page's path.

    ``intro``: paragraphs under the heading (what the project's spec says about the delivery).

    Each section is stored as ``<reports>/<project>/sections/<key>.json`` plus its PNG files,
    and ``index.html`` is rebuilt from every stored section (sorted by key), so yearly
    partitions built in parallel processes each add their part. A lock file serialises the
    rebuild; files are written to a temporary name and renamed.
    """
    root = (reports_dir or settings.lake().reports) / project
    (root / "sections").mkdir(parents=True, exist_ok=True)
    (root / "img").mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for section in sections:
            slug = section.slug()
            images = {}
            for i, (caption, png) in enumerate(section.pictures.items()):
                name = f"{slug}_{i}.png"
                _atomic_write(root / "img" / name, png)
                images[caption] = f"img/{name}"
            stored = {
                "title": section.title,
                "text": section.text,
                "images": images,
                "tables": {k: _table_html(v) for k, v in section.tables.items()},
                "links": section.links,
            }
            _atomic_write(root / "sections" / f"{slug}.json", json.dumps(stored).encode())
        parts = []
        for path in sorted((root / "sections").glob("*.json")):
            s = json.loads(path.read_text())
            figs = "".join(
                f'<figure><img src="{html.escape(src)}" alt="{html.escape(cap)}"><figcaption>{html.escape(cap)}'
                "</figcaption></figure>"
                for cap, src in s["images"].items()
            )
            tabs = "".join(f"<h3>{html.escape(cap)}</h3>{tab}" for cap, tab in s["tables"].items())
            links = "".join(
                f'<li><a href="{html.escape(href)}">{html.escape(cap)}</a></li>'
                for cap, href in s.get("links", {}).items()
            )
            links = f"<ul class='links'>{links}</ul>" if links else ""
            anchor = html.escape(path.stem)
            parts.append(
                (
                    anchor,
                    s["title"],
                    f'<h2 id="{anchor}">{html.escape(s["title"])}</h2>'
                    f"<p>{html.escape(s['text'])}</p>{links}{figs}{tabs}",
                )
            )
        heading = html.escape(title or f"Report: {project}")
        about = "".join(f"<p class='intro'>{html.escape(paragraph)}</p>" for paragraph in intro)
        nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in parts)
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{heading}</title><style>{STYLE}</style>"
            f"</head><body><h1>{heading}</h1>{about}<nav>{nav}</nav>{''.join(p for _, _, p in parts)}</body></html>"
        )
        index = root / "index.html"
        _atomic_write(index, page.encode())
    return index
