"""Which day's member states make "the EU" of an origin classification.

Advice 13/71 (seed 003, §2) takes the member states of the European Union "op het ogenblik van het
genereren van de anonieme gegevens": the day the tables are generated, not the year they describe. A
project's spec names its reading in ``eu_membership``:

- ``generation`` (the deliberation's reading, the default): the generation date, which the caller
  takes from the project's clock (:func:`cohort.clock.today`, fixed by ``COHORT_TODAY``); a table
  of 2013 generated in 2026 counts Croatia in the EU and the United Kingdom outside it.
- ``reference_date``: the member states on the table's own reference date (31 December of the
  year for seed 003), so that a rerun of a past year gives the same table whenever it runs.
"""

from datetime import date

GENERATION = "generation"
REFERENCE_DATE = "reference_date"
RULES = (GENERATION, REFERENCE_DATE)


def membership_date(rule: str, reference: date, generated: date) -> date:
    """The day whose member states count as the EU under ``rule`` (one of :data:`RULES`)."""
    if rule == GENERATION:
        return generated
    if rule == REFERENCE_DATE:
        return reference
    raise ValueError(f"eu_membership: unknown rule {rule!r} (one of {', '.join(RULES)})")
