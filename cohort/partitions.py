"""Yearly partitions. Dagster 1.13 has no yearly definition, so a time window with a yearly cron.

``end_offset=1`` makes the running year a valid partition before it ends (DESIGN.md decision 3):
a project whose last year is the current one can build it during the year.
"""

from datetime import date

import dagster as dg


def yearly_partitions(first: int, last: int) -> dg.TimeWindowPartitionsDefinition:
    """Partitions ``first``..``last`` (keys ``"2005"``...). Years after the current one do not exist yet."""
    current = date.today().year
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule="0 0 1 1 *",
        fmt="%Y",
        start=str(first),
        end=str(last + 1),
        end_offset=1 if first <= current <= last else 0,
    )
