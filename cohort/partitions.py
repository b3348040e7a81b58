"""Yearly partitions. Dagster 1.13 has no yearly definition, so a time window with a yearly cron.

A project's years run from its first to its last year, but a year after the clock's
(``cohort.clock.today()``) does not exist yet. ``end`` stops the partitions at the clock's year
and ``end_offset=1`` makes that running year a valid partition before it ends (docs/design.md,
decision 3): a project whose last year is the current one can build it during the year. Dagster
itself cuts at its own wall clock too, so a clock set *earlier* than the machine's (a test, a
replay) gives the partitions of that earlier day, not the machine's.
"""

import dagster as dg

from cohort import clock


def yearly_partitions(first: int, last: int) -> dg.TimeWindowPartitionsDefinition:
    """Partitions ``first``..``last`` (keys ``"2005"``...), none after the clock's year."""
    last_existing = max(first, min(last, clock.today().year))
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule="0 0 1 1 *",
        fmt="%Y",
        start=str(first),
        end=str(last_existing + 1),
        end_offset=1,
    )
