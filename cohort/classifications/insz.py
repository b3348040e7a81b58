"""The Belgian social-security identification number (INSZ / NISS): the National Register
number, or the BIS number for people not in the register (domain-facts.md section 6).

11 digits ``YYMMDDSSSCC``; ``CC = 97 - (int(first 9) mod 97)``, with a ``2`` prefixed to the
nine digits for people born in 2000 or later. BIS numbers add 20 (sex unknown) or 40 (sex
known) to the month. Employer (enterprise) numbers are 10 digits ``0NNNNNNNCC`` with
``CC = 97 - (int(first 8) mod 97)``.
"""

from datetime import date

import polars as pl


def check_digits(body9: str, born_2000_or_later: bool) -> int:
    base = int(("2" if born_2000_or_later else "") + body9)
    return 97 - base % 97


def make_insz(birth: date, seq: int, bis_offset: int = 0) -> str:
    """Compose a valid number: ``seq`` odd for men, even for women; ``bis_offset`` 0, 20 or 40."""
    body9 = f"{birth.year % 100:02d}{birth.month + bis_offset:02d}{birth.day:02d}{seq:03d}"
    return body9 + f"{check_digits(body9, birth.year >= 2000):02d}"


def is_valid_insz(number: str) -> bool:
    """True when ``number`` is 11 digits with a check digit valid under the 19xx or the 20xx rule."""
    if len(number) != 11 or not number.isdigit():
        return False
    body9, cc = number[:9], int(number[9:])
    return cc in (check_digits(body9, False), check_digits(body9, True))


def insz_valid_expr(col: str | pl.Expr) -> pl.Expr:
    """Vectorised :func:`is_valid_insz` for Polars (null stays null)."""
    e = pl.col(col) if isinstance(col, str) else col
    shape = e.str.contains(r"^\d{11}$")
    body = e.str.slice(0, 9).cast(pl.Int64, strict=False)
    cc = e.str.slice(9, 2).cast(pl.Int64, strict=False)
    ok19 = (97 - body % 97) == cc
    ok20 = (97 - (body + 2_000_000_000) % 97) == cc
    return shape & (ok19 | ok20)


def insz_sql_valid(col: str) -> str:
    """The same rule as a DuckDB SQL expression over a VARCHAR column."""
    return (
        f"(regexp_full_match({col}, '\\d{{11}}') AND ("
        f"97 - (CAST(substr({col},1,9) AS BIGINT) % 97) = CAST(substr({col},10,2) AS INTEGER) OR "
        f"97 - ((CAST(substr({col},1,9) AS BIGINT) + 2000000000) % 97) = CAST(substr({col},10,2) AS INTEGER)))"
    )


def make_enterprise_number(seq: int) -> str:
    """A valid 10-digit enterprise (employer) number from a sequence number."""
    body8 = f"0{seq % 10_000_000:07d}"
    return body8 + f"{97 - int(body8) % 97:02d}"


def enterprise_valid_expr(col: str | pl.Expr) -> pl.Expr:
    e = pl.col(col) if isinstance(col, str) else col
    body = e.str.slice(0, 8).cast(pl.Int64, strict=False)
    cc = e.str.slice(8, 2).cast(pl.Int64, strict=False)
    return e.str.contains(r"^\d{10}$") & ((97 - body % 97) == cc)
