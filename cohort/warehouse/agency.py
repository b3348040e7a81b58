"""Agency input lists of the synthetic warehouse (seeds 000, 001, 003).

* ``regularised_person`` (seed 000): people granted a work permit under "durable local
  anchoring" after the 2009 regularisation campaign (about 25,000 people Belgium-wide at scale
  1.0), decisions 2010-2012, nearly all of non-EU origin. Their odds of working are raised
  from the decision date, so many have a job in 2013-2014 as the deliberation expects.
* ``measure_beneficiary`` (seed 001): Flemish employment measures with inflow/outflow in and
  around 2015; the job-seeker measures draw their inflow from registered job seekers, the
  measures that target workers (target-group reductions, VOP, social economy) from employees.
* ``flemish_staff`` (seed 003): staff of 59 Flemish government entities in 12 policy
  domains at scale 1.0 (about 40,000 people; some entities under 50 staff), of fewer entities of
  the same sizes at smaller scales (``flemish_entities``), drawn from the
  Flemish residents whose main job is with one of these entities (NACE 84, no joint committee
  '999'), so the staff list and ``job_quarter`` agree.
"""

import numpy as np
import polars as pl

from cohort.classifications import codes
from cohort.warehouse import labour_params
from cohort.warehouse.demography_params import NO_DATE, YEAR_DAYS, epoch_day
from cohort.warehouse.labour import (
    People,
    Simulation,
    empty_frame,
    exact_age,
    person_index,
    quarter_start_days,
)
from cohort.warehouse.model import Demography

# Policy domains and their entities (beleidsdomeinen / entiteiten), with a relative size.
_DOMAINS: dict[str, list[tuple[str, float]]] = {
    "Kanselarij, Bestuur, Buitenlandse Zaken en Justitie": [
        ("Departement Kanselarij en Buitenlandse Zaken", 450),
        ("Agentschap Binnenlands Bestuur", 230),
        ("Digitaal Vlaanderen", 700),
        ("Agentschap Facilitair Bedrijf", 1500),
        ("Agentschap Justitie en Handhaving", 620),
        ("Vlaams Agentschap voor Internationaal Ondernemen", 34),
    ],
    "Financien en Begroting": [
        ("Departement Financien en Begroting", 380),
        ("Vlaamse Belastingdienst", 1100),
        ("Vlaams Energiebedrijf", 42),
        ("Agentschap Overheidspersoneel", 250),
    ],
    "Economie, Wetenschap en Innovatie": [
        ("Departement Economie, Wetenschap en Innovatie", 310),
        ("Agentschap Innoveren en Ondernemen", 330),
        ("Fonds Wetenschappelijk Onderzoek", 120),
        ("Herculesstichting", 12),
    ],
    "Onderwijs en Vorming": [
        ("Departement Onderwijs en Vorming", 900),
        ("AHOVOKS", 560),
        ("Agentschap voor Onderwijsdiensten", 1300),
        ("Onderwijsinspectie", 280),
        ("Vlaamse Onderwijsraad", 45),
    ],
    "Welzijn, Volksgezondheid en Gezin": [
        ("Departement Zorg", 950),
        ("Opgroeien", 2300),
        ("Vlaams Agentschap voor Personen met een Handicap", 560),
        ("Agentschap Justitie en Welzijn", 300),
        ("Kind en Gezin Regio's", 1400),
    ],
    "Cultuur, Jeugd en Media": [
        ("Departement Cultuur, Jeugd en Media", 330),
        ("Sport Vlaanderen", 780),
        ("Kunsthuis Vlaanderen", 38),
        ("Vlaamse Regulator voor de Media", 25),
    ],
    "Werk en Sociale Economie": [
        ("Departement Werk en Sociale Economie", 480),
        ("VDAB", 5100),
        ("Syntra Vlaanderen", 190),
        ("Agentschap Uitzendarbeid Vlaanderen", 30),
    ],
    "Landbouw en Visserij": [
        ("Departement Landbouw en Visserij", 650),
        ("Instituut voor Landbouw-, Visserij- en Voedingsonderzoek", 720),
        ("Agentschap Landbouw en Zeevisserij", 140),
    ],
    "Omgeving": [
        ("Departement Omgeving", 1000),
        ("Vlaamse Milieumaatschappij", 1000),
        ("Agentschap Natuur en Bos", 1250),
        ("Agentschap Onroerend Erfgoed", 420),
        ("OVAM", 430),
        ("Vlaamse Landmaatschappij", 460),
        ("Instituut voor Natuur- en Bosonderzoek", 280),
        ("Wonen in Vlaanderen", 600),
    ],
    "Mobiliteit en Openbare Werken": [
        ("Departement Mobiliteit en Openbare Werken", 1400),
        ("Agentschap Wegen en Verkeer", 3100),
        ("Agentschap Maritieme Dienstverlening en Kust", 1200),
        ("De Vlaamse Waterweg", 1300),
        ("Maritiem Loodswezen", 44),
    ],
    "Internationaal Vlaanderen": [
        ("Toerisme Vlaanderen", 480),
        ("Flanders Investment and Trade", 520),
        ("Vlaamse Vertegenwoordigingen", 48),
    ],
    "Toezicht en Controle": [
        ("Audit Vlaanderen", 90),
        ("Vlaamse Toezichtscommissie", 14),
        ("Vlaamse Ombudsdienst", 40),
        ("Rekenhof Vlaamse cel", 22),
        ("Agentschap Zorginspectie", 150),
        ("Handhaving Omgeving", 210),
        ("Vlaams Instituut voor de Zee", 110),
        ("Vlaamse Adviesraad Welzijn", 18),
    ],
}
TOTAL_STAFF = 40_000


