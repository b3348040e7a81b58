"""The state of the demographic simulation and the small draws it is made of: the column arrays over
every person ever created (``Population``), the unions, the append-only event logs, the register
codes, the helpers that draw dates, pair partners, match children to mothers and group brothers
and sisters into sibships, and ``DemographyState``, the state with the draws that both the base
population (:mod:`cohort.warehouse.demography_base`) and the yearly steps
(:mod:`cohort.warehouse.demography_simulation`) make.

It imports :mod:`cohort.warehouse.demography_params` and :mod:`cohort.warehouse.columns` only.
"""

import numpy as np
import polars as pl

from cohort.classifications import codes
from cohort.warehouse.columns import arg_sort
from cohort.warehouse.demography_params import (
    ASYLUM_ORIGINS,
    BE,
    COUNTRIES,
    COUNTRY_INDEX,
    DEST_P,
    IS_EU28,
    MUNI_REGION,
    N_MUNI,
    NO_DATE,
    YEAR_DAYS,
)


# ---------------------------------------------------------------------------------- small helpers
def age_at(birth: np.ndarray, at: int) -> np.ndarray:
    return (at - birth.astype(np.int64)) / YEAR_DAYS


def uniform_dates(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
    span = np.maximum(hi - lo, 1)
    return (lo + np.floor(rng.random(n) * span).astype(np.int64)).astype(np.int32)


def select_expected(
    rng: np.random.Generator, ids: np.ndarray, p: np.ndarray, group: np.ndarray
) -> np.ndarray:
    """Draw events with probabilities ``p`` but with the count of each group fixed to its expected
    value (randomly rounded): weighted sampling without replacement (Efraimidis-Spirakis keys).
    Keeps the Poisson noise of small synthetic populations out of calibrated totals (births)."""
    out = []
    for g in np.unique(group):
        sel = np.flatnonzero(group == g)
        w = p[sel]
        k = int(np.floor(w.sum() + rng.random()))
        if k <= 0:
            continue
        key = np.log(rng.random(len(sel))) / np.maximum(w, 1e-12)
        top = np.argpartition(-key, k - 1)[:k] if k < len(sel) else np.arange(len(sel))
        out.append(ids[sel[top]])
    return np.sort(np.concatenate(out)) if out else np.empty(0, np.int64)


def pair_within_groups(
    rng: np.random.Generator,
    a_id: np.ndarray,
    a_key: np.ndarray,
    a_grp: np.ndarray,
    b_id: np.ndarray,
    b_key: np.ndarray,
    b_grp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair members of side a with side b within groups: the larger side is thinned at random to
    the size of the smaller, then both are paired in the order of their key (age)."""
    if len(a_id) == 0 or len(b_id) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)

    def side(ids, key, grp):
        return pl.DataFrame(
            {
                "id": ids.astype(np.int64),
                "key": key.astype(np.float64),
                "g": grp.astype(np.int64),
                "prio": rng.random(len(ids)),
            }
        )

    a, b = side(a_id, a_key, a_grp), side(b_id, b_key, b_grp)
    n = (
        a.group_by("g")
        .len("na")
        .join(b.group_by("g").len("nb"), on="g")
        .with_columns(k=pl.min_horizontal("na", "nb"))
    )

    def thin(df):
        df = df.join(n.select("g", "k"), on="g").with_columns(pr=pl.col("prio").rank("ordinal").over("g"))
        df = df.filter(pl.col("pr") <= pl.col("k"))
        return df.with_columns(r=pl.col("key").rank("ordinal").over("g")).select("id", "g", "r")

    m = thin(a).join(thin(b), on=["g", "r"], suffix="_b").sort("id")
    return m["id"].to_numpy(), m["id_b"].to_numpy()


def nearest_within_group(
    child: np.ndarray,
    target: np.ndarray,
    cgrp: np.ndarray,
    cand: np.ndarray,
    ckey: np.ndarray,
    kgrp: np.ndarray,
    tol: float,
) -> np.ndarray:
    """For each child, the candidate of the same group whose key is nearest ``target`` (within
    ``tol``), or -1. Candidates may be chosen by several children (siblings)."""
    out = np.full(len(child), -1, np.int64)
    if len(child) == 0 or len(cand) == 0:
        return out
    left = pl.DataFrame(
        {"row": np.arange(len(child)), "t": target.astype(np.float64), "g": cgrp.astype(np.int64)}
    ).sort("t")
    right = pl.DataFrame(
        {"cand": cand.astype(np.int64), "t": ckey.astype(np.float64), "g": kgrp.astype(np.int64)}
    ).sort("t")
    j = left.join_asof(right, on="t", by="g", strategy="nearest", tolerance=tol, check_sortedness=False)
    j = j.filter(pl.col("cand").is_not_null())
    out[j["row"].to_numpy()] = j["cand"].to_numpy()
    return out


# brothers and sisters alive and resident at the window start, per sibship whose parent is no
# longer in the register (completed fertility of the 1920-1970 cohorts about 2.2, less the
# siblings who died or left; a sibship of one is the only child, or the only one still here)
SIBSHIP_SIZES = np.array([1, 2, 3, 4, 5])
SIBSHIP_P = np.array([0.30, 0.35, 0.20, 0.10, 0.05])
SIBSHIP_SPAN_DAYS = int(2 * YEAR_DAYS)


def sibships(
    rng: np.random.Generator, key: np.ndarray, parent_birth: np.ndarray, birth: np.ndarray
) -> np.ndarray:
    """Group persons into sibships (broers en zussen): persons of one ``key`` whose parent's
    birth date, drawn for each of them, falls in the same two-year span are cut, in that order,
    into groups of ``SIBSHIP_SIZES``; a group is split where two of its members (``birth``) would
    be born between a day and ten months apart. Returns each person's group number (0, 1, ...)."""
    n = len(key)
    if n == 0:
        return np.empty(0, np.int64)
    span = parent_birth.astype(np.int64) // SIBSHIP_SPAN_DAYS
    order = arg_sort(key, span, parent_birth)
    cut = np.cumsum(rng.choice(SIBSHIP_SIZES, size=n, p=SIBSHIP_P))
    drawn = np.searchsorted(cut, np.arange(n), side="right")
    k, s = key[order], span[order]
    new = np.r_[True, (k[1:] != k[:-1]) | (s[1:] != s[:-1]) | (drawn[1:] != drawn[:-1])]
    group = np.empty(n, np.int64)
    group[order] = np.cumsum(new) - 1
    # within a group, in birth order: twins (same day) stay, births too close to be siblings split
    order = arg_sort(group, birth)
    g, b = group[order], birth[order].astype(np.int64)
    gap = np.diff(b)
    new = np.r_[True, (g[1:] != g[:-1]) | ((gap > 0) & (gap < 300))]
    group[order] = np.cumsum(new) - 1
    return group


def group_mean(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per group number (int64, rounded down)."""
    if len(group) == 0:
        return np.empty(0, np.int64)
    total = np.bincount(group, weights=values.astype(np.float64))
    return np.floor(total / np.bincount(group)).astype(np.int64)


# ---------------------------------------------------------------------------------- the population
class Population:
    """Column arrays over every person ever created (index = internal id)."""

    FIELDS = {
        "birth": np.int32,
        "female": np.bool_,
        "birth_country": np.int16,
        "first_nat": np.int16,
        "nat": np.int16,
        "oc": np.int16,
        "gen": np.int8,
        "mother": np.int64,
        "father": np.int64,
        "death": np.int32,
        "is_bis": np.bool_,
        "muni": np.int16,
        "abroad": np.int16,
        "reg": np.int8,
        "reason": np.int8,
        "union": np.int64,
        "leave_age": np.float32,
        "coll_from": np.int32,
        "arrival": np.int32,
        "emig": np.int32,
        "kind": np.int8,
        "civ": np.int8,
        "civ_date": np.int32,
        "reg_since": np.int32,
    }
    # kind: 0 base resident, 1 ancestor, 2 born, 3 immigrant, 4 BIS

    def __init__(self) -> None:
        self.n = 0
        self._cap = 0
        self._store = {f: np.empty(0, dtype=t) for f, t in self.FIELDS.items()}
        self._views()

    def _views(self) -> None:
        # the public arrays are views of the first n rows of the (over-allocated) storage
        for f in self.FIELDS:
            object.__setattr__(self, f, self._store[f][: self.n])

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, int(self._cap * 1.5) + 1024)
        for f, t in self.FIELDS.items():
            new = np.empty(cap, dtype=t)
            new[: self.n] = self._store[f][: self.n]
            self._store[f] = new
        self._cap = cap

    def compact(self) -> None:
        """Give back the over-allocated tail (a third of the storage after the last growth)."""
        for f in self.FIELDS:  # one field at a time: the old storage goes as soon as its view does
            self._store[f] = self._store[f][: self.n].copy()
            object.__setattr__(self, f, self._store[f])
        self._cap = self.n

    def add(self, **cols) -> np.ndarray:
        k = len(cols["birth"])
        defaults = {
            "mother": -1,
            "father": -1,
            "death": NO_DATE,
            "is_bis": False,
            "muni": -1,
            "abroad": -1,
            "reg": -1,
            "reason": -1,
            "union": -1,
            "leave_age": 25.0,
            "coll_from": NO_DATE,
            "arrival": NO_DATE,
            "emig": NO_DATE,
            "civ": 1,
            "civ_date": NO_DATE,
            "gen": 0,
            "reg_since": NO_DATE,
        }
        start = self.n
        self._grow(start + k)
        for f in self.FIELDS:
            v = cols.get(f, defaults.get(f))
            if v is None:
                raise KeyError(f)
            self._store[f][start : start + k] = np.broadcast_to(np.asarray(v), (k,))
        self.n = start + k
        self._views()
        return np.arange(start, start + k)


class Unions:
    def __init__(self) -> None:
        self.man = np.empty(0, np.int64)
        self.woman = np.empty(0, np.int64)
        self.start = np.empty(0, np.int32)
        self.end = np.empty(0, np.int32)
        self.married = np.empty(0, np.int32)
        self.legal = np.empty(0, np.int32)

    def add(self, man, woman, start, married, legal) -> np.ndarray:
        k = len(man)
        first = len(self.man)
        self.man = np.concatenate([self.man, man.astype(np.int64)])
        self.woman = np.concatenate([self.woman, woman.astype(np.int64)])
        self.start = np.concatenate([self.start, np.asarray(start, np.int32)])
        self.end = np.concatenate([self.end, np.full(k, NO_DATE, np.int32)])
        self.married = np.concatenate([self.married, np.asarray(married, np.int32)])
        self.legal = np.concatenate([self.legal, np.asarray(legal, np.int32)])
        return np.arange(first, first + k)


class Events:
    """Append-only event logs; concatenated once at the end."""

    def __init__(self) -> None:
        self.res: list[tuple] = []  # (pid, date, muni or -1, country)
        self.reg: list[tuple] = []  # (pid, date, register or -1 for leaving, reason or -1, decision date)
        self.nat: list[tuple] = []  # (pid, date, nationality)
        self.civ: list[tuple] = []  # (pid, date, civil status)

    def add(self, log: str, *cols) -> None:
        n = len(cols[0])
        if n:
            getattr(self, log).append(tuple(np.broadcast_to(np.asarray(c), (n,)).copy() for c in cols))

    def move_births(self, ids: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Events dated at the old birth date of the (sorted) ``ids`` follow it to the new one."""
        if not len(ids):
            return
        for log in ("res", "reg", "nat", "civ"):
            for pid, day, *_ in getattr(self, log):
                i = np.minimum(np.searchsorted(ids, pid), len(ids) - 1)
                hit = (ids[i] == pid) & (day == old[i])
                day[hit] = new[i[hit]]

    def frame(self, log: str, names: list[str], dtypes: list) -> pl.DataFrame:
        parts = getattr(self, log)
        if not parts:
            return pl.DataFrame({n: pl.Series(n, [], dtype=pl.Int64) for n in names})
        cols = [np.concatenate([p[i] for p in parts]).astype(dtypes[i]) for i in range(len(names))]
        return pl.DataFrame(dict(zip(names, cols, strict=True)))


REG_POP, REG_FOREIGN, REG_WAITING = 0, 1, 2
REGISTER_NAMES = list(codes.REGISTERS)


def region_of(muni: np.ndarray) -> np.ndarray:
    return np.where(muni >= 0, MUNI_REGION[np.clip(muni, 0, None)], -1)


class DemographyState:
    """The state of one demographic simulation (persons, unions, event logs, the seeded generator)
    and the draws both the base population and the yearly steps make: partners, the marriage
    market, where newcomers settle, asylum seekers and BIS persons."""

    def __init__(self, scale: float, seed: int, first_year: int, last_year: int) -> None:
        if not (1900 < first_year <= last_year < 2100):
            raise ValueError(f"years {first_year}-{last_year}: first_year must not exceed last_year")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale, self.seed, self.first_year, self.last_year = scale, seed, first_year, last_year
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, first_year, last_year]))
        self.people = Population()
        self.unions = Unions()
        self.events = Events()

    def partner(self) -> np.ndarray:
        people, unions = self.people, self.unions
        out = np.full(people.n, -1, np.int64)
        has = people.union >= 0
        u = people.union[has]
        out[has] = np.where(unions.man[u] == np.flatnonzero(has), unions.woman[u], unions.man[u])
        return out

    def married_now(self, at: int) -> np.ndarray:
        people, unions = self.people, self.unions
        out = np.zeros(people.n, bool)
        has = people.union >= 0
        out[has] = unions.married[people.union[has]] <= at
        return out

    def marriage_key(self, oc: np.ndarray) -> np.ndarray:
        """Marriage-market key: Belgians, EU and neighbours largely mix; other origins mostly not."""
        mix = self.rng.random(len(oc)) < np.where(oc == BE, 1.0, np.where(IS_EU28[oc], 0.55, 0.12))
        return np.where(mix, BE, oc).astype(np.int64)

    def settle(self, oc: np.ndarray) -> np.ndarray:
        rng = self.rng
        k = len(oc)
        u = rng.random(k)
        out = np.zeros(k, np.int64)
        for c in np.unique(oc):
            sel = np.flatnonzero(oc == c)
            cw = np.cumsum(DEST_P[c])
            out[sel] = np.minimum(np.searchsorted(cw, u[sel] * cw[-1], side="right"), N_MUNI - 1)
        return out

    def add_bis_persons(self, k: int, lo: int, base: bool) -> None:
        """Frontier workers and other non-residents known through a BIS number."""
        if k <= 0:
            return
        rng, people = self.rng, self.people
        country = rng.choice(
            np.array(
                [
                    COUNTRY_INDEX["FR"],
                    COUNTRY_INDEX["NL"],
                    COUNTRY_INDEX["DE"],
                    COUNTRY_INDEX["LU"],
                    COUNTRY_INDEX["PL"],
                    COUNTRY_INDEX["RO"],
                    COUNTRY_INDEX["PT"],
                ]
            ),
            size=k,
            p=[0.5, 0.2, 0.08, 0.04, 0.08, 0.06, 0.04],
        )
        age = rng.normal(38, 11, k)
        # out of range: drawn again evenly (clipping would put them all on one birth date)
        out = (age < 17) | (age > 70)
        age[out] = rng.uniform(17, 70, out.sum())
        birth = (lo - (age * YEAR_DAYS).astype(np.int64)).astype(np.int32)
        female = rng.random(k) < 0.35
        ids = people.add(
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
        self.events.add("res", ids, since.astype(np.int32), -1, country)
        self.events.add("nat", ids, birth, country)

    def add_asylum_seekers(self, k: int, lo: int, hi: int, year: int) -> None:
        """Asylum seekers: enter the waiting register (reason 2) in a reception centre."""
        if k <= 0:
            return
        rng, people = self.rng, self.people
        mix = np.zeros(len(COUNTRIES))
        for c in ASYLUM_ORIGINS:
            mix[COUNTRY_INDEX[c]] = 1.0
        if 2015 <= year <= 2016:
            mix[COUNTRY_INDEX["SY"]] += 5
            mix[COUNTRY_INDEX["IQ"]] += 2
            mix[COUNTRY_INDEX["AF"]] += 3
        if year >= 2018:
            mix[COUNTRY_INDEX["AF"]] += 3
            mix[COUNTRY_INDEX["PS"]] += 2
            mix[COUNTRY_INDEX["ER"]] += 1
        mix /= mix.sum()
        oc = rng.choice(len(COUNTRIES), size=k, p=mix).astype(np.int16)
        age = np.clip(rng.normal(27, 10, k), 0.5, 65)
        date_in = uniform_dates(rng, lo, hi, k)
        birth = (date_in - (age * YEAR_DAYS).astype(np.int64)).astype(np.int32)
        female = rng.random(k) < 0.3
        m = self.settle(oc)
        ids = people.add(
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
        self.events.add("nat", ids, birth, oc)
        self.events.add("res", ids, date_in, m, BE)
        self.events.add("reg", ids, date_in, REG_WAITING, 2, date_in)
