"""Turning one quarter of the labour simulation into contract rows.

Rows are first collected as small-dtype NumPy arrays per quarter (person index, code indexes,
day numbers); strings (INSZ, employer numbers, codes) are only materialised when the yearly
Polars frame is built, by gathering from short lookup series.
"""

from collections.abc import Iterator
from datetime import date

import numpy as np
import polars as pl

from cohort.classifications import codes, incapacity
from cohort.classifications.classes import quarter_last_day, status_flag_bit
from cohort.warehouse import labour_params
from cohort.warehouse.columns import arg_sort, code_labels
from cohort.warehouse.labour import (
    BEN_CATEGORIES,
    BENEFIT_CATEGORY_INDEX,
    BENEFIT_INDEX,
    BENEFITS,
    JC_BLUE,
    JC_WHITE,
    JOBSEEKER_CATEGORY_INDEX,
    JOINT_COMMITTEE_INDEX,
    JOINT_COMMITTEES,
    JS_CATEGORIES,
    MED_ICD10,
    MED_ICPC2,
    NACE_LIST,
    Simulation,
    empty_frame,
    in_codes,
    pick_employer,
    quarter_start_days,
)

Rows = dict[str, np.ndarray]
EMP_CODES = np.array([labour_params.CODE_INDEX[c] for c in labour_params.EMPLOYEE_CODES], np.int8)
SELF_CODES = np.array([labour_params.CODE_INDEX[c] for c in labour_params.SELF_CODES], np.int8)
WORKING = np.array([labour_params.CODE_INDEX[c] for c in labour_params.CODES if c.startswith("1")], np.int8)
WORKER_CLASS = tuple(codes.WORKER_CLASS)
WORKER_CODES = tuple(codes.WORKER_CODE)
WORKER_CODE_INDEX = {c: i for i, c in enumerate(WORKER_CODES)}
CB_SECTORS = tuple(codes.CAREER_BREAK_SECTOR)
CB_REASONS = tuple(codes.CAREER_BREAK_REASON)
CB_MOTIVES = tuple(codes.CAREER_BREAK_MOTIVE)
CB_ADJUSTMENTS = tuple(codes.CAREER_BREAK_ADJUSTMENT)
ACTIVATION_PRIOR = tuple(codes.ACTIVATION_PRIOR_STATUS)
ACTIVATION_PRIOR_P = np.array([0.6, 0.2, 0.15, 0.05])
AID_KINDS = tuple(codes.SOCIAL_AID_KIND)
BENEFIT_DETAIL = ("cb_sector", "cb_statute", "cb_reason", "cb_motive", "cb_adjust", "aid_kind")
PUBLIC_SECTOR = np.array([s[4] for s in labour_params.SECTORS])
SECTOR_EDUCATION = next(i for i, s in enumerate(labour_params.SECTORS) if s[0] == "education")
# Shares of the RVA/POD MI detail that have no published Flemish figure in the repository: plausible
# values, documented in docs/warehouse.md.
P_OTHER_ESTABLISHMENT = 0.3  # jobs at 100+ employers in an establishment with another activity
P_THEMATIC_LEAVE = 0.35  # of career breaks
P_EQUIVALENT_INTEGRATION_INCOME = 0.6  # of the social aid of foreigners without the leefloon right
P_OD_PERMANENT = 0.004  # persons with a permanent occupational-disease allowance, from 40 to 64
P_OD_PERMANENT_65 = 0.01  # from 65 (most such allowances are paid to pensioners)
# An invalid under 21 keeps the ordinary child benefit of a child with an affection, from 1 September
# of the year of the 18th birthday to the month of the 21st (socialsecurity.be, "Kinderbijslag voor niet
# meer leerplichtige kinderen met een handicap"), when the FOD Sociale Zekerheid recognises the
# affection. Invalidity before 21 (a year of incapacity after a first job) rests on a serious affection;
# no published share recognised: about half, a plausible value.
P_YOUNG_INVALID_ENTITLED_CHILD = 0.5
YOUNG_INVALID_MAX_AGE = 20  # completed years: to the month of the 21st birthday
# The position left during a quarter whose benefit is paid up to the day before the new position
# (left_benefit_rows): (positions left, positions entered, benefit). The flows are the simulation's.
LEFT_BENEFITS = (
    (("211", "212", "213", "32"), labour_params.SELF_CODES, "unemployment"),  # starting as self-employed
    (("371",), ("34", "123", "133"), "invalidity"),  # an invalid reaching the pension
    (("31",), ("331", "332"), "career_break"),  # a full career break ending in OCMW support
)
STATUTE = tuple(codes.STATUTE)
CONTRACT = ("I", "F", "T")
PERF = tuple(codes.PERFORMANCE_TYPE)
SIZE_CLASS = tuple(str(i) for i in range(10))
SE_CATEGORY = tuple(codes.SELF_EMPLOYED_CATEGORY)
PES = tuple(codes.PES)
DAYS_TYPE = tuple(codes.INCAPACITY_DAYS_TYPE)
MED_TYPE = tuple(codes.MEDICAL_CODE_TYPE)
MED_CODES = tuple(sorted(set(MED_ICD10) | set(MED_ICPC2)))
MED_INDEX = {c: i for i, c in enumerate(MED_CODES)}
MED_ICD10_IDX = np.array([MED_INDEX[c] for c in MED_ICD10], np.int8)
MED_ICPC2_IDX = np.array([MED_INDEX[c] for c in MED_ICPC2], np.int8)


def _bit(name: str) -> np.int64:
    return np.int64(status_flag_bit(name))


