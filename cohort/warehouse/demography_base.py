"""The base population on 1 January of the first year: residents by region and municipality with an
age pyramid, sex, origin and generation, couples, mothers and fathers (resident, or ancestors who
share a sibship), nationality, registers, residence spells, civil status, collective homes, and the
stocks of asylum seekers and BIS persons (see :mod:`cohort.warehouse.demography` for the model).

It imports :mod:`cohort.warehouse.demography_params`, :mod:`cohort.warehouse.demography_population`
and :mod:`cohort.warehouse.columns`.
"""

import numpy as np

from cohort.warehouse.columns import arg_sort
from cohort.warehouse.demography_params import (
    BE,
    BXL,
    COUNTRIES,
    FL,
    IS_EU28,
    IS_NEIGHBOUR,
    MUNI_DIVERSITY,
    MUNI_PROFILE,
    MUNI_PROVINCE,
    MUNI_REGION,
    MUNI_WEIGHT,
    N_MUNI,
    NATIONAL_REGISTER_START,
    NO_DATE,
    PROFILE_P,
    WAL,
    YEAR_DAYS,
    age_weights,
    ancestor_deaths,
    death_rate,
    epoch_day,
    foreign_age_profile,
    foreign_share,
    population_target,
    survival,
)
from cohort.warehouse.demography_population import (
    REG_FOREIGN,
    REG_POP,
    DemographyState,
    age_at,
    group_mean,
    nearest_within_group,
    pair_within_groups,
    sibships,
    uniform_dates,
)


