"""Education certificates and the VDAB files (profile, trajectories, training, work-place learning).

VDAB files follow the simulated registrations of job seekers living in the Flemish Region:
one profile per registration, a guidance trajectory for most, training modules and
work-place learning actions for some, all dated inside the registration (day-level dates, as
in the source). Work-place learning types follow docs/domain_facts.md 5.4: only IBO before the
reform of 1 September 2018, then IBO, BIS, OOS, BVS, ACT and WES; an action at the end of a
registration that ended in work is "hired".
"""

from collections.abc import Iterator

import numpy as np
import polars as pl

from cohort.classifications import codes
from cohort.warehouse.demography_params import epoch_day
from cohort.warehouse.labour import NACE_LIST, Simulation, empty_frame

DOMAINS_GENERAL = np.array(["00", "02", "03", "04", "05", "07", "09", "10"])
DOMAINS_HIGH = np.array(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"])
DOMAINS_HIGH_P = np.array([0.10, 0.08, 0.12, 0.22, 0.05, 0.07, 0.14, 0.02, 0.15, 0.05])
OCC_CLUSTERS = np.array([f"{i:02d}" for i in range(1, 26)])


def _gather(values, idx: np.ndarray) -> pl.Series:  # noqa: ANN001
    return pl.Series(list(values), dtype=pl.String).gather(pl.Series(np.asarray(idx).astype(np.uint32)))


def _date(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(np.asarray(days, np.int32)).cast(pl.Date)
    if valid is not None:
        s = pl.select(pl.when(pl.Series(valid)).then(s).otherwise(None)).to_series()
    return s


def _june30(year: np.ndarray) -> np.ndarray:
    y = np.asarray(year, np.int64)
    return (
        (np.array(y - 1970, dtype="datetime64[Y]").astype("datetime64[D]") + 180)
        .astype(np.int64)
        .astype(np.int32)
    )


def education_frame(sim: Simulation) -> pl.DataFrame:
    """One row per certificate: the highest qualification at the school-leaving age drawn for
    the labour model, plus the upper-secondary and bachelor steps on the way for graduates."""
    pp, st = sim.people, sim.st
    rng = np.random.default_rng([sim.seed, 7300])
    last_day = epoch_day(sim.demo.last_year, 12, 31)
    exit_years = pp.by + (st.school_exit_q.astype(np.int32) // 4)
    # first arrival in Belgium (foreign certificates are recognised ones: issuer BUI)
    first_in = np.full(pp.n, np.iinfo(np.int32).max, np.int32)
    res = sim.res
    in_be = res.values["region"] > 0
    np.minimum.at(first_in, res.who[in_be], res.start[in_be])
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (person, date, level)
    everyone = np.arange(pp.n)
    lvl = pp.isced.astype(np.int8)
    rows.append((everyone, _june30(np.where(lvl == 1, pp.by + 12, exit_years)), lvl))
    grad = np.flatnonzero(lvl >= 5)
    rows.append((grad, _june30(pp.by[grad] + 18), np.full(grad.size, 3, np.int8)))
    master = np.flatnonzero(lvl >= 7)
    rows.append((master, _june30(pp.by[master] + 21), np.full(master.size, 6, np.int8)))
    doc = np.flatnonzero(lvl == 8)
    rows.append((doc, _june30(pp.by[doc] + 23), np.full(doc.size, 7, np.int8)))
    who = np.concatenate([r[0] for r in rows]).astype(np.int64)
    date = np.concatenate([r[1] for r in rows])
    level = np.concatenate([r[2] for r in rows])
    # a qualification after death or in the future does not exist
    ok = (date <= last_day) & (date < pp.death[who]) & (date > pp.birth[who])
    who, date, level = who[ok], date[ok], level[ok]
    order = np.lexsort((level, who))
    who, date, level = who[order], date[order], level[order]
    k = who.size
    foreign = pp.foreign_born[who] & (date < first_in[who])
    u = rng.random(k)
    issuer = np.where(
        level >= 5, 1, np.where((level >= 3) & (u < 0.12), 2, np.where((level == 4) & (u < 0.3), 4, 0))
    )
    issuer = np.where(foreign, 5, issuer)
    high = level >= 5
    dom_idx = np.where(
        high,
        np.minimum(np.searchsorted(np.cumsum(DOMAINS_HIGH_P), rng.random(k)), 9),
        (rng.random(k) * DOMAINS_GENERAL.size).astype(np.int64),
    )
    domain = np.where(
        high, DOMAINS_HIGH[dom_idx], DOMAINS_GENERAL[np.minimum(dom_idx, DOMAINS_GENERAL.size - 1)]
    )
    domain = np.where(level <= 2, "00", domain)
    return pl.DataFrame(
        {
            "insz": pp.insz.gather(pl.Series(who.astype(np.uint32))),
            "qualification_date": _date(date),
            "level": pl.Series(level.astype(str)),
            "domain": pl.Series(domain),
            "issuer_type": _gather(tuple(codes.ISSUER_TYPE), issuer),
        }
    )


def _spells(sim: Simulation) -> dict[str, np.ndarray] | None:
    if not sim.spell_rows:
        return None
    cols = ("id", "idx", "start", "ustart", "arr", "js_cat", "fine")
    sp = {c: np.concatenate([r[i] for r in sim.spell_rows]) for i, c in enumerate(cols)}
    end = np.full(sim.n_spells, -1, np.int32)
    to_work = np.zeros(sim.n_spells, bool)
    for ids, e, w in sim.spell_ends:
        end[ids] = e
        to_work[ids] = w
    order = np.argsort(sp["id"])
    sp = {k: v[order] for k, v in sp.items()}
    sp["end"] = end[sp["id"]]
    sp["to_work"] = to_work[sp["id"]]
    return sp


def vdab_frames(sim: Simulation) -> Iterator[tuple[str, None, pl.DataFrame]]:

    sp = _spells(sim)
    names = ("vdab_profile", "vdab_trajectory", "vdab_training", "vdab_workplace_learning")
    if sp is None:
        for name in names:
            yield name, None, empty_frame(name)
        return
    pp = sim.people
    rng = np.random.default_rng([sim.seed, 7500])
    first_day = epoch_day(sim.demo.first_year, 1, 1)
    last_day = epoch_day(sim.demo.last_year, 12, 31)
    idx = sp["idx"]
    n = idx.size
    start, end = sp["start"], sp["end"]
    open_ = end < 0
    end_or_last = np.where(open_, last_day + 1, end)
    edu = pp.edu[idx]
    origin = pp.origin[idx]
    insz = pp.insz.gather(pl.Series(idx.astype(np.uint32)))

    # ------------------------------------------------ profile
    u = rng.random(n)
    dutch = np.where(
        origin == 0, 3, np.where(origin == 1, np.where(u < 0.5, 2, 1), np.minimum((u * 4).astype(np.int8), 3))
    )
    study = np.array(["low", "medium", "high"])[edu]
    young = (sp["start"] - pp.birth[idx]) < 23 * 365
    at_inflow = np.where(young & (edu == 2) & (rng.random(n) < 0.3), "medium", study)
    disab = (sp["js_cat"] == 4) | (rng.random(n) < 0.07)
    profile = pl.DataFrame(
        {
            "insz": insz,
            "registration_date": _date(start),
            "unemployment_months": pl.Series(np.clip((start - sp["ustart"]) // 30, 0, 600).astype(np.int16)),
            "dutch_level": pl.Series(dutch.astype(str)),
            "other_languages": pl.Series(np.minimum(edu + (rng.random(n) < 0.4), 4).astype(np.int8)),
            "desired_occupation_cluster": pl.Series(
                OCC_CLUSTERS[(rng.random(n) * OCC_CLUSTERS.size).astype(int)]
            ),
            "desired_regime": pl.Series(np.where(pp.female[idx] & (rng.random(n) < 0.35), "PT", "FT")),
            "driving_licence": _gather(
                ("none", "B", "C", "D"), np.minimum(np.searchsorted([0.22, 0.92, 0.98], rng.random(n)), 3)
            ),
            "study_level": pl.Series(study),
            "study_level_at_inflow": pl.Series(at_inflow),
            "foreign_diploma_recognised": pl.Series(
                pp.foreign_born[idx] & (edu == 2) & (rng.random(n) < 0.3)
            ),
            "work_disability": pl.Series(disab),
        }
    ).unique(subset=["insz", "registration_date"], keep="first", maintain_order=True)
    yield "vdab_profile", None, profile

    # ------------------------------------------------ trajectories
    has = rng.random(n) < 0.75
    tstart = start + (7 + rng.random(n) * 53).astype(np.int32)
    tdur = (60 + rng.random(n) * 300).astype(np.int32)
    tend = np.minimum(tstart + tdur, end_or_last)
    ok = has & (tstart < end_or_last) & (tstart >= first_day) & (tstart <= last_day)
    running = ok & (tend > last_day)
    ti = np.flatnonzero(ok)
    k = ti.size
    year = np.array(tstart[ti], dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    a = (tstart[ti] - pp.birth[idx[ti]]) / 365.25
    prov = np.searchsorted([0.72, 0.82, 0.87, 0.95], rng.random(k))  # VDAB TIBB TIW WIJ OCMW
    prov = np.where((prov == 3) & ((a >= 25) | (year < 2015)), 0, prov)
    prov = np.where(sp["js_cat"][ti] == 3, 4, prov)
    need = np.minimum(
        np.searchsorted([0.30, 0.65, 0.90], rng.random(k)) + (edu[ti] == 0) * (rng.random(k) < 0.3), 3
    )
    transmit = rng.random(k) < 0.03
    tr_date = tstart[ti] + ((tend[ti] - tstart[ti]) * rng.random(k)).astype(np.int32)
    trajectory = pl.DataFrame(
        {
            "insz": insz.gather(pl.Series(ti.astype(np.uint32))),
            "trajectory_id": pl.Series(np.arange(1, k + 1, dtype=np.int64)),
            "start_date": _date(tstart[ti]),
            "end_date": _date(tend[ti], ~running[ti]),
            "provider": _gather(tuple(codes.TRAJECTORY_PROVIDER), prov),
            "service_need": pl.Series((need + 1).astype(str)),
            "transmission_date": _date(tr_date, transmit),
            "communications_per_month": pl.Series(np.round(rng.gamma(2.0, 1.2, k), 2)),
            "applications_per_month": pl.Series(np.round(rng.gamma(1.5, 1.0, k), 2)),
            "office": pl.Series([f"{x:02d}000" for x in range(100)]).gather(
                pl.Series(sp["arr"][ti].astype(np.uint32))
            ),
        }
    )
    yield "vdab_trajectory", None, trajectory

    # ------------------------------------------------ training modules
    n_mod = np.where(rng.random(n) < 0.32, 1 + (rng.random(n) < 0.35) + (rng.random(n) < 0.12), 0)
    rep = np.repeat(np.arange(n), n_mod)
    m = rep.size
    mstart = start[rep] + (20 + rng.random(m) * 220).astype(np.int32)
    mdays = (3 + rng.gamma(2.0, 12.0, m)).astype(np.int16)
    mend = mstart + (mdays * 1.4).astype(np.int32)
    ok = (mstart < end_or_last[rep]) & (mstart >= first_day) & (mstart <= last_day)
    rep, mstart, mdays, mend = rep[ok], mstart[ok], mdays[ok], mend[ok]
    m = rep.size
    running = mend > last_day
    stopped = ~running & (rng.random(m) < 0.15)
    state = np.where(running, 0, np.where(stopped, 2, 1))
    result = np.where(state == 1, np.where(rng.random(m) < 0.85, 0, 1), 2)
    sections = np.array(["TECH", "ZORG", "ADMIN", "LOG", "BOUW", "HORECA", "ICT", "TAAL"])
    sec = (rng.random(m) * sections.size).astype(int)
    lang = (pp.origin[idx[rep]] == 2) & (rng.random(m) < 0.5)
    sec = np.where(lang, 7, sec)
    module = np.array([f"M{i:04d}" for i in range(400)])[(sec * 50 + (rng.random(m) * 50).astype(int))]
    training = pl.DataFrame(
        {
            "insz": insz.gather(pl.Series(rep.astype(np.uint32))),
            "start_date": _date(mstart),
            "end_date": _date(mend, ~running),
            "method": _gather(
                ("classroom", "online", "blended", "workplace"),
                np.searchsorted([0.6, 0.8, 0.93], rng.random(m)),
            ),
            "trainee_status": pl.Series(["jobseeker"] * m, dtype=pl.String),
            "section": pl.Series(sections[sec]),
            "sector": pl.Series(
                np.array(["industrie", "zorg", "diensten", "logistiek", "bouw", "horeca", "ict", "taal"])[sec]
            ),
            "cluster": pl.Series([f"C{s:02d}" for s in sec]),
            "module": pl.Series(module),
            "days": pl.Series(mdays, dtype=pl.Int16),
            "state": _gather(("running", "finished", "stopped"), state),
            "result": _gather(("passed", "failed", "none"), result),
            "converted_to_guidance": pl.Series(rng.random(m) < 0.05),
        }
    ).unique(subset=["insz", "start_date", "module"], keep="first", maintain_order=True)
    yield "vdab_training", None, training

    # ------------------------------------------------ work-place learning
    p_wpl = np.where(sp["to_work"], 0.16, 0.05)
    has = rng.random(n) < p_wpl
    reform = epoch_day(2018, 9, 1)
    types = tuple(codes.WORKPLACE_LEARNING_TYPE)
    weeks_max = np.array([26, 26, 12, 4, 26, 26])
    # place the action at the end of the registration (the IBO hiring obligation)
    wi = np.flatnonzero(has)
    k = wi.size
    typ = np.minimum(np.searchsorted([0.40, 0.50, 0.70, 0.85, 0.92], rng.random(k)), 5)
    weeks = np.maximum((weeks_max[typ] * (0.3 + 0.7 * rng.random(k))).astype(np.int16), 1)
    wend = end_or_last[wi] - (rng.random(k) * 20).astype(np.int32)
    wstart = np.maximum(wend - weeks * 7, start[wi] + 14)
    typ = np.where(wstart < reform, 0, typ)
    weeks = np.where(wstart < reform, np.minimum(weeks, 26), weeks)
    ok = (wstart < wend) & (wstart >= first_day) & (wstart <= last_day)
    wi, typ, weeks, wstart, wend = wi[ok], typ[ok], weeks[ok], wstart[ok], wend[ok]
    k = wi.size
    running = wend > last_day
    hired = sp["to_work"][wi]
    stopped = ~running & ~hired & (rng.random(k) < 0.2)
    state = np.where(running, 0, np.where(stopped, 2, 1))
    situation = np.where(running, 2, np.where(hired, 0, 1))
    wpl = pl.DataFrame(
        {
            "insz": insz.gather(pl.Series(wi.astype(np.uint32))),
            "internship_type": _gather(types, typ),
            "start_date": _date(wstart),
            "end_date": _date(wend, ~running),
            "state": _gather(("running", "finished", "stopped"), state),
            "situation": _gather(("hired", "not_hired", "unknown"), situation),
            "training_weeks": pl.Series(weeks.astype(np.int16)),
            "occupation_cluster": pl.Series(OCC_CLUSTERS[(rng.random(k) * OCC_CLUSTERS.size).astype(int)]),
            "language_support": pl.Series((origin[wi] == 2) & (rng.random(k) < 0.4)),
            "company_size_class": pl.Series(
                np.searchsorted([0.3, 0.5, 0.65, 0.8, 0.88, 0.93, 0.97, 0.99], rng.random(k)).astype(str)
            )
            .replace("0", "1")
            .cast(pl.String),
            "nace": pl.Series(np.array(NACE_LIST)[(rng.random(k) * len(NACE_LIST)).astype(int)]),
        }
    ).unique(subset=["insz", "start_date", "internship_type"], keep="first", maintain_order=True)
    yield "vdab_workplace_learning", None, wpl
