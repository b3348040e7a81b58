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

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from cohort.classifications.insz import make_enterprise_number
from cohort.warehouse import labour_params as P
from cohort.warehouse.malloc import reusing_freed_memory
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
PES_BY_REGION = ("VDAB", "VDAB", "FOREM", "ACTIRIS", "ADG")  # index 4 = ADG


def day_number(y: int, m: int, d: int) -> int:
    return int(np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D").astype(np.int64))


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


def _person_index(frame: pl.DataFrame, people: People) -> np.ndarray:
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
    who = _person_index(r, people)
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
    who = _person_index(r, people)
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


NACE_LIST: tuple[str, ...] = tuple(sorted({c for s in P.SECTORS for c in s[1]}))
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
    base = P.SECTOR_BASE[:-1] / P.SECTOR_BASE[:-1].sum()
    counts = np.maximum(np.round(base * n).astype(int), 8)
    sector = np.repeat(np.arange(len(counts), dtype=np.int8), counts)
    size = np.minimum(np.floor((1 - rng.random(sector.size)) ** (-1 / 1.08)), 25_000).astype(np.int64)
    public = np.array([s[4] for s in P.SECTORS])[sector]
    size = np.where(public, np.maximum(size * 4, 10), size)
    n_ent = entity_sizes.size
    sector = np.concatenate([sector, np.full(n_ent, P.FLEMISH_GOV, np.int8)])
    size = np.concatenate([size, entity_sizes.astype(np.int64)])
    nace = np.empty(sector.size, np.int16)
    for s, (_, codes, *_rest) in enumerate(P.SECTORS):
        m = sector == s
        nace[m] = np.array([NACE_INDEX[c] for c in codes], np.int16)[rng.integers(0, len(codes), m.sum())]
    # enterprise numbers: distinct sequence numbers, shuffled so ids do not reveal the sector
    seqs = rng.choice(np.arange(1_000_000, 9_000_000), size=sector.size, replace=False)
    ids = pl.Series("employer_id", [make_enterprise_number(int(s)) for s in seqs], dtype=pl.String)
    order = np.lexsort((np.arange(sector.size), sector))
    w = size[order].astype(np.float64)
    sec_sorted = sector[order]
    tot = np.bincount(sec_sorted, weights=w, minlength=P.N_SECTORS)
    cum = np.zeros(order.size)
    for s in range(P.N_SECTORS):
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
    mean = np.array([P.SCHOOL_EXIT[k][0] for k in range(3)], np.float32)[people.edu]
    sd = np.array([P.SCHOOL_EXIT[k][1] for k in range(3)], np.float32)[people.edu]
    exit_age = mean + sd * rng.standard_normal(n).astype(np.float32)
    # the demography says when the final level is attained: leave school that summer
    known = people.edu_year > 0
    exit_age = np.where(known, people.edu_year - people.by + 0.5, exit_age)
    # compulsory education until 18 (part-time from 15/16): early leavers leave between 16.5 and 18
    exit_age = np.maximum(exit_age, 18.0 - 1.5 * rng.random(n).astype(np.float32) * (people.edu == 0))
    exit_age = np.clip(exit_age, 15.5, 30.0)
    st.school_exit_q = np.round(exit_age * 4).astype(np.int16)
    probs = P.retire_age_probs(people.by)
    cum = probs.cumsum(axis=1)
    k = (rng.random(n)[:, None] > cum).sum(axis=1)
    legal = np.where(people.by + 65 >= 2025, 66, 65)
    st.retire_age = np.where(k < 5, 60 + k, legal).astype(np.int8)
    st.lw_person = (P.WAGE_PERSON_SD * rng.standard_normal(n)).astype(np.float32)
    st.frontier = people.is_bis & (rng.random(n) < 0.85)
    st.medtype = (rng.random(n) < 0.3).astype(np.int8)  # 0 ICD10, 1 ICPC2 (the insurer's coding habit)


# ---------------------------------------------------------------- lookup lists for output
BENEFITS = (
    "unemployment",
    "integration_income",
    "social_aid",
    "incapacity",
    "invalidity",
    "maternity",
    "occupational_disease",
    "occupational_accident",
    "disability_allowance",
    "pension",
    "early_retirement",
    "career_break",
    "child_benefit",
)
B = {b: i for i, b in enumerate(BENEFITS)}
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
)
BC = {c: i for i, c in enumerate(BEN_CATEGORIES)}
MED_ICD10 = ("F", "M", "C", "I", "G", "J", "S", "K")
MED_ICPC2 = ("P", "L", "A", "K", "N", "R", "L", "D")
MED_P = np.array([0.36, 0.31, 0.08, 0.06, 0.06, 0.04, 0.05, 0.04])
JOINT_COMMITTEES = (
    "100",
    "118",
    "124",
    "140",
    "200",
    "218",
    "220",
    "302",
    "318",
    "322",
    "330",
    "331",
    "335",
    "336",
    "337",
    "999",
)
JC = {c: i for i, c in enumerate(JOINT_COMMITTEES)}
JS_CATEGORIES = ("00", "02", "03", "05", "06", "07", "14")
JSC = {c: i for i, c in enumerate(JS_CATEGORIES)}
CAT214_IDX = np.array([JSC[c] for c in P.CAT214], np.int8)


