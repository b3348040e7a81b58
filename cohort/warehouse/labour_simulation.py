"""The engine of the labour-market half of the synthetic warehouse: one state vector per person,
advanced quarter by quarter (see :mod:`cohort.warehouse.labour` for the model and its parts), and
``simulate_labour``, which yields every labour table in time order."""

from collections.abc import Iterator

import numpy as np
import polars as pl

from cohort.warehouse import agency, labour_frames, labour_params, labour_vdab
from cohort.warehouse.demography_params import epoch_day
from cohort.warehouse.labour import (
    CAT214_IDX,
    INT32_MAX,
    MED_P,
    NACE_INDEX,
    State,
    build_employers,
    cat_draw,
    exact_age,
    in_codes,
    init_person_draws,
    load_people,
    load_register,
    load_residence,
    person_index,
    pick_employer,
    quarter_start_days,
)
from cohort.warehouse.malloc import reusing_freed_memory
from cohort.warehouse.model import Demography


class LabourSimulation:
    """Runs the quarters in order, keeping one state vector per person."""

    def __init__(self, demo: Demography) -> None:
        self.demo = demo
        self.seed = demo.seed
        self.people = load_people(demo)
        self.res = load_residence(demo, self.people)
        self.reg = load_register(demo, self.people)
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
            ri = person_index(self.regularised, self.people)
            self.reg_decision[ri] = self.regularised["decision_date"].cast(pl.Int32).to_numpy()
        # sector choice table [female, edu, sector] without the Flemish government
        w = labour_params.SECTOR_BASE[None, None, :] * np.where(
            np.arange(2)[:, None, None] == 1, labour_params.SECTOR_FEMALE[None, None, :], 1.0
        )
        w = w * labour_params.SECTOR_EDU.T[None, :, :]
        w[..., labour_params.FLEMISH_GOV] = 0
        self.sector_cum = np.cumsum(w / w.sum(axis=2, keepdims=True), axis=2)
        self.self_sector_cum = np.cumsum(
            labour_params.SELF_SECTOR_BASE / labour_params.SELF_SECTOR_BASE.sum()
        )
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
        band = np.clip(
            np.searchsorted(labour_params.AGE_BANDS, age, side="right") - 1,
            0,
            labour_params.AGE_BANDS.size - 1,
        )
        lg = labour_params.BASE_LOGIT[band].copy()
        lg += labour_params.SEX_EFF[pp.female[idx].astype(np.int8)]
        lg += labour_params.EDU_EFF[pp.edu[idx]]
        lg += labour_params.ORIGIN_EFF[pp.origin[idx]]
        lg += labour_params.REGION_EFF[region]
        lg[waiting] += labour_params.WAITING_EFF
        emp_c, unemp_c = labour_params.cycle(year)
        lg[:, labour_params.EMP] += (
            np.log(emp_c) + labour_params.EMPLOYABILITY_LOADING * self.st.employability[idx]
        )
        lg[:, labour_params.SELF] += (
            np.log(emp_c) + labour_params.EMPLOYABILITY_LOADING * self.st.employability[idx]
        )
        lg[:, labour_params.UNEMP] += np.log(unemp_c)
        h = labour_params.HEALTH_LOADING * pp.health_risk[idx]
        lg[:, labour_params.SICK] += h
        lg[:, labour_params.DIS] += h
        regd = self.reg_decision[idx] <= day
        if regd.any():
            lg[regd, labour_params.EMP] += np.log(3.0)
            lg[regd, labour_params.OTHER] -= np.log(2.0)
        young = age < 50
        lg[young, labour_params.EARLY] = -30.0
        return lg

    def stay_matrix(self, idx: np.ndarray, age: np.ndarray) -> np.ndarray:
        pp, st = self.people, self.st
        s = np.broadcast_to(labour_params.STAY, (idx.size, labour_params.N_ACTIVE)).copy()
        su = (
            labour_params.UNEMP_STAY_BASE
            + labour_params.UNEMP_STAY_AGE50 * (age >= 50)
            + labour_params.UNEMP_STAY_EDU[pp.edu[idx]]
            + labour_params.UNEMP_STAY_ORIGIN[pp.origin[idx]]
            + labour_params.UNEMP_STAY_STUCK * st.stuck[idx]
        )
        s[:, labour_params.UNEMP] = np.minimum(su, labour_params.UNEMP_STAY_MAX)
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
        d = epoch_day(year, qend_m, qend_d)
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
        new_macro[child] = labour_params.STUDENT
        new_macro[retired] = labour_params.PENSION
        # active people: keep, leave (draw from q) or enter (draw from pi)
        cont = active & was & (prev_macro >= 0) & (prev_macro < labour_params.N_ACTIVE)
        enter_pi = active & ~cont & ~(was & (prev_macro == labour_params.STUDENT))
        enter_q = active & ~cont & ~enter_pi
        ci = np.flatnonzero(cont)
        s_all = self.stay_matrix(ci, age[ci])
        s_own = s_all[np.arange(ci.size), prev_macro[ci]]
        forced = waiting[ci] & np.isin(
            prev_macro[ci],
            [
                labour_params.SELF,
                labour_params.UNEMP,
                labour_params.SICK,
                labour_params.DIS,
                labour_params.CB,
                labour_params.EXEMPT,
                labour_params.EARLY,
            ],
        )
        forced |= (age[ci] < 50) & (prev_macro[ci] == labour_params.EARLY)
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
        # the position each mover leaves (before its spell is overwritten)
        st.left_fine[:] = -1
        moved = ch[was[ch]]
        st.left_fine[moved] = st.fine[moved]
        st.left_since[moved] = st.since[moved]
        st.left_since_day[moved] = st.since_day[moved]
        st.left_from_job[moved] = st.from_job[moved]
        # a state, not a draw: the random streams and every other table stay as they were
        st.from_job[ch] = was[ch] & (prev_macro[ch] == labour_params.EMP)
        st.since[ch] = (t - init_len[ch]).astype(np.int16)
        entry_q0 = quarter_start_days(self.demo.first_year, st.since[ch].astype(np.int64))
        entry_len = quarter_start_days(self.demo.first_year, st.since[ch].astype(np.int64) + 1) - entry_q0
        st.since_day[ch] = entry_q0 + (rng.random(ch.size) * entry_len).astype(np.int32)
        st.since_day[ch] = np.maximum(st.since_day[ch], pp.birth[ch])
        st.macro[:] = np.where(present, new_macro, st.macro)
        self._assign_fine(ch, prev_macro, age, waiting, rng, t)
        # 213 becomes 211 at 30 (no longer a school leaver)
        st.fine[
            present & (st.fine == labour_params.CODE_INDEX["213"]) & (age >= labour_params.UNEMP_213_MAX_AGE)
        ] = labour_params.CODE_INDEX["211"]
        self._jobs(present, prev_macro, was, changed, age, region, rng, t, d)
        self._unemployment(ch, rng, d)
        self._vdab(present, region, arr, rng, t, q0, ndays, d)
        self._measures(present, region, age, rng, year, quarter, q0, ndays)
        st.present_prev = present.copy()
        self.last_present, self.last_region, self.last_age = present, region, age
        frontier = st.frontier & alive & ~present & (age >= 18) & (age < 65)
        return labour_frames.quarter_rows(
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
        fine = np.full(ch.size, labour_params.CODE_INDEX["4"], np.int8)
        # employees
        pm = np.where(fem, labour_params.P_MULTI_JOB[1], labour_params.P_MULTI_JOB[0])
        ps = np.where(fem, labour_params.P_EMP_PLUS_SELF[1], labour_params.P_EMP_PLUS_SELF[0])
        e = m == labour_params.EMP
        fine[e] = np.select(
            [u[e] < pm[e], u[e] < pm[e] + ps[e], u[e] < pm[e] + ps[e] + labour_params.P_EMP_PLUS_HELPER],
            [
                labour_params.CODE_INDEX["112"],
                labour_params.CODE_INDEX["141"],
                labour_params.CODE_INDEX["143"],
            ],
            labour_params.CODE_INDEX["111"],
        )
        # self-employed
        s = m == labour_params.SELF
        names = list(labour_params.SELF_SPLIT)
        base = np.array([labour_params.SELF_SPLIT[k] for k in names])
        for female in (False, True):
            sel = s & (fem == female)
            w = base * np.where(np.array([k in ("131", "132") for k in names]) & female, 4.0, 1.0)
            k = np.minimum(np.searchsorted(np.cumsum(w) / w.sum(), u[sel]), len(names) - 1)
            fine[sel] = np.array([labour_params.CODE_INDEX[c] for c in names], np.int8)[k]
        # job seekers
        un = m == labour_params.UNEMP
        school_leaver = prev_macro[ch] == labour_params.STUDENT
        young = age[ch] < labour_params.UNEMP_213_MAX_AGE
        is213 = un & young & (school_leaver | ((age[ch] < 25) & (u < 0.3)))
        is214 = un & ~is213 & (u2 < labour_params.UNEMP_SPLIT_214)
        is212 = un & ~is213 & ~is214 & fem & (u < labour_params.UNEMP_SPLIT_212_F)
        fine[un] = labour_params.CODE_INDEX["211"]
        fine[is213] = labour_params.CODE_INDEX["213"]
        fine[is214] = labour_params.CODE_INDEX["214"]
        fine[is212] = labour_params.CODE_INDEX["212"]
        st.js_cat[ch[is214]] = CAT214_IDX[cat_draw(rng, labour_params.CAT214_P, int(is214.sum()))]
        # inactive states
        sk = m == labour_params.SICK
        fine[sk] = np.select(
            [
                u[sk] < labour_params.SICK_SPLIT["371"],
                u[sk] < labour_params.SICK_SPLIT["371"] + labour_params.SICK_SPLIT["372"],
            ],
            [labour_params.CODE_INDEX["371"], labour_params.CODE_INDEX["372"]],
            labour_params.CODE_INDEX["373"],
        )
        st.medcode[ch[sk]] = cat_draw(rng, MED_P, int(sk.sum())).astype(np.int8)
        fine[m == labour_params.DIS] = labour_params.CODE_INDEX["38"]
        so = m == labour_params.SOC
        p332 = np.where(waiting[ch], labour_params.SOC_SPLIT_332[1], labour_params.SOC_SPLIT_332[0])
        fine[so] = np.where(
            u[so] < p332[so], labour_params.CODE_INDEX["332"], labour_params.CODE_INDEX["331"]
        )
        st.soc_disab[ch[so]] = u2[so] < 0.06
        st.soc_cat[ch[so]] = (u2[so] * 3 * 7).astype(np.int8) % 3
        fine[m == labour_params.CB] = labour_params.CODE_INDEX["31"]
        ex = m == labour_params.EXEMPT
        fine[ex] = labour_params.CODE_INDEX["32"]
        st.exempt_reason[ch[ex]] = np.where(age[ch[ex]] >= 50, 0, 1 + (u2[ex] * 3).astype(np.int8))
        fine[m == labour_params.EARLY] = labour_params.CODE_INDEX["35"]
        fine[m == labour_params.OTHER] = np.where(
            u[m == labour_params.OTHER] < labour_params.OTHER_SPLIT_4,
            labour_params.CODE_INDEX["4"],
            labour_params.CODE_INDEX["39"],
        )
        fine[m == labour_params.STUDENT] = labour_params.CODE_INDEX["36"]
        pe = m == labour_params.PENSION
        was_self = np.isin(
            st.fine[ch], [labour_params.CODE_INDEX[c] for c in ("121", "122", "131", "132", "142")]
        )
        fine[pe] = np.select(
            [
                was_self[pe] & (u[pe] < 0.3),
                u[pe] < labour_params.PENSION_SPLIT["123"] * 0.3,
                u[pe] < labour_params.PENSION_SPLIT["123"] * 0.3 + labour_params.PENSION_SPLIT["133"] * 0.3,
            ],
            [
                np.where(fem[pe], labour_params.CODE_INDEX["133"], labour_params.CODE_INDEX["123"]),
                labour_params.CODE_INDEX["123"],
                labour_params.CODE_INDEX["133"],
            ],
            labour_params.CODE_INDEX["34"],
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
        emp_codes = np.array([labour_params.CODE_INDEX[c] for c in labour_params.EMPLOYEE_CODES], np.int8)
        self_codes = np.array([labour_params.CODE_INDEX[c] for c in labour_params.SELF_CODES], np.int8)
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
        multi = present & (fine == labour_params.CODE_INDEX["112"]) & (st.emp2 < 0)
        mi = np.flatnonzero(multi)
        if mi.size:
            sec = self.draw_sector(mi, rng)
            st.emp2[mi] = pick_employer(self.emp, sec, rng.random(mi.size))
            st.pct2[mi] = rng.choice(np.array([20, 25, 30, 40, 50], np.int8), mi.size)
        st.emp2[present & (fine != labour_params.CODE_INDEX["112"])] = -1
        ns = np.flatnonzero(needs_se & (st.se_nace < 0))
        if ns.size:
            sec = np.minimum(
                np.searchsorted(self.self_sector_cum, rng.random(ns.size)), labour_params.N_SECTORS - 2
            )
            codes = np.array(
                [NACE_INDEX[labour_params.SECTORS[s][1][0]] for s in range(labour_params.N_SECTORS)], np.int16
            )
            st.se_nace[ns] = codes[sec]
            st.se_since_day[ns] = np.maximum(
                st.since_day[ns]
                - (rng.random(ns.size) * 40 * (fine[ns] >= labour_params.CODE_INDEX["123"])).astype(np.int32),
                pp.birth[ns] + 15 * 365,
            )
            st.se_lincome[ns] = (
                np.log(np.array([22000, 30000, 42000])[pp.edu[ns]]) + 0.6 * rng.standard_normal(ns.size)
            ).astype(np.float32)

    def draw_sector(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        pp = self.people
        cum = self.sector_cum[pp.female[idx].astype(np.int8), pp.edu[idx]]
        return np.minimum(
            (rng.random(idx.size)[:, None] > cum).sum(axis=1), labour_params.N_SECTORS - 2
        ).astype(np.int8)

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
        sec = self.draw_sector(idx, rng)
        flemish = region[idx] == 1
        p_fg = labour_params.FLEMISH_GOV_SHARE * np.array([0.35, 1.0, 1.55])[pp.edu[idx]]
        fg = flemish & (rng.random(k) < p_fg) & (age[idx] >= 18)
        sec[fg] = labour_params.FLEMISH_GOV
        st.sector[idx] = sec
        st.emp1[idx] = pick_employer(self.emp, sec, rng.random(k))
        a = age[idx]
        statutory = rng.random(k) < labour_params.P_STATUTORY[sec] * (a >= 25)
        pblue = np.clip(labour_params.P_BLUE[sec] * np.array([1.4, 1.0, 0.3])[pp.edu[idx]], 0, 0.98)
        blue = rng.random(k) < pblue
        wc = np.where(statutory, 2, np.where(blue, 0, 1)).astype(np.int8)
        wc[(a < 19) & (rng.random(k) < 0.3) & ~statutory] = 3
        st.wclass[idx] = wc
        st.statute[idx] = statutory.astype(np.int8)
        contract = np.where(
            rng.random(k) < np.where(a < 30, 0.2, labour_params.P_CONTRACT_FIXED), 1, 0
        ).astype(np.int8)
        contract[sec == labour_params.TEMP_AGENCY] = 2
        contract[statutory] = 0
        st.contract[idx] = contract
        fem = pp.female[idx]
        ppt = np.where(fem, labour_params.P_PART_TIME[1], labour_params.P_PART_TIME[0]) * np.where(
            (a < 25) | (a >= 55), 1.3, 1.0
        )
        ppt = np.where(sec == labour_params.CLEANING, 0.8, ppt)
        pt = rng.random(k) < ppt
        pct = np.where(
            pt, labour_params.PART_TIME_PCTS[cat_draw(rng, labour_params.PART_TIME_PCT_P, k)], 100
        ).astype(np.int8)
        pcb = np.zeros(k, np.int8)
        p_pcb = np.where(
            fem, labour_params.P_PARTIAL_CAREER_BREAK[1], labour_params.P_PARTIAL_CAREER_BREAK[0]
        )
        full = ~pt & (rng.random(k) < p_pcb * 1.6) & (a >= 25) & ~statutory
        pcb[full] = np.where(rng.random(int(full.sum())) < 0.6, 1, 2)
        pct[pcb == 1] = 80
        pct[pcb == 2] = 50
        st.pcb[idx] = pcb
        st.pct[idx] = pct
        perf = np.where(pct < 100, 1, 0).astype(np.int8)
        igu = (perf == 1) & (pcb == 0) & (rng.random(k) < labour_params.P_IGU)
        perf[igu] = 2
        st.perf[idx] = perf
        st.job_since[idx] = t
        st.activation[idx] = (prev_macro[idx] == labour_params.UNEMP) & (
            rng.random(k) < labour_params.P_ACTIVATION_AFTER_UNEMP
        )
        wf = np.zeros(k, np.int8)
        wf |= (rng.random(k) < labour_params.P_WORK_INVALIDITY_PARTIAL * (a >= 30)).astype(np.int8)
        wf |= (rng.random(k) < labour_params.P_WORK_DISABILITY_ALLOWANCE).astype(np.int8) << 1
        wf |= (
            (rng.random(k) < labour_params.P_WORK_SOCIAL_ASSISTANCE * (1 + (pp.edu[idx] == 0))) & (pct < 100)
        ).astype(np.int8) << 2
        st.wflag[idx] = wf

    def _unemployment(self, ch: np.ndarray, rng: np.random.Generator, d: int) -> None:
        st = self.st
        un = ch[st.macro[ch] == labour_params.UNEMP]
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
        in_vdab = present & (st.macro == labour_params.UNEMP) & (region == 1)
        close = np.flatnonzero((st.vdab_spell >= 0) & ~in_vdab)
        if close.size:
            end = q0 + (rng.random(close.size) * ndays).astype(np.int32)
            start_of = st.regday[close]
            end = np.maximum(end, start_of + 1)
            end = np.minimum(end, np.minimum(pp.death[close], d + 1))
            to_work = present[close] & np.isin(st.macro[close], [labour_params.EMP, labour_params.SELF])
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
        agency.collect_measure_candidates(self, present, region, age, rng, year, quarter, q0, ndays)


def simulate_labour(demo: Demography) -> Iterator[tuple[str, int | None, pl.DataFrame]]:
    """Simulate the labour-market tables for ``demo``; see the module docstring.

    Yields the quarterly tables one quarter at a time, in time order (``sep_quarter``,
    ``job_quarter``, ``self_employed_quarter``, ``benefit_quarter``, ``jobseeker_quarter``; each
    frame belongs to its year's partition) and ``flemish_staff`` per year, then ``education``,
    ``vdab_profile``, ``vdab_trajectory``, ``vdab_training``, ``vdab_workplace_learning``,
    ``regularised_person`` and ``measure_beneficiary`` once.
    """
    sim = LabourSimulation(demo)
    del demo  # the simulation keeps what it needs (see LabourSimulation.__init__)
    # the quarters free and allocate the same large arrays over and over, well below the build's
    # peak (which its start, above, still reaches): their pages are kept and reused
    with reusing_freed_memory():
        t = 0
        for year in range(sim.demo.first_year, sim.demo.last_year + 1):
            for quarter in (1, 2, 3, 4):
                yield from labour_frames.quarter_frames(sim, year, quarter, sim.step(t, year, quarter))
                t += 1
            yield "flemish_staff", year, agency.flemish_staff_frame(sim, year)
        yield "education", None, labour_vdab.education_frame(sim)
        yield from labour_vdab.vdab_frames(sim)
        yield "regularised_person", None, sim.regularised
        yield "measure_beneficiary", None, agency.measure_frame(sim)
