"""The National Register tables of the demography as contract frames, in the order of their keys:
``person``, ``nationality_history``, ``residence_history`` and ``register_history`` (spells made
from the event logs, handed over in parts of about ``PART_ROWS`` rows that never split one person),
and ``persons_extra``, the person attributes handed to the labour simulation.

It imports :mod:`cohort.warehouse.demography_params`, :mod:`cohort.warehouse.demography_population`
and :mod:`cohort.warehouse.columns`.
"""

from collections.abc import Callable, Iterator

import numpy as np
import polars as pl

from cohort.classifications import codes
from cohort.warehouse.columns import code_labels, date_series, insz_of, text_or_null
from cohort.warehouse.demography_params import BE, COUNTRIES, IS_EU28, IS_SOUTH, MUNI_NIS, NO_DATE, epoch_day
from cohort.warehouse.demography_population import REGISTER_NAMES, Population

PART_ROWS = 2_000_000  # rows per part handed to the sink (memory at scale 1.0, see simulate_demography)


def spells(
    ev: pl.DataFrame, value_cols: list[str], death: np.ndarray, end_col: str | None = None
) -> pl.DataFrame:
    """Events (pid, date, seq, values...) -> spells with ``valid_from``/``valid_to``: the last event
    of a day wins, consecutive equal values merge, an ``end_col`` < 0 closes a spell without a new
    one, and the last spell ends at death."""
    ev = ev.with_columns(pl.int_range(pl.len()).alias("seq"))
    ev = ev.with_columns(dth=pl.Series(death[ev["pid"].to_numpy()].astype(np.int64)))
    ev = ev.filter(pl.col("date") < pl.col("dth"))
    ev = ev.sort(["pid", "date", "seq"])
    # the last event of a day wins
    ev = ev.filter(
        ~(
            (pl.col("pid") == pl.col("pid").shift(-1)) & (pl.col("date") == pl.col("date").shift(-1))
        ).fill_null(False)
    )
    prev_same = pl.col("pid") == pl.col("pid").shift(1)
    for c in value_cols:
        prev_same = prev_same & (pl.col(c) == pl.col(c).shift(1))
    ev = ev.filter(~prev_same.fill_null(False))
    ev = ev.with_columns(
        valid_to=pl.when(pl.col("pid") == pl.col("pid").shift(-1)).then(pl.col("date").shift(-1))
    )
    ev = ev.with_columns(
        valid_to=pl.when(pl.col("valid_to").is_null() & (pl.col("dth") < int(NO_DATE)))
        .then(pl.col("dth"))
        .otherwise(pl.col("valid_to"))
    )
    if end_col is not None:
        ev = ev.filter(pl.col(end_col) >= 0)
    return ev.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("date")))


def date_column(expr_name: str) -> pl.Expr:
    return pl.col(expr_name).cast(pl.Int32).cast(pl.Date)


