"""The engine of the demographic simulation: from the base population, one step per calendar year
(deaths, emigration, separations, marriages, new unions, moves, collective homes, naturalisation,
asylum recognition, returns, births, immigration as the balancing flow, asylum seekers and BIS
persons), see :mod:`cohort.warehouse.demography` for the model.

It imports :mod:`cohort.warehouse.demography_base` (the base population it starts from) and the
modules below it (parameters, population state, households for the household anchors).
"""

import numpy as np
import polars as pl

from cohort.warehouse.demography_base import BasePopulation
from cohort.warehouse.demography_households import household_anchors
from cohort.warehouse.demography_params import (
    BE,
    BXL,
    COUNTRIES,
    COUNTRY_INDEX,
    DEST_P,
    FERTILITY_SHAPE,
    FERTILITY_TUNING,
    FL,
    IS_EU28,
    MUNI_NIS,
    MUNI_PROVINCE,
    MUNI_REGION,
    MUNI_WEIGHT,
    N_MUNI,
    NO_DATE,
    WAL,
    YEAR_DAYS,
    asylum_count,
    death_rate,
    epoch_day,
    immigration_mix,
    population_target,
    total_fertility,
)
from cohort.warehouse.demography_population import (
    REG_FOREIGN,
    REG_POP,
    REG_WAITING,
    age_at,
    pair_within_groups,
    region_of,
    select_expected,
    uniform_dates,
)


