"""Demography of the synthetic warehouse: a seeded, vectorised microsimulation of the population
of Belgium from 1 January ``first_year`` to 31 December ``last_year`` (National Register part).

What is modelled (all with NumPy arrays over persons and Polars joins; no per-person loops):

* **Base population** on 1 January of ``first_year``: region totals of the published series
  (domain-facts 3.1), an age pyramid built from the sizes of the Belgian birth cohorts, their
  survival and a migration surplus at working ages; municipalities (real NIS codes, a few per
  arrondissement, the rest of an arrondissement pooled under one of its codes); origin
  (ancestral country and generation) so that the Flemish and the Statbel origin cascades
  (domain-facts 3.4) give the published shares, with local colour (Limburg's Italian and Turkish
  communities, Moroccans in Antwerp and Brussels, the Dutch along the northern border, Germans in
  the east cantons ...). Couples are paired within municipality and origin by age; children
  are matched to a resident mother of plausible age (at least 16 years older); parents who are
  not resident (dead before the window, or abroad) and the grandparents of everyone born after
  1950 exist as ``person`` rows, one per sibship (``sibships``: brothers and sisters share their
  parents, cousins their grandparents); they die of mid-20th-century mortality, and those who
  died before the National Register began (1968) hold a BIS number. Part of the immigrants have
  unknown parents (null).
* **Each year**: deaths (Gompertz-Makeham rates by sex, calibrated each year to the published
  life expectancy, with regional differences), births to resident mothers (age-specific
  fertility; the father is the mother's partner), unions, marriages, separations, children
  leaving home at a latent age, moves of whole households between municipalities (with the
  suburbanisation out of Brussels), entries into collective homes, emigration of households
  and returns, naturalisation, asylum seekers in the waiting register and their recognition, and
  immigration by origin (EU enlargement, Syria 2015, Ukraine 2022 ...). Immigration is the
  balancing flow: the number of immigrants into each region is set so that the region's legal
  population (population + foreigners register) follows the published series.
* **Households on 1 January** are derived from the links (partner in the same municipality,
  children below their leave-home age living with their mother, else their father) and produced
  year by year by :meth:`Demography.household_years` so that scale 1.0 fits in memory.
* **BIS persons**: frontier workers and other non-residents known to social security (residence
  abroad, ``is_bis``, month + 40 in the number), never in a household.
* **INSZ numbers**: at most 499 per birth date and sex, and 1895 shares its counter with 1995.
  Where a day is full, ancestors (whose exact day carries nothing) move a day earlier
  (``insz_birth_dates``); a day full without them stops the build with the count.

``persons_extra`` (internal to the generator, handed to the labour simulation: one row per
person the labour model can see, i.e. with a Belgian residence inside the window or a BIS number;
the ancestors, 45 % of ``person`` at scale 1.0, have none):

================== ========== =================================================================
column             dtype      meaning
================== ========== =================================================================
insz               String     the person
origin_group       Enum       BE, EU_SOUTH (IT ES PT GR), EU_OTHER (other EU-28 incl. GB), NON_EU:
                              the Flemish-definition origin country (father's first nationality if
                              not Belgian, else mother's, else own first / current) grouped
origin_country     Enum       that origin country (ISO alpha-2; BE for Belgian origin)
generation         Int8       0 Belgian origin, 1 born abroad (migrant), 2 born in Belgium to a
                              migrant parent, 3 grandchild of a migrant (Belgian by both cascades)
education_level    Enum       final attained ISCED level (codes.EDUCATION_LEVEL), drawn by birth
                              cohort, sex and origin; children get the level they will attain
education_domain   Enum       ISCED-F broad field (codes.EDUCATION_DOMAIN), "00" for levels 1-2
education_year     Int16      calendar year the final level is (or will be) attained
work_propensity    Float32    latent attachment to paid work, about N(0, 1), higher with education
health_risk        Float32    latent risk of incapacity / invalidity, about N(0, 1)
arrival_date       Date       date of the (last) immigration; null for persons born in Belgium
ever_resident      Boolean    has a Belgian residence spell inside the simulated window
================== ========== =================================================================
"""

from collections.abc import Callable, Iterator

import numpy as np
import polars as pl

from cohort.classifications import codes
from cohort.warehouse.columns import (
    arg_sort,
    code_labels,
    date_series,
    insz_of,
    text_or_null,
)
from cohort.warehouse.demography_households import (
    build_households,
    household_anchors,
)
from cohort.warehouse.demography_insz import (
    insz_birth_dates,
    insz_numbers,
    insz_text,
)
from cohort.warehouse.demography_params import (
    ASYLUM_ORIGINS,
    BE,
    BXL,
    CI,
    COUNTRIES,
    DEST_P,
    FERTILITY_SHAPE,
    FERTILITY_TUNING,
    FL,
    IS_EU28,
    IS_NEIGHBOUR,
    IS_SOUTH,
    MUNI_DIVERSITY,
    MUNI_NIS,
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
    asylum_count,
    death_rate,
    epoch_day,
    foreign_age_profile,
    foreign_share,
    immigration_mix,
    population_target,
    survival,
    total_fertility,
)
from cohort.warehouse.demography_population import (
    REG_FOREIGN,
    REG_POP,
    REG_WAITING,
    REGISTER_NAMES,
    Events,
    Population,
    Unions,
    age_at,
    group_mean,
    nearest_within_group,
    pair_within_groups,
    region_of,
    select_expected,
    sibships,
    uniform_dates,
)
from cohort.warehouse.model import Demography

# 2: the labour model sees only the persons in the window, so its draws (and tables) differ from 1
# 3: brothers and sisters share their ancestor parents and grandparents (fewer, other draws)
GENERATOR_VERSION = "demography-3"

PART_ROWS = 2_000_000  # rows per part handed to the sink (memory at scale 1.0, see simulate_demography)