#: Entities of fewer staff are pooled per policy domain in seed 003's public release (§6).
SMALL_ENTITY = 50
#: How far a small warehouse's chosen pair (a small entity and its domain's anchor) may exceed the
#: staff budget: sizes are weights of the job draw, so the pair then shares the budget pro rata.
_PAIR_SLACK = 1.5


def flemish_entities(scale: float, seed: int) -> pl.DataFrame:
    """The Flemish government entities and the weight each gets in the draw of a government job.

    ``size`` is an entity's nominal (full-scale) staff, the 59 sizes summing to ~40,000; it is the
    weight of the entity in :func:`cohort.warehouse.labour.build_employers` (a job in the Flemish
    government sector goes to an entity with probability proportional to it) and sets its employer
    size class. How many such jobs there are follows the population (about 40,000 x ``scale``).
    Every entity stays in the frame (so the other employers' draws do not depend on the scale); an
    entity that takes no part has size 0 and gets no job.

    The rule (issue 25: a small warehouse has fewer entities, not smaller ones, so that most of its
    staff are in entities of 50 and more, as in the real administration). With the budget
    B = 40,000 x ``scale``:

    * Scale 1.0 and more: every entity takes part (as before issue 25).
    * Otherwise, first one entity under 50 (so the §6 path, small entities pooled per policy domain
      and their own restricted release, runs at every scale), together with the smallest entity of
      50 or more of its domain (so that the domain's total is never one small entity's figure). The
      pair is drawn from the seed among the pairs whose sizes fit into B; when none fits, the pair
      of the smallest sum, if that is at most 1.5 B; else no small entity.
    * Then the entities of 50 or more in an order drawn from the seed, each kept when its size fits
      into what is left of B; when nothing was kept at all, the smallest entity of 50 or more.

    Deterministic from ``seed``; the staff actually drawn per kept entity is about its size times
    (staff drawn / sum of the kept sizes), so close to its size when the kept sizes fill B.
    """
    rows = [(dom, ent, size) for dom, ents in _DOMAINS.items() for ent, size in ents]
    size = np.array([r[2] for r in rows], np.float64)
    size = np.round(size * TOTAL_STAFF / size.sum()).astype(np.int64)
    domain = np.array([r[0] for r in rows])
    budget = TOTAL_STAFF * scale
    keep = np.zeros(size.size, dtype=bool)
    if scale >= 1.0:
        keep[:] = True
    else:
        rng = np.random.default_rng([seed, 7403])
        large = size >= SMALL_ENTITY
        pairs = [
            (
                s,
                int(
                    np.flatnonzero(large & (domain == domain[s]))[
                        np.argmin(size[large & (domain == domain[s])])
                    ]
                ),
            )
            for s in np.flatnonzero(~large)
            if (large & (domain == domain[s])).any()
        ]
        sums = np.array([size[s] + size[a] for s, a in pairs])
        fitting = np.flatnonzero(sums <= budget)
        if len(fitting):
            keep[list(pairs[int(rng.choice(fitting))])] = True
        elif len(sums) and sums.min() <= _PAIR_SLACK * budget:
            keep[list(pairs[int(np.argmin(sums))])] = True
        for e in rng.permutation(np.flatnonzero(large & ~keep)):
            if size[keep].sum() + size[e] <= budget:
                keep[e] = True
        if not keep.any():
            keep[np.flatnonzero(large)[np.argmin(size[large])]] = True
    return pl.DataFrame(
        {
            "policy_domain": domain.tolist(),
            "entity": [r[1] for r in rows],
            "size": np.where(keep, size, 0),
        }
    )


