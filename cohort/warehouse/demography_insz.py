"""National numbers (INSZ) of the synthetic population: at most ``INSZ_PER_DAY`` sequence numbers per
birth date and sex (odd for men, even for women), BIS numbers with 40 added to the month, the
check digit, and the birth dates of ancestors moved a day earlier where a day is full.

It imports NumPy, Polars and the check digit of ``cohort.classifications.insz`` (written once there).
"""

import numpy as np
import polars as pl

from cohort.classifications.insz import insz_check_digits


def make_insz_array(birth: np.ndarray, female: np.ndarray, is_bis: np.ndarray) -> pl.Series:
    """Valid, unique INSZ numbers: sequence numbers counted per birth date, sex and kind (odd for
    men, even for women); BIS numbers add 40 to the month. Vectorised checksum (docs/domain_facts.md 6)."""
    return insz_text(insz_numbers(birth, female, is_bis))


def insz_text(numbers: np.ndarray) -> pl.Series:
    """INSZ numbers as the 11-digit text of the register. The text sorts as the number does (same
    width, leading zeros), so the tables are ordered on the int64 and never on the text."""
    return pl.Series("insz", numbers).cast(pl.String).str.zfill(11)


# sequence numbers per birth date and sex: 001-997 (odd) for men, 002-998 (even) for women
INSZ_PER_DAY = 499


def _insz_day(birth: np.ndarray, is_bis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (plus 40 for a BIS number), day, and the key of the sequence counter they
    share: the number shows the year modulo 100, so 1895 and 1995 count on one sequence (same
    checksum rule); 2095 has its own through the checksum of births from 2000 on."""
    dates = pl.Series(birth.astype(np.int32)).cast(pl.Date)
    y = dates.dt.year().to_numpy().astype(np.int64)
    m = dates.dt.month().to_numpy().astype(np.int64) + np.where(is_bis, 40, 0)
    d = dates.dt.day().to_numpy().astype(np.int64)
    return y, m, d, (y % 100) * 10_000 + m * 100 + d + np.where(y >= 2000, 10**6, 0)


def insz_birth_dates(
    birth: np.ndarray, female: np.ndarray, is_bis: np.ndarray, movable: np.ndarray
) -> np.ndarray:
    """Birth dates that leave every person an INSZ sequence number: where more than
    ``INSZ_PER_DAY`` persons of one sex share a counter, ``movable`` persons (ancestors, whose
    exact day carries no information) are moved a day earlier until each counter has room.
    Raises, naming the count, when the others alone exhaust a day."""
    birth = birth.astype(np.int32, copy=True)
    cell = _insz_day(birth, is_bis)[3] * 2 + female
    for _ in range(366):
        counts = np.bincount(cell)
        full = counts > INSZ_PER_DAY
        if not full.any():
            return birth
        fixed = np.bincount(cell[~movable], minlength=len(counts))
        if (fixed > INSZ_PER_DAY).any():
            raise ValueError(
                f"person: more than {INSZ_PER_DAY} persons of one sex born on one day "
                f"({int(fixed.max())}); INSZ sequence exhausted"
            )
        # in each full counter, the movable persons beyond its capacity move one day earlier
        cand = np.flatnonzero(movable & full[cell])
        cand = cand[np.argsort(cell[cand], kind="stable")]
        c = cell[cand]
        pos = np.arange(len(cand)) - np.searchsorted(c, c, side="left")
        move = cand[pos < counts[c] - INSZ_PER_DAY]
        birth[move] -= 1
        cell[move] = _insz_day(birth[move], is_bis[move])[3] * 2 + female[move]
    raise ValueError("person: no free INSZ sequence numbers within a year of the ancestors' birth dates")


def insz_numbers(birth: np.ndarray, female: np.ndarray, is_bis: np.ndarray) -> np.ndarray:
    """The INSZ numbers of ``make_insz_array`` as int64."""
    n = len(birth)
    y, m, d, day_key = _insz_day(birth, is_bis)
    df = pl.DataFrame({"id": np.arange(n), "b": day_key, "f": female})
    df = df.with_columns(k=(pl.col("id").rank("ordinal").over(["b", "f"]) - 1).cast(pl.Int64)).sort("id")
    k = df["k"].to_numpy()
    if n and k.max() >= INSZ_PER_DAY:
        raise ValueError(
            f"person: more than {INSZ_PER_DAY} persons of one sex born on one day ({k.max() + 1}); "
            "INSZ sequence exhausted"
        )
    seq = np.where(female, 2 + 2 * k, 1 + 2 * k)
    body = (y % 100) * 10**7 + m * 10**5 + d * 10**3 + seq
    return body * 100 + insz_check_digits(body, y >= 2000)