# ---------------------------------------------------------------------------------- simulation
class _Sim:
    def __init__(self, scale: float, seed: int, first_year: int, last_year: int) -> None:
        if not (1900 < first_year <= last_year < 2100):
            raise ValueError(f"years {first_year}-{last_year}: first_year must not exceed last_year")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale, self.seed, self.first_year, self.last_year = scale, seed, first_year, last_year
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, first_year, last_year]))
        self.P = Population()
        self.U = Unions()
        self.E = Events()

    # ------------------------------------------------------------------ helpers on state
    def partner(self) -> np.ndarray:
        P, U = self.P, self.U
        out = np.full(P.n, -1, np.int64)
        has = P.union >= 0
        u = P.union[has]
        out[has] = np.where(U.man[u] == np.flatnonzero(has), U.woman[u], U.man[u])
        return out

    def married_now(self, at: int) -> np.ndarray:
        P, U = self.P, self.U
        out = np.zeros(P.n, bool)
        has = P.union >= 0
        out[has] = U.married[P.union[has]] <= at
        return out

    # ------------------------------------------------------------------ base population
    def base_population(self) -> None:
        rng, P, A = self.rng, self.P, self.first_year
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
        ids = P.add(
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
        self._bis(int(round(60_000 * self.scale)), D0, base=True)

    def _mkey(self, oc: np.ndarray) -> np.ndarray:
        """Marriage-market key: Belgians, EU and neighbours largely mix; other origins mostly not."""
        mix = self.rng.random(len(oc)) < np.where(oc == BE, 1.0, np.where(IS_EU28[oc], 0.55, 0.12))
        return np.where(mix, BE, oc).astype(np.int64)

    def _base_couples(self, ids, age, female, muni, oc, D0) -> None:
        rng, P = self.rng, self.P
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
        grp = muni.astype(np.int64) * 1000 + self._mkey(oc)
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
        start = (P.birth[wi] + (union_age * YEAR_DAYS).astype(np.int64)).clip(None, D0 - 1)
        p_mar = np.interp(a_w, [20, 30, 45, 65, 80], [0.3, 0.55, 0.78, 0.92, 0.97]) * (
            1 - 0.012 * (self.first_year - 2005)
        )
        p_mar = np.where(P.oc[wi] != BE, np.where(IS_EU28[P.oc[wi]], p_mar, 0.95), p_mar)
        mar = rng.random(k) < p_mar
        mdate = np.minimum(start + (rng.random(k) * 3 * YEAR_DAYS).astype(np.int64), D0 - 1)
        married = np.where(mar, mdate, NO_DATE)
        legal_ok = ~mar & (rng.random(k) < 0.35)
        legal = np.where(legal_ok, np.maximum(start, epoch_day(2000)) + 30, NO_DATE)
        legal = np.where(legal < D0, legal, NO_DATE)
        u = self.U.add(mi, wi, start.astype(np.int32), married.astype(np.int32), legal.astype(np.int32))
        P.union[wi] = u
        P.union[mi] = u
        P.civ[wi] = np.where(mar, 2, 1)
        P.civ[mi] = np.where(mar, 2, 1)
        P.civ_date[wi] = married
        P.civ_date[mi] = married
        self.E.add("civ", wi[mar], married[mar], 2)
        self.E.add("civ", mi[mar], married[mar], 2)
        # men's partners live with them
        P.muni[wi] = P.muni[mi]

    def _base_parents(self, ids, age, D0) -> None:
        """Match every base person to a resident mother when she is alive and in Belgium, derive
        the father from her partner, then create the missing parents and grandparents."""
        rng, P = self.rng, self.P
        n = len(ids)
        female = P.female[ids]
        gap = np.clip(rng.normal(29.0, 5.0, n), 17, 44)
        mother_age = age + gap
        alive = rng.random(n) < survival(mother_age, np.ones(n, bool), self.first_year - 60) / np.maximum(
            survival(gap, np.ones(n, bool), self.first_year - 60), 1e-9
        )
        at_home = age < P.leave_age[ids]
        abroad = (P.gen[ids] == 1) & (rng.random(n) < 0.85)  # the parents of migrants mostly stayed abroad
        seek = (at_home | alive) & ~(abroad & ~at_home)
        women = ids[female & (age >= 16)]
        mother = np.full(n, -1, np.int64)
        # progressively coarser groups: municipality, province, region, anywhere
        muni = P.muni[ids].astype(np.int64)
        keys_child = [
            muni * 100 + P.oc[ids],
            MUNI_PROVINCE[muni] * 100 + P.oc[ids],
            P.oc[ids].astype(np.int64),
            np.zeros(n, np.int64),
        ]
        wm = P.muni[women].astype(np.int64)
        keys_women = [
            wm * 100 + P.oc[women],
            MUNI_PROVINCE[wm] * 100 + P.oc[women],
            P.oc[women].astype(np.int64),
            np.zeros(len(women), np.int64),
        ]
        wage = age[women - ids[0]]
        # most children at home live with a couple: a first pass looks among women with a partner
        prefer = at_home & (rng.random(n) < 0.78)
        pw_mask = P.union[women] >= 0
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
        P.mother[ids] = mother
        # some adults without a partner still live at their mother's address
        stay = ~at_home & (mother >= 0) & (P.union[ids] < 0) & (age < 65) & (rng.random(n) < 0.4)
        P.leave_age[ids[stay]] = (age[stay] + rng.uniform(2, 12, stay.sum())).astype(np.float32)
        at_home = at_home | stay
        # children at home live where their mother lives
        home = at_home & (mother >= 0)
        P.muni[ids[home]] = P.muni[mother[home]]
        # father: the mother's partner if the union predates the birth
        partner = self.partner()
        mom = np.clip(mother, 0, None)
        pa = np.where(mother >= 0, partner[mom], -1)
        ustart = np.where(P.union[mom] >= 0, self.U.start[np.clip(P.union[mom], 0, None)], NO_DATE)
        fa_ok = (
            (pa >= 0)
            & (ustart <= P.birth[ids] + 200)
            & (age_at(P.birth[np.clip(pa, 0, None)], P.birth[ids]) >= 16)
        )
        P.father[ids] = np.where(fa_ok, pa, -1)
        # derive origin attributes of children from their mother (oldest generations first)
        order = np.argsort(P.birth[ids])
        for _ in range(4):
            self._inherit(ids[order])
        # missing parents become ancestor rows (dead, or living abroad); migrants' parents are
        # partly unknown. Brothers and sisters share them: one ancestor per sibship, not per person
        # (per person, the grandparents' cohorts of the 1890s outnumbered the 1990s births, and
        # used up the INSZ sequence numbers they share with them at scale 1.0).
        unknown = (P.gen[ids] == 1) & (rng.random(n) < 0.55)
        need_m = (P.mother[ids] < 0) & ~unknown
        # mothers: siblings are persons of one origin whose mother's birth would fall together
        target = P.birth[ids].astype(np.int64) - (gap * YEAR_DAYS).astype(np.int64) - rng.integers(0, 365, n)
        m_kids = ids[need_m]
        m_group = sibships(rng, self._sib_key(m_kids), target[need_m], P.birth[m_kids])
        anc1 = self._ancestors(m_kids, m_group, True, group_mean(target[need_m], m_group))
        P.mother[m_kids] = anc1[m_group]
        # fathers: of the same sibship, or of the children of one resident mother (90 % known)
        has_m = (P.mother[ids] >= 0) & ~need_m & (P.father[ids] < 0) & ~unknown
        f_kids = np.concatenate([m_kids, ids[has_m]])
        _, f_group = np.unique(
            np.concatenate([m_group, len(anc1) + P.mother[ids[has_m]]]), return_inverse=True
        )
        n_f = int(f_group.max()) + 1 if len(f_group) else 0
        known = rng.random(n_f) < 0.9
        known[np.unique(f_group[: len(m_kids)])] = True
        mother_birth = P.birth[P.mother[f_kids]].astype(np.int64)
        f_birth = group_mean(mother_birth, f_group) - (rng.normal(3, 3, n_f) * YEAR_DAYS).astype(np.int64)
        keep = known[f_group]
        f_kids, f_group = f_kids[keep], np.unique(f_group[keep], return_inverse=True)[1]
        f_birth = f_birth[known]
        anc2 = self._ancestors(f_kids, f_group, False, f_birth)
        P.father[f_kids] = anc2[f_group]
        # grandparents of the younger generations (ancestors with a child born after 1950), again
        # shared between brothers and sisters; a couple's two sides never fall in one sibship
        for kids, side in ((m_kids, "mother"), (f_kids, "father")):
            parent = getattr(P, side)[kids]
            young = np.unique(parent[P.birth[kids] >= epoch_day(1950)])
            k = len(young)
            if not k:
                continue
            g_target = P.birth[young].astype(np.int64) - (
                np.clip(rng.normal(28, 5, k), 17, 44) * YEAR_DAYS
            ).astype(np.int64)
            g_group = sibships(rng, self._sib_key(young), g_target, P.birth[young])
            g1 = self._ancestors(young, g_group, True, group_mean(g_target, g_group))
            g_fbirth = P.birth[g1].astype(np.int64) - (rng.normal(3, 3, len(g1)) * YEAR_DAYS).astype(np.int64)
            g2 = self._ancestors(young, g_group, False, g_fbirth)
            P.mother[young] = g1[g_group]
            P.father[young] = g2[g_group]

    def _sib_key(self, ids: np.ndarray) -> np.ndarray:
        """Brothers and sisters share origin and generation (both derive from the parents)."""
        return self.P.oc[ids].astype(np.int64) * 10 + self.P.gen[ids]

    def _inherit(self, ids: np.ndarray) -> None:
        """Origin of a child from its mother: oc, generation, birth country, arrival."""
        P = self.P
        m = P.mother[ids]
        has = m >= 0
        c, mo = ids[has], m[has]
        mgen = P.gen[mo]
        born_abroad = (mgen == 1) & (P.birth[c] < P.arrival[mo])
        P.oc[c] = P.oc[mo]
        newgen = np.where(mgen == 1, np.where(born_abroad, 1, 2), np.where(mgen == 2, 3, 0))
        newgen = np.where((P.oc[c] == BE), 0, newgen)
        P.gen[c] = newgen
        P.birth_country[c] = np.where(newgen == 1, P.oc[c], BE)
        arr = np.where(born_abroad, np.maximum(P.arrival[mo], P.birth[c] + 1), NO_DATE)
        P.arrival[c] = np.where(
            newgen == 1,
            np.minimum(np.where(born_abroad, arr, P.arrival[c]), epoch_day(self.first_year) - 30),
            NO_DATE,
        )

    def _ancestors(self, kids: np.ndarray, group: np.ndarray, female: bool, birth: np.ndarray) -> np.ndarray:
        """Create one (non-resident) parent per sibship: ``kids[i]`` is a child of ancestor
        ``group[i]``, born near ``birth[group]``. The parent died before the window, after the
        youngest child's birth, or, for migrants, may be alive abroad. Returns the new ids."""
        rng, P = self.rng, self.P
        k = len(birth)
        if k == 0:
            return np.empty(0, np.int64)
        D0 = epoch_day(self.first_year)
        # the youngest child stands for the sibship (origin, generation, the earliest death)
        by_age = arg_sort(group, P.birth[kids])
        last = np.r_[group[by_age][1:] != group[by_age][:-1], True]
        child = kids[by_age[last]]
        eldest = np.full(k, np.iinfo(np.int64).max)
        np.minimum.at(eldest, group, P.birth[kids].astype(np.int64))
        # a parent is at least 15 (mother) or 16 (father) at the eldest's birth, at most 50 or 70
        # at the youngest's
        lo_age, hi_age = (15, 50) if female else (16, 70)
        birth = np.clip(
            birth, P.birth[child].astype(np.int64) - int(hi_age * YEAR_DAYS), eldest - int(lo_age * YEAR_DAYS)
        ).astype(np.int32)
        cgen = P.gen[child]
        oc = P.oc[child].copy()
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
        lo = np.maximum(P.birth[child].astype(np.int64) + 1, birth.astype(np.int64) + int(30 * YEAR_DAYS))
        hi = np.maximum(lo + 1, D0 - 1)
        death = np.minimum(ancestor_deaths(rng, birth, lo, hi, female), D0 - 1)
        # alive abroad: death drawn from the mortality after the window start
        span = rng.exponential(1.0, k) / np.maximum(
            death_rate(age_now, np.full(k, female), np.zeros(k, np.int64), 2010), 1e-4
        )
        death = np.where(alive, D0 + (span * YEAR_DAYS).astype(np.int64), death).astype(np.int64)
        death = np.where(death > epoch_day(self.last_year + 1) - 1, NO_DATE, death).astype(np.int32)
        nat = np.where((first != BE) & (gen == 2), BE, first)
        ids = P.add(
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
        self.E.add("nat", ids, birth, first)
        natd = uniform_dates(
            rng, birth.astype(np.int64) + int(18 * YEAR_DAYS), np.minimum(death.astype(np.int64), D0 - 1), k
        )
        chg = (nat != first) & (natd < death) & (natd > birth)
        self.E.add("nat", ids[chg], natd[chg], nat[chg])
        # residence abroad for the living
        self.E.add("res", ids[alive], birth[alive], -1, oc[alive])
        return ids

    def _base_nationality(self, ids, D0) -> None:
        """First and current nationality of the base population, with naturalisations before the window."""
        rng, P = self.rng, self.P
        n = len(ids)
        gen, oc = P.gen[ids], P.oc[ids]
        eu = IS_EU28[oc]
        m, f = P.mother[ids], P.father[ids]
        mom, fat = np.clip(m, 0, None), np.clip(f, 0, None)
        u = rng.random(n)
        # born in Belgium to a migrant: Belgian at birth when a parent was Belgian at the birth;
        # parents come first (a few passes settle three generations)
        for _ in range(4):
            parent_be = ((m >= 0) & (P.first_nat[mom] == BE)) | ((f >= 0) & (P.first_nat[fat] == BE))
            first = np.where(gen == 1, oc, np.where(gen == 2, np.where(parent_be | (u < 0.6), BE, oc), BE))
            P.first_nat[ids] = first
        yrs = np.where(gen == 1, (D0 - P.arrival[ids].astype(np.int64)) / YEAR_DAYS, age_at(P.birth[ids], D0))
        rate = np.where(eu, 0.05, 0.26)
        p_nat = np.where(first != BE, 1 - np.exp(-rate * np.clip(yrs - 4, 0, None)), 0.0)
        p_nat = np.where(gen == 2, np.minimum(p_nat * 1.6, 0.92), p_nat)
        natur = rng.random(n) < p_nat
        nat = np.where(natur, BE, first)
        since = np.where(gen == 1, P.arrival[ids], P.birth[ids]).astype(np.int64) + int(4 * YEAR_DAYS)
        natd = uniform_dates(rng, np.minimum(since, D0 - 2), D0 - 1, n)
        P.first_nat[ids] = first
        P.nat[ids] = nat
        self.E.add("nat", ids, P.birth[ids], first)
        self.E.add("nat", ids[natur], natd[natur], BE)
        self._natdate = np.where(natur, natd, NO_DATE)

    def _base_status(self, ids, age, D0) -> None:
        """Registers, residence spells, civil status and collective homes at the window start."""
        rng, P, E = self.rng, self.P, self.E
        n = len(ids)
        gen, nat = P.gen[ids], P.nat[ids]
        arrival = P.arrival[ids].astype(np.int64)
        born_here = gen != 1
        entry = np.where(born_here, P.birth[ids], arrival)
        # residence: an earlier spell in another municipality, then the current one
        cur_from = np.maximum(entry + 1, D0 - (rng.exponential(9.0, n) * YEAR_DAYS).astype(np.int64))
        cur_from = np.minimum(cur_from, D0 - 1)
        prev = cur_from > entry + 1
        other = rng.integers(0, N_MUNI, n)
        other = np.where(other == P.muni[ids], (other + 1) % N_MUNI, other)
        E.add("res", ids[prev], entry[prev], other[prev], BE)
        E.add("res", ids, np.where(prev, cur_from, entry), P.muni[ids], BE)
        # registers
        foreign_now = nat != BE
        reason = rng.choice(np.array([1, 4, 5, 6, 2, 3]), size=n, p=[0.45, 0.2, 0.15, 0.05, 0.1, 0.05])
        reason = np.where(IS_EU28[P.oc[ids]], np.where(rng.random(n) < 0.6, 4, 5), reason)
        reason = np.where(gen == 1, reason, 1)
        settled = arrival + int(5 * YEAR_DAYS)
        # Belgians: population register from birth/arrival; naturalised: foreigners then population
        natd = self._natdate
        was_foreign = P.first_nat[ids] != BE
        E.add("reg", ids[~was_foreign], entry[~was_foreign], REG_POP, -1, NO_DATE)
        wf = was_foreign
        E.add(
            "reg",
            ids[wf],
            entry[wf],
            REG_FOREIGN,
            reason[wf],
            np.maximum(entry[wf] - rng.integers(0, 90, wf.sum()), P.birth[ids[wf]]),
        )
        st = wf & foreign_now & (settled < D0) & (gen == 1)
        E.add("reg", ids[st], settled[st], REG_POP, 7, settled[st] - rng.integers(0, 60, st.sum()))
        nz = wf & ~foreign_now
        E.add("reg", ids[nz], natd[nz], REG_POP, -1, NO_DATE)
        P.reg[ids] = np.where(~foreign_now | st, REG_POP, REG_FOREIGN)
        P.reason[ids] = np.where(foreign_now, np.where(st, 7, reason), -1)
        P.reg_since[ids] = D0 - 1
        # civil status of the people not in a married union
        single = P.civ[ids] == 1
        never = np.interp(age, [18, 30, 45, 65, 85], [0.99, 0.8, 0.45, 0.22, 0.1])
        r = rng.random(n)
        widow_share = np.interp(age, [40, 60, 75, 90], [0.02, 0.2, 0.5, 0.75])
        in_union = P.union[ids] >= 0
        never = np.where(in_union, np.interp(age, [18, 35, 50], [1.0, 0.7, 0.45]), never)
        status = np.where(r < never, 1, np.where(rng.random(n) < widow_share * ~in_union, 3, 4))
        status = np.where(age < 18, 1, status)
        chg = single & (status != 1)
        P.civ[ids[chg]] = status[chg]
        lo = P.birth[ids].astype(np.int64) + int(22 * YEAR_DAYS)
        P.civ_date[ids[chg]] = uniform_dates(rng, np.minimum(lo, D0 - 2), D0 - 1, n)[chg]
        E.add("civ", ids[chg], P.civ_date[ids[chg]], status[chg])
        # collective homes for the very old without partner
        p_coll = np.interp(age, [74, 80, 85, 90, 95], [0.0, 0.04, 0.11, 0.24, 0.4])
        coll = (rng.random(n) < p_coll) & ~in_union
        P.coll_from[ids[coll]] = uniform_dates(rng, D0 - int(3 * YEAR_DAYS), D0 - 1, coll.sum())
        # a stock of asylum seekers in the waiting register (reception centres)
        self._asylum(int(round(14_000 * self.scale)), D0 - int(1.5 * YEAR_DAYS), D0 - 1, self.first_year - 1)

    def _bis(self, k: int, lo: int, base: bool) -> None:
        """Frontier workers and other non-residents known through a BIS number."""
        if k <= 0:
            return
        rng, P = self.rng, self.P
        country = rng.choice(
            np.array([CI["FR"], CI["NL"], CI["DE"], CI["LU"], CI["PL"], CI["RO"], CI["PT"]]),
            size=k,
            p=[0.5, 0.2, 0.08, 0.04, 0.08, 0.06, 0.04],
        )
        age = rng.normal(38, 11, k)
        # out of range: drawn again evenly (clipping would put them all on one birth date)
        out = (age < 17) | (age > 70)
        age[out] = rng.uniform(17, 70, out.sum())
        birth = (lo - (age * YEAR_DAYS).astype(np.int64)).astype(np.int32)
        female = rng.random(k) < 0.35
        ids = P.add(
            birth=birth,
            female=female,
            birth_country=country,
            first_nat=country,
            nat=country,
            oc=country,
            gen=1,
            kind=4,
            is_bis=True,
            abroad=country,
        )
        since = (
            (lo - (rng.exponential(4, k) * YEAR_DAYS).astype(np.int64))
            if base
            else lo + rng.integers(0, 365, k)
        )
        since = np.maximum(since, birth.astype(np.int64) + int(16 * YEAR_DAYS))
        self.E.add("res", ids, since.astype(np.int32), -1, country)
        self.E.add("nat", ids, birth, country)

    def _asylum(self, k: int, lo: int, hi: int, year: int) -> None:
        """Asylum seekers: enter the waiting register (reason 2) in a reception centre."""
        if k <= 0:
            return
        rng, P = self.rng, self.P
        mix = np.zeros(len(COUNTRIES))
        for c in ASYLUM_ORIGINS:
            mix[CI[c]] = 1.0
        if 2015 <= year <= 2016:
            mix[CI["SY"]] += 5
            mix[CI["IQ"]] += 2
            mix[CI["AF"]] += 3
        if year >= 2018:
            mix[CI["AF"]] += 3
            mix[CI["PS"]] += 2
            mix[CI["ER"]] += 1
        mix /= mix.sum()
        oc = rng.choice(len(COUNTRIES), size=k, p=mix).astype(np.int16)
        age = np.clip(rng.normal(27, 10, k), 0.5, 65)
        date_in = uniform_dates(rng, lo, hi, k)
        birth = (date_in - (age * YEAR_DAYS).astype(np.int64)).astype(np.int32)
        female = rng.random(k) < 0.3
        m = self._settle(oc)
        ids = P.add(
            birth=birth,
            female=female,
            birth_country=oc,
            first_nat=oc,
            nat=oc,
            oc=oc,
            gen=1,
            kind=3,
            muni=m,
            arrival=date_in,
            reg=REG_WAITING,
            reason=2,
            coll_from=date_in,
            reg_since=date_in,
            leave_age=18.0,
        )
        self.E.add("nat", ids, birth, oc)
        self.E.add("res", ids, date_in, m, BE)
        self.E.add("reg", ids, date_in, REG_WAITING, 2, date_in)

    # ------------------------------------------------------------------ one year
    def step(self, y: int) -> None:
        rng, P, U, E = self.rng, self.P, self.U, self.E
        D0, D1 = epoch_day(y), epoch_day(y + 1)
        ndays = D1 - D0
        alive = P.death == NO_DATE
        R = alive & (P.muni >= 0) & ~P.is_bis
        age = age_at(P.birth, D0)
        region = region_of(P.muni)
        partner = self.partner()
        coll = (P.coll_from <= D0) | (P.reg == REG_WAITING)
        anchor, couple, parent = household_anchors(
            R & ~coll, P.muni, partner, P.mother, P.father, age, P.leave_age
        )
        muni0 = P.muni.copy()
        busy = np.zeros(P.n, bool)
        n_before = P.n

        # deaths ---------------------------------------------------------------
        idx = np.flatnonzero(R)
        q = 1 - np.exp(-death_rate(age[idx], P.female[idx], region[idx], y))
        dies = idx[rng.random(len(idx)) < q]
        ddate = uniform_dates(rng, D0, D1, len(dies))
        P.death[dies] = ddate
        busy[dies] = True
        u = P.union[dies]
        has = u >= 0
        U.end[u[has]] = np.minimum(U.end[u[has]], ddate[has])
        widow = partner[dies[has]]
        wmar = U.married[u[has]] <= ddate[has]
        P.union[widow] = -1
        P.union[dies] = -1
        wv = widow[wmar]
        alive_w = P.death[wv] == NO_DATE
        P.civ[wv[alive_w]] = 3
        P.civ_date[wv[alive_w]] = ddate[has][wmar][alive_w]
        E.add("civ", wv[alive_w], ddate[has][wmar][alive_w], 3)

        # emigration of households ---------------------------------------------
        refs = np.flatnonzero(R & ~coll & (anchor == np.arange(P.n)))
        yrs_here = np.where(
            P.arrival[refs] < NO_DATE, (D0 - P.arrival[refs].astype(np.int64)) / YEAR_DAYS, 99
        )
        foreign = P.nat[refs] != BE
        h = np.where(foreign, np.where(yrs_here < 5, 0.11, 0.03), np.where(P.gen[refs] == 1, 0.012, 0.0035))
        h = h * np.where((age[refs] > 20) & (age[refs] < 40), 1.4, np.where(age[refs] > 65, 0.4, 1.0))
        em_units = refs[rng.random(len(refs)) < h]
        unit_date = np.zeros(P.n, np.int64)
        edate_u = uniform_dates(rng, D0, D1, len(em_units))
        flag = np.zeros(P.n, bool)
        flag[em_units] = True
        unit_date[em_units] = edate_u
        members = np.flatnonzero(R & ~coll & flag[anchor] & ~busy)
        ed = unit_date[anchor[members]].astype(np.int32)
        # asylum seekers whose claim is rejected leave too (deregistered)
        wait = np.flatnonzero(R & (P.reg == REG_WAITING) & ~busy & (P.reg_since < D0 - 180))
        rej = wait[rng.random(len(wait)) < 0.18]
        members = np.concatenate([members, rej])
        ed = np.concatenate([ed, uniform_dates(rng, D0, D1, len(rej))])
        dest = np.where(
            P.oc[members] != BE,
            P.oc[members],
            rng.choice(
                np.array([CI["NL"], CI["FR"], CI["ES"], CI["DE"], CI["LU"], CI["US"], CI["GB"]]), len(members)
            ),
        )
        dest = np.where(dest == BE, CI["FR"], dest)
        E.add("res", members, ed, -1, dest)
        E.add("reg", members, ed, -1, -1, NO_DATE)
        P.muni[members] = -1
        P.abroad[members] = dest
        P.reg[members] = -1
        P.emig[members] = ed
        P.coll_from[members] = NO_DATE
        busy[members] = True

        # separations -----------------------------------------------------------
        cm = np.flatnonzero(R & couple & ~P.female & ~busy)
        wp = partner[cm]
        ok = ~busy[wp] & R[wp]
        cm, wp = cm[ok], wp[ok]
        mar = U.married[P.union[cm]] <= D0
        hz = np.where(mar, 0.008, 0.025) * np.where(age[wp] < 50, 1.0, 0.4)
        sp = rng.random(len(cm)) < hz
        sm, sw = cm[sp], wp[sp]
        sdate = uniform_dates(rng, D0, D1, len(sm))
        U.end[P.union[sm]] = sdate
        smar = mar[sp]
        for who in (sm, sw):
            P.civ[who[smar]] = 4
            P.civ_date[who[smar]] = sdate[smar]
            E.add("civ", who[smar], sdate[smar], 4)
        P.union[sm] = -1
        P.union[sw] = -1
        move = rng.random(len(sm)) < 0.55
        self._move(sm[move], sdate[move], region_bias=None)
        busy[sm] = True
        busy[sw] = True

        # marriages of cohabiting couples ---------------------------------------
        cm = np.flatnonzero(R & ~P.female & (P.union >= 0) & ~busy)
        uu = P.union[cm]
        unm = U.married[uu] == NO_DATE
        cm, uu = cm[unm], uu[unm]
        hz = np.where(age[cm] < 45, 0.045, 0.01) * (1 - 0.02 * (y - 2005))
        mk = rng.random(len(cm)) < hz
        mdate = np.maximum(uniform_dates(rng, D0, D1, mk.sum()), U.start[uu[mk]] + 1)
        U.married[uu[mk]] = mdate
        for who in (cm[mk], U.woman[uu[mk]]):
            P.civ[who] = 2
            P.civ_date[who] = mdate
            E.add("civ", who, mdate, 2)

        # new unions --------------------------------------------------------------
        cand = np.flatnonzero(R & ~coll & ~busy & (P.union < 0) & (age >= 18) & (age < 80))
        a = age[cand]
        fem = P.female[cand]
        hz = np.where(
            fem,
            np.interp(a, [18, 22, 27, 32, 40, 50, 65, 80], [0.04, 0.18, 0.3, 0.26, 0.16, 0.09, 0.03, 0.0]),
            np.interp(a, [18, 24, 29, 34, 42, 52, 67, 80], [0.015, 0.15, 0.28, 0.26, 0.17, 0.1, 0.04, 0.0]),
        )
        # adults still at the parental address are the ones who partner late
        hz = hz * np.where((parent[cand] >= 0) & (a >= 24), 0.35, np.where(a >= 30, 1.7, 1.0))
        go = cand[rng.random(len(cand)) < hz]
        grp = MUNI_PROVINCE[P.muni[go]].astype(np.int64) * 1000 + self._mkey(P.oc[go])
        fw = P.female[go]
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
            p_dm = np.where(P.oc[wi] == BE, 0.3 - 0.01 * (y - 2005), np.where(IS_EU28[P.oc[wi]], 0.35, 0.85))
            dm = rng.random(k) < p_dm
            married = np.where(dm, udate, NO_DATE)
            legal = np.where(~dm & (rng.random(k) < 0.4), udate + rng.integers(0, 120, k), NO_DATE)
            legal = np.where(legal < D1, legal, NO_DATE)
            uid = U.add(mi, wi, udate, married, legal)
            P.union[wi] = uid
            P.union[mi] = uid
            for who in (wi[dm], mi[dm]):
                P.civ[who] = 2
                P.civ_date[who] = udate[dm]
                E.add("civ", who, udate[dm], 2)
            # the woman and her children at home join the man when they live apart
            diff = P.muni[wi] != P.muni[mi]
            target = np.full(P.n, -1, np.int64)
            tdate = np.zeros(P.n, np.int64)
            target[wi[diff]] = P.muni[mi[diff]]
            tdate[wi[diff]] = udate[diff]
            kids = np.flatnonzero(R & ~busy & (parent >= 0))
            kids = kids[target[parent[kids]] >= 0]
            kids = kids[~np.isin(kids, mi) & ~np.isin(kids, wi)]
            movers = np.concatenate([wi[diff], kids])
            mdates = np.concatenate([udate[diff], tdate[parent[kids]]])
            mto = np.concatenate([P.muni[mi[diff]], target[parent[kids]]])
            self._move_to(movers, mdates, mto)
            busy[wi] = True
            busy[mi] = True
            busy[kids] = True

        # moves of whole households and of young people leaving home -------------
        refs = np.flatnonzero(R & ~coll & ~busy & (anchor == np.arange(P.n)))
        ra = age[refs]
        hz = np.interp(ra, [18, 25, 32, 45, 65, 85], [0.09, 0.08, 0.06, 0.035, 0.02, 0.015])
        hz = hz * np.where(region[refs] == BXL, 1.6, 1.0)
        mv = refs[rng.random(len(refs)) < hz]
        flag = np.zeros(P.n, bool)
        flag[mv] = True
        mdate = np.zeros(P.n, np.int64)
        mdate[mv] = uniform_dates(rng, D0, D1, len(mv))
        dest = np.full(P.n, -1, np.int64)
        dest[mv] = self._destination(P.muni[mv])
        members = np.flatnonzero(R & ~coll & ~busy & flag[anchor])
        self._move_to(members, mdate[anchor[members]], dest[anchor[members]])
        busy[members] = True
        leavers = np.flatnonzero(R & ~coll & ~busy & (parent >= 0) & (age + 1 >= P.leave_age))
        # half of those without a partner put off leaving (by one to three years)
        later = leavers[rng.random(len(leavers)) < 0.5]
        P.leave_age[later] += rng.uniform(1, 3, len(later)).astype(np.float32)
        leavers = np.setdiff1d(leavers, later)
        lv = leavers[rng.random(len(leavers)) < 0.45]
        ldate = uniform_dates(rng, D0, D1, len(lv))
        self._move_to(lv, ldate, self._destination(P.muni[lv]))
        busy[lv] = True

        # collective homes ---------------------------------------------------------
        old = np.flatnonzero(R & ~coll & ~busy & (age >= 70) & (P.union < 0))
        hz = np.interp(age[old], [70, 80, 85, 90, 95], [0.002, 0.015, 0.035, 0.07, 0.12])
        go = old[rng.random(len(old)) < hz]
        P.coll_from[go] = uniform_dates(rng, D0, D1, len(go))

        # naturalisation -------------------------------------------------------------
        fn = np.flatnonzero(R & ~busy & (P.nat != BE) & (P.reg != REG_WAITING))
        yrs_here = np.where(
            P.arrival[fn] < NO_DATE, (D0 - P.arrival[fn].astype(np.int64)) / YEAR_DAYS, age[fn]
        )
        eu = IS_EU28[P.oc[fn]]
        hz = np.where(yrs_here >= 5, np.where(eu, 0.05, 0.2), np.where(eu, 0.0, 0.02))
        hz = hz * np.where(y >= 2013, 0.8, 1.0)  # stricter nationality code from 2013
        nz = fn[rng.random(len(fn)) < hz]
        nd = uniform_dates(rng, D0, D1, len(nz))
        E.add("nat", nz, nd, BE)
        E.add("reg", nz, nd, REG_POP, -1, NO_DATE)
        P.nat[nz] = BE
        P.reg[nz] = REG_POP
        P.reason[nz] = -1

        # recognition of asylum seekers ---------------------------------------------
        wt = np.flatnonzero(R & (P.reg == REG_WAITING) & ~busy & (P.reg_since < D0 - 120))
        rec = wt[rng.random(len(wt)) < 0.5]
        rd = uniform_dates(rng, D0, D1, len(rec))
        E.add("reg", rec, rd, REG_FOREIGN, 2, rd - rng.integers(0, 60, len(rec)))
        P.reg[rec] = REG_FOREIGN
        P.reg_since[rec] = rd
        P.coll_from[rec] = NO_DATE
        # the recognised leave the reception centre for a municipality of their community
        self._move_to(rec, rd + 1, self._settle(P.oc[rec]))
        busy[rec] = True
        # settled foreigners move to the population register after five years
        st = np.flatnonzero(R & ~busy & (P.reg == REG_FOREIGN) & (P.arrival < D0 - int(5 * YEAR_DAYS)))
        st = st[rng.random(len(st)) < 0.3]
        sd = uniform_dates(rng, D0, D1, len(st))
        E.add("reg", st, sd, REG_POP, 7, sd - rng.integers(0, 60, len(st)))
        P.reg[st] = REG_POP
        P.reason[st] = 7

        # returns of emigrants --------------------------------------------------------
        ab = np.flatnonzero(alive & (P.emig < D0) & (P.muni < 0) & ~P.is_bis & (age >= 18) & (age < 70))
        yrs_away = (D0 - P.emig[ab].astype(np.int64)) / YEAR_DAYS
        hz = np.where(yrs_away < 5, np.where(P.nat[ab] == BE, 0.09, 0.04), 0.01)
        rt = ab[rng.random(len(ab)) < hz]
        rdt = uniform_dates(rng, D0, D1, len(rt))
        dest = self._settle(P.oc[rt])
        E.add("res", rt, rdt, dest, BE)
        rreg = np.where(P.nat[rt] == BE, REG_POP, REG_FOREIGN)
        E.add("reg", rt, rdt, rreg, np.where(rreg == REG_POP, -1, 5), np.where(rreg == REG_POP, NO_DATE, rdt))
        P.muni[rt] = dest
        P.reg[rt] = rreg
        P.arrival[rt] = np.where(P.gen[rt] == 1, rdt, P.arrival[rt])
        P.abroad[rt] = -1
        busy[rt] = True

        # births --------------------------------------------------------------------
        self._births(y, D0, D1, R, age, region, partner, muni0, busy, n_before)

        # immigration: the balancing flow ------------------------------------------------
        self._immigration(y, D0, D1)
        self._asylum(int(round(asylum_count(y) * self.scale)), D0, D1, y)
        self._bis(int(round(6_000 * self.scale)), D0, base=False)
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

    def _settle(self, oc: np.ndarray) -> np.ndarray:
        rng = self.rng
        k = len(oc)
        u = rng.random(k)
        out = np.zeros(k, np.int64)
        for c in np.unique(oc):
            sel = np.flatnonzero(oc == c)
            cw = np.cumsum(DEST_P[c])
            out[sel] = np.minimum(np.searchsorted(cw, u[sel] * cw[-1], side="right"), N_MUNI - 1)
        return out

    def _move(self, who: np.ndarray, when: np.ndarray, region_bias=None) -> None:
        self._move_to(who, when, self._destination(self.P.muni[who]))

    def _move_to(self, who: np.ndarray, when: np.ndarray, to: np.ndarray) -> None:
        if len(who) == 0:
            return
        P = self.P
        to = np.asarray(to, np.int64)
        ch = to != P.muni[who]
        who, when, to = who[ch], np.asarray(when)[ch], to[ch]
        self.E.add("res", who, when.astype(np.int32), to, BE)
        P.muni[who] = to

    def _births(self, y, D0, D1, R, age, region, partner, muni0, busy, n_before) -> None:
        rng, P, E = self.rng, self.P, self.E
        moms = np.flatnonzero(
            R
            & P.female
            & (age >= 14.5)
            & (age < 50)
            & (P.death == NO_DATE)
            & (P.muni >= 0)
            & (P.reg != REG_WAITING)
        )
        a = np.floor(age[moms]).astype(np.int64)
        f = FERTILITY_SHAPE[np.clip(a, 0, 59)] * total_fertility(y) * FERTILITY_TUNING
        f = f * np.where((P.gen[moms] == 1) & ~IS_EU28[P.oc[moms]] & (P.oc[moms] != BE), 1.45, 1.0)
        f = f * np.where(region[moms] == BXL, 1.1, 1.0)
        f = f * np.where(P.union[moms] >= 0, 1.35, 0.55)
        mo = select_expected(rng, moms, np.minimum(f, 0.9), region[moms])
        k = len(mo)
        if k == 0:
            return
        bdate = uniform_dates(rng, D0, D1, k)
        # the mother's residence at the birth: her municipality on 1 January unless she moved before
        res = self.E.res
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
        be_parent = (P.nat[mo] == BE) | (fok & (P.nat[fat] == BE)) | (P.gen[mo] == 2)
        nat = np.where(be_parent, BE, P.nat[mo])
        moc, mgen = P.oc[mo], P.gen[mo]
        foc, fgen = P.oc[fat], P.gen[fat]
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
            np.where(nat == BE, REG_POP, np.where(P.reg[mo] == REG_WAITING, REG_WAITING, REG_FOREIGN)),
            -1,
        )
        ids = P.add(
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
        E.add("nat", ids, bdate, nat)
        E.add("res", ids[in_be], bdate[in_be], bmuni[in_be], BE)
        E.add(
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
            E.add(
                "res",
                ids[rows],
                after["date"].to_numpy().astype(np.int32),
                after["muni"].to_numpy(),
                after["country"].to_numpy(),
            )
            last = after.group_by("row", maintain_order=True).last()
            lr = last["row"].to_numpy()
            P.muni[ids[lr]] = P.muni[mo[lr]]
            P.abroad[ids[lr]] = P.abroad[mo[lr]]
            gone = P.muni[mo[lr]] < 0
            P.reg[ids[lr][gone]] = -1
            P.emig[ids[lr][gone]] = P.emig[mo[lr][gone]]
            ev_reg = self._year_events(D0, "reg").filter(pl.col("pid").is_in(mo) & (pl.col("register") < 0))
            rg = mdf.join(ev_reg, on="pid", maintain_order="left").filter(pl.col("date") > pl.col("b"))
            E.add("reg", ids[rg["row"].to_numpy()], rg["date"].to_numpy().astype(np.int32), -1, -1, NO_DATE)
        _ = res, busy, n_before

    def _year_events(self, D0: int, log: str) -> pl.DataFrame:
        """Events of the running year in one log (the year's batches, appended since ``step`` began)."""
        start = self._batch_start[log]
        parts = getattr(self.E, log)[start:]
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
        P = self.P
        alive_next = (
            (P.death == NO_DATE) & (P.muni >= 0) & ((P.reg == REG_POP) | (P.reg == REG_FOREIGN)) & ~P.is_bis
        )
        region = region_of(P.muni)
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
        rng, P, U, E = self.rng, self.P, self.U, self.E
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
            ids = P.add(
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
            E.add("nat", ids, birth[m], nat_u[m])
            E.add("res", ids, arr[m], muni[m], BE)
            E.add(
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
            start, np.maximum(P.birth[man], P.birth[woman]).astype(np.int64) + int(18 * YEAR_DAYS)
        )
        start = np.minimum(start, arr[has_partner].astype(np.int64))
        mar = rng.random(kk) < 0.8
        married = np.where(mar, start, NO_DATE)
        uid = U.add(
            man, woman, start.astype(np.int32), married.astype(np.int32), np.full(kk, NO_DATE, np.int32)
        )
        P.union[man] = uid
        P.union[woman] = uid
        for who in (man[mar], woman[mar]):
            P.civ[who] = 2
            P.civ_date[who] = married[mar]
            E.add("civ", who, married[mar], 2)
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
            mom_age = age_at(P.birth[np.clip(mom_u, 0, None)], arr)
            dad_age = age_at(P.birth[np.clip(dad_u, 0, None)], arr)
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
            self._batch_start = {"res": len(self.E.res), "reg": len(self.E.reg)}
            self.step(y)


# ---------------------------------------------------------------------------------- tables
def _spells(
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


def _date_col(expr_name: str) -> pl.Expr:
    return pl.col(expr_name).cast(pl.Int32).cast(pl.Date)


def _education(rng: np.random.Generator, P: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Final ISCED level (1..8), index of the ISCED-F domain in ``codes.EDUCATION_DOMAIN`` and the
    year it is attained, for every person."""
    n = P.n
    by = pl.Series(P.birth).cast(pl.Date).dt.year().to_numpy().astype(float)
    low = np.interp(by, [1920, 1940, 1955, 1970, 1985, 2000], [0.7, 0.55, 0.4, 0.25, 0.17, 0.14])
    high = np.interp(by, [1920, 1940, 1955, 1970, 1985, 2000], [0.08, 0.14, 0.22, 0.33, 0.44, 0.48])
    fem = P.female
    high = np.where(fem & (by > 1960), high + 0.06, high)
    low = np.where(fem & (by < 1950), low + 0.06, low)
    nonEU1 = (P.gen == 1) & ~IS_EU28[P.oc] & (P.oc != BE)
    nonEU2 = (P.gen == 2) & ~IS_EU28[P.oc] & (P.oc != BE)
    low = np.where(nonEU1, low + 0.18, np.where(nonEU2, low + 0.1, low))
    high = np.where(nonEU1, high - 0.08, np.where(nonEU2, high - 0.1, high))
    high = np.where((P.gen == 1) & IS_EU28[P.oc] & ~IS_SOUTH[P.oc], high + 0.12, high)
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


Sink = Callable[[str, pl.DataFrame], None]


def simulate_demography(
    scale: float, seed: int, first_year: int = 2005, last_year: int = 2026, sink: Sink | None = None
) -> Demography:
    """Run the demographic microsimulation and return the National Register tables (see the
    module docstring). Same ``scale``, ``seed`` and years give the same frames.

    With ``sink``, each whole-period table (``person``, ``nationality_history``,
    ``residence_history``, ``register_history``) is handed to ``sink(table, part)`` in parts of
    about ``PART_ROWS`` rows, in key order (one person's rows never split), and left out of the
    result (an empty frame in its place): the warehouse build appends them straight to disk, so
    that at scale 1.0 no whole table is in memory together with the simulation's arrays."""
    sim = _Sim(scale, seed, first_year, last_year)
    sim.run()
    P, U, E = sim.P, sim.U, sim.E
    P.compact()
    end_day = epoch_day(last_year + 1)
    death = np.where(P.death < end_day, P.death, NO_DATE).astype(np.int32)
    born = insz_birth_dates(P.birth, P.female, P.is_bis, movable=P.kind == 1)
    moved = np.flatnonzero(born != P.birth)
    E.move_births(moved, P.birth[moved], born[moved])
    P.birth[moved] = born[moved]
    del born
    insz_num = insz_numbers(P.birth, P.female, P.is_bis)
    insz = insz_text(insz_num)
    n = P.n
    # every table is ordered on the INSZ: sorting the text of 40 million numbers (several times)
    # costs minutes at scale 1.0, so rows are put in order by the number's rank instead
    by_insz = arg_sort(insz_num)
    rank = np.empty(n, np.int64)
    rank[by_insz] = np.arange(n)
    order = {"by_insz": by_insz, "rank": rank}  # cleared once every table is in order
    del insz_num, by_insz, rank

    def spells_in_order(df: pl.DataFrame) -> pl.DataFrame:
        # the rank of the person's INSZ, then the spell's start: the order of (insz, valid_from)
        rank = pl.Series("_rank", order["rank"][df["pid"].to_numpy()])
        return df.with_columns(rank).sort(["_rank", "date"])

    kept: dict[str, list[pl.DataFrame]] = {}

    def emit(table: str, parts: Iterator[pl.DataFrame]) -> None:
        # a table leaves in parts of about PART_ROWS rows, in key order, so that its text columns
        # (at scale 1.0, gigabytes for ``person``) are never all in memory at once
        for df in parts:
            if sink is None:
                kept.setdefault(table, []).append(df)
            else:
                sink(table, df)
                kept[table] = [df.clear()]

    def person_parts() -> Iterator[pl.DataFrame]:
        by = order["by_insz"]
        for lo in range(0, max(n, 1), PART_ROWS):
            ix = by[lo : lo + PART_ROWS]
            yield pl.DataFrame(
                {
                    "insz": insz.gather(pl.Series(ix)).set_sorted(),
                    "birth_date": date_series(P.birth[ix]),
                    "sex": code_labels(("M", "F"), P.female[ix].astype(np.uint8)),
                    "birth_country": code_labels(COUNTRIES, P.birth_country[ix]),
                    "first_nationality": code_labels(COUNTRIES, P.first_nat[ix]),
                    "father_insz": insz_of(insz, P.father[ix]),
                    "mother_insz": insz_of(insz, P.mother[ix]),
                    "death_date": date_series(death[ix]),
                    "is_bis": pl.Series(P.is_bis[ix], dtype=pl.Boolean),
                }
            )

    def spell_parts(
        spells: pl.DataFrame, make: Callable[[pl.DataFrame], pl.DataFrame]
    ) -> Iterator[pl.DataFrame]:
        # a part ends where a person's spells end, so that no key is split between two parts
        rank = spells["_rank"].to_numpy()
        lo = 0
        while lo < max(len(rank), 1):
            hi = min(lo + PART_ROWS, len(rank))
            if hi < len(rank):
                hi = int(np.searchsorted(rank, rank[hi - 1], side="right"))
            sub = spells.slice(lo, hi - lo)
            yield make(sub.with_columns(insz=insz.gather(sub["pid"])))
            lo = hi

    emit("person", person_parts())

    nat = spells_in_order(_spells(E.frame("nat", ["pid", "date", "nat"], [np.int32] * 3), ["nat"], death))
    E.nat = []
    emit(
        "nationality_history",
        spell_parts(
            nat,
            lambda sub: sub.select(
                "insz",
                nationality=code_labels(COUNTRIES, sub["nat"].to_numpy()),
                valid_from=_date_col("date"),
                valid_to=_date_col("valid_to"),
            ),
        ),
    )
    del nat

    def residence(sub: pl.DataFrame) -> pl.DataFrame:
        muni_idx = sub["muni"].to_numpy()
        in_be = muni_idx >= 0
        return sub.select(
            "insz",
            nis_code=text_or_null(code_labels(MUNI_NIS, np.clip(muni_idx, 0, None)), in_be),
            country=code_labels(COUNTRIES, np.where(in_be, BE, np.clip(sub["country"].to_numpy(), 0, None))),
            valid_from=_date_col("date"),
            valid_to=_date_col("valid_to"),
        )

    res = spells_in_order(
        _spells(
            E.frame("res", ["pid", "date", "muni", "country"], [np.int32] * 4), ["muni", "country"], death
        )
    )
    E.res = []
    emit("residence_history", spell_parts(res, residence))

    def register(sub: pl.DataFrame) -> pl.DataFrame:
        reason = sub["reason"].to_numpy()
        return sub.select(
            "insz",
            register=code_labels(REGISTER_NAMES, sub["register"].to_numpy()),
            valid_from=_date_col("date"),
            valid_to=_date_col("valid_to"),
            residence_reason=text_or_null(reason, reason >= 0),
            # a newborn's residence decision is not taken before the birth (the contract's before_birth rule)
            decision_date=date_series(
                np.where(
                    reason >= 0,
                    np.maximum(sub["decision"].to_numpy(), P.birth[sub["pid"].to_numpy()]),
                    NO_DATE,
                )
            ),
        )

    reg = spells_in_order(
        _spells(
            E.frame("reg", ["pid", "date", "register", "reason", "decision"], [np.int32] * 5),
            ["register", "reason"],
            death,
            end_col="register",
        )
    )
    E.reg = []
    emit("register_history", spell_parts(reg, register))
    frames = {t: pl.concat(parts) if len(parts) > 1 else parts[0] for t, parts in kept.items()}
    kept.clear()

    # ---- persons_extra (categorical text as Enum and latent draws as Float32: it stays in memory
    # until the labour model starts). The draws are made for every person, so that leaving the
    # ancestors out changes no one's values.
    rng = np.random.default_rng(np.random.SeedSequence([seed, first_year, last_year, 99]))
    level, dom, eyr = _education(rng, P)
    fm = np.where(P.mother >= 0, P.first_nat[np.clip(P.mother, 0, None)], BE)
    ff = np.where(P.father >= 0, P.first_nat[np.clip(P.father, 0, None)], BE)
    origin = np.where(ff != BE, ff, np.where(fm != BE, fm, np.where(P.first_nat != BE, P.first_nat, P.nat)))
    del fm, ff
    groups = ("BE", "EU_SOUTH", "EU_OTHER", "NON_EU")
    group = np.where(origin == BE, 0, np.where(IS_SOUTH[origin], 1, np.where(IS_EU28[origin], 2, 3)))
    score = np.select([level <= 2, level <= 4], [-0.45, 0.0], 0.4)
    work = rng.normal(0, 0.9, n) + score
    ever = np.zeros(n, bool)
    in_window = res.filter(pl.col("muni") >= 0)
    ever[
        in_window.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") > epoch_day(first_year)))[
            "pid"
        ].to_numpy()
    ] = True
    del in_window

    def enum(values, idx: np.ndarray) -> pl.Series:
        return code_labels(values, idx).cast(pl.Enum(list(dict.fromkeys(values))))

    # rows in INSZ order, for the persons the labour model can see (see the module docstring)
    rows = order["by_insz"][(ever | P.is_bis)[order["by_insz"]]]
    persons_extra = pl.DataFrame(
        {
            "insz": insz.gather(pl.Series(rows)).set_sorted(),
            "origin_group": enum(groups, group[rows]),
            "origin_country": enum(COUNTRIES, origin[rows]),
            "generation": pl.Series(P.gen[rows], dtype=pl.Int8),
            "education_level": enum(list(codes.EDUCATION_LEVEL), level[rows] - 1),
            "education_domain": enum(list(codes.EDUCATION_DOMAIN), dom[rows]),
            "education_year": pl.Series(eyr[rows], dtype=pl.Int16),
            "work_propensity": pl.Series(work[rows], dtype=pl.Float32),
            "health_risk": pl.Series(rng.normal(0, 1, n)[rows], dtype=pl.Float32),
            "arrival_date": date_series(np.where(P.gen == 1, P.arrival, NO_DATE)[rows]),
            "ever_resident": pl.Series(ever[rows], dtype=pl.Boolean),
        }
    )
    del level, dom, eyr, origin, group, work, rows
    order.clear()

    # ---- households, year by year, from the event logs (memory: one year at a time). Only the
    # persons with a Belgian residence inside the window can be in a household: the arrays are
    # renumbered over them (at scale 1.0 the ancestors are 45 % of ``person``).
    hh_pid = np.flatnonzero(ever)  # a Belgian residence inside the window (see persons_extra)
    n_hh = len(hh_pid)
    renum = np.full(n + 1, -1, np.int64)  # index -1 (unknown) stays -1
    renum[hh_pid] = np.arange(n_hh)
    del ever

    def local(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(pid=pl.Series(renum[df["pid"].to_numpy()])).filter(pl.col("pid") >= 0)

    res_ev = local(res.select("pid", "date", "valid_to", "muni").filter(pl.col("muni") >= 0))
    reg_w = local(reg.filter(pl.col("register") == REG_WAITING).select("pid", "date", "valid_to"))
    civ_ev = local(E.frame("civ", ["pid", "date", "civ"], [np.int64] * 3)).sort(
        ["pid", "date"], maintain_order=True
    )
    del res, reg
    female, birth, leave = P.female[hh_pid], P.birth[hh_pid], P.leave_age[hh_pid].astype(float)
    mother, father = renum[P.mother[hh_pid]], renum[P.father[hh_pid]]
    coll_from = P.coll_from[hh_pid]
    hh_insz = insz.gather(pl.Series(hh_pid))
    base_civ, base_civ_date = np.ones(n_hh, np.int8), np.full(n_hh, NO_DATE, np.int32)
    both = (renum[U.man] >= 0) & (renum[U.woman] >= 0)  # a union with an absent partner is no couple
    um, uw = renum[U.man[both]], renum[U.woman[both]]
    us, ue, umar, uleg = U.start[both], U.end[both], U.married[both], U.legal[both]

    def household_years() -> Iterator[tuple[int, pl.DataFrame]]:
        # one year at a time: two years side by side on two threads took 4 GiB more at scale 1.0
        # (13.7 GiB peak) for little wall time
        for y in range(first_year, last_year + 1):
            at = epoch_day(y)
            cur = res_ev.filter(
                (pl.col("date") <= at) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > at))
            )
            resident = np.zeros(n_hh, bool)
            muni = np.full(n_hh, -1, np.int64)
            pids = cur["pid"].to_numpy()
            resident[pids] = True
            muni[pids] = cur["muni"].to_numpy()
            w = reg_w.filter(
                (pl.col("date") <= at) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > at))
            )
            coll = coll_from <= at
            coll[w["pid"].to_numpy()] = True
            active = (us <= at) & (ue > at)
            partner = np.full(n_hh, -1, np.int64)
            married = np.zeros(n_hh, bool)
            legal = np.full(n_hh, NO_DATE, np.int64)
            partner[um[active]] = uw[active]
            partner[uw[active]] = um[active]
            mnow = umar[active] <= at
            married[um[active]] = mnow
            married[uw[active]] = mnow
            legal[um[active]] = uleg[active]
            legal[uw[active]] = uleg[active]
            civ = base_civ.copy()
            civ_date = base_civ_date.copy()
            last = civ_ev.filter(pl.col("date") <= at).group_by("pid", maintain_order=True).last()
            civ[last["pid"].to_numpy()] = last["civ"].to_numpy()
            civ_date[last["pid"].to_numpy()] = last["date"].to_numpy()
            yield (
                y,
                build_households(
                    y,
                    resident,
                    coll,
                    muni,
                    female,
                    birth,
                    partner,
                    married,
                    legal,
                    mother,
                    father,
                    leave,
                    civ,
                    civ_date,
                    hh_insz,
                ),
            )

    return Demography(
        scale=scale,
        seed=seed,
        first_year=first_year,
        last_year=last_year,
        person=frames["person"],
        nationality_history=frames["nationality_history"],
        residence_history=frames["residence_history"],
        register_history=frames["register_history"],
        persons_extra=persons_extra,
        household_years=household_years,
    )
