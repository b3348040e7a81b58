"""What the demography simulation hands to the labour-market simulation.

The whole-period tables (one row per person or per spell) fit in memory at scale 1.0; the
per-year household table does not for all years at once, so it is produced year by year.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import polars as pl


@dataclass
class Demography:
    """Output of ``cohort.warehouse.demography.simulate_demography``.

    Frames follow ``cohort.sources.contract`` exactly (same column names and dtypes), except
    ``persons_extra``, a helper frame with one row per person the labour simulation can see
    (a Belgian residence inside the window, or a BIS number) and the internal columns it needs
    (``insz`` plus e.g. ``education_level`` drawn at birth/arrival, ``origin_group``):
    documented in the demography module.
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

    def header(self) -> "Demography":
        """The same scale, seed and years without the frames: what a long-running consumer keeps
        once it has read the frames, so that they can be freed (at scale 1.0 they are gigabytes)."""
        empty = pl.DataFrame()
        return replace(
            self,
            person=empty,
            nationality_history=empty,
            residence_history=empty,
            register_history=empty,
            persons_extra=empty,
            household_years=lambda: iter(()),
        )