def draw_education(rng: np.random.Generator, people: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Final ISCED level (1..8), index of the ISCED-F domain in ``codes.EDUCATION_DOMAIN`` and the
    year it is attained, for every person."""
    n = people.n
    by = pl.Series(people.birth).cast(pl.Date).dt.year().to_numpy().astype(float)
    low = np.interp(by, [1920, 1940, 1955, 1970, 1985, 2000], [0.7, 0.55, 0.4, 0.25, 0.17, 0.14])
    high = np.interp(by, [1920, 1940, 1955, 1970, 1985, 2000], [0.08, 0.14, 0.22, 0.33, 0.44, 0.48])
    fem = people.female
    high = np.where(fem & (by > 1960), high + 0.06, high)
    low = np.where(fem & (by < 1950), low + 0.06, low)
    nonEU1 = (people.gen == 1) & ~IS_EU28[people.oc] & (people.oc != BE)
    nonEU2 = (people.gen == 2) & ~IS_EU28[people.oc] & (people.oc != BE)
    low = np.where(nonEU1, low + 0.18, np.where(nonEU2, low + 0.1, low))
    high = np.where(nonEU1, high - 0.08, np.where(nonEU2, high - 0.1, high))
    high = np.where((people.gen == 1) & IS_EU28[people.oc] & ~IS_SOUTH[people.oc], high + 0.12, high)
    high = np.clip(high, 0.03, 0.8)
    low = np.clip(low, 0.05, 0.9 - high)
    u = rng.random(n)
    grp = np.where(u < low, 0, np.where(u < low + (1 - low - high), 1, 2))
    v = rng.random(n)
    level = np.where(
        grp == 0,
        np.where(v < np.interp(by, [1920, 1960, 1990], [0.6, 0.25, 0.1]), 1, 2),
        np.where(
            grp == 1,
            np.where(v < 0.88, 3, 4),
            np.where(v < 0.06, 5, np.where(v < 0.55, 6, np.where(v < 0.96, 7, 8))),
        ),
    ).astype(np.int8)
    age_at = np.array([0, 12, 16, 18, 19, 20, 21, 23, 28])  # by level 1..8
    yr = by + age_at[level] + np.floor(rng.exponential(0.8, n))
    # index into codes.EDUCATION_DOMAIN, whose first code ("00") is the one of levels 1-2
    wf = np.array([6, 10, 8, 18, 4, 4, 10, 2, 22, 16], float)
    wm = np.array([3, 6, 6, 17, 5, 10, 30, 3, 8, 12], float)
    dom = 1 + np.where(fem, rng.choice(len(wf), n, p=wf / wf.sum()), rng.choice(len(wm), n, p=wm / wm.sum()))
    dom = np.where(level <= 2, 0, dom).astype(np.int8)
    return level, dom, yr.astype(np.int16)


def spells_in_order(df: pl.DataFrame, rank: np.ndarray) -> pl.DataFrame:
    """Spells in the order of (insz, valid_from): the rank of the person's INSZ, then the start."""
    ranks = pl.Series("_rank", rank[df["pid"].to_numpy()])
    return df.with_columns(ranks).sort(["_rank", "date"])


def person_parts(
    people: Population, insz: pl.Series, by_insz: np.ndarray, death: np.ndarray
) -> Iterator[pl.DataFrame]:
    """The ``person`` rows in INSZ order (``by_insz``), in parts of ``PART_ROWS`` rows."""
    n = people.n
    for lo in range(0, max(n, 1), PART_ROWS):
        ix = by_insz[lo : lo + PART_ROWS]
        yield pl.DataFrame(
            {
                "insz": insz.gather(pl.Series(ix)).set_sorted(),
                "birth_date": date_series(people.birth[ix]),
                "sex": code_labels(tuple(codes.SEX), people.female[ix].astype(np.uint8)),
                "birth_country": code_labels(COUNTRIES, people.birth_country[ix]),
                "first_nationality": code_labels(COUNTRIES, people.first_nat[ix]),
                "father_insz": insz_of(insz, people.father[ix]),
                "mother_insz": insz_of(insz, people.mother[ix]),
                "death_date": date_series(death[ix]),
                "is_bis": pl.Series(people.is_bis[ix], dtype=pl.Boolean),
            }
        )


def spell_parts(
    spells: pl.DataFrame, insz: pl.Series, make: Callable[[pl.DataFrame], pl.DataFrame]
) -> Iterator[pl.DataFrame]:
    """``make`` applied to the spells (in order, see ``spells_in_order``) in parts of about
    ``PART_ROWS`` rows: a part ends where a person's spells end, so that no key is split."""
    rank = spells["_rank"].to_numpy()
    lo = 0
    while lo < max(len(rank), 1):
        hi = min(lo + PART_ROWS, len(rank))
        if hi < len(rank):
            hi = int(np.searchsorted(rank, rank[hi - 1], side="right"))
        sub = spells.slice(lo, hi - lo)
        yield make(sub.with_columns(insz=insz.gather(sub["pid"])))
        lo = hi


def nationality_rows(sub: pl.DataFrame) -> pl.DataFrame:
    return sub.select(
        "insz",
        nationality=code_labels(COUNTRIES, sub["nat"].to_numpy()),
        valid_from=date_column("date"),
        valid_to=date_column("valid_to"),
    )


def residence_rows(sub: pl.DataFrame) -> pl.DataFrame:
    muni_idx = sub["muni"].to_numpy()
    in_be = muni_idx >= 0
    return sub.select(
        "insz",
        nis_code=text_or_null(code_labels(MUNI_NIS, np.clip(muni_idx, 0, None)), in_be),
        country=code_labels(COUNTRIES, np.where(in_be, BE, np.clip(sub["country"].to_numpy(), 0, None))),
        valid_from=date_column("date"),
        valid_to=date_column("valid_to"),
    )


def register_rows(sub: pl.DataFrame, birth: np.ndarray) -> pl.DataFrame:
    """``register_history`` rows; ``birth`` holds every person's birth day (by internal id)."""
    reason = sub["reason"].to_numpy()
    return sub.select(
        "insz",
        register=code_labels(REGISTER_NAMES, sub["register"].to_numpy()),
        valid_from=date_column("date"),
        valid_to=date_column("valid_to"),
        residence_reason=text_or_null(reason, reason >= 0),
        # a newborn's residence decision is not taken before the birth (the contract's before_birth rule)
        decision_date=date_series(
            np.where(
                reason >= 0,
                np.maximum(sub["decision"].to_numpy(), birth[sub["pid"].to_numpy()]),
                NO_DATE,
            )
        ),
    )


def ever_resident(residence: pl.DataFrame, n: int, first_year: int) -> np.ndarray:
    """Which of the ``n`` persons have a Belgian residence spell inside the window (from 1 January
    ``first_year``), from the residence spells (``pid``, ``muni``, ``valid_to``)."""
    ever = np.zeros(n, bool)
    in_window = residence.filter(pl.col("muni") >= 0)
    ever[
        in_window.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") > epoch_day(first_year)))[
            "pid"
        ].to_numpy()
    ] = True
    return ever


