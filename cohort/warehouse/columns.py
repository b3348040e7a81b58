"""Columns of the synthetic warehouse's tables made from NumPy arrays: row orders computed by Polars,
code labels gathered from short lookup series, text and dates with nulls, the INSZ of internal ids.
Shared by the demography and the labour table writers.

It imports only NumPy, Polars and :mod:`cohort.warehouse.demography_params` (the ``NO_DATE`` marker).
"""

import numpy as np
import polars as pl

from cohort.warehouse.demography_params import NO_DATE


def text_or_null(values, valid: np.ndarray) -> pl.Series:
    """Text column with nulls where ``valid`` is false."""
    s = (
        values
        if isinstance(values, pl.Series)
        else pl.Series("s", np.asarray(values).astype(str), dtype=pl.String)
    )
    return pl.select(pl.when(pl.Series(np.asarray(valid, bool))).then(s).otherwise(None)).to_series()


def insz_of(ins: pl.Series, idx: np.ndarray) -> pl.Series:
    """INSZ of internal ids ``idx`` (null where ``idx`` < 0)."""
    idx = np.asarray(idx, np.int64)
    return text_or_null(ins.gather(np.clip(idx, 0, None)), idx >= 0)


def date_series(days: np.ndarray) -> pl.Series:
    s = pl.Series("d", np.asarray(days).astype(np.int64))
    return pl.select(
        pl.when(s == int(NO_DATE)).then(None).otherwise(s).cast(pl.Int32).cast(pl.Date)
    ).to_series()


def arg_sort(*keys: np.ndarray) -> np.ndarray:
    """The stable order of rows sorted on ``keys`` (first key first): ``np.lexsort(keys[::-1])``,
    computed by Polars on both cores (a tenth of the time of ``np.lexsort`` on 12 million rows,
    a fifth of ``np.argsort`` on 40 million numbers)."""
    if not keys or len(keys[0]) == 0:
        return np.empty(0, np.int64)
    frame = pl.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
    order = frame.select(pl.arg_sort_by(frame.columns, maintain_order=True)).to_series()
    return order.to_numpy().astype(np.int64)


def code_labels(values, idx: np.ndarray, nullable: bool = False) -> pl.Series:
    """Text column ``values[idx]``, gathered from a small Series (no per-row Python strings);
    with ``nullable``, a negative index gives null."""
    ix = np.asarray(idx, dtype=np.int64)
    if nullable:
        ix = np.where(ix < 0, len(values), ix)
    vals = list(values) + ([None] if nullable else [])
    return pl.Series(vals, dtype=pl.String).gather(pl.Series(ix.astype(np.uint32)))
