"""Labour-market half of the synthetic warehouse: quarterly socio-economic positions, jobs,
self-employment, benefits and job-seeker registrations, plus the VDAB and agency files.

``simulate_labour(demo)`` runs a vectorised, seeded microsimulation over the persons of a
:class:`~cohort.warehouse.model.Demography` and yields ``(table, year | None, frame)``:
the quarterly tables one frame per year (so memory stays bounded at scale 1.0), then the
whole-period tables once. Every frame follows ``cohort.sources.contract`` exactly.

The model (details and numbers in :mod:`cohort.warehouse.labour_params`):

* Children under 15 and pupils/students until their school-leaving age (drawn from their final
  education level) are in position 36; from a cohort-dependent retirement age (60 .. legal
  age) people are pensioners (34, a few 123/133 still self-employed).
* In between, a Markov chain over macro states (employee, self-employed, job seeker, sick,
  disability allowance, social assistance, career break, exempted, early retirement, other)
  with state- and person-specific persistence and a target distribution by age, sex,
  education, origin group, region, register (asylum seekers) and year; a persistent
  employability effect makes the same people recurrently unemployed.
* Only residents who are alive get a position, except frontier workers (BIS numbers living
  abroad), who get a cross-border job.
* Jobs carry an employer from a seeded pool of enterprises with size classes and NACE codes,
  joint committees consistent with the sector and the date (PC 218 until 2015 Q1, 200 after),
  wages by education, age, sex and sector; benefits and status flags follow the positions.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np
import polars as pl

from cohort.classifications import codes
from cohort.classifications.insz import make_enterprise_number
from cohort.sources.contract import TABLES
from cohort.warehouse import labour_params
from cohort.warehouse.model import Demography

INT32_MAX = np.iinfo(np.int32).max
REGION_BY_PREFIX: dict[str, int] = {}
for _arr in (
    "11",
    "12",
    "13",
    "23",
    "24",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "38",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "71",
    "72",
    "73",
):
    REGION_BY_PREFIX[_arr] = 1
for _arr in (
    "25",
    "51",
    "52",
    "53",
    "55",
    "56",
    "57",
    "58",
    "61",
    "62",
    "63",
    "64",
    "81",
    "82",
    "83",
    "84",
    "85",
    "91",
    "92",
    "93",
):
    REGION_BY_PREFIX[_arr] = 2
REGION_BY_PREFIX["21"] = 3
# German-speaking municipalities (ADG is their employment service).
ADG_NIS = frozenset(("63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087"))


def quarter_start_days(first_year: int, t: np.ndarray) -> np.ndarray:
    """First day (days since 1970) of quarter index ``t`` counted from ``first_year`` Q1 (t may be negative)."""
    base = np.datetime64(f"{first_year:04d}-01", "M")
    months = base + (3 * np.asarray(t, dtype=np.int64)).astype("timedelta64[M]")
    return months.astype("datetime64[D]").astype(np.int64).astype(np.int32)


# ---------------------------------------------------------------- static person data
@dataclass
class People:
    n: int
    insz: pl.Series
    birth: np.ndarray  # int32 days
    by: np.ndarray  # birth year/month/day
    bm: np.ndarray
    bd: np.ndarray
    death: np.ndarray  # int32 days, INT32_MAX when alive
    female: np.ndarray  # bool
    origin: np.ndarray  # int8 0 Belgian, 1 EU, 2 non-EU
    edu: np.ndarray  # int8 0 low, 1 medium, 2 high
    isced: np.ndarray  # int8 1..8
    foreign_born: np.ndarray  # bool
    is_bis: np.ndarray  # bool
    mother: np.ndarray  # int32 index or -1
    father: np.ndarray
    edu_year: np.ndarray  # int16 year the final level is attained, -1 unknown
    work_propensity: np.ndarray  # float32 latent attachment to work (standard normal when unknown)
    health_risk: np.ndarray  # float32 latent incapacity risk


def _origin_code(values: pl.Series) -> np.ndarray:
    if values.dtype.is_integer():
        return np.clip(values.fill_null(0).to_numpy(), 0, 2).astype(np.int8)
    s = values.cast(pl.String).fill_null("").str.to_lowercase()
    non_eu = (
        s.str.contains("non")
        | s.str.contains("other_world")
        | s.is_in(["maghreb", "turkey", "africa", "asia"])
    )
    belgian = s.str.starts_with("bel") | s.is_in(["be", "belgium", "native", ""])
    return np.where(non_eu.to_numpy(), 2, np.where(belgian.to_numpy(), 0, 1)).astype(np.int8)


def _isced_from(values: pl.Series, rng: np.random.Generator) -> np.ndarray:
    n = len(values)
    if values.dtype.is_integer():
        lev = values.fill_null(3).to_numpy().astype(np.int16)
        return np.clip(lev, 1, 8).astype(np.int8)
    s = values.cast(pl.String).fill_null("medium").str.to_lowercase()
    as_num = s.cast(pl.Int16, strict=False).to_numpy(allow_copy=True)
    out = np.zeros(n, np.int8)
    num_ok = ~np.isnan(as_num.astype(np.float64)) if as_num.dtype.kind == "f" else np.ones(n, bool)
    if as_num.dtype.kind == "f":
        out[num_ok] = np.clip(as_num[num_ok], 1, 8).astype(np.int8)
    else:
        out[:] = np.clip(as_num, 1, 8)
        num_ok[:] = True
    u = rng.random(n)
    txt = s.to_numpy()
    low = ~num_ok & np.isin(txt, ["low", "laag", "l"])
    high = ~num_ok & np.isin(txt, ["high", "hoog", "h"])
    med = ~num_ok & ~low & ~high
    out[low] = np.where(u[low] < 0.25, 1, 2)
    out[med] = np.where(u[med] < 0.9, 3, 4)
    out[high] = np.select([u[high] < 0.05, u[high] < 0.55, u[high] < 0.97], [5, 6, 7], 8)
    return out


def window_persons(
    person: pl.LazyFrame, residence: pl.LazyFrame, first_year: int, last_year: int
) -> pl.LazyFrame:
    """The ``person`` rows the labour market can see: alive at some day of the simulated years
    and either resident in Belgium during them or a BIS number (frontier workers). The others
    (ancestors who died before the window, parents living abroad) never hold a position, so the
    quarterly engine does not carry them: at scale 1.0 they are 45 % of ``person``."""
    first, last = date(first_year, 1, 1), date(last_year, 12, 31)
    resident = (
        residence.filter(
            (pl.col("country") == "BE")
            & (pl.col("valid_from") <= last)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") > first))
        )
        .select("insz")
        .unique()
        .with_columns(_resident=pl.lit(True))
    )
    return (
        person.filter(pl.col("death_date").is_null() | (pl.col("death_date") >= first))
        .join(resident, on="insz", how="left", maintain_order="left")
        .filter(pl.col("is_bis").fill_null(False) | pl.col("_resident").fill_null(False))
        .drop("_resident")
    )


def in_window(demo: Demography) -> pl.DataFrame:
    """``demo.person`` restricted to :func:`window_persons`."""
    return window_persons(
        demo.person.lazy(), demo.residence_history.lazy(), demo.first_year, demo.last_year
    ).collect()


def load_people(demo: Demography) -> People:
    rng = np.random.default_rng([demo.seed, 7001])
    # parents outside the window become unknown (-1): they cannot receive child benefit anyway
    p = in_window(demo)
    n = p.height
    birth = p["birth_date"].cast(pl.Int32).to_numpy()
    death = p["death_date"].cast(pl.Int32).fill_null(INT32_MAX).to_numpy()
    by = p["birth_date"].dt.year().to_numpy().astype(np.int32)
    bm = p["birth_date"].dt.month().to_numpy().astype(np.int8)
    bd = p["birth_date"].dt.day().to_numpy().astype(np.int8)
    # first row per number (a real extract may carry duplicates; the index must not multiply rows)
    idx = p.select("insz").with_row_index("i").unique("insz", keep="first", maintain_order=True)
    par = p.select("insz", "mother_insz", "father_insz")
    mother = par.join(
        idx.rename({"insz": "mother_insz", "i": "m"}), on="mother_insz", how="left", maintain_order="left"
    )["m"]
    father = par.join(
        idx.rename({"insz": "father_insz", "i": "f"}), on="father_insz", how="left", maintain_order="left"
    )["f"]
    extra = demo.persons_extra
    if extra is not None and extra.height:
        ex = p.select("insz").join(
            extra.unique("insz", keep="first", maintain_order=True),
            on="insz",
            how="left",
            maintain_order="left",
        )
    else:
        ex = p.select("insz")
    if "origin_group" in ex.columns:
        origin = _origin_code(ex["origin_group"])
    else:
        nat = p["first_nationality"]
        eu = nat.is_in(sorted(P_EU))
        origin = np.where(nat.to_numpy() == "BE", 0, np.where(eu.to_numpy(), 1, 2)).astype(np.int8)
    edu_col = next((c for c in ("education_level", "isced", "education") if c in ex.columns), None)
    if edu_col is not None:
        isced = _isced_from(ex[edu_col], rng)
    else:
        u = rng.random(n)
        isced = np.select(
            [u < 0.08, u < 0.27, u < 0.60, u < 0.64, u < 0.66, u < 0.84, u < 0.99], [1, 2, 3, 4, 5, 6, 7], 8
        ).astype(np.int8)
    edu = np.where(isced <= 2, 0, np.where(isced <= 4, 1, 2)).astype(np.int8)

    def col(name: str, fill: float, dtype: type) -> np.ndarray | None:
        if name not in ex.columns:
            return None
        return ex[name].cast(pl.Float64).fill_null(fill).to_numpy().astype(dtype)

    edu_year = col("education_year", -1, np.int16)
    work = col("work_propensity", 0.0, np.float32)
    health = col("health_risk", 0.0, np.float32)
    return People(
        n=n,
        insz=p["insz"],
        birth=birth.astype(np.int32),
        by=by,
        bm=bm,
        bd=bd,
        death=death.astype(np.int32),
        female=(p["sex"] == "F").to_numpy(),
        origin=origin,
        edu=edu,
        isced=isced,
        foreign_born=(p["birth_country"] != "BE").to_numpy(),
        is_bis=p["is_bis"].to_numpy(),
        mother=mother.fill_null(-1).cast(pl.Int32).to_numpy(),
        father=father.fill_null(-1).cast(pl.Int32).to_numpy(),
        edu_year=edu_year if edu_year is not None else np.full(n, -1, np.int16),
        work_propensity=work if work is not None else rng.standard_normal(n).astype(np.float32),
        health_risk=health if health is not None else rng.standard_normal(n).astype(np.float32),
    )


P_EU = frozenset(
    (
        "AT",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "GB",
    )
)


@dataclass
class Spells:
    """Whole-period spells as arrays: who, from, to (exclusive), and a small-int value."""

    who: np.ndarray
    start: np.ndarray
    end: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    _open_day: int | None = field(default=None, init=False, repr=False)
    _open: np.ndarray | None = field(default=None, init=False, repr=False)
    _open_who: np.ndarray | None = field(default=None, init=False, repr=False)

    def at(self, n: int, day: int, name: str, fill: int = 0) -> np.ndarray:
        # a quarter asks for several values on one day: the spells open that day are found once
        if self._open_day != day:
            self._open = np.flatnonzero((self.start <= day) & (self.end > day))
            self._open_who = self.who[self._open]
            self._open_day = day
        out = np.full(n, fill, dtype=self.values[name].dtype)
        out[self._open_who] = self.values[name][self._open]
        return out


def person_index(frame: pl.DataFrame, people: People) -> np.ndarray:
    idx = people.insz.to_frame().with_row_index("i").unique("insz", keep="first", maintain_order=True)
    return (
        frame.select("insz")
        .join(idx, on="insz", how="left", maintain_order="left")["i"]
        .fill_null(-1)
        .cast(pl.Int32)
        .to_numpy()
    )


def load_residence(demo: Demography, people: People) -> Spells:
    r = demo.residence_history
    who = person_index(r, people)
    nis = r["nis_code"].fill_null("")
    prefix = nis.str.slice(0, 2)
    region = prefix.replace_strict(REGION_BY_PREFIX, default=0, return_dtype=pl.Int8).to_numpy()
    region = np.where((r["country"] == "BE").to_numpy(), region, 0).astype(np.int8)
    arr = prefix.cast(pl.Int16, strict=False).fill_null(0).to_numpy().astype(np.int16)
    adg = nis.is_in(sorted(ADG_NIS)).to_numpy()
    ok = who >= 0
    return Spells(
        who=who[ok],
        start=r["valid_from"].cast(pl.Int32).to_numpy()[ok],
        end=r["valid_to"].cast(pl.Int32).fill_null(INT32_MAX).to_numpy()[ok],
        values={"region": region[ok], "arr": arr[ok], "adg": adg[ok].astype(np.int8)},
    )


def load_register(demo: Demography, people: People) -> Spells:
    r = demo.register_history
    who = person_index(r, people)
    ok = who >= 0
    return Spells(
        who=who[ok],
        start=r["valid_from"].cast(pl.Int32).to_numpy()[ok],
        end=r["valid_to"].cast(pl.Int32).fill_null(INT32_MAX).to_numpy()[ok],
        values={"waiting": (r["register"] == "waiting").to_numpy()[ok].astype(np.int8)},
    )


def exact_age(people: People, y: int, m: int, d: int) -> np.ndarray:
    """Completed years on date y-m-d (vectorised)."""
    before = (people.bm > m) | ((people.bm == m) & (people.bd > d))
    return (y - people.by - before).astype(np.int16)


# ---------------------------------------------------------------- employers
@dataclass
class Employers:
    ids: pl.Series  # enterprise numbers
    sector: np.ndarray  # int8
    size_class: np.ndarray  # int8 (code '1'..'9')
    nace: np.ndarray  # int16 index into NACE_LIST
    cum_key: np.ndarray  # sector + within-sector cumulative weight, sorted
    order: np.ndarray  # employer index for each cum_key position
    entity: np.ndarray  # int16 Flemish entity index or -1


NACE_LIST: tuple[str, ...] = tuple(sorted({c for s in labour_params.SECTORS for c in s[1]}))
NACE_INDEX = {c: i for i, c in enumerate(NACE_LIST)}


def size_class_of(size: np.ndarray) -> np.ndarray:
    bounds = np.array([5, 10, 20, 50, 100, 200, 500, 1000])
    return (1 + np.searchsorted(bounds, size, side="right")).astype(np.int8)


def build_employers(scale: float, seed: int, entity_sizes: np.ndarray) -> Employers:
    """A seeded pool of enterprises; nominal (full-scale) sizes are Pareto-like, and a job goes
    to an employer with probability proportional to its size, so the size-class mix of jobs is
    right at any scale."""
    rng = np.random.default_rng([seed, 7002])
    n = max(600, int(round(240_000 * scale)))
    base = labour_params.SECTOR_BASE[:-1] / labour_params.SECTOR_BASE[:-1].sum()
    counts = np.maximum(np.round(base * n).astype(int), 8)
    sector = np.repeat(np.arange(len(counts), dtype=np.int8), counts)
    size = np.minimum(np.floor((1 - rng.random(sector.size)) ** (-1 / 1.08)), 25_000).astype(np.int64)
    public = np.array([s[4] for s in labour_params.SECTORS])[sector]
    size = np.where(public, np.maximum(size * 4, 10), size)
    n_ent = entity_sizes.size
    sector = np.concatenate([sector, np.full(n_ent, labour_params.FLEMISH_GOV, np.int8)])
    size = np.concatenate([size, entity_sizes.astype(np.int64)])
    nace = np.empty(sector.size, np.int16)
    for s, (_, nace_codes, *_rest) in enumerate(labour_params.SECTORS):
        m = sector == s
        nace[m] = np.array([NACE_INDEX[c] for c in nace_codes], np.int16)[
            rng.integers(0, len(nace_codes), m.sum())
        ]
    # enterprise numbers: distinct sequence numbers, shuffled so ids do not reveal the sector
    seqs = rng.choice(np.arange(1_000_000, 9_000_000), size=sector.size, replace=False)
    ids = pl.Series("employer_id", [make_enterprise_number(int(s)) for s in seqs], dtype=pl.String)
    order = np.lexsort((np.arange(sector.size), sector))
    w = size[order].astype(np.float64)
    sec_sorted = sector[order]
    tot = np.bincount(sec_sorted, weights=w, minlength=labour_params.N_SECTORS)
    cum = np.zeros(order.size)
    for s in range(labour_params.N_SECTORS):
        m = sec_sorted == s
        cum[m] = np.cumsum(w[m]) / max(tot[s], 1)
    entity = np.full(sector.size, -1, np.int16)
    entity[sector.size - n_ent :] = np.arange(n_ent, dtype=np.int16)
    return Employers(
        ids=ids,
        sector=sector,
        size_class=size_class_of(size),
        nace=nace,
        cum_key=sec_sorted + cum,
        order=order,
        entity=entity,
    )


def pick_employer(emp: Employers, sector: np.ndarray, u: np.ndarray) -> np.ndarray:
    pos = np.searchsorted(emp.cum_key, sector + np.clip(u, 1e-9, 1 - 1e-9))
    pos = np.minimum(pos, emp.order.size - 1)
    return emp.order[pos].astype(np.int32)


# ---------------------------------------------------------------- the simulation state
@dataclass
class State:
    n: int
    macro: np.ndarray = field(init=False)
    fine: np.ndarray = field(init=False)
    since: np.ndarray = field(init=False)  # quarter index of entry into the macro state
    since_day: np.ndarray = field(init=False)
    present_prev: np.ndarray = field(init=False)
    # the position left during this quarter (-1: none), with its entry quarter and day: its benefit
    # is paid up to the day before the new position (labour_frames.left_benefit_rows)
    left_fine: np.ndarray = field(init=False)
    left_since: np.ndarray = field(init=False)
    left_since_day: np.ndarray = field(init=False)
    # the current spell was entered from a salaried job (the macro state before it was EMP): an
    # incapacity spell's guaranteed-wage month (cohort/classifications/incapacity.py); and the same
    # of the position left during this quarter
    from_job: np.ndarray = field(init=False)
    left_from_job: np.ndarray = field(init=False)
    # persistent person draws
    employability: np.ndarray = field(init=False)
    stuck: np.ndarray = field(init=False)
    school_exit_q: np.ndarray = field(init=False)  # age in quarters at school exit
    retire_age: np.ndarray = field(init=False)
    lw_person: np.ndarray = field(init=False)
    frontier: np.ndarray = field(init=False)
    # job
    emp1: np.ndarray = field(init=False)
    emp2: np.ndarray = field(init=False)
    sector: np.ndarray = field(init=False)
    wclass: np.ndarray = field(init=False)
    statute: np.ndarray = field(init=False)
    contract: np.ndarray = field(init=False)
    pct: np.ndarray = field(init=False)
    pct2: np.ndarray = field(init=False)
    perf: np.ndarray = field(init=False)
    job_since: np.ndarray = field(init=False)
    activation: np.ndarray = field(init=False)
    pcb: np.ndarray = field(init=False)  # partial career break: 0 none, 1 a fifth, 2 half
    wflag: np.ndarray = field(
        init=False
    )  # bit 0 invalidity partial, 1 disability allowance, 2 social assistance
    # self-employment
    se_nace: np.ndarray = field(init=False)
    se_since_day: np.ndarray = field(init=False)
    se_lincome: np.ndarray = field(init=False)
    # unemployment and registration
    ustart: np.ndarray = field(init=False)
    regday: np.ndarray = field(init=False)
    js_cat: np.ndarray = field(init=False)
    vdab_spell: np.ndarray = field(init=False)
    # inactive detail
    medtype: np.ndarray = field(init=False)
    medcode: np.ndarray = field(init=False)
    exempt_reason: np.ndarray = field(init=False)
    soc_disab: np.ndarray = field(init=False)
    soc_cat: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.n
        self.macro = np.full(n, -1, np.int8)
        self.fine = np.full(n, -1, np.int8)
        self.since = np.zeros(n, np.int16)
        self.since_day = np.zeros(n, np.int32)
        self.present_prev = np.zeros(n, bool)
        self.left_fine = np.full(n, -1, np.int8)
        self.left_since = np.zeros(n, np.int16)
        self.left_since_day = np.zeros(n, np.int32)
        self.from_job = np.zeros(n, bool)
        self.left_from_job = np.zeros(n, bool)
        for name in ("emp1", "emp2"):
            setattr(self, name, np.full(n, -1, np.int32))
        for name in (
            "sector",
            "wclass",
            "statute",
            "contract",
            "perf",
            "pcb",
            "wflag",
            "js_cat",
            "medtype",
            "medcode",
            "exempt_reason",
            "soc_cat",
        ):
            setattr(self, name, np.zeros(n, np.int8))
        self.pct = np.full(n, 100, np.int8)
        self.pct2 = np.full(n, 30, np.int8)
        self.job_since = np.zeros(n, np.int16)
        self.activation = np.zeros(n, bool)
        self.soc_disab = np.zeros(n, bool)
        self.se_nace = np.full(n, -1, np.int16)
        self.se_since_day = np.zeros(n, np.int32)
        self.se_lincome = np.zeros(n, np.float32)
        self.ustart = np.zeros(n, np.int32)
        self.regday = np.zeros(n, np.int32)
        self.vdab_spell = np.full(n, -1, np.int32)


def init_person_draws(st: State, people: People, seed: int) -> None:
    rng = np.random.default_rng([seed, 7003])
    n = people.n
    wp = people.work_propensity
    st.employability = ((wp - wp.mean()) / max(float(wp.std()), 1e-6)).astype(np.float32) if n else wp
    st.stuck = rng.random(n).astype(np.float32)
    mean = np.array([labour_params.SCHOOL_EXIT[k][0] for k in range(3)], np.float32)[people.edu]
    sd = np.array([labour_params.SCHOOL_EXIT[k][1] for k in range(3)], np.float32)[people.edu]
    exit_age = mean + sd * rng.standard_normal(n).astype(np.float32)
    # the demography says when the final level is attained: leave school that summer
    known = people.edu_year > 0
    exit_age = np.where(known, people.edu_year - people.by + 0.5, exit_age)
    # compulsory education until 18 (part-time from 15/16): early leavers leave between 16.5 and 18
    exit_age = np.maximum(exit_age, 18.0 - 1.5 * rng.random(n).astype(np.float32) * (people.edu == 0))
    exit_age = np.clip(exit_age, 15.5, 30.0)
    st.school_exit_q = np.round(exit_age * 4).astype(np.int16)
    probs = labour_params.retire_age_probs(people.by)
    cum = probs.cumsum(axis=1)
    k = (rng.random(n)[:, None] > cum).sum(axis=1)
    legal = np.where(people.by + 65 >= 2025, 66, 65)
    st.retire_age = np.where(k < 5, 60 + k, legal).astype(np.int8)
    st.lw_person = (labour_params.WAGE_PERSON_SD * rng.standard_normal(n)).astype(np.float32)
    st.frontier = people.is_bis & (rng.random(n) < 0.85)
    st.medtype = (rng.random(n) < 0.3).astype(np.int8)  # 0 ICD10, 1 ICPC2 (the insurer's coding habit)


# ---------------------------------------------------------------- lookup lists for output
BENEFITS = tuple(codes.BENEFITS)
BENEFIT_INDEX = {b: i for i, b in enumerate(BENEFITS)}
BEN_CATEGORIES = (
    "after_full_time_work",
    "after_voluntary_part_time",
    "waiting_allowance",
    "integration_allowance",
    "income_guarantee",
    "exempted",
    "single",
    "cohabitant",
    "family",
    "financial_aid",
    "primary",
    "invalidity",
    "partial_resumption",
    "maternity",
    "temporary",
    "IVT",
    "IT",
    "THAB",
    "retirement",
    "brugpensioen",
    "SWT",
    "availability",
    "full",
    "partial_1/5",
    "partial_1/2",
    "1",
    "2",
    "3+",
    "permanent",  # appended: the indexes above are part of the generated bytes
)
BENEFIT_CATEGORY_INDEX = {c: i for i, c in enumerate(BEN_CATEGORIES)}
MED_ICD10 = ("F", "M", "C", "I", "G", "J", "S", "K")
MED_ICPC2 = ("P", "L", "A", "K", "N", "R", "L", "D")
MED_P = np.array([0.36, 0.31, 0.08, 0.06, 0.06, 0.04, 0.05, 0.04])
JOINT_COMMITTEES = tuple(codes.JOINT_COMMITTEES)
JOINT_COMMITTEE_INDEX = {c: i for i, c in enumerate(JOINT_COMMITTEES)}
JS_CATEGORIES = tuple(codes.JOBSEEKER_CATEGORY)
JOBSEEKER_CATEGORY_INDEX = {c: i for i, c in enumerate(JS_CATEGORIES)}
CAT214_IDX = np.array([JOBSEEKER_CATEGORY_INDEX[c] for c in labour_params.CAT214], np.int8)


def _jc_tables() -> tuple[np.ndarray, np.ndarray]:
    blue = np.array(
        [
            JOINT_COMMITTEE_INDEX["100"] if s[2] == "W" else JOINT_COMMITTEE_INDEX[s[2]]
            for s in labour_params.SECTORS
        ],
        np.int8,
    )
    white = np.array(
        [
            JOINT_COMMITTEE_INDEX["200"] if s[3] == "W" else JOINT_COMMITTEE_INDEX[s[3]]
            for s in labour_params.SECTORS
        ],
        np.int8,
    )
    return blue, white


JC_BLUE, JC_WHITE = _jc_tables()
WHITE_RESIDUAL = np.array([s[3] == "W" for s in labour_params.SECTORS])
BLUE_RESIDUAL = np.array([s[2] == "W" for s in labour_params.SECTORS])


def in_codes(codes: np.ndarray, among) -> np.ndarray:
    """``np.isin(codes, among)`` for an int8 array of position codes, as one lookup in a table
    of the 256 values (``np.isin`` builds its table, or sorts, on every call)."""
    if codes.dtype != np.int8:  # the lookup reads the bytes: any other type would be misread
        raise TypeError(f"in_codes: position codes must be int8, not {codes.dtype}")
    table = np.zeros(256, bool)
    table[np.asarray(among, np.int8).view(np.uint8)] = True
    return table[codes.view(np.uint8)]


def cat_draw(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(np.cumsum(probs) / probs.sum(), rng.random(n)), probs.size - 1)


class Simulation(Protocol):
    """What the table writers (:mod:`~cohort.warehouse.labour_frames`,
    :mod:`~cohort.warehouse.labour_vdab`, :mod:`~cohort.warehouse.agency`) read from the running
    simulation (:class:`cohort.warehouse.labour_simulation.LabourSimulation`); typed here so that
    they need not import the engine that imports them."""

    demo: Demography
    seed: int
    people: People
    res: Spells
    st: State
    emp: Employers
    entities: pl.DataFrame
    last_present: np.ndarray
    last_region: np.ndarray
    last_age: np.ndarray
    spell_rows: list[tuple[np.ndarray, ...]]
    spell_ends: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    n_spells: int
    measure_rows: list[dict[str, np.ndarray]]

    def draw_sector(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


def empty_frame(name: str) -> pl.DataFrame:
    """An empty frame of a contract table, with its columns and types."""
    schema = TABLES[name].schema
    return pl.DataFrame(schema={c: col.dtype.type for c, col in schema.columns.items()})