class DemographySimulation(BasePopulation):
    """The whole simulation: ``run`` draws the base population, then steps year by year."""

    def step(self, y: int) -> None:
        rng, people, unions, events = self.rng, self.people, self.unions, self.events
        D0, D1 = epoch_day(y), epoch_day(y + 1)
        ndays = D1 - D0
        alive = people.death == NO_DATE
        registered = alive & (people.muni >= 0) & ~people.is_bis
        age = age_at(people.birth, D0)
        region = region_of(people.muni)
        partner = self.partner()
        coll = (people.coll_from <= D0) | (people.reg == REG_WAITING)
        anchor, couple, parent = household_anchors(
            registered & ~coll, people.muni, partner, people.mother, people.father, age, people.leave_age
        )
        muni0 = people.muni.copy()
        busy = np.zeros(people.n, bool)
        n_before = people.n

        # deaths ---------------------------------------------------------------
        idx = np.flatnonzero(registered)
        q = 1 - np.exp(-death_rate(age[idx], people.female[idx], region[idx], y))
        dies = idx[rng.random(len(idx)) < q]
        ddate = uniform_dates(rng, D0, D1, len(dies))
        people.death[dies] = ddate
        busy[dies] = True
        u = people.union[dies]
        has = u >= 0
        unions.end[u[has]] = np.minimum(unions.end[u[has]], ddate[has])
        widow = partner[dies[has]]
        wmar = unions.married[u[has]] <= ddate[has]
        people.union[widow] = -1
        people.union[dies] = -1
        wv = widow[wmar]
        alive_w = people.death[wv] == NO_DATE
        people.civ[wv[alive_w]] = 3
        people.civ_date[wv[alive_w]] = ddate[has][wmar][alive_w]
        events.add("civ", wv[alive_w], ddate[has][wmar][alive_w], 3)

        # emigration of households ---------------------------------------------
        refs = np.flatnonzero(registered & ~coll & (anchor == np.arange(people.n)))
        yrs_here = np.where(
            people.arrival[refs] < NO_DATE, (D0 - people.arrival[refs].astype(np.int64)) / YEAR_DAYS, 99
        )
        foreign = people.nat[refs] != BE
        h = np.where(
            foreign, np.where(yrs_here < 5, 0.11, 0.03), np.where(people.gen[refs] == 1, 0.012, 0.0035)
        )
        h = h * np.where((age[refs] > 20) & (age[refs] < 40), 1.4, np.where(age[refs] > 65, 0.4, 1.0))
        em_units = refs[rng.random(len(refs)) < h]
        unit_date = np.zeros(people.n, np.int64)
        edate_u = uniform_dates(rng, D0, D1, len(em_units))
        flag = np.zeros(people.n, bool)
        flag[em_units] = True
        unit_date[em_units] = edate_u
        members = np.flatnonzero(registered & ~coll & flag[anchor] & ~busy)
        ed = unit_date[anchor[members]].astype(np.int32)
        # asylum seekers whose claim is rejected leave too (deregistered)
        wait = np.flatnonzero(
            registered & (people.reg == REG_WAITING) & ~busy & (people.reg_since < D0 - 180)
        )
        rej = wait[rng.random(len(wait)) < 0.18]
        members = np.concatenate([members, rej])
        ed = np.concatenate([ed, uniform_dates(rng, D0, D1, len(rej))])
        dest = np.where(
            people.oc[members] != BE,
            people.oc[members],
            rng.choice(
                np.array(
                    [
                        COUNTRY_INDEX["NL"],
                        COUNTRY_INDEX["FR"],
                        COUNTRY_INDEX["ES"],
                        COUNTRY_INDEX["DE"],
                        COUNTRY_INDEX["LU"],
                        COUNTRY_INDEX["US"],
                        COUNTRY_INDEX["GB"],
                    ]
                ),
                len(members),
            ),
        )
        dest = np.where(dest == BE, COUNTRY_INDEX["FR"], dest)
        events.add("res", members, ed, -1, dest)
        events.add("reg", members, ed, -1, -1, NO_DATE)
        people.muni[members] = -1
        people.abroad[members] = dest
        people.reg[members] = -1
        people.emig[members] = ed
        people.coll_from[members] = NO_DATE
        busy[members] = True

        # separations -----------------------------------------------------------
        cm = np.flatnonzero(registered & couple & ~people.female & ~busy)
        wp = partner[cm]
        ok = ~busy[wp] & registered[wp]
        cm, wp = cm[ok], wp[ok]
        mar = unions.married[people.union[cm]] <= D0
        # yearly separation rates calibrated on the household types (docs/warehouse.md, Calibration)
        hz = np.where(mar, 0.011, 0.03) * np.where(age[wp] < 50, 1.0, 0.4)
        sp = rng.random(len(cm)) < hz
        sm, sw = cm[sp], wp[sp]
        sdate = uniform_dates(rng, D0, D1, len(sm))
        unions.end[people.union[sm]] = sdate
        smar = mar[sp]
        for who in (sm, sw):
            people.civ[who[smar]] = 4
            people.civ_date[who[smar]] = sdate[smar]
            events.add("civ", who[smar], sdate[smar], 4)
        people.union[sm] = -1
        people.union[sw] = -1
        move = rng.random(len(sm)) < 0.55
        self._move(sm[move], sdate[move], region_bias=None)
        busy[sm] = True
        busy[sw] = True

        # marriages of cohabiting couples ---------------------------------------
        cm = np.flatnonzero(registered & ~people.female & (people.union >= 0) & ~busy)
        uu = people.union[cm]
        unm = unions.married[uu] == NO_DATE
        cm, uu = cm[unm], uu[unm]
        # 3 % a year under 45 (4.5 % before demography-9): fewer married couples without children at
        # home, 18 % of Belgian households in 2024 (docs/warehouse.md, Calibration)
        hz = np.where(age[cm] < 45, 0.03, 0.01) * (1 - 0.02 * (y - 2005))
        mk = rng.random(len(cm)) < hz
        mdate = np.maximum(uniform_dates(rng, D0, D1, mk.sum()), unions.start[uu[mk]] + 1)
        unions.married[uu[mk]] = mdate
        for who in (cm[mk], unions.woman[uu[mk]]):
            people.civ[who] = 2
            people.civ_date[who] = mdate
            events.add("civ", who, mdate, 2)

        # new unions --------------------------------------------------------------
        cand = np.flatnonzero(registered & ~coll & ~busy & (people.union < 0) & (age >= 18) & (age < 80))
        a = age[cand]
        fem = people.female[cand]
        # from 50 a new union is rarer (demography-9 halved it towards 65): households with a reference
        # person of 60 or more are 5 % unmarried couples in Flanders (docs/domain_facts.md 3.6), the model
        # had 10 %, and the widowed and separated who stay alone make the one-person households
        hz = np.where(
            fem,
            np.interp(a, [18, 22, 27, 32, 40, 50, 65, 80], [0.04, 0.18, 0.3, 0.26, 0.16, 0.06, 0.015, 0.0]),
            np.interp(a, [18, 24, 29, 34, 42, 52, 67, 80], [0.015, 0.15, 0.28, 0.26, 0.17, 0.07, 0.02, 0.0]),
        )
        # adults still at the parental address are the ones who partner late, the young ones too: a
        # union took them out of their parents' home so early that a quarter of the 20-24-year-olds lived
        # in a couple without children, and their parents' households lost their children early
        hz = hz * np.where(parent[cand] >= 0, np.where(a >= 24, 0.2, 0.6), np.where(a >= 30, 1.7, 1.0))
        # a lone parent with children at home partners again more slowly (one-parent families)
        lone_parent = np.zeros(people.n, bool)
        lone_parent[parent[registered & (parent >= 0)]] = True
        hz = hz * np.where(lone_parent[cand], 0.4, 1.0)
        go = cand[rng.random(len(cand)) < hz]
        grp = MUNI_PROVINCE[people.muni[go]].astype(np.int64) * 1000 + self.marriage_key(people.oc[go])
        fw = people.female[go]
        wi, mi = pair_within_groups(
            rng,
            go[fw],
            age[go[fw]] + rng.normal(0, 2, fw.sum()),
            grp[fw],
            go[~fw],
            age[go[~fw]] - 2.5 + rng.normal(0, 2, (~fw).sum()),
            grp[~fw],
        )
        if len(wi):
            k = len(wi)
            udate = uniform_dates(rng, D0, D1, k)
            p_dm = np.where(
                people.oc[wi] == BE, 0.3 - 0.01 * (y - 2005), np.where(IS_EU28[people.oc[wi]], 0.35, 0.85)
            )
            dm = rng.random(k) < p_dm
            married = np.where(dm, udate, NO_DATE)
            legal = np.where(~dm & (rng.random(k) < 0.4), udate + rng.integers(0, 120, k), NO_DATE)
            legal = np.where(legal < D1, legal, NO_DATE)
            uid = unions.add(mi, wi, udate, married, legal)
            people.union[wi] = uid
            people.union[mi] = uid
            for who in (wi[dm], mi[dm]):
                people.civ[who] = 2
                people.civ_date[who] = udate[dm]
                events.add("civ", who, udate[dm], 2)
            # the woman and her children at home join the man when they live apart
            diff = people.muni[wi] != people.muni[mi]
            target = np.full(people.n, -1, np.int64)
            tdate = np.zeros(people.n, np.int64)
            target[wi[diff]] = people.muni[mi[diff]]
            tdate[wi[diff]] = udate[diff]
            kids = np.flatnonzero(registered & ~busy & (parent >= 0))
            kids = kids[target[parent[kids]] >= 0]
            kids = kids[~np.isin(kids, mi) & ~np.isin(kids, wi)]
            movers = np.concatenate([wi[diff], kids])
            mdates = np.concatenate([udate[diff], tdate[parent[kids]]])
            mto = np.concatenate([people.muni[mi[diff]], target[parent[kids]]])
            self._move_to(movers, mdates, mto)
            busy[wi] = True
            busy[mi] = True
            busy[kids] = True

        # moves of whole households and of young people leaving home -------------
        refs = np.flatnonzero(registered & ~coll & ~busy & (anchor == np.arange(people.n)))
        ra = age[refs]
        hz = np.interp(ra, [18, 25, 32, 45, 65, 85], [0.09, 0.08, 0.06, 0.035, 0.02, 0.015])
        hz = hz * np.where(region[refs] == BXL, 1.6, 1.0)
        mv = refs[rng.random(len(refs)) < hz]
        flag = np.zeros(people.n, bool)
        flag[mv] = True
        mdate = np.zeros(people.n, np.int64)
        mdate[mv] = uniform_dates(rng, D0, D1, len(mv))
        dest = np.full(people.n, -1, np.int64)
        dest[mv] = self._destination(people.muni[mv])
        members = np.flatnonzero(registered & ~coll & ~busy & flag[anchor])
        self._move_to(members, mdate[anchor[members]], dest[anchor[members]])
        busy[members] = True
        leavers = np.flatnonzero(registered & ~coll & ~busy & (parent >= 0) & (age + 1 >= people.leave_age))
        # eight in ten of those without a partner put off leaving (by one to three years), three in ten of
        # the others leave in the year (six and four before demography-9): children at home longer make
        # the couples with children and the household size of Flanders (docs/warehouse.md, Calibration)
        later = leavers[rng.random(len(leavers)) < 0.8]
        people.leave_age[later] += rng.uniform(1, 3, len(later)).astype(np.float32)
        leavers = np.setdiff1d(leavers, later)
        lv = leavers[rng.random(len(leavers)) < 0.3]
        ldate = uniform_dates(rng, D0, D1, len(lv))
        self._move_to(lv, ldate, self._destination(people.muni[lv]))
        busy[lv] = True

        # collective homes ---------------------------------------------------------
        old = np.flatnonzero(registered & ~coll & ~busy & (age >= 70) & (people.union < 0))
        hz = np.interp(age[old], [70, 80, 85, 90, 95], [0.002, 0.015, 0.035, 0.07, 0.12])
        go = old[rng.random(len(old)) < hz]
        people.coll_from[go] = uniform_dates(rng, D0, D1, len(go))

        # naturalisation -------------------------------------------------------------
        fn = np.flatnonzero(registered & ~busy & (people.nat != BE) & (people.reg != REG_WAITING))
        yrs_here = np.where(
            people.arrival[fn] < NO_DATE, (D0 - people.arrival[fn].astype(np.int64)) / YEAR_DAYS, age[fn]
        )
        eu = IS_EU28[people.oc[fn]]
        hz = np.where(yrs_here >= 5, np.where(eu, 0.05, 0.2), np.where(eu, 0.0, 0.02))
        hz = hz * np.where(y >= 2013, 0.8, 1.0)  # stricter nationality code from 2013
        nz = fn[rng.random(len(fn)) < hz]
        nd = uniform_dates(rng, D0, D1, len(nz))
        events.add("nat", nz, nd, BE)
        events.add("reg", nz, nd, REG_POP, -1, NO_DATE)
        people.nat[nz] = BE
        people.reg[nz] = REG_POP
        people.reason[nz] = -1

        # recognition of asylum seekers ---------------------------------------------
        wt = np.flatnonzero(registered & (people.reg == REG_WAITING) & ~busy & (people.reg_since < D0 - 120))
        rec = wt[rng.random(len(wt)) < 0.5]
        rd = uniform_dates(rng, D0, D1, len(rec))
        events.add("reg", rec, rd, REG_FOREIGN, 2, rd - rng.integers(0, 60, len(rec)))
        people.reg[rec] = REG_FOREIGN
        people.reg_since[rec] = rd
        people.coll_from[rec] = NO_DATE
        # the recognised leave the reception centre for a municipality of their community, the next day;
        # one recognised on 31 December the same day, so that the year's events stay in the year (in the
        # warehouse's last year a move on 1 January of the next one was a row dated in the future)
        self._move_to(rec, np.minimum(rd + 1, D1 - 1), self.settle(people.oc[rec]))
        busy[rec] = True
        # settled foreigners move to the population register after five years
        st = np.flatnonzero(
            registered & ~busy & (people.reg == REG_FOREIGN) & (people.arrival < D0 - int(5 * YEAR_DAYS))
        )
        st = st[rng.random(len(st)) < 0.3]
        sd = uniform_dates(rng, D0, D1, len(st))
        events.add("reg", st, sd, REG_POP, 7, sd - rng.integers(0, 60, len(st)))
        people.reg[st] = REG_POP
        people.reason[st] = 7

        # returns of emigrants --------------------------------------------------------
        ab = np.flatnonzero(
            alive & (people.emig < D0) & (people.muni < 0) & ~people.is_bis & (age >= 18) & (age < 70)
        )
        yrs_away = (D0 - people.emig[ab].astype(np.int64)) / YEAR_DAYS
        hz = np.where(yrs_away < 5, np.where(people.nat[ab] == BE, 0.09, 0.04), 0.01)
        rt = ab[rng.random(len(ab)) < hz]
        rdt = uniform_dates(rng, D0, D1, len(rt))
        dest = self.settle(people.oc[rt])
        events.add("res", rt, rdt, dest, BE)
        rreg = np.where(people.nat[rt] == BE, REG_POP, REG_FOREIGN)
        events.add(
            "reg", rt, rdt, rreg, np.where(rreg == REG_POP, -1, 5), np.where(rreg == REG_POP, NO_DATE, rdt)
        )
        people.muni[rt] = dest
        people.reg[rt] = rreg
        people.arrival[rt] = np.where(people.gen[rt] == 1, rdt, people.arrival[rt])
        people.abroad[rt] = -1
        busy[rt] = True

        # births --------------------------------------------------------------------
        self._births(y, D0, D1, registered, age, region, partner, muni0, busy, n_before)

        # immigration: the balancing flow ------------------------------------------------
        self._immigration(y, D0, D1)
        self.add_asylum_seekers(int(round(asylum_count(y) * self.scale)), D0, D1, y)
        self.add_bis_persons(int(round(6_000 * self.scale)), D0, base=False)
        _ = ndays

    def _destination(self, muni: np.ndarray) -> np.ndarray:
        """Destination of a move between municipalities: mostly in the same province, often out of
        Brussels into the Flemish and Walloon periphery."""
        rng = self.rng
        k = len(muni)
        if k == 0:
            return np.empty(0, np.int64)
        prov = MUNI_PROVINCE[np.clip(muni, 0, None)]
        same = rng.random(k) < 0.7
        w = MUNI_WEIGHT.copy()
        out = rng.choice(N_MUNI, size=k, p=w / w.sum())
        # same-province draw: pick among the province's municipalities by weight
        u = rng.random(k)
        cand = np.empty(k, np.int64)
        for p in np.unique(prov):
            mu = np.flatnonzero(MUNI_PROVINCE == p)  # noqa: SIM300
            cw = np.cumsum(MUNI_WEIGHT[mu]) / MUNI_WEIGHT[mu].sum()
            sel = prov == p
            cand[sel] = mu[np.minimum(np.searchsorted(cw, u[sel]), len(mu) - 1)]
        out = np.where(same, cand, out)
        # Brussels residents moving out go to Halle-Vilvoorde or Walloon Brabant
        bx = (MUNI_REGION[np.clip(muni, 0, None)] == BXL) & (rng.random(k) < 0.55)
        per = np.array(
            [np.flatnonzero(c == MUNI_NIS)[0] for c in ("23027", "23088", "25121", "25112", "24001")]
        )  # noqa: SIM300
        out = np.where(bx, per[rng.integers(0, len(per), k)], out)
        # never "move" within the same municipality
        out = np.where(out == muni, (out + 1 + rng.integers(0, N_MUNI - 1, k)) % N_MUNI, out)
        return out

    def _move(self, who: np.ndarray, when: np.ndarray, region_bias=None) -> None:
        self._move_to(who, when, self._destination(self.people.muni[who]))

    def _move_to(self, who: np.ndarray, when: np.ndarray, to: np.ndarray) -> None:
        if len(who) == 0:
            return
        people = self.people
        to = np.asarray(to, np.int64)
        ch = to != people.muni[who]
        who, when, to = who[ch], np.asarray(when)[ch], to[ch]
        self.events.add("res", who, when.astype(np.int32), to, BE)
        people.muni[who] = to

    def _births(self, y, D0, D1, registered, age, region, partner, muni0, busy, n_before) -> None:
        rng, people, events = self.rng, self.people, self.events
        moms = np.flatnonzero(
            registered
            & people.female
            & (age >= 14.5)
            & (age < 50)
            & (people.death == NO_DATE)
            & (people.muni >= 0)
            & (people.reg != REG_WAITING)
        )
        a = np.floor(age[moms]).astype(np.int64)
        f = FERTILITY_SHAPE[np.clip(a, 0, 59)] * total_fertility(y) * FERTILITY_TUNING
        f = f * np.where(
            (people.gen[moms] == 1) & ~IS_EU28[people.oc[moms]] & (people.oc[moms] != BE), 1.45, 1.0
        )
        f = f * np.where(region[moms] == BXL, 1.1, 1.0)
        f = f * np.where(people.union[moms] >= 0, 1.35, 0.55)
        mo = select_expected(rng, moms, np.minimum(f, 0.9), region[moms])
        k = len(mo)
        if k == 0:
            return
        bdate = uniform_dates(rng, D0, D1, k)
        # the mother's residence at the birth: her municipality on 1 January unless she moved before
        res = self.events.res
        # events of this year of the mothers (the last batch of events appended since the year start)
        ev = self._year_events(D0, "res")
        ev = ev.filter(pl.col("pid").is_in(mo))
        mdf = pl.DataFrame({"pid": mo.astype(np.int64), "b": bdate.astype(np.int32), "row": np.arange(k)})
        before = (
            mdf.join(ev, on="pid", maintain_order="left")
            .filter(pl.col("date") <= pl.col("b"))
            .sort(["row", "date"], maintain_order=True)
            .group_by("row", maintain_order=True)
            .last()
        )
        bmuni = muni0[mo].astype(np.int64)
        bmuni[before["row"].to_numpy()] = before["muni"].to_numpy()
        babroad = np.full(k, -1, np.int64)
        babroad[before["row"].to_numpy()] = np.where(
            before["muni"].to_numpy() < 0, before["country"].to_numpy(), -1
        )
        fa = partner[mo]
        fok = fa >= 0
        fa = np.where(fok, fa, -1)
        fat = np.clip(fa, 0, None)
        be_parent = (people.nat[mo] == BE) | (fok & (people.nat[fat] == BE)) | (people.gen[mo] == 2)
        nat = np.where(be_parent, BE, people.nat[mo])
        moc, mgen = people.oc[mo], people.gen[mo]
        foc, fgen = people.oc[fat], people.gen[fat]
        use_f = (moc == BE) & fok & (foc != BE) & (fgen <= 2)
        oc = np.where(use_f, foc, moc)
        g_src = np.where(use_f, fgen, mgen)
        gen = np.where(oc == BE, 0, np.where(g_src == 1, 2, np.where(g_src == 2, 3, 0)))
        female = rng.random(k) < 0.488
        leave = np.where(female, rng.normal(27.0, 3.5, k), rng.normal(29.0, 4.0, k))
        leave = np.clip(np.where(rng.random(k) < 0.2, rng.normal(38, 8, k), leave), 18.2, 60)
        in_be = bmuni >= 0
        reg = np.where(
            in_be,
            np.where(nat == BE, REG_POP, np.where(people.reg[mo] == REG_WAITING, REG_WAITING, REG_FOREIGN)),
            -1,
        )
        ids = people.add(
            birth=bdate,
            female=female,
            birth_country=np.where(in_be, BE, np.where(babroad >= 0, babroad, BE)),
            first_nat=nat,
            nat=nat,
            oc=oc,
            gen=gen,
            mother=mo,
            father=fa,
            kind=2,
            muni=np.where(in_be, bmuni, -1),
            abroad=np.where(in_be, -1, babroad),
            reg=reg,
            reason=np.where(nat == BE, -1, 1),
            leave_age=leave,
            reg_since=bdate,
        )
        events.add("nat", ids, bdate, nat)
        events.add("res", ids[in_be], bdate[in_be], bmuni[in_be], BE)
        events.add(
            "reg",
            ids[in_be],
            bdate[in_be],
            reg[in_be],
            np.where(nat[in_be] == BE, -1, 1),
            np.where(nat[in_be] == BE, NO_DATE, bdate[in_be]),
        )
        # later events of the mother in the year: the baby goes along
        after = (
            mdf.join(ev, on="pid", maintain_order="left")
            .filter(pl.col("date") > pl.col("b"))
            .sort(["row", "date"], maintain_order=True)
        )
        if len(after):
            rows = after["row"].to_numpy()
            events.add(
                "res",
                ids[rows],
                after["date"].to_numpy().astype(np.int32),
                after["muni"].to_numpy(),
                after["country"].to_numpy(),
            )
            last = after.group_by("row", maintain_order=True).last()
            lr = last["row"].to_numpy()
            people.muni[ids[lr]] = people.muni[mo[lr]]
            people.abroad[ids[lr]] = people.abroad[mo[lr]]
            gone = people.muni[mo[lr]] < 0
            people.reg[ids[lr][gone]] = -1
            people.emig[ids[lr][gone]] = people.emig[mo[lr][gone]]
            ev_reg = self._year_events(D0, "reg").filter(pl.col("pid").is_in(mo) & (pl.col("register") < 0))
            rg = mdf.join(ev_reg, on="pid", maintain_order="left").filter(pl.col("date") > pl.col("b"))
            events.add(
                "reg", ids[rg["row"].to_numpy()], rg["date"].to_numpy().astype(np.int32), -1, -1, NO_DATE
            )
        _ = res, busy, n_before

    def _year_events(self, D0: int, log: str) -> pl.DataFrame:
        """Events of the running year in one log (the year's batches, appended since ``step`` began)."""
        start = self._batch_start[log]
        parts = getattr(self.events, log)[start:]
        names = {
            "res": ["pid", "date", "muni", "country"],
            "reg": ["pid", "date", "register", "reason", "decision"],
        }[log]
        if not parts:
            return pl.DataFrame({c: pl.Series(c, [], dtype=pl.Int64) for c in names})
        cols = [np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(len(names))]
        df = pl.DataFrame(dict(zip(names, cols, strict=True)))
        return df.filter(pl.col("date") >= D0)

    def _immigration(self, y: int, D0: int, D1: int) -> None:
        people = self.people
        alive_next = (
            (people.death == NO_DATE)
            & (people.muni >= 0)
            & ((people.reg == REG_POP) | (people.reg == REG_FOREIGN))
            & ~people.is_bis
        )
        region = region_of(people.muni)
        mix = immigration_mix(y)
        for r in (FL, BXL, WAL):
            have = int((alive_next & (region == r)).sum())
            need = population_target(r, y + 1) * self.scale - have
            floor = 0.25 * population_target(r, y) * self.scale * 0.012
            n_persons = int(round(max(need, floor)))
            if n_persons <= 0:
                continue
            self._immigrant_units(r, n_persons, y, D0, D1, mix)

    def _immigrant_units(self, r: int, n_persons: int, y: int, D0: int, D1: int, mix: np.ndarray) -> None:
        """Immigrants into region ``r``: singles, couples and families of one origin each."""
        rng, people, unions, events = self.rng, self.people, self.unions, self.events
        # units: 1.75 persons on average (singles, couples, families)
        n_units = max(1, int(round(n_persons / 2.3)))
        oc = rng.choice(len(COUNTRIES), size=n_units, p=mix).astype(np.int16)
        # region of settlement: choose municipality within region r by origin affinity
        w = DEST_P[oc][:, MUNI_REGION == r]  # noqa: SIM300
        w = w / w.sum(axis=1, keepdims=True)
        mu_r = np.flatnonzero(MUNI_REGION == r)  # noqa: SIM300
        muni = mu_r[
            np.minimum((rng.random(n_units)[:, None] > np.cumsum(w, axis=1)).sum(axis=1), len(mu_r) - 1)
        ]
        kind = rng.choice(
            4, size=n_units, p=[0.38, 0.25, 0.3, 0.07]
        )  # single, couple, couple+kids, parent+kids
        arr = uniform_dates(rng, D0, D1, n_units)
        ref_age = np.clip(rng.normal(30, 8, n_units), 18, 75)
        ref_female = np.where(kind == 3, rng.random(n_units) < 0.85, rng.random(n_units) < 0.45)
        belg = rng.random(n_units) < (0.2, 0.08, 0.15)[r]  # Belgians (returning, or born abroad)
        nat_u = np.where(belg, BE, oc)
        # adults
        has_partner = (kind == 1) | (kind == 2)
        nk = np.where(kind >= 2, rng.integers(1, 4, n_units), 0)
        a1_birth = (arr - (ref_age * YEAR_DAYS).astype(np.int64)).astype(np.int32)
        a2_age = np.clip(ref_age + np.where(ref_female, 2.5, -2.5) + rng.normal(0, 3, n_units), 18, 80)
        a2_birth = (arr - (a2_age * YEAR_DAYS).astype(np.int64)).astype(np.int32)
        reason = np.where(
            IS_EU28[oc],
            np.where(rng.random(n_units) < 0.6, 4, 5),
            rng.choice(np.array([1, 6, 4, 5]), size=n_units, p=[0.55, 0.15, 0.12, 0.18]),
        )
        reg_u = np.where(nat_u == BE, REG_POP, REG_FOREIGN)
        leave1 = np.clip(rng.normal(24, 3, n_units), 18.2, 36)

        def person(birth, female, m, mother=None, father=None, leave=None):
            full = np.full(n_units, -1, np.int64)
            mother = full if mother is None else mother
            father = full if father is None else father
            leave = np.full(n_units, 25.0) if leave is None else leave
            ids = people.add(
                birth=birth[m],
                female=female[m],
                birth_country=np.where(belg[m] & (rng.random(m.sum()) < 0.3), BE, oc[m]),
                first_nat=nat_u[m],
                nat=nat_u[m],
                oc=np.where(belg[m], BE, oc[m]),
                gen=np.where(belg[m], 0, 1),
                muni=muni[m],
                arrival=arr[m],
                kind=3,
                reg=reg_u[m],
                reason=np.where(reg_u[m] == REG_POP, -1, reason[m]),
                mother=mother[m],
                father=father[m],
                leave_age=leave[m],
                reg_since=arr[m],
            )
            events.add("nat", ids, birth[m], nat_u[m])
            events.add("res", ids, arr[m], muni[m], BE)
            events.add(
                "reg",
                ids,
                arr[m],
                reg_u[m],
                np.where(reg_u[m] == REG_POP, -1, reason[m]),
                np.where(reg_u[m] == REG_POP, NO_DATE, arr[m] - rng.integers(0, 90, m.sum())),
            )
            return ids

        allu = np.ones(n_units, bool)
        a1 = person(a1_birth, ref_female, allu, leave=leave1)
        a2 = person(a2_birth, ~ref_female, has_partner)
        # unions of migrant couples, mostly married before arrival
        man = np.where(ref_female[has_partner], a2, a1[has_partner])
        woman = np.where(ref_female[has_partner], a1[has_partner], a2)
        kk = len(man)
        start = (arr[has_partner] - (rng.exponential(5, kk) * YEAR_DAYS).astype(np.int64)).astype(np.int64)
        start = np.maximum(
            start, np.maximum(people.birth[man], people.birth[woman]).astype(np.int64) + int(18 * YEAR_DAYS)
        )
        start = np.minimum(start, arr[has_partner].astype(np.int64))
        mar = rng.random(kk) < 0.8
        married = np.where(mar, start, NO_DATE)
        uid = unions.add(
            man, woman, start.astype(np.int32), married.astype(np.int32), np.full(kk, NO_DATE, np.int32)
        )
        people.union[man] = uid
        people.union[woman] = uid
        for who in (man[mar], woman[mar]):
            people.civ[who] = 2
            people.civ_date[who] = married[mar]
            events.add("civ", who, married[mar], 2)
        # parents of adult migrants: mostly unknown
        # children
        mom_u = np.full(n_units, -1, np.int64)
        dad_u = np.full(n_units, -1, np.int64)
        mom_u[:] = np.where(ref_female, a1, -1)
        dad_u[:] = np.where(~ref_female, a1, -1)
        hp = np.flatnonzero(has_partner)
        mom_u[hp] = np.where(ref_female[hp], a1[hp], a2)
        dad_u[hp] = np.where(ref_female[hp], a2, a1[hp])
        for j in range(3):
            with_kid = nk > j
            if not with_kid.any():
                continue
            mom_age = age_at(people.birth[np.clip(mom_u, 0, None)], arr)
            dad_age = age_at(people.birth[np.clip(dad_u, 0, None)], arr)
            young = np.where(mom_u >= 0, mom_age, dad_age)
            if (dad_u >= 0).any():
                young = np.where((dad_u >= 0) & (mom_u >= 0), np.minimum(mom_age, dad_age), young)
            max_age = np.clip(young - 18, 0, 17.5)
            kage = rng.random(n_units) * max_age
            kbirth = (arr - (kage * YEAR_DAYS).astype(np.int64)).astype(np.int32)
            kf = rng.random(n_units) < 0.49
            ok = with_kid & (max_age > 0.2)
            person(
                kbirth,
                kf,
                ok,
                mother=mom_u,
                father=dad_u,
                leave=np.clip(rng.normal(26, 3.5, n_units), 18.2, 36),
            )
        _ = j

    def run(self) -> None:
        self.base_population()
        for y in range(self.first_year, self.last_year + 1):
            self._batch_start = {"res": len(self.events.res), "reg": len(self.events.reg)}
            self.step(y)