def _jc_tables() -> tuple[np.ndarray, np.ndarray]:
    blue = np.array([JC["100"] if s[2] == "W" else JC[s[2]] for s in P.SECTORS], np.int8)
    white = np.array([JC["200"] if s[3] == "W" else JC[s[3]] for s in P.SECTORS], np.int8)
    return blue, white


JC_BLUE, JC_WHITE = _jc_tables()
WHITE_RESIDUAL = np.array([s[3] == "W" for s in P.SECTORS])
BLUE_RESIDUAL = np.array([s[2] == "W" for s in P.SECTORS])


def in_codes(codes: np.ndarray, among) -> np.ndarray:
    """``np.isin(codes, among)`` for an int8 array of position codes, as one lookup in a table
    of the 256 values (``np.isin`` builds its table, or sorts, on every call)."""
    if codes.dtype != np.int8:  # the lookup reads the bytes: any other type would be misread
        raise TypeError(f"in_codes: position codes must be int8, not {codes.dtype}")
    table = np.zeros(256, bool)
    table[np.asarray(among, np.int8).view(np.uint8)] = True
    return table[codes.view(np.uint8)]


def _cat_draw(rng: np.random.Generator, probs: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(np.cumsum(probs) / probs.sum(), rng.random(n)), probs.size - 1)