class BasePopulation(DemographyState):
    """A :class:`DemographyState` that can draw its base population (``base_population``)."""

    def base_population(self) -> None:
        rng, people, A = self.rng, self.people, self.first_year
        D0 = epoch_day(A)
        munis, ages = [], []
        for r in (FL, BXL, WAL):
            n_r = int(round(population_target(r, A) * self.scale))
            mu = np.flatnonzero(MUNI_REGION == r)  # noqa: SIM300
            w = MUNI_WEIGHT[mu] / MUNI_WEIGHT[mu].sum()
            m = rng.choice(mu, size=n_r, p=w)
            aw = age_weights(r, A)
            a = rng.choice(len(aw), size=n_r, p=aw) + rng.random(n_r)
            munis.append(m)
            ages.append(a)
        muni = np.concatenate(munis).astype(np.int16)
        age = np.concatenate(ages)
        n = len(age)
        # sex: survival differs, so the share of women rises with age
        sf = survival(age, np.ones(n, bool), A - 45)
        sm = survival(age, np.zeros(n, bool), A - 45)
        female = rng.random(n) < (0.488 * sf) / (0.488 * sf + 0.512 * sm)
        birth = (D0 - np.floor(age * YEAR_DAYS)).astype(np.int32) - 1
        region = MUNI_REGION[muni]
        # origin: foreign (Flemish definition) with a regional share, a municipal diversity index
        # and an age gradient, normalised to the regional target
        p_f = np.zeros(n)
        for r in (FL, BXL, WAL):
            mask = region == r
            raw = MUNI_DIVERSITY[muni[mask]] * foreign_age_profile(age[mask])
            target = foreign_share(r, A)
            # solve the scaling so that the capped probabilities average to the target
            lo, hi = 0.0, 10.0 / max(raw.mean(), 1e-9)
            for _ in range(40):
                mid = (lo + hi) / 2
                if np.minimum(raw * mid, 0.97).mean() > target:
                    hi = mid
                else:
                    lo = mid
            p_f[mask] = np.minimum(raw * lo, 0.97)
        foreign = rng.random(n) < p_f
        # origin country from the municipality's profile (one inverse-CDF draw per profile: no
        # person x country matrix, which would not fit at scale 1.0)
        u = rng.random(n)
        oc = np.full(n, BE, np.int16)
        prof_of = MUNI_PROFILE[muni]
        for pr in np.unique(prof_of):
            sel = np.flatnonzero(prof_of == pr)
            cw = np.cumsum(PROFILE_P[pr])
            oc[sel] = np.minimum(np.searchsorted(cw, u[sel] * cw[-1], side="right"), len(COUNTRIES) - 1)
        oc = np.where(foreign, oc, BE).astype(np.int16)
        # generation: born abroad more likely at working ages, less for children
        p1 = np.interp(age, [0, 6, 18, 30, 65, 100], [0.12, 0.3, 0.5, 0.62, 0.62, 0.7])
        p1 = np.where(IS_NEIGHBOUR[oc], np.minimum(p1 + 0.15, 0.9), p1)
        gen = np.where(foreign, np.where(rng.random(n) < p1, 1, 2), 0).astype(np.int8)
        arr_age = np.where(age < 18, rng.random(n) * age, np.clip(rng.normal(26, 8, n), 0, age))
        arrival = np.where(gen == 1, birth + (arr_age * YEAR_DAYS).astype(np.int64), NO_DATE)
        arrival = np.minimum(arrival, D0 - 30).astype(np.int32)
        # age of leaving the parental address in the register (students stay registered at home)
        leave = np.where(female, rng.normal(27.0, 3.5, n), rng.normal(29.0, 4.0, n))
        # a fifth stays registered at the parental address well into adulthood
        leave = np.where(rng.random(n) < 0.2, rng.normal(38, 8, n), leave)
        leave = np.clip(leave, 18.2, 60).astype(np.float32)
        ids = people.add(
            birth=birth,
            female=female,
            birth_country=np.where(gen == 1, oc, BE),
            first_nat=BE,
            nat=BE,
            oc=oc,
            gen=gen,
            muni=muni,
            kind=0,
            arrival=arrival,
            leave_age=leave,
        )
        self._base_couples(ids, age, female, muni, oc, D0)
        self._base_parents(ids, age, D0)
        self._base_nationality(ids, D0)
        self._base_status(ids, age, D0)
        self.add_bis_persons(int(round(60_000 * self.scale)), D0, base=True)

    def _base_couples(self, ids, age, female, muni, oc, D0) -> None:
        rng, people = self.rng, self.people
        pw = np.interp(
            age,
            [18, 22, 27, 32, 40, 55, 65, 75, 85, 95],
            [0.0, 0.34, 0.74, 0.84, 0.85, 0.85, 0.82, 0.64, 0.24, 0.06],
        )
        pm = np.interp(
            age,
            [18, 24, 29, 34, 42, 55, 65, 75, 85, 95],
            [0.0, 0.26, 0.66, 0.84, 0.87, 0.89, 0.9, 0.88, 0.7, 0.3],
        )
        want = rng.random(len(ids)) < np.where(female, pw, pm)
        grp = muni.astype(np.int64) * 1000 + self.marriage_key(oc)
        w = want & female
        m = want & ~female
        wi, mi = pair_within_groups(
            rng,
            ids[w],
            age[w] + rng.normal(0, 1.5, w.sum()),
            grp[w],
            ids[m],
            age[m] - 2.5 + rng.normal(0, 1.5, m.sum()),
            grp[m],
        )
        if len(wi) == 0:
            return
        a_w = age[wi - ids[0]]
        k = len(wi)
        union_age = np.clip(rng.normal(24.0, 3.5, k), 18, a_w)
        start = (people.birth[wi] + (union_age * YEAR_DAYS).astype(np.int64)).clip(None, D0 - 1)
        # in 2004 nine in ten Flemish couples with children were married (docs/domain_facts.md 3.6)
        p_mar = np.interp(a_w, [20, 30, 45, 65, 80], [0.4, 0.75, 0.9, 0.95, 0.97]) * (
            1 - 0.012 * (self.first_year - 2005)
        )
        p_mar = np.where(people.oc[wi] != BE, np.where(IS_EU28[people.oc[wi]], p_mar, 0.95), p_mar)
        mar = rng.random(k) < p_mar
        mdate = np.minimum(start + (rng.random(k) * 3 * YEAR_DAYS).astype(np.int64), D0 - 1)
        married = np.where(mar, mdate, NO_DATE)
        legal_ok = ~mar & (rng.random(k) < 0.35)
        legal = np.where(legal_ok, np.maximum(start, epoch_day(2000)) + 30, NO_DATE)
        legal = np.where(legal < D0, legal, NO_DATE)
        u = self.unions.add(mi, wi, start.astype(np.int32), married.astype(np.int32), legal.astype(np.int32))
        people.union[wi] = u
        people.union[mi] = u
        people.civ[wi] = np.where(mar, 2, 1)
        people.civ[mi] = np.where(mar, 2, 1)
        people.civ_date[wi] = married
        people.civ_date[mi] = married
        self.events.add("civ", wi[mar], married[mar], 2)
        self.events.add("civ", mi[mar], married[mar], 2)
        # men's partners live with them
        people.muni[wi] = people.muni[mi]

    def _base_parents(self, ids, age, D0) -> None:
        """Match every base person to a resident mother when she is alive and in Belgium, derive
        the father from her partner, then create the missing parents and grandparents."""
        rng, people = self.rng, self.people
        n = len(ids)
        female = people.female[ids]
        gap = np.clip(rng.normal(29.0, 5.0, n), 17, 44)
        mother_age = age + gap
        alive = rng.random(n) < survival(mother_age, np.ones(n, bool), self.first_year - 60) / np.maximum(
            survival(gap, np.ones(n, bool), self.first_year - 60), 1e-9
        )
        at_home = age < people.leave_age[ids]
        abroad = (people.gen[ids] == 1) & (
            rng.random(n) < 0.85
        )  # the parents of migrants mostly stayed abroad
        seek = (at_home | alive) & ~(abroad & ~at_home)
        women = ids[female & (age >= 16)]
        mother = np.full(n, -1, np.int64)
        # progressively coarser groups: municipality, province, region, anywhere
        muni = people.muni[ids].astype(np.int64)
        keys_child = [
            muni * 100 + people.oc[ids],
            MUNI_PROVINCE[muni] * 100 + people.oc[ids],
            people.oc[ids].astype(np.int64),
            np.zeros(n, np.int64),
        ]
        wm = people.muni[women].astype(np.int64)
        keys_women = [
            wm * 100 + people.oc[women],
            MUNI_PROVINCE[wm] * 100 + people.oc[women],
            people.oc[women].astype(np.int64),
            np.zeros(len(women), np.int64),
        ]
        wage = age[women - ids[0]]
        # most children at home live with a couple: a first pass looks among women with a partner;
        # the others go to the nearest mother, partnered or not (one-parent families)
        prefer = at_home & (rng.random(n) < 0.62)
        pw_mask = people.union[women] >= 0
        got = nearest_within_group(
            np.flatnonzero(prefer),
            mother_age[prefer],
            keys_child[0][prefer],
            women[pw_mask],
            wage[pw_mask],
            keys_women[0][pw_mask],
            2.5,
        )
        ok = got >= 0
        sel = np.flatnonzero(prefer)[ok]
        ga = age[got[ok] - ids[0]] - age[sel]
        good = (ga >= 16) & (ga <= 47)
        mother[sel[good]] = got[ok][good]
        for kc, kw, tol in zip(keys_child, keys_women, (2.5, 3.0, 4.0, 6.0), strict=True):
            todo = seek & (mother < 0)
            # adults living on their own look for a mother in a wider area than the municipality
            if not todo.any():
                break
            t_idx = np.flatnonzero(todo)
            got = nearest_within_group(t_idx, mother_age[t_idx], kc[t_idx], women, wage, kw, tol)
            ok = got >= 0
            if ok.any():
                gm = got[ok]
                ga = age[gm - ids[0]] - age[t_idx[ok]]
                good = (ga >= 16) & (ga <= 47)
                mother[t_idx[ok][good]] = gm[good]
        people.mother[ids] = mother
        # some adults without a partner still live at their mother's address
        stay = ~at_home & (mother >= 0) & (people.union[ids] < 0) & (age < 65) & (rng.random(n) < 0.4)
        people.leave_age[ids[stay]] = (age[stay] + rng.uniform(2, 12, stay.sum())).astype(np.float32)
        at_home = at_home | stay
        # children at home live where their mother lives
        home = at_home & (mother >= 0)
        people.muni[ids[home]] = people.muni[mother[home]]
        # father: the mother's partner if the union predates the birth
        partner = self.partner()
        mom = np.clip(mother, 0, None)
        pa = np.where(mother >= 0, partner[mom], -1)
        ustart = np.where(
            people.union[mom] >= 0, self.unions.start[np.clip(people.union[mom], 0, None)], NO_DATE
        )
        fa_ok = (
            (pa >= 0)
            & (ustart <= people.birth[ids] + 200)
            & (age_at(people.birth[np.clip(pa, 0, None)], people.birth[ids]) >= 16)
        )
        people.father[ids] = np.where(fa_ok, pa, -1)
        # derive origin attributes of children from their mother (oldest generations first)
        order = np.argsort(people.birth[ids])
        for _ in range(4):
            self._inherit(ids[order])
        # missing parents become ancestor rows (dead, or living abroad); migrants' parents are
        # partly unknown. Brothers and sisters share them: one ancestor per sibship, not per person
        # (per person, the grandparents' cohorts of the 1890s outnumbered the 1990s births, and
        # used up the INSZ sequence numbers they share with them at scale 1.0).
        unknown = (people.gen[ids] == 1) & (rng.random(n) < 0.55)
        need_m = (people.mother[ids] < 0) & ~unknown
        # mothers: siblings are persons of one origin whose mother's birth would fall together
        target = (
            people.birth[ids].astype(np.int64) - (gap * YEAR_DAYS).astype(np.int64) - rng.integers(0, 365, n)
        )
        m_kids = ids[need_m]
        m_group = sibships(rng, self._sib_key(m_kids), target[need_m], people.birth[m_kids])
        anc1 = self._ancestors(m_kids, m_group, True, group_mean(target[need_m], m_group))
        people.mother[m_kids] = anc1[m_group]
        # fathers: of the same sibship, or of the children of one resident mother (90 % known)
        has_m = (people.mother[ids] >= 0) & ~need_m & (people.father[ids] < 0) & ~unknown
        f_kids = np.concatenate([m_kids, ids[has_m]])
        _, f_group = np.unique(
            np.concatenate([m_group, len(anc1) + people.mother[ids[has_m]]]), return_inverse=True
        )
        n_f = int(f_group.max()) + 1 if len(f_group) else 0
        known = rng.random(n_f) < 0.9
        known[np.unique(f_group[: len(m_kids)])] = True
        mother_birth = people.birth[people.mother[f_kids]].astype(np.int64)
        f_birth = group_mean(mother_birth, f_group) - (rng.normal(3, 3, n_f) * YEAR_DAYS).astype(np.int64)
        keep = known[f_group]
        f_kids, f_group = f_kids[keep], np.unique(f_group[keep], return_inverse=True)[1]
        f_birth = f_birth[known]
        anc2 = self._ancestors(f_kids, f_group, False, f_birth)
        people.father[f_kids] = anc2[f_group]
        # grandparents of the younger generations (ancestors with a child born after 1950), again
        # shared between brothers and sisters; a couple's two sides never fall in one sibship
        for kids, side in ((m_kids, "mother"), (f_kids, "father")):
            parent = getattr(people, side)[kids]
            young = np.unique(parent[people.birth[kids] >= epoch_day(1950)])
            k = len(young)
            if not k:
                continue
            g_target = people.birth[young].astype(np.int64) - (
                np.clip(rng.normal(28, 5, k), 17, 44) * YEAR_DAYS
            ).astype(np.int64)
            g_group = sibships(rng, self._sib_key(young), g_target, people.birth[young])
            g1 = self._ancestors(young, g_group, True, group_mean(g_target, g_group))
            g_fbirth = people.birth[g1].astype(np.int64) - (rng.normal(3, 3, len(g1)) * YEAR_DAYS).astype(
                np.int64
            )
            g2 = self._ancestors(young, g_group, False, g_fbirth)
            people.mother[young] = g1[g_group]
            people.father[young] = g2[g_group]

    def _sib_key(self, ids: np.ndarray) -> np.ndarray:
        """Brothers and sisters share origin and generation (both derive from the parents)."""
        return self.people.oc[ids].astype(np.int64) * 10 + self.people.gen[ids]

    def _inherit(self, ids: np.ndarray) -> None:
        """Origin of a child from its mother: oc, generation, birth country, arrival."""
        people = self.people
        m = people.mother[ids]
        has = m >= 0
        c, mo = ids[has], m[has]
        mgen = people.gen[mo]
        born_abroad = (mgen == 1) & (people.birth[c] < people.arrival[mo])
        people.oc[c] = people.oc[mo]
        newgen = np.where(mgen == 1, np.where(born_abroad, 1, 2), np.where(mgen == 2, 3, 0))
        newgen = np.where((people.oc[c] == BE), 0, newgen)
        people.gen[c] = newgen
        people.birth_country[c] = np.where(newgen == 1, people.oc[c], BE)
        arr = np.where(born_abroad, np.maximum(people.arrival[mo], people.birth[c] + 1), NO_DATE)
        people.arrival[c] = np.where(
            newgen == 1,
            np.minimum(np.where(born_abroad, arr, people.arrival[c]), epoch_day(self.first_year) - 30),
            NO_DATE,
        )

    def _ancestors(self, kids: np.ndarray, group: np.ndarray, female: bool, birth: np.ndarray) -> np.ndarray:
        """Create one (non-resident) parent per sibship: ``kids[i]`` is a child of ancestor
        ``group[i]``, born near ``birth[group]``. The parent died before the window, after the
        youngest child's birth, or, for migrants, may be alive abroad. Returns the new ids."""
        rng, people = self.rng, self.people
        k = len(birth)
        if k == 0:
            return np.empty(0, np.int64)
        D0 = epoch_day(self.first_year)
        # the youngest child stands for the sibship (origin, generation, the earliest death)
        by_age = arg_sort(group, people.birth[kids])
        last = np.r_[group[by_age][1:] != group[by_age][:-1], True]
        child = kids[by_age[last]]
        eldest = np.full(k, np.iinfo(np.int64).max)
        np.minimum.at(eldest, group, people.birth[kids].astype(np.int64))
        # a parent is at least 15 (mother) or 16 (father) at the eldest's birth, at most 50 or 70
        # at the youngest's
        lo_age, hi_age = (15, 50) if female else (16, 70)
        birth = np.clip(
            birth,
            people.birth[child].astype(np.int64) - int(hi_age * YEAR_DAYS),
            eldest - int(lo_age * YEAR_DAYS),
        ).astype(np.int32)
        cgen = people.gen[child]
        oc = people.oc[child].copy()
        # fathers of second-generation children are sometimes Belgian (mixed couples)
        mixed = (cgen == 2) & ~female & (rng.random(k) < 0.15)
        oc = np.where(mixed, BE, oc)
        gen = np.where(oc == BE, 0, np.where(cgen <= 2, 1, 2))
        gen = np.where((cgen == 1) & (oc != BE), 1, gen)
        bc = np.where(gen == 1, oc, BE)
        first = np.where(gen == 1, oc, np.where((gen == 2) & (rng.random(k) < 0.5), oc, BE))
        abroad = (cgen == 1) & (oc != BE)
        age_now = age_at(birth, D0)
        alive_p = survival(age_now, np.full(k, female), self.first_year - 30)
        alive = abroad & (rng.random(k) < alive_p)
        # dead: between the child's birth and the window start
        lo = np.maximum(
            people.birth[child].astype(np.int64) + 1, birth.astype(np.int64) + int(30 * YEAR_DAYS)
        )
        hi = np.maximum(lo + 1, D0 - 1)
        death = np.minimum(ancestor_deaths(rng, birth, lo, hi, female), D0 - 1)
        # alive abroad: death drawn from the mortality after the window start
        span = rng.exponential(1.0, k) / np.maximum(
            death_rate(age_now, np.full(k, female), np.zeros(k, np.int64), 2010), 1e-4
        )
        death = np.where(alive, D0 + (span * YEAR_DAYS).astype(np.int64), death).astype(np.int64)
        death = np.where(death > epoch_day(self.last_year + 1) - 1, NO_DATE, death).astype(np.int32)
        nat = np.where((first != BE) & (gen == 2), BE, first)
        ids = people.add(
            birth=birth,
            female=np.full(k, female),
            birth_country=bc,
            first_nat=first,
            nat=nat,
            oc=oc,
            gen=gen,
            death=death,
            kind=1,
            abroad=np.where(alive, oc, -1),
            # the National Register (1968) never held those who died before it: the warehouse
            # knows them by a BIS number (which also keeps the register's sequence numbers of the
            # 1890s, shared with the 1990s, for the persons who have them)
            is_bis=death < NATIONAL_REGISTER_START,
        )
        # nationality spells; naturalised ancestors (second generation) changed in between
        self.events.add("nat", ids, birth, first)
        natd = uniform_dates(
            rng, birth.astype(np.int64) + int(18 * YEAR_DAYS), np.minimum(death.astype(np.int64), D0 - 1), k
        )
        chg = (nat != first) & (natd < death) & (natd > birth)
        self.events.add("nat", ids[chg], natd[chg], nat[chg])
        # residence abroad for the living
        self.events.add("res", ids[alive], birth[alive], -1, oc[alive])
        return ids

    def _base_nationality(self, ids, D0) -> None:
        """First and current nationality of the base population, with naturalisations before the window."""
        rng, people = self.rng, self.people
        n = len(ids)
        gen, oc = people.gen[ids], people.oc[ids]
        eu = IS_EU28[oc]
        m, f = people.mother[ids], people.father[ids]
        mom, fat = np.clip(m, 0, None), np.clip(f, 0, None)
        u = rng.random(n)
        # born in Belgium to a migrant: Belgian at birth when a parent was Belgian at the birth;
        # parents come first (a few passes settle three generations)
        for _ in range(4):
            parent_be = ((m >= 0) & (people.first_nat[mom] == BE)) | (
                (f >= 0) & (people.first_nat[fat] == BE)
            )
            first = np.where(gen == 1, oc, np.where(gen == 2, np.where(parent_be | (u < 0.6), BE, oc), BE))
            people.first_nat[ids] = first
        yrs = np.where(
            gen == 1, (D0 - people.arrival[ids].astype(np.int64)) / YEAR_DAYS, age_at(people.birth[ids], D0)
        )
        rate = np.where(eu, 0.05, 0.26)
        p_nat = np.where(first != BE, 1 - np.exp(-rate * np.clip(yrs - 4, 0, None)), 0.0)
        p_nat = np.where(gen == 2, np.minimum(p_nat * 1.6, 0.92), p_nat)
        natur = rng.random(n) < p_nat
        nat = np.where(natur, BE, first)
        since = np.where(gen == 1, people.arrival[ids], people.birth[ids]).astype(np.int64) + int(
            4 * YEAR_DAYS
        )
        natd = uniform_dates(rng, np.minimum(since, D0 - 2), D0 - 1, n)
        people.first_nat[ids] = first
        people.nat[ids] = nat
        self.events.add("nat", ids, people.birth[ids], first)
        self.events.add("nat", ids[natur], natd[natur], BE)
        self._natdate = np.where(natur, natd, NO_DATE)

    def _base_status(self, ids, age, D0) -> None:
        """Registers, residence spells, civil status and collective homes at the window start."""
        rng, people, events = self.rng, self.people, self.events
        n = len(ids)
        gen, nat = people.gen[ids], people.nat[ids]
        arrival = people.arrival[ids].astype(np.int64)
        born_here = gen != 1
        entry = np.where(born_here, people.birth[ids], arrival)
        # residence: an earlier spell in another municipality, then the current one
        cur_from = np.maximum(entry + 1, D0 - (rng.exponential(9.0, n) * YEAR_DAYS).astype(np.int64))
        cur_from = np.minimum(cur_from, D0 - 1)
        prev = cur_from > entry + 1
        other = rng.integers(0, N_MUNI, n)
        other = np.where(other == people.muni[ids], (other + 1) % N_MUNI, other)
        events.add("res", ids[prev], entry[prev], other[prev], BE)
        events.add("res", ids, np.where(prev, cur_from, entry), people.muni[ids], BE)
        # registers
        foreign_now = nat != BE
        reason = rng.choice(np.array([1, 4, 5, 6, 2, 3]), size=n, p=[0.45, 0.2, 0.15, 0.05, 0.1, 0.05])
        reason = np.where(IS_EU28[people.oc[ids]], np.where(rng.random(n) < 0.6, 4, 5), reason)
        reason = np.where(gen == 1, reason, 1)
        settled = arrival + int(5 * YEAR_DAYS)
        # Belgians: population register from birth/arrival; naturalised: foreigners then population
        natd = self._natdate
        was_foreign = people.first_nat[ids] != BE
        events.add("reg", ids[~was_foreign], entry[~was_foreign], REG_POP, -1, NO_DATE)
        wf = was_foreign
        events.add(
            "reg",
            ids[wf],
            entry[wf],
            REG_FOREIGN,
            reason[wf],
            np.maximum(entry[wf] - rng.integers(0, 90, wf.sum()), people.birth[ids[wf]]),
        )
        st = wf & foreign_now & (settled < D0) & (gen == 1)
        events.add("reg", ids[st], settled[st], REG_POP, 7, settled[st] - rng.integers(0, 60, st.sum()))
        nz = wf & ~foreign_now
        events.add("reg", ids[nz], natd[nz], REG_POP, -1, NO_DATE)
        people.reg[ids] = np.where(~foreign_now | st, REG_POP, REG_FOREIGN)
        people.reason[ids] = np.where(foreign_now, np.where(st, 7, reason), -1)
        people.reg_since[ids] = D0 - 1
        # civil status of the people not in a married union
        single = people.civ[ids] == 1
        never = np.interp(age, [18, 30, 45, 65, 85], [0.99, 0.8, 0.45, 0.22, 0.1])
        r = rng.random(n)
        widow_share = np.interp(age, [40, 60, 75, 90], [0.02, 0.2, 0.5, 0.75])
        in_union = people.union[ids] >= 0
        never = np.where(in_union, np.interp(age, [18, 35, 50], [1.0, 0.7, 0.45]), never)
        status = np.where(r < never, 1, np.where(rng.random(n) < widow_share * ~in_union, 3, 4))
        status = np.where(age < 18, 1, status)
        chg = single & (status != 1)
        people.civ[ids[chg]] = status[chg]
        lo = people.birth[ids].astype(np.int64) + int(22 * YEAR_DAYS)
        people.civ_date[ids[chg]] = uniform_dates(rng, np.minimum(lo, D0 - 2), D0 - 1, n)[chg]
        events.add("civ", ids[chg], people.civ_date[ids[chg]], status[chg])
        # collective homes for the very old without partner
        p_coll = np.interp(age, [74, 80, 85, 90, 95], [0.0, 0.04, 0.11, 0.24, 0.4])
        coll = (rng.random(n) < p_coll) & ~in_union
        people.coll_from[ids[coll]] = uniform_dates(rng, D0 - int(3 * YEAR_DAYS), D0 - 1, coll.sum())
        # a stock of asylum seekers in the waiting register (reception centres)
        self.add_asylum_seekers(
            int(round(14_000 * self.scale)), D0 - int(1.5 * YEAR_DAYS), D0 - 1, self.first_year - 1
        )