# ---------------------------------------------------------------- seed 000
# Years of legal residence before a declaration of nationality under the code in force from
# 1 January 2013 (docs/domain_facts.md 3.8), counted from the regularisation decision.
LEGAL_RESIDENCE_YEARS = 5


def belgian_from(demo: Demography, pp: People) -> np.ndarray:
    """Per person of ``pp``, the first day of a Belgian nationality spell in
    ``demo.nationality_history`` (epoch days), or ``NO_DATE`` when none is known."""
    out = np.full(pp.n, NO_DATE, np.int64)
    nh = demo.nationality_history
    if not nh.height:
        return out
    first = nh.filter(pl.col("nationality") == "BE").group_by("insz").agg(pl.col("valid_from").min())
    if first.height:
        ix = person_index(first, pp)
        ok = ix >= 0
        out[ix[ok]] = first["valid_from"].cast(pl.Int64).to_numpy()[ok]
    return out


def choose_regularised(demo: Demography, sim: Simulation) -> pl.DataFrame:
    """Pick the regularised persons: residents of non-EU origin, born abroad, aged 18-60 on
    30 June 2010 and resident on 31 December 2012, not Belgian before ``LEGAL_RESIDENCE_YEARS``
    after their decision; people the demography itself marks as regularised (residence reason 3)
    first."""
    pp = sim.people
    rng = np.random.default_rng([demo.seed, 7400])
    day = epoch_day(2010, 6, 30)
    region = sim.res.at(pp.n, day, "region")
    age = exact_age(pp, 2010, 6, 30)
    alive = (pp.birth <= day) & (pp.death > day)
    cand = alive & (region > 0) & (pp.origin == 2) & pp.foreign_born & ~pp.is_bis & (age >= 18) & (age <= 60)
    # durable local anchoring: still resident when the decisions end (their work permits follow)
    cand &= sim.res.at(pp.n, epoch_day(2012, 12, 31), "region") > 0
    target = int(round(25_000 * demo.scale))
    rh = demo.register_history
    marked = np.zeros(pp.n, bool)
    marked_dates = np.zeros(pp.n, np.int32)
    if rh.height and "residence_reason" in rh.columns:
        r3 = rh.filter(
            (pl.col("residence_reason") == "3")
            & pl.col("decision_date").is_not_null()
            & (pl.col("decision_date").dt.year().is_between(2009, 2013))
        )
        if r3.height:
            ix = person_index(r3, pp)
            ok = ix >= 0
            marked[ix[ok]] = True
            marked_dates[ix[ok]] = r3["decision_date"].cast(pl.Int32).to_numpy()[ok]
    # Flemish work permits: residents of Flanders and Brussels first
    weight = np.where(region == 1, 1.0, np.where(region == 3, 0.7, 0.25))
    key = rng.random(pp.n) / np.maximum(weight, 1e-9)
    key[marked] = -1.0
    lo, hi = epoch_day(2010, 1, 15), epoch_day(2012, 6, 30)
    u = rng.beta(1.3, 2.2, pp.n)
    dates = np.where(marked, marked_dates, (lo + u * (hi - lo)).astype(np.int32))
    # a regularised person had no legal residence before the decision, and the nationality code
    # asks years of legal residence before a foreigner becomes Belgian (five from 1 January 2013;
    # docs/domain_facts.md 3.8): only persons still foreign then are candidates
    cand &= belgian_from(demo, pp) > dates.astype(np.int64) + int(LEGAL_RESIDENCE_YEARS * YEAR_DAYS)
    pool = np.flatnonzero(cand | marked)
    chosen = pool[np.argsort(key[pool], kind="stable")[:target]]
    chosen.sort()
    dates = dates[chosen]
    return pl.DataFrame(
        {
            "insz": pp.insz.gather(pl.Series(chosen.astype(np.uint32))),
            "measure": pl.Series(["durable_local_anchoring"] * chosen.size, dtype=pl.String),
            "decision_date": pl.Series(dates).cast(pl.Date),
        }
    )