def persons_extra(
    rng: np.random.Generator, people: Population, insz: pl.Series, by_insz: np.ndarray, ever: np.ndarray
) -> pl.DataFrame:
    """The ``persons_extra`` frame (see :mod:`cohort.warehouse.demography`): categorical text as Enum
    and latent draws as Float32, as it stays in memory until the labour model starts. The draws
    are made for every person, so that leaving the ancestors out changes no one's values."""
    n = people.n
    level, dom, eyr = draw_education(rng, people)
    fm = np.where(people.mother >= 0, people.first_nat[np.clip(people.mother, 0, None)], BE)
    ff = np.where(people.father >= 0, people.first_nat[np.clip(people.father, 0, None)], BE)
    origin = np.where(
        ff != BE, ff, np.where(fm != BE, fm, np.where(people.first_nat != BE, people.first_nat, people.nat))
    )
    del fm, ff
    groups = ("BE", "EU_SOUTH", "EU_OTHER", "NON_EU")
    group = np.where(origin == BE, 0, np.where(IS_SOUTH[origin], 1, np.where(IS_EU28[origin], 2, 3)))
    score = np.select([level <= 2, level <= 4], [-0.45, 0.0], 0.4)
    work = rng.normal(0, 0.9, n) + score

    def enum(values, idx: np.ndarray) -> pl.Series:
        return code_labels(values, idx).cast(pl.Enum(list(dict.fromkeys(values))))

    # rows in INSZ order, for the persons the labour model can see (see cohort.warehouse.demography)
    rows = by_insz[(ever | people.is_bis)[by_insz]]
    return pl.DataFrame(
        {
            "insz": insz.gather(pl.Series(rows)).set_sorted(),
            "origin_group": enum(groups, group[rows]),
            "origin_country": enum(COUNTRIES, origin[rows]),
            "generation": pl.Series(people.gen[rows], dtype=pl.Int8),
            "education_level": enum(list(codes.EDUCATION_LEVEL), level[rows] - 1),
            "education_domain": enum(list(codes.EDUCATION_DOMAIN), dom[rows]),
            "education_year": pl.Series(eyr[rows], dtype=pl.Int16),
            "work_propensity": pl.Series(work[rows], dtype=pl.Float32),
            "health_risk": pl.Series(rng.normal(0, 1, n)[rows], dtype=pl.Float32),
            "arrival_date": date_series(np.where(people.gen == 1, people.arrival, NO_DATE)[rows]),
            "ever_resident": pl.Series(ever[rows], dtype=pl.Boolean),
        }
    )
