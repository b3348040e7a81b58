"""Households on 1 January (``household_jan1``) from the links between persons: the household anchor
of every person (a couple shares one, children below their leave-home age take their mother's,
else their father's), the reference person, the relation to it, the household size and the LIPRO
position; collective homes hold up to 60 residents each.

It imports :mod:`cohort.warehouse.demography_params`, :mod:`cohort.warehouse.demography_population`
and :mod:`cohort.warehouse.columns`.
"""

from collections.abc import Callable, Iterator

import numpy as np
import polars as pl

from cohort.warehouse.columns import code_labels, date_series, insz_of
from cohort.warehouse.demography_params import NO_DATE, YEAR_DAYS, epoch_day
from cohort.warehouse.demography_population import REG_WAITING, Events, Population, Unions, age_at


def household_anchors(
    priv: np.ndarray,
    muni: np.ndarray,
    partner: np.ndarray,
    mother: np.ndarray,
    father: np.ndarray,
    age: np.ndarray,
    leave_age: np.ndarray,
):
    """Household anchor of every person (its own id, the lower id of a couple, or the anchor of
    the parent a child lives with). Only meaningful where ``priv`` (private household resident)."""
    n = len(priv)
    ids = np.arange(n)
    p = np.clip(partner, 0, None)
    couple = priv & (partner >= 0) & priv[p] & (muni[p] == muni)
    m, f = np.clip(mother, 0, None), np.clip(father, 0, None)
    child_ok = priv & ~couple & (age < leave_age)
    has_m = child_ok & (mother >= 0) & priv[m] & (muni[m] == muni)
    has_f = child_ok & ~has_m & (father >= 0) & priv[f] & (muni[f] == muni)
    parent = np.where(has_m, mother, np.where(has_f, father, -1))
    anchor = np.where(couple, np.minimum(ids, partner), ids)
    # children at home take their parent's anchor, up to four generations (teen parents). Only
    # they are touched: gathering over everyone ever simulated (ancestors and the dead included)
    # took 4 s a call at scale 1.0. The gather reads the anchors of the previous round, as a
    # whole-array update would, and a round that changes nothing ends the loop (a fixed point).
    kids = np.flatnonzero(parent >= 0)
    of_kid = parent[kids]
    for _ in range(4):
        new = anchor[of_kid]
        if np.array_equal(new, anchor[kids]):
            break
        anchor[kids] = new
    return anchor, couple, parent


RELATIONS = ("01", "02", "03", "05", "11", "13", "20", "21")
LIPRO = ("MAR+", "MAR0", "UNM+", "UNM0", "H1PA", "SING", "CMAR", "CUNM", "C1PA", "OTHR", "COLL")


