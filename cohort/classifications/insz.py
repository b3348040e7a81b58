"""The Belgian social-security identification number (INSZ / NISS): the National Register
number, or the BIS number for people not in the register, and the enterprise (employer) number.

11 digits ``YYMMDDSSSCC``; ``CC = 97 - (int(first 9) mod 97)``, with a ``2`` prefixed to the
nine digits for people born in 2000 or later. BIS numbers add 20 (sex unknown) or 40 (sex
known) to the month. Employer (enterprise) numbers are 10 digits ``0NNNNNNNCC`` with
``CC = 97 - (int(first 8) mod 97)``.

The check digit is written once, in :func:`check_digits`, and the validity of a number once, in
:func:`insz_number_valid` / :func:`enterprise_number_valid`. They are plain arithmetic, so the
same functions run on Python integers, numpy integer arrays and Polars expressions, and on a
:class:`SqlTerm`, which turns them into DuckDB SQL text: the SQL form of the rule
(:func:`insz_number_valid_sql`, :func:`enterprise_number_valid_sql`) is generated from the
Python one, never written beside it. Every place that checks a number (the warehouse contract,
the export scan, the synthetic warehouse) calls this module.
"""

from datetime import date
from typing import Any

import polars as pl

MODULUS = 97
#: the ``2`` put before the nine digits of people born in 2000 or later, as a number to add
BORN_2000_PREFIX = 2_000_000_000


class SqlTerm:
    """A DuckDB SQL expression that the arithmetic and comparisons of this module apply to: each
    operation returns the SQL of it, fully bracketed (so operator precedence never differs
    between Python and SQL). ``//`` and ``%`` are only used on non-negative integers here, where
    Python and DuckDB agree."""

    __hash__ = None  # type: ignore[assignment]  # ``==`` builds SQL, it does not compare

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def __str__(self) -> str:
        return self.sql

    def _apply(self, operator: str, other: Any, reverse: bool = False) -> "SqlTerm":
        right = other.sql if isinstance(other, SqlTerm) else str(int(other))
        left, right = (right, self.sql) if reverse else (self.sql, right)
        return SqlTerm(f"({left} {operator} {right})")

    def __add__(self, other: Any) -> "SqlTerm":
        return self._apply("+", other)

    def __radd__(self, other: Any) -> "SqlTerm":
        return self._apply("+", other, reverse=True)

    def __rsub__(self, other: Any) -> "SqlTerm":
        return self._apply("-", other, reverse=True)

    def __mod__(self, other: Any) -> "SqlTerm":
        return self._apply("%", other)

    def __floordiv__(self, other: Any) -> "SqlTerm":
        return self._apply("//", other)

    def __eq__(self, other: Any) -> "SqlTerm":  # type: ignore[override]
        return self._apply("=", other)

    def __or__(self, other: Any) -> "SqlTerm":
        return self._apply("OR", other)


def check_digits(body: Any, prefix: Any = None) -> Any:
    """The two check digits of ``body`` (the number without them): ``97 - (prefix + body) mod 97``.
    ``body`` and ``prefix`` may be ints, numpy integer arrays, Polars expressions or
    :class:`SqlTerm`; the result is of the same kind."""
    return MODULUS - (body if prefix is None else body + prefix) % MODULUS


def insz_check_digits(body: Any, born_2000_or_later: Any) -> Any:
    """The check digits of the nine digits ``YYMMDDSSS`` (an int or a numpy int64 array) of someone
    born in 2000 or later (a bool, or a bool array of the same length) or before."""
    return check_digits(body, born_2000_or_later * BORN_2000_PREFIX)


def insz_number_valid(number: Any) -> Any:
    """True where the 11-digit number (as an integer: leading zeros lost) ends in the check digits
    of its first nine under the 19xx or the 20xx rule (the birth year is not in the number)."""
    body, cc = number // 100, number % 100
    return (check_digits(body) == cc) | (check_digits(body, BORN_2000_PREFIX) == cc)


def enterprise_number_valid(number: Any) -> Any:
    """True where the 10-digit enterprise number (as an integer) ends in the check digits of its first eight."""
    return check_digits(number // 100) == number % 100


def insz_number_valid_sql(number_sql: str) -> str:
    """:func:`insz_number_valid` as DuckDB SQL over an integer expression (null stays null)."""
    return str(insz_number_valid(SqlTerm(number_sql)))


def enterprise_number_valid_sql(number_sql: str) -> str:
    """:func:`enterprise_number_valid` as DuckDB SQL over an integer expression (null stays null)."""
    return str(enterprise_number_valid(SqlTerm(number_sql)))


def make_insz(birth: date, seq: int, bis_offset: int = 0) -> str:
    """Compose a valid number: ``seq`` odd for men, even for women; ``bis_offset`` 0, 20 or 40."""
    body9 = f"{birth.year % 100:02d}{birth.month + bis_offset:02d}{birth.day:02d}{seq:03d}"
    return body9 + f"{insz_check_digits(int(body9), birth.year >= 2000):02d}"


def is_valid_insz(number: str) -> bool:
    """True when ``number`` is 11 digits with a check digit valid under the 19xx or the 20xx rule."""
    if len(number) != 11 or not (number.isascii() and number.isdigit()):
        return False
    return bool(insz_number_valid(int(number)))


def insz_valid_expr(col: str | pl.Expr) -> pl.Expr:
    """Vectorised :func:`is_valid_insz` for Polars (null stays null)."""
    text = pl.col(col) if isinstance(col, str) else col
    return text.str.contains(r"^[0-9]{11}$") & insz_number_valid(text.cast(pl.Int64, strict=False))


def insz_sql_valid(col: str) -> str:
    """:func:`is_valid_insz` as a DuckDB SQL expression over a VARCHAR column (null stays null)."""
    return (
        f"(regexp_full_match({col}, '[0-9]{{11}}') AND {insz_number_valid_sql(f'TRY_CAST({col} AS BIGINT)')})"
    )


def make_enterprise_number(seq: int) -> str:
    """A valid 10-digit enterprise (employer) number from a sequence number."""
    body8 = f"0{seq % 10_000_000:07d}"
    return body8 + f"{check_digits(int(body8)):02d}"


def enterprise_valid_expr(col: str | pl.Expr) -> pl.Expr:
    """True where the text is a 10-digit enterprise number with a valid check digit (Polars)."""
    text = pl.col(col) if isinstance(col, str) else col
    return text.str.contains(r"^[0-9]{10}$") & enterprise_number_valid(text.cast(pl.Int64, strict=False))
