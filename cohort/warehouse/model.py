"""What the demography simulation hands to the labour-market simulation.

The whole-period tables (one row per person or per spell) fit in memory at scale 1.0; the
per-year household table does not for all years at once, so it is produced year by year.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl


@dataclass
class Demography:
    """Output of ``cohort.warehouse.demography.simulate_demography``.

    Frames follow ``cohort.sources.contract`` exactly (same column names and dtypes), except
    ``persons_extra``, a helper frame with one row per person in ``person`` and internal
    columns the labour simulation needs (``insz`` plus e.g. ``education_level`` drawn at
    birth/arrival, ``origin_group``): documented in the demography module.
    """

    scale: float
    seed: int
    first_year: int
    last_year: int
    person: pl.DataFrame
    nationality_history: pl.DataFrame
    residence_history: pl.DataFrame
    register_history: pl.DataFrame
    persons_extra: pl.DataFrame
    # yields (year, household_jan1 frame of that year), years first_year..last_year in order
    household_years: Callable[[], Iterator[tuple[int, pl.DataFrame]]]