def build_households(
    year: int,
    res: np.ndarray,
    coll: np.ndarray,
    muni: np.ndarray,
    female: np.ndarray,
    birth: np.ndarray,
    partner: np.ndarray,
    married: np.ndarray,
    legal_start: np.ndarray,
    mother: np.ndarray,
    father: np.ndarray,
    leave_age: np.ndarray,
    civ: np.ndarray,
    civ_date: np.ndarray,
    insz: np.ndarray,
) -> pl.DataFrame:
    """The ``household_jan1`` rows of one year from the person arrays on 1 January."""
    at = epoch_day(year)
    age = age_at(birth, at)
    priv = res & ~coll
    anchor, couple, parent = household_anchors(priv, muni, partner, mother, father, age, leave_age)
    ids = np.arange(len(res))
    # reference person: the man of a couple, else the anchor
    ref_of_anchor = np.where(couple & female, partner, ids)
    ref = np.where(priv, ref_of_anchor[anchor], -1)
    rc = np.clip(ref, 0, None)
    ref_partner = np.where(couple[rc], partner[rc], -2)
    # relation and LIPRO position as small codes into RELATIONS / LIPRO (text only for the rows written)
    relation = np.full(len(res), RELATIONS.index("11"), dtype=np.int8)
    is_ref = ids == ref
    relation[is_ref] = RELATIONS.index("01")
    part_of_ref = priv & couple & (partner == ref) & ~is_ref
    relation[part_of_ref & married] = RELATIONS.index("02")
    relation[part_of_ref & ~married] = RELATIONS.index("21")
    is_child = priv & (parent >= 0)
    own = is_child & ((mother == ref) | (father == ref))
    step = is_child & ~own & ((mother == ref_partner) | (father == ref_partner))
    pc = np.clip(parent, 0, None)
    grand = is_child & ~own & ~step & (parent[pc] >= 0)
    relation[own] = RELATIONS.index("03")
    relation[step] = RELATIONS.index("13")
    relation[grand] = RELATIONS.index("05")
    # LIPRO
    sel = np.flatnonzero(priv)
    df = pl.DataFrame({"pid": sel, "anchor": anchor[sel], "child": is_child[sel]})
    agg = df.group_by("anchor").agg(size=pl.len(), kids=pl.col("child").sum())
    size_by_anchor = np.zeros(len(res), np.int64)
    kids_by_anchor = np.zeros(len(res), np.int64)
    size_by_anchor[agg["anchor"].to_numpy()] = agg["size"].to_numpy()
    kids_by_anchor[agg["anchor"].to_numpy()] = agg["kids"].to_numpy()
    kids = kids_by_anchor[anchor]
    hh_couple = couple[rc]
    hh_married = hh_couple & married[rc]
    L = LIPRO.index
    lipro = np.full(len(res), L("OTHR"), dtype=np.int8)
    nucleus = priv & (is_ref | part_of_ref)
    lipro[nucleus & hh_married & (kids > 0)] = L("MAR+")
    lipro[nucleus & hh_married & (kids == 0)] = L("MAR0")
    lipro[nucleus & hh_couple & ~hh_married & (kids > 0)] = L("UNM+")
    lipro[nucleus & hh_couple & ~hh_married & (kids == 0)] = L("UNM0")
    lipro[nucleus & ~hh_couple & (kids > 0)] = L("H1PA")
    lipro[nucleus & ~hh_couple & (kids == 0)] = L("SING")
    lipro[(own | step) & hh_married] = L("CMAR")
    lipro[(own | step) & hh_couple & ~hh_married] = L("CUNM")
    lipro[(own | step) & ~hh_couple] = L("C1PA")
    # collective households: one home per municipality and 60 residents
    csel = np.flatnonzero(res & coll)
    cdf = pl.DataFrame({"pid": csel, "muni": muni[csel].astype(np.int64)}).with_columns(
        k=(pl.col("pid").rank("ordinal").over("muni") - 1) // 60
    )
    cdf = cdf.with_columns(size=pl.len().over(["muni", "k"]), first=pl.col("pid").min().over(["muni", "k"]))
    private = pl.DataFrame(
        {
            "pid": sel,
            "anchor": anchor[sel],
            "ref": ref[sel],
            "relation": relation[sel],
            "size": size_by_anchor[anchor[sel]],
            "lipro": lipro[sel],
            "partner": np.where(couple[sel], partner[sel], -1),
        }
    )
    collective = pl.DataFrame(
        {
            "pid": cdf["pid"].to_numpy(),
            "anchor": cdf["first"].to_numpy(),
            "ref": cdf["first"].to_numpy(),
            "relation": np.full(len(cdf), RELATIONS.index("20"), np.int8),
            "size": cdf["size"].to_numpy().astype(np.int64),
            "lipro": np.full(len(cdf), LIPRO.index("COLL"), np.int8),
            "partner": np.full(len(cdf), -1, np.int64),
        }
    )
    hh = pl.concat([private.with_columns(c=pl.lit(0)), collective.with_columns(c=pl.lit(1))])
    hh = hh.with_columns(
        household_id=(pl.col("c").cast(pl.Int64) * 10**12 + pl.col("anchor")).rank("dense").cast(pl.Int64)
    )
    pid = hh["pid"].to_numpy()
    legal = (legal_start[pid] <= at) & ~married[pid] & (hh["partner"].to_numpy() >= 0)
    partner_ins = insz_of(insz, hh["partner"].to_numpy())
    out = pl.DataFrame(
        {
            "year": pl.Series(np.full(len(hh), year), dtype=pl.Int16),
            "insz": insz.gather(pid),
            "household_id": hh["household_id"],
            "reference_insz": insz.gather(hh["ref"].to_numpy()),
            "relation": code_labels(RELATIONS, hh["relation"].to_numpy()),
            "household_size": hh["size"].cast(pl.Int16),
            "lipro": code_labels(LIPRO, hh["lipro"].to_numpy()),
            "civil_status": code_labels([str(c) for c in range(10)], civ[pid]),
            # a union date drawn before the person's birth (a child of an immigrant couple takes their
            # status) becomes the 18th birthday, at the latest the day before this 1 January
            "civil_status_date": date_series(
                np.where(
                    civ_date[pid] < birth[pid],
                    np.minimum(birth[pid] + int(18 * YEAR_DAYS), at - 1),
                    civ_date[pid],
                )
            ),
            "legal_cohabitation": pl.Series(legal, dtype=pl.Boolean),
            "legal_cohabitation_start": date_series(np.where(legal, legal_start[pid], NO_DATE)),
            "partner_insz": partner_ins,
        }
    )
    return out.sort("insz")