# ---------------------------------------------------------------- seed 001
_JS_MEASURES = (
    ("werkervaring", "WEP+", 0.22, 365),
    ("opleiding", "IBO", 0.22, 150),
    ("opleiding", "beroepsopleiding", 0.30, 120),
    ("activering", "TAZ", 0.10, 365),
    ("sociale_economie", "LDE", 0.08, 730),
    ("activering", "GTB", 0.08, 240),
)


def collect_measure_candidates(
    sim: Simulation,
    present: np.ndarray,
    region: np.ndarray,
    age: np.ndarray,
    rng: np.random.Generator,
    year: int,
    quarter: int,
    q0: int,
    ndays: int,
) -> None:
    st, pp = sim.st, sim.people
    t = (year - sim.demo.first_year) * 4 + quarter - 1
    if not (2014, 3) <= (year, quarter) <= (2016, 2):
        return
    fl = present & (region == 1)
    rows: dict[str, np.ndarray] = {}
    if (2014, 3) <= (year, quarter) <= (2016, 2):
        # job seekers for at least a quarter flow into a measure during this quarter
        js = np.flatnonzero(
            fl & (st.macro == labour_params.UNEMP) & (st.since < t) & (rng.random(pp.n) < 0.035)
        )
        kind = np.minimum(
            np.searchsorted(np.cumsum([m[2] for m in _JS_MEASURES]), rng.random(js.size)),
            len(_JS_MEASURES) - 1,
        )
        inflow = q0 + (rng.random(js.size) * ndays).astype(np.int32)
        dur = (np.array([m[3] for m in _JS_MEASURES])[kind] * (0.3 + 0.7 * rng.random(js.size))).astype(
            np.int32
        )
        rows = {
            "idx": js,
            "kind": kind.astype(np.int8),
            "inflow": inflow,
            "outflow": inflow + dur,
            "workers": np.zeros(js.size, bool),
            "disab": st.js_cat[js] == 4,
        }
        sim.measure_rows.append(rows)
    if year == 2015 and quarter == 2:
        emp_codes = np.array([labour_params.CODE_INDEX[c] for c in labour_params.EMPLOYEE_CODES], np.int8)
        wk = fl & np.isin(st.fine, emp_codes)
        older = wk & (age >= 55) & (rng.random(pp.n) < 0.30)
        younger = wk & (age < 25) & (pp.edu == 0) & (rng.random(pp.n) < 0.30)
        vop = wk & (((st.wflag & 2) > 0) | (rng.random(pp.n) < 0.004))
        maatwerk = wk & (pp.edu == 0) & (rng.random(pp.n) < 0.004)
        for k, m in enumerate((older, younger, vop, maatwerk)):
            ix = np.flatnonzero(m)
            start_q = np.maximum(st.job_since[ix], t - 12).astype(np.int64)
            inflow = quarter_start_days(sim.demo.first_year, start_q) + (rng.random(ix.size) * 89).astype(
                np.int32
            )
            outflow = np.where(
                rng.random(ix.size) < 0.25, inflow + (365 + rng.random(ix.size) * 700).astype(np.int32), -1
            )
            sim.measure_rows.append(
                {
                    "idx": ix,
                    "kind": np.full(ix.size, len(_JS_MEASURES) + k, np.int8),
                    "inflow": inflow,
                    "outflow": outflow.astype(np.int32),
                    "workers": np.ones(ix.size, bool),
                    "disab": np.full(ix.size, k >= 2),
                }
            )


_WORKER_MEASURES = (
    ("doelgroepvermindering", "oudere_werknemers"),
    ("doelgroepvermindering", "jongere_werknemers"),
    ("VOP", "VOP"),
    ("sociale_economie", "maatwerk"),
)