def _cat(*chunks: Rows) -> Rows:
    chunks = tuple(c for c in chunks if c and next(iter(c.values())).size)
    if not chunks:
        return {}
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def stable_uniform(salt: int, *keys: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per row, a hash of ``keys`` (integers) and ``salt``: the same
    person, employer or spell gets the same draw in every quarter, and the simulation's random
    streams are not touched (the other tables stay as they were)."""
    mixed = np.full(np.asarray(keys[0]).shape, np.uint64((salt * 0x9E3779B97F4A7C15) % 2**64), np.uint64)
    with np.errstate(over="ignore"):
        for k in keys:
            mixed ^= np.asarray(k).astype(np.int64).astype(np.uint64) + np.uint64(0x632BE59BD9B4E019)
            # splitmix64 finaliser
            mixed ^= mixed >> np.uint64(30)
            mixed *= np.uint64(0xBF58476D1CE4E5B9)
            mixed ^= mixed >> np.uint64(27)
            mixed *= np.uint64(0x94D049BB133111EB)
            mixed ^= mixed >> np.uint64(31)
    return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def incapacity_start_days(payment_start: np.ndarray, employee: np.ndarray) -> np.ndarray:
    """The first day of incapacity (days since 1970) of health-fund spells whose payment starts on
    ``payment_start``: the guaranteed-wage days earlier for an employee, the same day for the others
    (the rule and its source: cohort/classifications/incapacity.py)."""
    wage_days = np.where(employee, incapacity.GUARANTEED_WAGE_DAYS, 0)
    return (np.asarray(payment_start, np.int64) - wage_days).astype(np.int32)


def resumption_incapacity_start(idx: np.ndarray, resumption_start: np.ndarray) -> np.ndarray:
    """The first day of incapacity of an invalid who resumes work in part (authorised work under
    invalidity), whose earlier spell the simulation does not hold: between one and three years
    before the resumption (a plausible spread, no published one), so that the invalidity had begun
    when the work resumed. A hash of the person and the resumption, not a draw of the simulation's
    streams: every quarter of the resumption carries the same day, and the other tables stay."""
    days_before = 366 + (stable_uniform(24_013, idx, resumption_start) * 2 * 365).astype(np.int64)
    return (np.asarray(resumption_start, np.int64) - days_before).astype(np.int32)


def career_break_detail(
    sector: np.ndarray,
    statute: np.ndarray,
    age: np.ndarray,
    partial: np.ndarray,
    person: np.ndarray,
    start: np.ndarray,
) -> dict[str, np.ndarray]:
    """The RVA career-break file's detail of a spell (code indexes): the sector from the person's
    job (education, other public services, private), the reason (thematic leave, the ordinary
    career break or time credit, the end-of-career reduction of a partial break from 50), the
    motive and the adjustment of the allowance. Drawn per person and spell start, so every
    quarter of a spell carries the same detail."""
    u1 = stable_uniform(24_001, person, start)
    u2 = stable_uniform(24_002, person, start)
    public = PUBLIC_SECTOR[sector] | (statute == 1)
    sec = np.where(sector == SECTOR_EDUCATION, 2, np.where(public, 1, 0)).astype(np.int8)
    thematic = u1 < P_THEMATIC_LEAVE
    end_of_career = partial & (age >= 50) & ~thematic
    reason = np.where(thematic, 2, np.where(end_of_career, 3, np.where(sec == 0, 0, 1))).astype(np.int8)
    # thematic leave: mostly parental leave; time credit with a motive (care, training) or without
    motive = np.where(
        thematic,
        np.where(u2 < 0.8, 1, np.where(u2 < 0.95, 2, 3)),
        np.where(reason == 0, np.where(u2 < 0.55, 1, np.where(u2 < 0.7, 2, np.where(u2 < 0.8, 4, 0))), 0),
    ).astype(np.int8)
    adjustment = np.where(
        (age >= 50) & ~thematic,
        2,
        np.where(thematic & (u2 > 0.85), 1, np.where(u1 > 0.95, 4, np.where(u1 > 0.9, 3, 0))),
    ).astype(np.int8)
    return {
        "cb_sector": sec,
        "cb_statute": np.asarray(statute, np.int8),
        "cb_reason": reason,
        "cb_motive": motive,
        "cb_adjust": adjustment,
    }


def _job_detail(
    sim: Simulation,
    t: int,
    idx: np.ndarray,
    employer: np.ndarray,
    wclass: np.ndarray,
    statute: np.ndarray,
    pct: np.ndarray,
    may_be_activated: np.ndarray,
) -> Rows:
    """The DMFA worker code, the establishment's NACE code and the RVA activation detail of job
    rows (code indexes and day numbers, -1 for null)."""
    st, emp = sim.st, sim.emp
    u = stable_uniform(24_003, idx)
    # worker code within the worker class: apprentices and students split by the class of their work
    code = np.select(
        [wclass == 0, wclass == 1, wclass == 2],
        [WORKER_CODE_INDEX["015"], WORKER_CODE_INDEX["495"], WORKER_CODE_INDEX["675"]],
        default=np.select(
            [u < 0.25, u < 0.5, u < 0.75],
            [WORKER_CODE_INDEX["035"], WORKER_CODE_INDEX["439"], WORKER_CODE_INDEX["840"]],
            default=WORKER_CODE_INDEX["841"],
        ),
    )
    code = np.where((wclass == 2) & (statute == 0), WORKER_CODE_INDEX["495"], code)  # contractual staff
    # large employers have establishments with another activity (a head office, a depot, a shop)
    nace = emp.nace[employer].astype(np.int32)
    other = (emp.size_class[employer] >= 6) & (stable_uniform(24_004, idx, employer) < P_OTHER_ESTABLISHMENT)
    shift = 1 + (stable_uniform(24_005, employer) * 3).astype(np.int32)
    est = np.where(other, (nace + shift) % len(NACE_LIST), nace)
    # an activated job (the same rule as the status flag activation_rva)
    since = st.job_since[idx].astype(np.int64)
    active = may_be_activated & st.activation[idx] & (t - since < labour_params.ACTIVATION_QUARTERS)
    q_start = quarter_start_days(sim.demo.first_year, since)
    start = q_start + (stable_uniform(24_006, idx, since) * 60).astype(np.int32)
    end = quarter_start_days(sim.demo.first_year, since + labour_params.ACTIVATION_QUARTERS)
    prior = np.minimum(
        np.searchsorted(np.cumsum(ACTIVATION_PRIOR_P), stable_uniform(24_007, idx, since)),
        ACTIVATION_PRIOR_P.size - 1,
    )
    return {
        "wcode": code.astype(np.int8),
        "est_nace": est.astype(np.int16),
        "act_prior": np.where(active, prior, -1).astype(np.int8),
        "act_pct": np.where(active, pct, np.nan),
        "act_start": np.where(active, start, -1).astype(np.int32),
        "act_end": np.where(active, end, -1).astype(np.int32),
    }


def left_benefit_rows(
    sim: Simulation,
    t: int,
    year: int,
    q0: int,
    ndays: int,
    pos: np.ndarray,
    age: np.ndarray,
    growth: float,
    written: list[Rows],
) -> dict[str, dict]:
    """The benefit of the position a person left during the quarter (``LEFT_BENEFITS``), paid from
    the quarter's start (or the spell's) up to the day before the new position, as the arguments
    of ``quarter_rows``' ``add`` per benefit. The DWH holds every benefit paid or open at some time
    in a quarter; these are the changes that make seed 002's status combinations (an unemployment
    benefit beside a new self-employed affiliation, an invalidity benefit beside the first pension,
    a career break beside OCMW support). Nobody gets a second row of a benefit already ``written``
    for the quarter (the contract's key)."""
    st = sim.st
    new_day = st.since_day
    moved = (st.since == t) & (st.left_fine >= 0) & (new_day > q0)
    out: dict[str, dict] = {}
    for left_codes, entered_codes, benefit in LEFT_BENEFITS:
        held = np.zeros(pos.size, bool)
        for rows in written:
            held[rows["idx"][rows["benefit"] == BENEFIT_INDEX[benefit]]] = True
        idx = np.flatnonzero(
            moved
            & ~held
            & in_codes(st.left_fine, [labour_params.CODE_INDEX[c] for c in left_codes])
            & in_codes(pos, [labour_params.CODE_INDEX[c] for c in entered_codes])
        )
        share = (new_day[idx] - q0) / ndays
        bdays = np.maximum(np.round(labour_params.BENEFIT_DAYS * share), 1)
        start = st.left_since_day[idx]
        rows: dict = {"idx": idx, "bdays": bdays, "start": start, "end": new_day[idx], "fraction": 1.0}
        if benefit == "unemployment":
            left = st.left_fine[idx]
            level = np.select(
                [left == labour_params.CODE_INDEX[c] for c in ("211", "212", "213")], [1.0, 0.5, 0.62], 0.9
            )
            daily = (
                labour_params.UNEMP_DAILY[0]
                + (labour_params.UNEMP_DAILY[1] - labour_params.UNEMP_DAILY[0]) * ((idx * 7919) % 100) / 100.0
            )
            category = np.select(
                [left == labour_params.CODE_INDEX[c] for c in ("211", "212", "213")],
                [
                    BENEFIT_CATEGORY_INDEX["after_full_time_work"],
                    BENEFIT_CATEGORY_INDEX["after_voluntary_part_time"],
                    BENEFIT_CATEGORY_INDEX["waiting_allowance" if year < 2012 else "integration_allowance"],
                ],
                BENEFIT_CATEGORY_INDEX["exempted"],
            )
            unemployed = left != labour_params.CODE_INDEX["32"]
            rows |= {
                "category": category,
                "amount": daily * level * growth * bdays,
                "start": np.where(unemployed, st.ustart[idx], start),
                "fraction": np.where(left == labour_params.CODE_INDEX["212"], 0.5, 1.0),
            }
        elif benefit == "invalidity":
            # a year of incapacity before the pension: invalidity (a shorter spell would be primary
            # incapacity, and is left out: the pension's combination is with invalidity)
            keep = (t - st.left_since[idx]) >= 4
            rows = {
                key: value[keep] if isinstance(value, np.ndarray) else value for key, value in rows.items()
            }
            idx = rows["idx"]
            medtype = st.medtype[idx]
            rows |= {
                "incapacity_start": incapacity_start_days(rows["start"], st.left_from_job[idx]),
                "category": BENEFIT_CATEGORY_INDEX["invalidity"],
                "amount": 50.0 * growth * rows["bdays"],
                "days_type": 1,
                "medtype": medtype,
                "medcode": np.where(
                    medtype == 0, MED_ICD10_IDX[st.medcode[idx]], MED_ICPC2_IDX[st.medcode[idx]]
                ),
            }
        else:
            rows |= {
                "category": BENEFIT_CATEGORY_INDEX["full"],
                "amount": 1500.0 * growth * share,
                "detail": career_break_detail(
                    st.sector[idx], st.statute[idx], age[idx], np.zeros(idx.size, bool), idx, start
                ),
            }
        out[benefit] = rows
    return out


def _growth(year: int) -> float:
    return float((1 + labour_params.WAGE_GROWTH) ** (year - 2019))


def quarter_rows(
    sim: Simulation,
    t: int,
    year: int,
    quarter: int,
    q0: int,
    d: int,
    present: np.ndarray,
    frontier: np.ndarray,
    region: np.ndarray,
    adg: np.ndarray,
    waiting: np.ndarray,
    age: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Rows]:
    pp, st, emp = sim.people, sim.st, sim.emp
    n = pp.n
    ndays = d - q0 + 1
    g = _growth(year)
    fine = st.fine
    # the position of each person present, -1 for the others (no code is negative): one array
    # to compare instead of ``present & (fine == code)``, two passes and a temporary, each time
    pos = np.where(present, fine, np.int8(-1))
    working = in_codes(pos, WORKING)
    # frontier workers (BIS numbers living abroad) keep one cross-border job
    fi = np.flatnonzero(frontier)
    if fi.size:
        no_job = fi[st.emp1[fi] < 0]
        if no_job.size:
            sec = sim.draw_sector(no_job, rng)
            st.sector[no_job] = sec
            st.emp1[no_job] = pick_employer(emp, sec, rng.random(no_job.size))
            st.wclass[no_job] = (rng.random(no_job.size) < 0.6).astype(np.int8) ^ 1
            st.pct[no_job] = 100
            st.perf[no_job] = 0
            st.job_since[no_job] = t
    frontier_fine = np.full(fi.size, labour_params.CODE_INDEX["111"], np.int8)

    # ------------------------------------------------ jobs
    has_job = in_codes(pos, EMP_CODES)
    ji = np.concatenate([np.flatnonzero(has_job), fi])
    cross = np.concatenate([np.zeros(ji.size - fi.size, bool), np.ones(fi.size, bool)])
    k = ji.size
    sec = st.sector[ji]
    employer = st.emp1[ji]
    a = age[ji]
    agef = 0.72 + 0.28 * np.clip((a - 18) / 17.0, 0, 1) + 0.12 * np.clip((a - 35) / 15.0, 0, 1)
    wc = st.wclass[ji]
    daily = (
        np.exp(st.lw_person[ji])
        * labour_params.WAGE_BASE_2019[pp.edu[ji]]
        * agef
        * np.where(pp.female[ji], labour_params.WAGE_FEMALE, 1.0)
        * labour_params.SECTOR_WAGE[sec]
        * np.where(wc == 0, 0.88, 1.0)
        * np.where(wc == 3, 0.55, 1.0)
        * g
    )
    pct = st.pct[ji].astype(np.float64)
    frac = np.where(st.job_since[ji] == t, 0.2 + 0.8 * rng.random(k), 1.0)
    days = np.round(labour_params.FT_DAYS * pct / 100.0 * frac)
    maternity = pp.female[ji] & (a >= 20) & (a <= 42) & ~cross & (rng.random(k) < labour_params.P_MATERNITY_Q)
    incap = ~cross & ~maternity & (rng.random(k) < labour_params.P_WORK_INCAPACITY_Q)
    incap_days = np.minimum(np.round(5 + 40 * rng.random(k)), days)
    days = np.where(maternity, np.round(days * 0.35), np.where(incap, days - incap_days, days))
    gross = daily * days
    fte = np.minimum(days / labour_params.FT_DAYS, 1.5)
    jc = np.where(wc == 1, JC_WHITE[sec], JC_BLUE[sec])
    jc = np.where(wc == 2, JOINT_COMMITTEE_INDEX["999"], jc)
    if year < 2015 or (year == 2015 and quarter == 1):
        jc = np.where(jc == JOINT_COMMITTEE_INDEX["200"], JOINT_COMMITTEE_INDEX["218"], jc)
    vouchers = (sec == labour_params.CLEANING) & (employer % 2 == 0)
    job1 = {
        "idx": ji,
        "employer": employer,
        "rank": np.ones(k, np.int8),
        "nace": emp.nace[employer],
        "jc": jc.astype(np.int8),
        "wclass": wc,
        "statute": st.statute[ji],
        "contract": st.contract[ji],
        "perf": st.perf[ji],
        "pct": pct,
        "fte": fte,
        "days": days.astype(np.int16),
        "gross": gross,
        "daily": daily,
        "size": emp.size_class[employer],
        "vouchers": vouchers,
        "maternity": maternity,
        "cross": cross,
        "posted": cross & (ji % 23 == 0),
        **_job_detail(sim, t, ji, employer, wc, st.statute[ji], pct, ~cross),
    }
    m2 = np.flatnonzero(pos == labour_params.CODE_INDEX["112"])
    k2 = m2.size
    # a second job is with another employer: one (person, employer, quarter) is one row of the contract
    e2 = st.emp2[m2]
    e2 = np.where(e2 == st.emp1[m2], (e2 + 1) % emp.nace.size, e2)
    sec2 = emp.sector[e2]
    pct2 = st.pct2[m2].astype(np.float64)
    days2 = np.round(labour_params.FT_DAYS * pct2 / 100.0 * (0.5 + 0.5 * rng.random(k2)))
    a2 = age[m2]
    agef2 = 0.72 + 0.28 * np.clip((a2 - 18) / 17.0, 0, 1)
    daily2 = (
        np.exp(st.lw_person[m2])
        * labour_params.WAGE_BASE_2019[pp.edu[m2]]
        * agef2
        * 0.85
        * labour_params.SECTOR_WAGE[sec2]
        * g
    )
    jc2 = JC_WHITE[sec2].copy()
    if year < 2015 or (year == 2015 and quarter == 1):
        jc2 = np.where(jc2 == JOINT_COMMITTEE_INDEX["200"], JOINT_COMMITTEE_INDEX["218"], jc2)
    job2 = {
        "idx": m2,
        "employer": e2,
        "rank": np.full(k2, 2, np.int8),
        "nace": emp.nace[e2],
        "jc": jc2.astype(np.int8),
        "wclass": np.ones(k2, np.int8),
        "statute": np.zeros(k2, np.int8),
        "contract": np.zeros(k2, np.int8),
        "perf": np.ones(k2, np.int8),
        "pct": pct2,
        "fte": np.minimum(days2 / labour_params.FT_DAYS, 1.5),
        "days": days2.astype(np.int16),
        "gross": daily2 * days2,
        "daily": daily2,
        "size": emp.size_class[e2],
        "vouchers": (sec2 == labour_params.CLEANING) & (e2 % 2 == 0),
        "maternity": np.zeros(k2, bool),
        "cross": np.zeros(k2, bool),
        "posted": np.zeros(k2, bool),
        **_job_detail(sim, t, m2, e2, np.ones(k2, np.int8), np.zeros(k2, np.int8), pct2, np.zeros(k2, bool)),
    }

    # ------------------------------------------------ self-employment
    si = np.flatnonzero(in_codes(pos, SELF_CODES))
    sf = fine[si]
    se_cat = np.where(
        np.isin(
            sf,
            [
                labour_params.CODE_INDEX["122"],
                labour_params.CODE_INDEX["132"],
                labour_params.CODE_INDEX["141"],
            ],
        ),
        1,
        np.where(np.isin(sf, [labour_params.CODE_INDEX["123"], labour_params.CODE_INDEX["133"]]), 2, 0),
    ).astype(np.int8)
    quality = np.isin(
        sf,
        [
            labour_params.CODE_INDEX["131"],
            labour_params.CODE_INDEX["132"],
            labour_params.CODE_INDEX["133"],
            labour_params.CODE_INDEX["143"],
        ],
    ).astype(np.int8)
    income = np.exp(st.se_lincome[si]) * np.array([1.0, 0.35, 0.4])[se_cat] * g
    selfemp = {
        "idx": si,
        "cat": se_cat,
        "quality": quality,
        "nace": st.se_nace[si],
        "start": st.se_since_day[si],
        "income": income,
    }

    # ------------------------------------------------ benefits
    ben: list[Rows] = []

    def add(
        idx: np.ndarray,
        benefit: str,
        category: np.ndarray | int,
        amount: np.ndarray,
        bdays: np.ndarray,
        start: np.ndarray,
        fraction: np.ndarray | float,
        end: np.ndarray | None = None,
        days_type: np.ndarray | int = -1,
        medtype: np.ndarray | int = -1,
        medcode: np.ndarray | int = -1,
        related: np.ndarray | None = None,
        detail: Rows | None = None,
        incapacity_start: np.ndarray | int = -1,
    ) -> None:
        m = idx.size
        if not m:
            return
        detail = detail or {}

        def full(v, dt):  # noqa: ANN001, ANN202
            return np.broadcast_to(np.asarray(v, dtype=dt), (m,)).copy()

        ben.append(
            {
                "idx": idx.astype(np.int32),
                "benefit": full(BENEFIT_INDEX[benefit], np.int8),
                "category": full(category, np.int16),
                "amount": np.round(np.asarray(amount, np.float64), 2) * np.ones(m),
                "days": np.clip(full(bdays, np.int16), 0, 92),
                "start": full(start, np.int32),
                "end": full(-1 if end is None else end, np.int32),
                "fraction": full(fraction, np.float64),
                "days_type": full(days_type, np.int8),
                "medtype": full(medtype, np.int8),
                "medcode": full(medcode, np.int8),
                "related": full(-1 if related is None else related, np.int32),
                "incapacity_start": full(incapacity_start, np.int32),
                **{k: full(detail.get(k, -1), np.int8) for k in BENEFIT_DETAIL},
            }
        )

    def bdays_since(start: np.ndarray, full_days: int = labour_params.BENEFIT_DAYS) -> np.ndarray:
        share = np.clip((d - np.maximum(start, q0) + 1) / ndays, 0, 1)
        return np.maximum(np.round(full_days * share), 1)

    def med(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mt = st.medtype[idx]
        mc = np.where(mt == 0, MED_ICD10_IDX[st.medcode[idx]], MED_ICPC2_IDX[st.medcode[idx]])
        return mt, mc

    since_day = st.since_day
    # unemployment benefits of job seekers and exempted
    for code, cat, level, frac in (
        ("211", "after_full_time_work", 1.0, 1.0),
        ("212", "after_voluntary_part_time", 0.5, 0.5),
        ("213", "waiting_allowance" if year < 2012 else "integration_allowance", 0.62, 1.0),
        ("32", "exempted", 0.9, 1.0),
    ):
        idx = np.flatnonzero(pos == labour_params.CODE_INDEX[code])
        start = st.ustart[idx] if code != "32" else since_day[idx]
        bd = bdays_since(start)
        rate = (
            (
                labour_params.UNEMP_DAILY[0]
                + (labour_params.UNEMP_DAILY[1] - labour_params.UNEMP_DAILY[0]) * ((idx * 7919) % 100) / 100.0
            )
            * level
            * g
        )
        add(idx, "unemployment", BENEFIT_CATEGORY_INDEX[cat], rate * bd, bd, start, frac)
    wi = np.flatnonzero(working)
    igu = wi[st.perf[wi] == 2]
    add(
        igu,
        "unemployment",
        BENEFIT_CATEGORY_INDEX["income_guarantee"],
        22.0 * g * labour_params.BENEFIT_DAYS,
        labour_params.BENEFIT_DAYS,
        np.maximum(st.since_day[igu], 0),
        0.3,
    )
    # social assistance (positions and the workers / job seekers who also receive it)
    soc_amount = np.array([2500.0, 3750.0, 5000.0])
    for code, benefit in (("331", "integration_income"), ("332", "social_aid")):
        idx = np.flatnonzero(pos == labour_params.CODE_INDEX[code])
        bd = bdays_since(since_day[idx], ndays)
        cat = (
            np.full(idx.size, BENEFIT_CATEGORY_INDEX["financial_aid"])
            if benefit == "social_aid"
            else np.array(
                [
                    BENEFIT_CATEGORY_INDEX["cohabitant"],
                    BENEFIT_CATEGORY_INDEX["single"],
                    BENEFIT_CATEGORY_INDEX["family"],
                ]
            )[st.soc_cat[idx]]
        )
        amt = soc_amount[st.soc_cat[idx]] * (0.4 if benefit == "social_aid" else 1.0) * g * bd / ndays
        # the equivalent leefloon goes to foreigners inscribed in the foreigners register without a
        # right to the leefloon; with no register at hand here, a share of the aid of non-Belgian origin
        aid_kind = np.where(
            (pp.origin[idx] > 0)
            & (stable_uniform(24_008, idx, since_day[idx]) < P_EQUIVALENT_INTEGRATION_INCOME),
            0,
            1,
        )
        add(
            idx,
            benefit,
            cat,
            amt,
            bd,
            since_day[idx],
            1.0,
            detail={"aid_kind": aid_kind} if benefit == "social_aid" else None,
        )
    ws = wi[(st.wflag[wi] & 4) > 0]
    add(
        ws,
        "integration_income",
        BENEFIT_CATEGORY_INDEX["cohabitant"],
        900.0 * g,
        ndays,
        st.since_day[ws],
        0.3,
    )
    js05 = np.flatnonzero(
        (pos == labour_params.CODE_INDEX["214"]) & (st.js_cat == JOBSEEKER_CATEGORY_INDEX["05"])
    )
    add(
        js05,
        "integration_income",
        BENEFIT_CATEGORY_INDEX["single"],
        3750.0 * g * bdays_since(st.ustart[js05], ndays) / ndays,
        bdays_since(st.ustart[js05], ndays),
        st.ustart[js05],
        1.0,
    )
    # incapacity and invalidity
    sick = np.flatnonzero(pos == labour_params.CODE_INDEX["371"])
    inval = (t - st.since[sick]) >= 4
    young_invalid = sick[
        inval
        & (age[sick] <= YOUNG_INVALID_MAX_AGE)
        & (stable_uniform(24_012, sick) < P_YOUNG_INVALID_ENTITLED_CHILD)
    ]
    mt, mc = med(sick)
    bd = bdays_since(since_day[sick])
    # the position 371 is the period the health fund pays: the incapacity began a guaranteed-wage
    # month earlier for whoever came from a job
    sick_start = incapacity_start_days(since_day[sick], st.from_job[sick])
    add(
        sick[~inval],
        "incapacity",
        BENEFIT_CATEGORY_INDEX["primary"],
        55.0 * g * bd[~inval],
        bd[~inval],
        since_day[sick[~inval]],
        1.0,
        days_type=0,
        medtype=mt[~inval],
        medcode=mc[~inval],
        incapacity_start=sick_start[~inval],
    )
    add(
        sick[inval],
        "invalidity",
        BENEFIT_CATEGORY_INDEX["invalidity"],
        50.0 * g * bd[inval],
        bd[inval],
        since_day[sick[inval]],
        1.0,
        days_type=1,
        medtype=mt[inval],
        medcode=mc[inval],
        incapacity_start=sick_start[inval],
    )
    for code, benefit in (("372", "occupational_accident"), ("373", "occupational_disease")):
        idx = np.flatnonzero(pos == labour_params.CODE_INDEX[code])
        bd = bdays_since(since_day[idx])
        add(idx, benefit, BENEFIT_CATEGORY_INDEX["temporary"], 60.0 * g * bd, bd, since_day[idx], 1.0)
    # Permanent incapacity for an occupational disease (Fedris): an allowance by the degree of
    # incapacity that goes on beside any position (work, job seeking, career break, pension, SWT),
    # which is what the DWH's combinations with it describe. A stable share of persons from a
    # stable age on; not for those on a temporary occupational-disease benefit that quarter.
    u_od = stable_uniform(24_009, np.arange(n))
    od_age = 40 + 25 * stable_uniform(24_010, np.arange(n))
    permanent = np.flatnonzero(
        (pos >= 0)
        & (pos != labour_params.CODE_INDEX["373"])
        & (age >= od_age)
        & (u_od < np.where(age >= 65, P_OD_PERMANENT_65, P_OD_PERMANENT))
    )
    od_start = pp.birth[permanent] + (od_age[permanent] * 365.25).astype(np.int32)
    degree = np.round(0.05 + 0.6 * stable_uniform(24_011, permanent), 2)
    add(
        permanent,
        "occupational_disease",
        BENEFIT_CATEGORY_INDEX["permanent"],
        1800.0 * g * degree * bdays_since(od_start, ndays) / ndays,
        bdays_since(od_start, ndays),
        od_start,
        degree,
    )
    # workers: incapacity spell in the quarter, partial resumption under invalidity, maternity
    winc = ji[incap]
    start = q0 + (rng.random(winc.size) * max(ndays - 50, 1)).astype(np.int32)
    idays = incap_days[incap]
    mt, mc = med(winc)
    add(
        winc,
        "incapacity",
        BENEFIT_CATEGORY_INDEX["primary"],
        55.0 * g * idays,
        idays,
        start,
        1.0,
        end=start + idays.astype(np.int32),
        days_type=0,
        medtype=mt,
        medcode=mc,
        incapacity_start=incapacity_start_days(start, np.ones(winc.size, bool)),
    )
    wpr = wi[(st.wflag[wi] & 1) > 0]
    mt, mc = med(wpr)
    add(
        wpr,
        "invalidity",
        BENEFIT_CATEGORY_INDEX["partial_resumption"],
        25.0 * g * labour_params.BENEFIT_DAYS,
        labour_params.BENEFIT_DAYS,
        st.since_day[wpr],
        0.5,
        days_type=3,
        medtype=mt,
        medcode=mc,
        incapacity_start=resumption_incapacity_start(wpr, st.since_day[wpr]),
    )
    wm = ji[maternity]
    mstart = q0 + (rng.random(wm.size) * 30).astype(np.int32)
    add(
        wm,
        "maternity",
        BENEFIT_CATEGORY_INDEX["maternity"],
        75.0 * g * 50,
        50,
        mstart,
        1.0,
        end=mstart + 105,
        days_type=2,
        # the maternity rest is paid by the health fund from its first day
        incapacity_start=mstart,
    )
    # disability allowances: IVT position, workers with an integration allowance, social assistance, elderly
    dis = np.flatnonzero(pos == labour_params.CODE_INDEX["38"])
    add(
        dis,
        "disability_allowance",
        BENEFIT_CATEGORY_INDEX["IVT"],
        3300.0 * g * bdays_since(since_day[dis], ndays) / ndays,
        bdays_since(since_day[dis], ndays),
        since_day[dis],
        1.0,
    )
    wd = wi[(st.wflag[wi] & 2) > 0]
    add(wd, "disability_allowance", BENEFIT_CATEGORY_INDEX["IT"], 450.0 * g, ndays, st.since_day[wd], 1.0)
    sd = np.flatnonzero(
        in_codes(pos, [labour_params.CODE_INDEX["331"], labour_params.CODE_INDEX["332"]]) & st.soc_disab
    )
    add(sd, "disability_allowance", BENEFIT_CATEGORY_INDEX["IT"], 900.0 * g, ndays, since_day[sd], 1.0)
    # pensions (also working pensioners 123/133) and early retirement
    pen = np.flatnonzero(
        in_codes(
            pos,
            [
                labour_params.CODE_INDEX["34"],
                labour_params.CODE_INDEX["123"],
                labour_params.CODE_INDEX["133"],
            ],
        )
    )
    pstart = pp.birth[pen] + np.round(st.retire_age[pen].astype(np.float64) * 365.25).astype(np.int32)
    pstart = np.where(pstart > d, since_day[pen], pstart)
    pamt = np.array([3600.0, 4300.0, 5600.0])[pp.edu[pen]] * np.where(pp.female[pen], 0.8, 1.0) * g
    add(pen, "pension", BENEFIT_CATEGORY_INDEX["retirement"], pamt, ndays, pstart, 1.0)
    thab = pen[(pen * 2654435761 % 1000) < 60]
    add(
        thab,
        "disability_allowance",
        BENEFIT_CATEGORY_INDEX["THAB"],
        600.0 * g,
        ndays,
        pstart[(pen * 2654435761 % 1000) < 60],
        1.0,
    )
    early = np.flatnonzero(pos == labour_params.CODE_INDEX["35"])
    ecat = np.where(
        (early % 10) == 0,
        BENEFIT_CATEGORY_INDEX["availability"],
        BENEFIT_CATEGORY_INDEX["brugpensioen"] if year < 2012 else BENEFIT_CATEGORY_INDEX["SWT"],
    )
    add(
        early,
        "early_retirement",
        ecat,
        4800.0 * g * bdays_since(since_day[early], ndays) / ndays,
        bdays_since(since_day[early]),
        since_day[early],
        1.0,
    )
    # career breaks: full (position 31) and partial (working)
    cb = np.flatnonzero(pos == labour_params.CODE_INDEX["31"])
    add(
        cb,
        "career_break",
        BENEFIT_CATEGORY_INDEX["full"],
        1500.0 * g,
        bdays_since(since_day[cb]),
        since_day[cb],
        1.0,
        detail=career_break_detail(
            st.sector[cb], st.statute[cb], age[cb], np.zeros(cb.size, bool), cb, since_day[cb]
        ),
    )
    pcb = wi[(st.pcb[wi] > 0) & has_job[wi]]
    half = st.pcb[pcb] == 2
    add(
        pcb,
        "career_break",
        np.where(half, BENEFIT_CATEGORY_INDEX["partial_1/2"], BENEFIT_CATEGORY_INDEX["partial_1/5"]),
        np.where(half, 900.0, 450.0) * g,
        labour_params.BENEFIT_DAYS,
        st.since_day[pcb],
        np.where(half, 0.5, 0.2),
        detail=career_break_detail(
            st.sector[pcb], st.statute[pcb], age[pcb], np.ones(pcb.size, bool), pcb, st.since_day[pcb]
        ),
    )
    for benefit, rows in left_benefit_rows(sim, t, year, q0, ndays, pos, age, g, ben).items():
        add(**rows, benefit=benefit)
    # child benefit, paid to a parent living in Belgium, one row per child (young invalids included)
    kids = np.union1d(np.flatnonzero((pos == labour_params.CODE_INDEX["36"]) & (age < 25)), young_invalid)
    mom = pp.mother[kids]
    dad = pp.father[kids]
    mom_ok = (mom >= 0) & present[np.maximum(mom, 0)]
    dad_ok = (dad >= 0) & present[np.maximum(dad, 0)]
    recip = np.where(mom_ok, mom, np.where(dad_ok, dad, -1))
    keep = recip >= 0
    kids, recip = kids[keep], recip[keep]
    cb_recipient = np.zeros(n, bool)
    if kids.size:
        order = arg_sort(recip, pp.birth[kids])
        kids, recip = kids[order], recip[order]
        first = np.r_[True, recip[1:] != recip[:-1]]
        grp_start = np.maximum.accumulate(np.where(first, np.arange(kids.size), 0))
        rank = np.arange(kids.size) - grp_start
        cat = np.minimum(rank, 2).astype(np.int16) + BENEFIT_CATEGORY_INDEX["1"]
        amt = np.array([285.0, 528.0, 789.0])[np.minimum(rank, 2)] * (1.02 ** (year - 2019))
        add(recip, "child_benefit", cat, amt, ndays, np.maximum(pp.birth[kids], 0), 1.0, related=kids)
        cb_recipient[recip] = True
    benefit = _cat(*ben)

    # ------------------------------------------------ job seekers
    ui = np.flatnonzero(present & (st.macro == labour_params.UNEMP))
    uf = fine[ui]
    jcat = np.where(
        np.isin(uf, [labour_params.CODE_INDEX["211"], labour_params.CODE_INDEX["212"]]),
        JOBSEEKER_CATEGORY_INDEX["00"],
        np.where(uf == labour_params.CODE_INDEX["213"], JOBSEEKER_CATEGORY_INDEX["02"], st.js_cat[ui]),
    )
    pes = np.where(adg[ui], 3, np.array([0, 0, 1, 2])[region[ui]]).astype(np.int8)
    jobseeker = {
        "idx": ui,
        "cat": jcat.astype(np.int8),
        "pes": pes,
        "reg": st.regday[ui],
        "ustart": st.ustart[ui],
        "sanctioned": np.isin(uf, [labour_params.CODE_INDEX["211"], labour_params.CODE_INDEX["213"]])
        & (rng.random(ui.size) < 0.01),
    }

    # ------------------------------------------------ positions and status flags
    pi = np.concatenate([np.flatnonzero(present), fi])
    pfine = np.concatenate([fine[present], frontier_fine])
    flags = np.zeros(n, np.int64)

    def flag(where: np.ndarray, name: str) -> None:
        # one pass over ``flags``; ``flags[where] |= bit`` finds, gathers and scatters
        np.bitwise_or(flags, _bit(name), out=flags, where=where)

    # employees among the working: ``has_job`` (every employee code is a working code)
    flag(working & st.activation & (t - st.job_since < labour_params.ACTIVATION_QUARTERS), "activation_rva")
    flag(has_job & (st.perf == 2), "working_with_income_guarantee")
    flag(has_job & ((st.wflag & 4) > 0), "working_with_social_assistance")
    flag(has_job & (st.pcb > 0), "working_with_partial_career_break")
    flag(
        in_codes(pos, [labour_params.CODE_INDEX["123"], labour_params.CODE_INDEX["133"]]),
        "working_with_pension",
    )
    flag(has_job & ((st.wflag & 2) > 0), "working_with_disability_allowance")
    flag(has_job & ((st.wflag & 1) > 0), "working_with_invalidity")
    # the permanent occupational-disease allowance beside a working position, social assistance or an exemption
    od_permanent = np.zeros(n, bool)
    od_permanent[permanent] = True
    flag(working & od_permanent, "working_with_occupational_disease")
    flags[winc] |= _bit("working_with_health_fund_incapacity")
    soc = in_codes(pos, [labour_params.CODE_INDEX["331"], labour_params.CODE_INDEX["332"]])
    flag(soc & st.soc_disab, "social_assistance_with_disability_allowance")
    flag(soc & cb_recipient, "social_assistance_with_child_benefit")
    flag(soc & od_permanent, "social_assistance_with_occupational_disease")
    ex = pos == labour_params.CODE_INDEX["32"]
    flag(ex & od_permanent, "exempted_with_occupational_disease")
    for r, name in enumerate(
        ("older_job_seeker", "exempted_for_training", "exempted_family_social", "exempted_other")
    ):
        flag(ex & (st.exempt_reason == r), name)
    flags[ui] |= _bit("registered_at_regional_pes")
    rva = in_codes(pos, [labour_params.CODE_INDEX[c] for c in ("211", "212", "213", "31", "32", "35")])
    rva |= (
        flags
        & (
            _bit("working_with_income_guarantee")
            | _bit("working_with_partial_career_break")
            | _bit("activation_rva")
        )
    ) > 0
    flag(rva, "known_at_rva")
    sep = {"idx": pi, "fine": pfine, "flags": np.concatenate([flags[present], np.zeros(fi.size, np.int64)])}
    return {
        "sep_quarter": sep,
        "job_quarter": _cat(job1, job2),
        "self_employed_quarter": selfemp,
        "benefit_quarter": benefit,
        "jobseeker_quarter": jobseeker,
    }


# ---------------------------------------------------------------- yearly frames
def invalidity_start(quarter_end: date) -> pl.Expr:
    """``benefit_quarter.invalidity_start`` from the row's ``incapacity_start`` and ``spell_end``: the
    end of the primary incapacity (cohort/classifications/incapacity.py) when the spell has reached it
    by the quarter's last day (a later one is not a fact yet: the person may recover first) and did not
    end before it; null otherwise."""
    start = pl.col("incapacity_start").dt.offset_by(incapacity.invalidity_offset())
    reached = (start <= quarter_end) & (pl.col("spell_end").is_null() | (start < pl.col("spell_end")))
    return pl.when(reached).then(start).alias("invalidity_start")


def _dates(days: np.ndarray, nullable: bool = False) -> pl.Series:
    s = pl.Series(np.asarray(days, np.int32))
    if nullable:
        s = pl.select(pl.when(s >= 0).then(s).otherwise(None)).to_series()
    return s.cast(pl.Date)


def _yq(year: int, quarter: int, n: int) -> tuple[pl.Series, pl.Series]:
    return pl.Series("year", np.full(n, year, np.int16)), pl.Series("quarter", np.full(n, quarter, np.int8))


def quarter_frames(
    sim: Simulation, year: int, quarter: int, rows: dict[str, Rows]
) -> Iterator[tuple[str, int, pl.DataFrame]]:
    """The quarterly tables of one quarter, as frames of their year's partition (the writer
    appends the four quarters of a year in order, so a year of rows is never held at once)."""
    insz = sim.people.insz
    empty = {
        name: empty_frame(name)
        for name in (
            "sep_quarter",
            "job_quarter",
            "self_employed_quarter",
            "benefit_quarter",
            "jobseeker_quarter",
        )
    }

    # the rows in key order, as far as integers tell (persons are in INSZ order; the codes and
    # employers by the rank of their text): the writer then finds the part in order and skips its
    # sort on text columns, which at scale 1.0 costs it more than this costs here. Whatever is
    # still out of order the writer sorts, so this is only ever a saving.
    employer_rank = sim.emp.ids.rank("ordinal").to_numpy()
    benefit_rank = _text_rank(BENEFITS)
    minor_keys = {
        "job_quarter": lambda r: [employer_rank[r["employer"]]],
        "benefit_quarter": lambda r: [
            benefit_rank[r["benefit"]],
            np.where(r["related"] >= 0, r["related"], np.iinfo(np.int64).max),
        ],
    }

    def base(name: str) -> tuple[Rows, pl.Series, pl.Series, pl.Series] | None:
        # the table's rows leave ``rows`` here, so they are freed once its frame is written
        r = rows.pop(name)
        if not r or r["idx"].size == 0:
            return None
        keys = [r["idx"], *minor_keys.get(name, lambda r: [])(r)]
        order = arg_sort(*keys) if len(keys) > 1 else np.argsort(keys[0], kind="stable")
        if (np.diff(order) != 1).any():
            r = {k: v[order] for k, v in r.items()}
        y, q = _yq(year, quarter, r["idx"].size)
        return r, y, q, insz.gather(pl.Series(r["idx"].astype(np.uint32)))

    b = base("sep_quarter")
    if b:
        r, y, q, ins = b
        yield (
            "sep_quarter",
            year,
            pl.DataFrame(
                [
                    y,
                    q,
                    ins.alias("insz"),
                    code_labels(labour_params.CODES, r["fine"]).alias("nomenclature"),
                    pl.Series("status_flags", r["flags"], dtype=pl.Int64),
                ]
            ),
        )
    else:
        yield "sep_quarter", year, empty["sep_quarter"]
    b = base("job_quarter")
    if b:
        r, y, q, ins = b
        yield (
            "job_quarter",
            year,
            pl.DataFrame(
                [
                    y,
                    q,
                    ins.alias("insz"),
                    sim.emp.ids.gather(pl.Series(r["employer"].astype(np.uint32))).alias("employer_id"),
                    pl.Series("job_rank", r["rank"], dtype=pl.Int8),
                    code_labels(NACE_LIST, r["nace"]).alias("nace"),
                    code_labels(JOINT_COMMITTEES, r["jc"]).alias("joint_committee"),
                    code_labels(WORKER_CLASS, r["wclass"]).alias("worker_class"),
                    code_labels(WORKER_CODES, r["wcode"]).alias("worker_code"),
                    code_labels(STATUTE, r["statute"]).alias("statute"),
                    code_labels(CONTRACT, r["contract"]).alias("contract_type"),
                    code_labels(PERF, r["perf"]).alias("performance_type"),
                    pl.Series("part_time_pct", r["pct"], dtype=pl.Float64),
                    pl.Series("fte", np.round(r["fte"], 4), dtype=pl.Float64),
                    pl.Series("days", r["days"], dtype=pl.Int16),
                    pl.Series("gross_wage", np.round(r["gross"], 2), dtype=pl.Float64),
                    pl.Series("daily_wage", np.round(r["daily"], 2), dtype=pl.Float64),
                    code_labels(SIZE_CLASS, r["size"]).alias("employer_size_class"),
                    pl.Series("service_vouchers", r["vouchers"], dtype=pl.Boolean),
                    pl.Series("maternity_leave", r["maternity"], dtype=pl.Boolean),
                    pl.Series("cross_border", r["cross"], dtype=pl.Boolean),
                    pl.Series("posted", r["posted"], dtype=pl.Boolean),
                    code_labels(NACE_LIST, r["est_nace"], nullable=True).alias("establishment_nace"),
                    code_labels(ACTIVATION_PRIOR, r["act_prior"], nullable=True).alias(
                        "activation_prior_status"
                    ),
                    pl.Series("activation_pct", r["act_pct"], dtype=pl.Float64, nan_to_null=True),
                    _dates(r["act_start"], nullable=True).alias("activation_start"),
                    _dates(r["act_end"], nullable=True).alias("activation_end"),
                ]
            ),
        )
    else:
        yield "job_quarter", year, empty["job_quarter"]
    b = base("self_employed_quarter")
    if b:
        r, y, q, ins = b
        yield (
            "self_employed_quarter",
            year,
            pl.DataFrame(
                [
                    y,
                    q,
                    ins.alias("insz"),
                    code_labels(SE_CATEGORY, r["cat"]).alias("category"),
                    code_labels(("S", "H"), r["quality"]).alias("quality"),
                    code_labels(NACE_LIST, r["nace"]).alias("nace"),
                    _dates(r["start"]).alias("affiliation_start"),
                    pl.Series("annual_income", np.round(r["income"], 2), dtype=pl.Float64),
                ]
            ),
        )
    else:
        yield "self_employed_quarter", year, empty["self_employed_quarter"]
    b = base("benefit_quarter")
    if b:
        r, y, q, ins = b
        # a null index gathers a null: no INSZ text is copied for the rows without a related person
        rel = pl.Series(r["related"])
        related = insz.gather(pl.select(pl.when(rel >= 0).then(rel).cast(pl.UInt32)).to_series())
        yield (
            "benefit_quarter",
            year,
            pl.DataFrame(
                [
                    y,
                    q,
                    ins.alias("insz"),
                    code_labels(BENEFITS, r["benefit"]).alias("benefit"),
                    code_labels(BEN_CATEGORIES, r["category"], nullable=True).alias("category"),
                    pl.Series("amount", r["amount"], dtype=pl.Float64),
                    pl.Series("days", r["days"], dtype=pl.Int16),
                    _dates(r["start"]).alias("spell_start"),
                    _dates(r["end"], nullable=True).alias("spell_end"),
                    _dates(r["incapacity_start"], nullable=True).alias("incapacity_start"),
                    pl.Series("fraction", r["fraction"], dtype=pl.Float64),
                    code_labels(DAYS_TYPE, r["days_type"], nullable=True).alias("days_type"),
                    code_labels(MED_TYPE, r["medtype"], nullable=True).alias("medical_code_type"),
                    code_labels(MED_CODES, r["medcode"], nullable=True).alias("medical_code"),
                    related.alias("related_insz"),
                    code_labels(CB_SECTORS, r["cb_sector"], nullable=True).alias("career_break_sector"),
                    code_labels(STATUTE, r["cb_statute"], nullable=True).alias("career_break_statute"),
                    code_labels(CB_REASONS, r["cb_reason"], nullable=True).alias("career_break_reason"),
                    code_labels(CB_MOTIVES, r["cb_motive"], nullable=True).alias("career_break_motive"),
                    code_labels(CB_ADJUSTMENTS, r["cb_adjust"], nullable=True).alias(
                        "career_break_adjustment"
                    ),
                    code_labels(AID_KINDS, r["aid_kind"], nullable=True).alias("social_aid_kind"),
                ]
            )
            .with_columns(invalidity_start(quarter_last_day(year, quarter)))
            .select(empty["benefit_quarter"].columns),
        )
    else:
        yield "benefit_quarter", year, empty["benefit_quarter"]
    b = base("jobseeker_quarter")
    if b:
        r, y, q, ins = b
        yield (
            "jobseeker_quarter",
            year,
            pl.DataFrame(
                [
                    y,
                    q,
                    ins.alias("insz"),
                    code_labels(JS_CATEGORIES, r["cat"]).alias("category"),
                    code_labels(PES, r["pes"]).alias("pes"),
                    _dates(r["reg"]).alias("registration_date"),
                    _dates(r["ustart"]).alias("unemployment_start"),
                    pl.Series("sanctioned", r["sanctioned"], dtype=pl.Boolean),
                ]
            ),
        )
    else:
        yield "jobseeker_quarter", year, empty["jobseeker_quarter"]


def _text_rank(labels) -> np.ndarray:
    """For each code index, its place among the labels sorted as text."""
    rank = np.empty(len(labels), np.int64)
    rank[np.argsort(np.array(labels, dtype=str), kind="stable")] = np.arange(len(labels))
    return rank