def household_years(
    people: Population,
    unions: Unions,
    events: Events,
    residence: pl.DataFrame,
    register: pl.DataFrame,
    ever: np.ndarray,
    insz: pl.Series,
    first_year: int,
    last_year: int,
) -> Callable[[], Iterator[tuple[int, pl.DataFrame]]]:
    """The ``household_jan1`` frames, year by year (``Demography.household_years``), from the
    residence and register spells (``pid``, ``date``, ``valid_to``, ...), the civil-status log and
    the unions; ``ever`` marks the persons with a Belgian residence inside the window."""
    # only the persons with a Belgian residence inside the window can be in a household: the
    # arrays are renumbered over them (at scale 1.0 the ancestors are 45 % of ``person``)
    hh_pid = np.flatnonzero(ever)
    n_hh = len(hh_pid)
    renum = np.full(people.n + 1, -1, np.int64)  # index -1 (unknown) stays -1
    renum[hh_pid] = np.arange(n_hh)

    def local(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(pid=pl.Series(renum[df["pid"].to_numpy()])).filter(pl.col("pid") >= 0)

    res_ev = local(residence.select("pid", "date", "valid_to", "muni").filter(pl.col("muni") >= 0))
    reg_w = local(register.filter(pl.col("register") == REG_WAITING).select("pid", "date", "valid_to"))
    civ_ev = local(events.frame("civ", ["pid", "date", "civ"], [np.int64] * 3)).sort(
        ["pid", "date"], maintain_order=True
    )
    female, birth, leave = people.female[hh_pid], people.birth[hh_pid], people.leave_age[hh_pid].astype(float)
    mother, father = renum[people.mother[hh_pid]], renum[people.father[hh_pid]]
    coll_from = people.coll_from[hh_pid]
    hh_insz = insz.gather(pl.Series(hh_pid))
    base_civ, base_civ_date = np.ones(n_hh, np.int8), np.full(n_hh, NO_DATE, np.int32)
    # a union with an absent partner is no couple
    both = (renum[unions.man] >= 0) & (renum[unions.woman] >= 0)
    um, uw = renum[unions.man[both]], renum[unions.woman[both]]
    us, ue, umar, uleg = unions.start[both], unions.end[both], unions.married[both], unions.legal[both]

    def years() -> Iterator[tuple[int, pl.DataFrame]]:
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

    return years
