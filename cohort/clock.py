"""The one clock of the project: what "today" is for every retention check, purge, audit entry,
contract check and report.

By default today is the system date. ``COHORT_TODAY=YYYY-MM-DD`` fixes it, so that an operator
can replay a decision, a test can stand inside or after a project's retention, and a benchmark
gives the same answer next year. Nothing else in the package reads the wall clock for a
decision; ``ops/automation.py`` reads ``time.time()`` only to stamp a backfill for Dagster.
"""

import os
from datetime import UTC, date, datetime

ENV = "COHORT_TODAY"


class InvalidClockSetting(ValueError):
    """``COHORT_TODAY`` is set to something that is not a calendar date ``YYYY-MM-DD``."""


def parse_today(text: str) -> date:
    """The date in ``text`` (``YYYY-MM-DD``), or :class:`InvalidClockSetting` naming the variable."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidClockSetting(
            f"{ENV}={text!r} is not a date: give it as YYYY-MM-DD (for example {ENV}=2027-01-02), "
            "or unset it to use the system date"
        ) from None


def today() -> date:
    """Today: ``COHORT_TODAY`` when it is set, else the system date."""
    fixed = os.environ.get(ENV, "").strip()
    return parse_today(fixed) if fixed else date.today()


def now() -> datetime:
    """The current moment in UTC, on the date of :func:`today`: with ``COHORT_TODAY`` set, the
    fixed date at the current time of day, so an audit entry's date agrees with the decision
    it records and entries of one day still sort in the order they were written."""
    moment = datetime.now(UTC)
    fixed = today()
    return moment if fixed == moment.date() else datetime.combine(fixed, moment.timetz())


def days_left(until: date, on: date | None = None) -> int:
    """Days from ``on`` (default today) to ``until`` inclusive of nothing: 0 on the day itself,
    negative once it has passed."""
    return (until - (on or today())).days