# ---------------------------------------------------------------- the per-quarter engine
class LabourSimulation:
    """Runs the quarters in order, keeping one state vector per person."""

    def __init__(self, demo: Demography) -> None:
        self.demo = demo
        self.seed = demo.seed
        self.people = load_people(demo)
        self.res = load_residence(demo, self.people)
        self.reg = load_register(demo, self.people)
        from cohort.warehouse import agency  # local: agency imports helpers from this module

        self.agency = agency
        self.entities = agency.flemish_entities(demo.scale, demo.seed)
        self.emp = build_employers(demo.scale, demo.seed, self.entities["size"].to_numpy())
        self.st = State(self.people.n)
        init_person_draws(self.st, self.people, self.seed)
        self.regularised = agency.choose_regularised(demo, self)
        # everything needed from the frames is now in arrays: keep only the header, so that the
        # caller's frames can be freed while the quarters run
        self.demo = demo.header()
        self.reg_decision = np.full(self.people.n, INT32_MAX, np.int32)
        if self.regularised.height:
            ri = _person_index(self.regularised, self.people)
            self.reg_decision[ri] = self.regularised["decision_date"].cast(pl.Int32).to_numpy()
        # sector choice table [female, edu, sector] without the Flemish government
        w = P.SECTOR_BASE[None, None, :] * np.where(
            np.arange(2)[:, None, None] == 1, P.SECTOR_FEMALE[None, None, :], 1.0
        )
        w = w * P.SECTOR_EDU.T[None, :, :]
        w[..., P.FLEMISH_GOV] = 0
        self.sector_cum = np.cumsum(w / w.sum(axis=2, keepdims=True), axis=2)
        self.self_sector_cum = np.cumsum(P.SELF_SECTOR_BASE / P.SELF_SECTOR_BASE.sum())
        # VDAB spells and measure candidates collected over the run
        self.spell_rows: list[tuple[np.ndarray, ...]] = []
        self.spell_ends: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_spells = 0
        self.measure_rows: list[dict[str, np.ndarray]] = []

    # -------------------------------------------------------- target distribution
    def logits(
        self, idx: np.ndarray, age: np.ndarray, region: np.ndarray, waiting: np.ndarray, year: int, day: int
    ) -> np.ndarray:
        pp = self.people
        band = np.clip(np.searchsorted(P.AGE_BANDS, age, side="right") - 1, 0, P.AGE_BANDS.size - 1)
        lg = P.BASE_LOGIT[band].copy()
        lg += P.SEX_EFF[pp.female[idx].astype(np.int8)]
        lg += P.EDU_EFF[pp.edu[idx]]
        lg += P.ORIGIN_EFF[pp.origin[idx]]
        lg += P.REGION_EFF[region]
        lg[waiting] += P.WAITING_EFF
        emp_c, unemp_c = P.cycle(year)
        lg[:, P.EMP] += np.log(emp_c) + P.EMPLOYABILITY_LOADING * self.st.employability[idx]
        lg[:, P.SELF] += np.log(emp_c) + P.EMPLOYABILITY_LOADING * self.st.employability[idx]
        lg[:, P.UNEMP] += np.log(unemp_c)
        h = P.HEALTH_LOADING * pp.health_risk[idx]
        lg[:, P.SICK] += h
        lg[:, P.DIS] += h
        regd = self.reg_decision[idx] <= day
        if regd.any():
            lg[regd, P.EMP] += np.log(3.0)
            lg[regd, P.OTHER] -= np.log(2.0)
        young = age < 50
        lg[young, P.EARLY] = -30.0
        return lg

    def stay_matrix(self, idx: np.ndarray, age: np.ndarray) -> np.ndarray:
        pp, st = self.people, self.st
        s = np.broadcast_to(P.STAY, (idx.size, P.N_ACTIVE)).copy()
        su = (
            P.UNEMP_STAY_BASE
            + P.UNEMP_STAY_AGE50 * (age >= 50)
            + P.UNEMP_STAY_EDU[pp.edu[idx]]
            + P.UNEMP_STAY_ORIGIN[pp.origin[idx]]
            + P.UNEMP_STAY_STUCK * st.stuck[idx]
        )
        s[:, P.UNEMP] = np.minimum(su, P.UNEMP_STAY_MAX)
        return s

    # -------------------------------------------------------- one quarter
    def step(self, t: int, year: int, quarter: int) -> dict[str, dict[str, np.ndarray]]:
        pp, st = self.people, self.st
        rng = np.random.default_rng([self.seed, 7100, year, quarter])
        n = pp.n
        q0 = int(quarter_start_days(self.demo.first_year, np.array([t]))[0])
        qend_m, qend_d = (
            (3, 31) if quarter == 1 else (6, 30) if quarter == 2 else (9, 30) if quarter == 3 else (12, 31)
        )
        d = day_number(year, qend_m, qend_d)
        ndays = d - q0 + 1
        region = self.res.at(n, d, "region")
        arr = self.res.at(n, d, "arr")
        adg = self.res.at(n, d, "adg").astype(bool)
        waiting = self.reg.at(n, d, "waiting").astype(bool)
        alive = (pp.birth <= d) & (pp.death > d)
        present = alive & (region > 0)
        age = exact_age(pp, year, qend_m, qend_d)
        age_q = ((d - pp.birth) // 91.3125).astype(np.int32)

        prev_macro = st.macro.copy()
        was = st.present_prev
        child = present & ((age < 15) | (age_q < st.school_exit_q))
        retired = present & ~child & (age >= st.retire_age)
        active = present & ~child & ~retired

        new_macro = np.full(n, -1, np.int8)
        new_macro[child] = P.STUDENT
        new_macro[retired] = P.PENSION
        # active people: keep, leave (draw from q) or enter (draw from pi)
        cont = active & was & (prev_macro >= 0) & (prev_macro < P.N_ACTIVE)
        enter_pi = active & ~cont & ~(was & (prev_macro == P.STUDENT))
        enter_q = active & ~cont & ~enter_pi
        ci = np.flatnonzero(cont)
        s_all = self.stay_matrix(ci, age[ci])
        s_own = s_all[np.arange(ci.size), prev_macro[ci]]
        forced = waiting[ci] & np.isin(
            prev_macro[ci], [P.SELF, P.UNEMP, P.SICK, P.DIS, P.CB, P.EXEMPT, P.EARLY]
        )
        forced |= (age[ci] < 50) & (prev_macro[ci] == P.EARLY)
        leave = (rng.random(ci.size) >= s_own) | forced
        new_macro[ci[~leave]] = prev_macro[ci[~leave]]
        draw_q = np.concatenate([ci[leave], np.flatnonzero(enter_q)])
        if draw_q.size:
            lg = self.logits(draw_q, age[draw_q], region[draw_q], waiting[draw_q], year, d)
            s_q = self.stay_matrix(draw_q, age[draw_q])
            w = np.exp(lg - lg.max(axis=1, keepdims=True)) * (1 - s_q)
            new_macro[draw_q] = self._draw(w, rng)
        ei = np.flatnonzero(enter_pi)
        init_len = np.zeros(n, np.int32)
        if ei.size:
            lg = self.logits(ei, age[ei], region[ei], waiting[ei], year, d)
            w = np.exp(lg - lg.max(axis=1, keepdims=True))
            new_macro[ei] = self._draw(w, rng)
            # elapsed duration of the state found at entry (stock sampling: geometric)
            s_e = self.stay_matrix(ei, age[ei])[np.arange(ei.size), new_macro[ei]]
            init_len[ei] = np.minimum(rng.geometric(np.maximum(1 - s_e, 1e-3)) - 1, 60)
            # at the very first quarter everybody is "entering"; later entrants are immigrants
            if t > 0:
                init_len[ei] = np.minimum(init_len[ei], 2)
            # never before the end of school
            init_len[ei] = np.minimum(init_len[ei], np.maximum(age_q[ei] - st.school_exit_q[ei], 0))

        changed = present & (new_macro != prev_macro)
        changed |= present & ~was  # re-entry after an absence restarts the spell
        ch = np.flatnonzero(changed)
        st.since[ch] = (t - init_len[ch]).astype(np.int16)
        entry_q0 = quarter_start_days(self.demo.first_year, st.since[ch].astype(np.int64))
        entry_len = quarter_start_days(self.demo.first_year, st.since[ch].astype(np.int64) + 1) - entry_q0
        st.since_day[ch] = entry_q0 + (rng.random(ch.size) * entry_len).astype(np.int32)
        st.since_day[ch] = np.maximum(st.since_day[ch], pp.birth[ch])
        st.macro[:] = np.where(present, new_macro, st.macro)
        self._assign_fine(ch, prev_macro, age, waiting, rng, t)
        # 213 becomes 211 at 30 (no longer a school leaver)
        st.fine[present & (st.fine == P.C["213"]) & (age >= P.UNEMP_213_MAX_AGE)] = P.C["211"]
        self._jobs(present, prev_macro, was, changed, age, region, rng, t, d)
        self._unemployment(ch, rng, d)
        self._vdab(present, region, arr, rng, t, q0, ndays, d)
        self._measures(present, region, age, rng, year, quarter, q0, ndays)
        st.present_prev = present.copy()
        self.last_present, self.last_region, self.last_age = present, region, age
        frontier = st.frontier & alive & ~present & (age >= 18) & (age < 65)
        from cohort.warehouse import labour_frames as F

        return F.quarter_rows(
            self, t, year, quarter, q0, d, present, frontier, region, adg, waiting, age, rng
        )

    @staticmethod
    def _draw(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cum = np.cumsum(w, axis=1)
        u = rng.random(w.shape[0]) * cum[:, -1]
        return np.minimum((u[:, None] > cum).sum(axis=1), w.shape[1] - 1).astype(np.int8)

    def _assign_fine(
        self,
        ch: np.ndarray,
        prev_macro: np.ndarray,
        age: np.ndarray,
        waiting: np.ndarray,
        rng: np.random.Generator,
        t: int,
    ) -> None:
        pp, st = self.people, self.st
        m = st.macro[ch]
        fem = pp.female[ch]
        u = rng.random(ch.size)
        u2 = rng.random(ch.size)
        fine = np.full(ch.size, P.C["4"], np.int8)
        # employees
        pm = np.where(fem, P.P_MULTI_JOB[1], P.P_MULTI_JOB[0])
        ps = np.where(fem, P.P_EMP_PLUS_SELF[1], P.P_EMP_PLUS_SELF[0])
        e = m == P.EMP
        fine[e] = np.select(
            [u[e] < pm[e], u[e] < pm[e] + ps[e], u[e] < pm[e] + ps[e] + P.P_EMP_PLUS_HELPER],
            [P.C["112"], P.C["141"], P.C["143"]],
            P.C["111"],
        )
        # self-employed
        s = m == P.SELF
        names = list(P.SELF_SPLIT)
        base = np.array([P.SELF_SPLIT[k] for k in names])
        for female in (False, True):
            sel = s & (fem == female)
            w = base * np.where(np.array([k in ("131", "132") for k in names]) & female, 4.0, 1.0)
            k = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), u[sel]), len(names) - 1)
            fine[sel] = np.array([P.C[c] for c in names], np.int8)[k]
        # job seekers
        un = m == P.UNEMP
        school_leaver = prev_macro[ch] == P.STUDENT
        young = age[ch] < P.UNEMP_213_MAX_AGE
        is213 = un & young & (school_leaver | ((age[ch] < 25) & (u < 0.3)))
        is214 = un & ~is213 & (u2 < P.UNEMP_SPLIT_214)
        is212 = un & ~is213 & ~is214 & fem & (u < P.UNEMP_SPLIT_212_F)
        fine[un] = P.C["211"]
        fine[is213] = P.C["213"]
        fine[is214] = P.C["214"]
        fine[is212] = P.C["212"]
        st.js_cat[ch[is214]] = CAT214_IDX[_cat_draw(rng, P.CAT214_P, int(is214.sum()))]
        # inactive states
        sk = m == P.SICK
        fine[sk] = np.select(
            [u[sk] < P.SICK_SPLIT["371"], u[sk] < P.SICK_SPLIT["371"] + P.SICK_SPLIT["372"]],
            [P.C["371"], P.C["372"]],
            P.C["373"],
        )
        st.medcode[ch[sk]] = _cat_draw(rng, MED_P, int(sk.sum())).astype(np.int8)
        fine[m == P.DIS] = P.C["38"]
        so = m == P.SOC
        p332 = np.where(waiting[ch], P.SOC_SPLIT_332[1], P.SOC_SPLIT_332[0])
        fine[so] = np.where(u[so] < p332[so], P.C["332"], P.C["331"])
        st.soc_disab[ch[so]] = u2[so] < 0.06
        st.soc_cat[ch[so]] = (u2[so] * 3 * 7).astype(np.int8) % 3
        fine[m == P.CB] = P.C["31"]
        ex = m == P.EXEMPT
        fine[ex] = P.C["32"]
        st.exempt_reason[ch[ex]] = np.where(age[ch[ex]] >= 50, 0, 1 + (u2[ex] * 3).astype(np.int8))
        fine[m == P.EARLY] = P.C["35"]
        fine[m == P.OTHER] = np.where(u[m == P.OTHER] < P.OTHER_SPLIT_4, P.C["4"], P.C["39"])
        fine[m == P.STUDENT] = P.C["36"]
        pe = m == P.PENSION
        was_self = np.isin(st.fine[ch], [P.C[c] for c in ("121", "122", "131", "132", "142")])
        fine[pe] = np.select(
            [
                was_self[pe] & (u[pe] < 0.3),
                u[pe] < P.PENSION_SPLIT["123"] * 0.3,
                u[pe] < P.PENSION_SPLIT["123"] * 0.3 + P.PENSION_SPLIT["133"] * 0.3,
            ],
            [np.where(fem[pe], P.C["133"], P.C["123"]), P.C["123"], P.C["133"]],
            P.C["34"],
        )
        st.fine[ch] = fine

    def _jobs(
        self,
        present: np.ndarray,
        prev_macro: np.ndarray,
        was: np.ndarray,
        changed: np.ndarray,
        age: np.ndarray,
        region: np.ndarray,
        rng: np.random.Generator,
        t: int,
        d: int,
    ) -> None:
        pp, st = self.people, self.st
        fine = st.fine
        emp_codes = np.array([P.C[c] for c in P.EMPLOYEE_CODES], np.int8)
        self_codes = np.array([P.C[c] for c in P.SELF_CODES], np.int8)
        needs_job = present & in_codes(fine, emp_codes)
        needs_se = present & in_codes(fine, self_codes)
        # a job ends with the position (the next job is a new one); a few change employer in place
        lose = ~needs_job & (st.emp1 >= 0) & present
        st.emp1[lose] = -1
        st.emp2[lose] = -1
        st.se_nace[present & ~needs_se] = -1
        mover = needs_job & (st.emp1 >= 0) & (rng.random(pp.n) < 0.02)
        new_job = np.flatnonzero(needs_job & ((st.emp1 < 0) | mover))
        if new_job.size:
            self._new_job(new_job, prev_macro, age, region, rng, t, d)
        multi = present & (fine == P.C["112"]) & (st.emp2 < 0)
        mi = np.flatnonzero(multi)
        if mi.size:
            sec = self._draw_sector(mi, rng)
            st.emp2[mi] = pick_employer(self.emp, sec, rng.random(mi.size))
            st.pct2[mi] = rng.choice(np.array([20, 25, 30, 40, 50], np.int8), mi.size)
        st.emp2[present & (fine != P.C["112"])] = -1
        ns = np.flatnonzero(needs_se & (st.se_nace < 0))
        if ns.size:
            sec = np.minimum(np.searchsorted(self.self_sector_cum, rng.random(ns.size)), P.N_SECTORS - 2)
            codes = np.array([NACE_INDEX[P.SECTORS[s][1][0]] for s in range(P.N_SECTORS)], np.int16)
            st.se_nace[ns] = codes[sec]
            st.se_since_day[ns] = np.maximum(
                st.since_day[ns] - (rng.random(ns.size) * 40 * (fine[ns] >= P.C["123"])).astype(np.int32),
                pp.birth[ns] + 15 * 365,
            )
            st.se_lincome[ns] = (
                np.log(np.array([22000, 30000, 42000])[pp.edu[ns]]) + 0.6 * rng.standard_normal(ns.size)
            ).astype(np.float32)

    def _draw_sector(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        pp = self.people
        cum = self.sector_cum[pp.female[idx].astype(np.int8), pp.edu[idx]]
        return np.minimum((rng.random(idx.size)[:, None] > cum).sum(axis=1), P.N_SECTORS - 2).astype(np.int8)

    def _new_job(
        self,
        idx: np.ndarray,
        prev_macro: np.ndarray,
        age: np.ndarray,
        region: np.ndarray,
        rng: np.random.Generator,
        t: int,
        d: int,
    ) -> None:
        pp, st = self.people, self.st
        k = idx.size
        sec = self._draw_sector(idx, rng)
        flemish = region[idx] == 1
        p_fg = P.FLEMISH_GOV_SHARE * np.array([0.35, 1.0, 1.55])[pp.edu[idx]]
        fg = flemish & (rng.random(k) < p_fg) & (age[idx] >= 18)
        sec[fg] = P.FLEMISH_GOV
        st.sector[idx] = sec
        st.emp1[idx] = pick_employer(self.emp, sec, rng.random(k))
        a = age[idx]
        statutory = rng.random(k) < P.P_STATUTORY[sec] * (a >= 25)
        pblue = np.clip(P.P_BLUE[sec] * np.array([1.4, 1.0, 0.3])[pp.edu[idx]], 0, 0.98)
        blue = rng.random(k) < pblue
        wc = np.where(statutory, 2, np.where(blue, 0, 1)).astype(np.int8)
        wc[(a < 19) & (rng.random(k) < 0.3) & ~statutory] = 3
        st.wclass[idx] = wc
        st.statute[idx] = statutory.astype(np.int8)
        contract = np.where(rng.random(k) < np.where(a < 30, 0.2, P.P_CONTRACT_FIXED), 1, 0).astype(np.int8)
        contract[sec == P.TEMP_AGENCY] = 2
        contract[statutory] = 0
        st.contract[idx] = contract
        fem = pp.female[idx]
        ppt = np.where(fem, P.P_PART_TIME[1], P.P_PART_TIME[0]) * np.where((a < 25) | (a >= 55), 1.3, 1.0)
        ppt = np.where(sec == P.CLEANING, 0.8, ppt)
        pt = rng.random(k) < ppt
        pct = np.where(pt, P.PART_TIME_PCTS[_cat_draw(rng, P.PART_TIME_PCT_P, k)], 100).astype(np.int8)
        pcb = np.zeros(k, np.int8)
        p_pcb = np.where(fem, P.P_PARTIAL_CAREER_BREAK[1], P.P_PARTIAL_CAREER_BREAK[0])
        full = ~pt & (rng.random(k) < p_pcb * 1.6) & (a >= 25) & ~statutory
        pcb[full] = np.where(rng.random(int(full.sum())) < 0.6, 1, 2)
        pct[pcb == 1] = 80
        pct[pcb == 2] = 50
        st.pcb[idx] = pcb
        st.pct[idx] = pct
        perf = np.where(pct < 100, 1, 0).astype(np.int8)
        igu = (perf == 1) & (pcb == 0) & (rng.random(k) < P.P_IGU)
        perf[igu] = 2
        st.perf[idx] = perf
        st.job_since[idx] = t
        st.activation[idx] = (prev_macro[idx] == P.UNEMP) & (rng.random(k) < P.P_ACTIVATION_AFTER_UNEMP)
        wf = np.zeros(k, np.int8)
        wf |= (rng.random(k) < P.P_WORK_INVALIDITY_PARTIAL * (a >= 30)).astype(np.int8)
        wf |= (rng.random(k) < P.P_WORK_DISABILITY_ALLOWANCE).astype(np.int8) << 1
        wf |= ((rng.random(k) < P.P_WORK_SOCIAL_ASSISTANCE * (1 + (pp.edu[idx] == 0))) & (pct < 100)).astype(
            np.int8
        ) << 2
        st.wflag[idx] = wf

    def _unemployment(self, ch: np.ndarray, rng: np.random.Generator, d: int) -> None:
        st = self.st
        un = ch[st.macro[ch] == P.UNEMP]
        st.ustart[un] = st.since_day[un]
        late = rng.random(un.size) < 0.15
        offs = (rng.random(un.size) * 60).astype(np.int32)
        st.regday[un] = np.where(late, np.minimum(st.ustart[un] + offs, d), st.ustart[un])

    def _vdab(
        self,
        present: np.ndarray,
        region: np.ndarray,
        arr: np.ndarray,
        rng: np.random.Generator,
        t: int,
        q0: int,
        ndays: int,
        d: int,
    ) -> None:
        st, pp = self.st, self.people
        in_vdab = present & (st.macro == P.UNEMP) & (region == 1)
        close = np.flatnonzero((st.vdab_spell >= 0) & ~in_vdab)
        if close.size:
            end = q0 + (rng.random(close.size) * ndays).astype(np.int32)
            start_of = st.regday[close]
            end = np.maximum(end, start_of + 1)
            end = np.minimum(end, np.minimum(pp.death[close], d + 1))
            to_work = present[close] & np.isin(st.macro[close], [P.EMP, P.SELF])
            self.spell_ends.append((st.vdab_spell[close].copy(), end.astype(np.int32), to_work))
            st.vdab_spell[close] = -1
        opn = np.flatnonzero(in_vdab & (st.vdab_spell < 0))
        if opn.size:
            # a new registration, or a job seeker who moved into Flanders (new VDAB file)
            fresh = (st.since[opn] == t) | (t == 0)
            start = np.where(fresh, st.regday[opn], q0 + (rng.random(opn.size) * ndays).astype(np.int32))
            ids = np.arange(self.n_spells, self.n_spells + opn.size, dtype=np.int32)
            self.n_spells += opn.size
            st.vdab_spell[opn] = ids
            self.spell_rows.append(
                (
                    ids,
                    opn.astype(np.int32),
                    start.astype(np.int32),
                    st.ustart[opn].copy(),
                    arr[opn].copy(),
                    st.js_cat[opn].copy(),
                    st.fine[opn].copy(),
                )
            )

    def _measures(
        self,
        present: np.ndarray,
        region: np.ndarray,
        age: np.ndarray,
        rng: np.random.Generator,
        year: int,
        quarter: int,
        q0: int,
        ndays: int,
    ) -> None:
        if not (2014 <= year <= 2016):
            return
        self.agency.collect_measure_candidates(self, present, region, age, rng, year, quarter, q0, ndays)


def simulate_labour(demo: Demography) -> Iterator[tuple[str, int | None, pl.DataFrame]]:
    """Simulate the labour-market tables for ``demo``; see the module docstring.

    Yields the quarterly tables one quarter at a time, in time order (``sep_quarter``,
    ``job_quarter``, ``self_employed_quarter``, ``benefit_quarter``, ``jobseeker_quarter``; each
    frame belongs to its year's partition) and ``flemish_staff`` per year, then ``education``,
    ``vdab_profile``, ``vdab_trajectory``, ``vdab_training``, ``vdab_workplace_learning``,
    ``regularised_person`` and ``measure_beneficiary`` once.
    """
    from cohort.warehouse import labour_frames as F
    from cohort.warehouse import labour_vdab as V

    sim = LabourSimulation(demo)
    del demo  # the simulation keeps what it needs (see LabourSimulation.__init__)
    # the quarters free and allocate the same large arrays over and over, well below the build's
    # peak (which its start, above, still reaches): their pages are kept and reused
    with reusing_freed_memory():
        t = 0
        for year in range(sim.demo.first_year, sim.demo.last_year + 1):
            for quarter in (1, 2, 3, 4):
                yield from F.quarter_frames(sim, year, quarter, sim.step(t, year, quarter))
                t += 1
            yield "flemish_staff", year, sim.agency.flemish_staff_frame(sim, year)
        yield "education", None, V.education_frame(sim)
        yield from V.vdab_frames(sim)
        yield "regularised_person", None, sim.regularised
        yield "measure_beneficiary", None, sim.agency.measure_frame(sim)
