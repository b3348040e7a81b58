"""Demography of the synthetic warehouse: a seeded, vectorised microsimulation of the population
of Belgium from 1 January ``first_year`` to 31 December ``last_year`` (National Register part).

What is modelled (all with NumPy arrays over persons and Polars joins; no per-person loops):

* **Base population** on 1 January of ``first_year``: region totals of the published series
  (docs/domain_facts.md 3.1), an age pyramid built from the sizes of the Belgian birth cohorts, their
  survival and a migration surplus at working ages; municipalities (real NIS codes, a few per
  arrondissement, the rest of an arrondissement pooled under one of its codes); origin
  (ancestral country and generation) so that the Flemish and the Statbel origin cascades
  (docs/domain_facts.md 3.4) give the published shares, with local colour (Limburg's Italian and Turkish
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

This module holds ``GENERATOR_VERSION`` and ``simulate_demography``, which runs the simulation and
hands its tables over; the parts live beside it, each importing only the ones listed before it:
``demography_params`` (numbers), ``columns`` (NumPy arrays to Polars columns), ``demography_insz``
(national numbers), ``demography_population`` (the state and its small draws),
``demography_households`` (``household_jan1``), ``demography_base`` (the base population),
``demography_simulation`` (the yearly steps) and ``demography_frames`` (the table writers). Only
:mod:`cohort.warehouse.build` imports this module.
"""

from collections.abc import Callable, Iterator

import numpy as np
import polars as pl

from cohort.warehouse.columns import (
    arg_sort,
)
from cohort.warehouse.demography_frames import (
    ever_resident,
    nationality_rows,
    person_parts,
    persons_extra,
    register_rows,
    residence_rows,
    spell_parts,
    spells,
    spells_in_order,
)
from cohort.warehouse.demography_households import household_years
from cohort.warehouse.demography_insz import (
    insz_birth_dates,
    insz_numbers,
    insz_text,
)
from cohort.warehouse.demography_params import (
    NO_DATE,
    epoch_day,
)
from cohort.warehouse.demography_simulation import DemographySimulation
from cohort.warehouse.model import Demography

# 2: the labour model sees only the persons in the window, so its draws (and tables) differ from 1
# 3: brothers and sisters share their ancestor parents and grandparents (fewer, other draws)
# 5: new contract columns of seed 002 (job_quarter worker code, establishment NACE, activation detail;
#    benefit_quarter career-break detail and kind of social aid); the other columns are unchanged
# 6: benefit_quarter also holds the benefit of a position left during the quarter (unemployment before
#    self-employment, invalidity before the pension, a full career break before OCMW support) and the
#    child benefit of invalids under 21 (docs/warehouse.md); no new random draws, the other tables are
#    unchanged but for the status flag of social assistance with child benefit of such a parent
# 7: below scale 1.0 fewer Flemish government entities of their real size instead of all of them
#    shrunk (agency.flemish_entities); the same staff per year, only their entity, employer id and
#    size class change; scale 1.0 unchanged
# 8: benefit_quarter carries the RIZIV incapacity file's dates on the health fund's incapacity and
#    invalidity rows (incapacity_start, invalidity_start; cohort/classifications/incapacity.py), derived
#    from the simulated spells without a new random draw: the other columns and tables are unchanged
# 9: the household model (docs/warehouse.md, Calibration): young adults partner later and leave the
#    parental home later, fewer new unions from 50 on, fewer marriages of cohabiting couples, fertility
#    tuned back to the births; every table changes
GENERATOR_VERSION = "demography-10"

Sink = Callable[[str, pl.DataFrame], None]


def simulate_demography(
    scale: float, seed: int, first_year: int = 2005, last_year: int = 2026, sink: Sink | None = None
) -> Demography:
    """Run the demographic microsimulation and return the National Register tables (see the
    module docstring). Same ``scale``, ``seed`` and years give the same frames.

    With ``sink``, each whole-period table (``person``, ``nationality_history``,
    ``residence_history``, ``register_history``) is handed to ``sink(table, part)`` in parts of
    about ``demography_frames.PART_ROWS`` rows, in key order (one person's rows never split), and
    left out of the result (an empty frame in its place): the warehouse build appends them
    straight to disk, so that at scale 1.0 no whole table is in memory together with the
    simulation's arrays."""
    sim = DemographySimulation(scale, seed, first_year, last_year)
    sim.run()
    people, unions, events = sim.people, sim.unions, sim.events
    people.compact()
    end_day = epoch_day(last_year + 1)
    death = np.where(people.death < end_day, people.death, NO_DATE).astype(np.int32)
    born = insz_birth_dates(people.birth, people.female, people.is_bis, movable=people.kind == 1)
    moved = np.flatnonzero(born != people.birth)
    events.move_births(moved, people.birth[moved], born[moved])
    people.birth[moved] = born[moved]
    del born
    insz_num = insz_numbers(people.birth, people.female, people.is_bis)
    insz = insz_text(insz_num)
    n = people.n
    # every table is ordered on the INSZ: sorting the text of 40 million numbers (several times)
    # costs minutes at scale 1.0, so rows are put in order by the number's rank instead
    by_insz = arg_sort(insz_num)
    rank = np.empty(n, np.int64)
    rank[by_insz] = np.arange(n)
    del insz_num

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

    emit("person", person_parts(people, insz, by_insz, death))

    nat = spells_in_order(
        spells(events.frame("nat", ["pid", "date", "nat"], [np.int32] * 3), ["nat"], death), rank
    )
    events.nat = []
    emit("nationality_history", spell_parts(nat, insz, nationality_rows))
    del nat

    res = spells_in_order(
        spells(
            events.frame("res", ["pid", "date", "muni", "country"], [np.int32] * 4),
            ["muni", "country"],
            death,
        ),
        rank,
    )
    events.res = []
    emit("residence_history", spell_parts(res, insz, residence_rows))

    reg = spells_in_order(
        spells(
            events.frame("reg", ["pid", "date", "register", "reason", "decision"], [np.int32] * 5),
            ["register", "reason"],
            death,
            end_col="register",
        ),
        rank,
    )
    events.reg = []
    emit("register_history", spell_parts(reg, insz, lambda sub: register_rows(sub, people.birth)))
    frames = {t: pl.concat(parts) if len(parts) > 1 else parts[0] for t, parts in kept.items()}
    kept.clear()
    del rank

    rng = np.random.default_rng(np.random.SeedSequence([seed, first_year, last_year, 99]))
    ever = ever_resident(res, n, first_year)
    extra = persons_extra(rng, people, insz, by_insz, ever)
    del by_insz

    # households, year by year, from the event logs (memory: one year at a time). Only the persons
    # with a Belgian residence inside the window can be in a household (see household_years)
    years = household_years(people, unions, events, res, reg, ever, insz, first_year, last_year)
    del res, reg, ever

    return Demography(
        scale=scale,
        seed=seed,
        first_year=first_year,
        last_year=last_year,
        person=frames["person"],
        nationality_history=frames["nationality_history"],
        residence_history=frames["residence_history"],
        register_history=frames["register_history"],
        persons_extra=extra,
        household_years=years,
    )