def measure_frame(sim: Simulation) -> pl.DataFrame:

    if not sim.measure_rows:
        return empty_frame("measure_beneficiary")
    r = {k: np.concatenate([m[k] for m in sim.measure_rows]) for k in sim.measure_rows[0]}
    pp = sim.people
    last_day = epoch_day(sim.demo.last_year, 12, 31)
    outflow = np.where((r["outflow"] < 0) | (r["outflow"] > last_day), -1, r["outflow"])
    outflow = np.where((outflow >= 0) & (outflow > pp.death[r["idx"]]), pp.death[r["idx"]], outflow)
    names = [(m[0], m[1]) for m in _JS_MEASURES] + list(_WORKER_MEASURES)
    rng = np.random.default_rng([sim.seed, 7401])
    disab = r["disab"] | (rng.random(r["idx"].size) < 0.03)
    df = pl.DataFrame(
        {
            "insz": pp.insz.gather(pl.Series(r["idx"].astype(np.uint32))),
            "measure_type": pl.Series([n[0] for n in names]).gather(pl.Series(r["kind"].astype(np.uint32))),
            "measure_subtype": pl.Series([n[1] for n in names]).gather(
                pl.Series(r["kind"].astype(np.uint32))
            ),
            "targets_workers": pl.Series(r["workers"], dtype=pl.Boolean),
            "education_level": pl.Series(["low", "medium", "high"]).gather(
                pl.Series(pp.edu[r["idx"]].astype(np.uint32))
            ),
            "work_disability": pl.Series(disab, dtype=pl.Boolean),
            "inflow_date": pl.Series(r["inflow"].astype(np.int32)).cast(pl.Date),
            "outflow_date": pl.Series(outflow.astype(np.int32)).cast(pl.Date),
        }
    )
    df = df.with_columns(
        pl.when(pl.Series(outflow >= 0)).then(pl.col("outflow_date")).otherwise(None).alias("outflow_date")
    )
    return df.unique(subset=["insz", "measure_type", "inflow_date"], keep="first", maintain_order=True)


# ---------------------------------------------------------------- seed 003
def flemish_staff_frame(sim: Simulation, year: int) -> pl.DataFrame:
    """Staff at the end of ``year``: Flemish residents aged 18-65 whose main job (Q4) is with an entity."""

    st, pp = sim.st, sim.people
    present, region, age = sim.last_present, sim.last_region, sim.last_age
    emp_codes = np.array([labour_params.CODE_INDEX[c] for c in labour_params.EMPLOYEE_CODES], np.int8)
    m = present & (region == 1) & np.isin(st.fine, emp_codes) & (st.emp1 >= 0) & (age >= 18) & (age <= 65)
    ix = np.flatnonzero(m)
    ent = sim.emp.entity[st.emp1[ix]]
    keep = ent >= 0
    ix, ent = ix[keep], ent[keep]
    if not ix.size:
        return empty_frame("flemish_staff")
    isced = pp.isced[ix]
    level = np.select([isced >= 7, isced >= 5, isced >= 3], [0, 1, 2], 3)
    rng = np.random.default_rng([sim.seed, 7402, year])
    # some staff work below their diploma level (one level lower)
    down = (rng.random(ix.size) < 0.15) & (level < 3)
    level = np.where(down, level + 1, level)
    ents = sim.entities
    return pl.DataFrame(
        {
            "year": pl.Series(np.full(ix.size, year, np.int16), dtype=pl.Int16),
            "insz": pp.insz.gather(pl.Series(ix.astype(np.uint32))),
            "policy_domain": ents["policy_domain"].gather(pl.Series(ent.astype(np.uint32))),
            "entity": ents["entity"].gather(pl.Series(ent.astype(np.uint32))),
            "level": pl.Series(list(codes.FLEMISH_STAFF_LEVEL)).gather(pl.Series(level.astype(np.uint32))),
            "position": pl.Series(list(codes.STATUTE)).gather(pl.Series(st.statute[ix].astype(np.uint32))),
            "regime": pl.Series(np.where(st.pct[ix] == 100, "FT", "PT"), dtype=pl.String),
        }
    )
