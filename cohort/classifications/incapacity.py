"""The periods of a health-fund incapacity spell (RIZIV/INAMI: primary incapacity and invalidity),
each rule written once for the synthetic warehouse (cohort/warehouse/labour_frames.py), the
contract's row rules (cohort/sources/checks.py) and the labour reserve's delivery (seed 004 §3).

One spell of the health fund (``benefit_quarter`` rows of a benefit of
``codes.HEALTH_FUND_INCAPACITY``), as the incapacity file has it (docs/domain_facts.md, section 3.9):

- the incapacity starts on its first day (``benefit_quarter.incapacity_start``);
- an employee keeps the wage from the employer for the first :data:`GUARANTEED_WAGE_DAYS` days
  (gewaarborgd loon), so the health fund pays from the day after; whoever has no employer to pay
  it (a job seeker, a self-employed person, an inactive person) is paid from the first day. The
  period paid by the health fund is the row's spell (``spell_start`` .. ``spell_end``);
- the first :data:`PRIMARY_INCAPACITY_MONTHS` months from the first day of incapacity are the
  primary incapacity; the invalidity starts the day they are over (``invalidity_start``) and
  lasts to the end of the spell (a maternity rest, paid from its first day, has none);
- the spell ends on ``spell_end`` (exclusive): the incapacity, its payment and its invalidity end
  together.

Part of the rules at the bottom of the layers: imports no module of the package.
"""

# Gewaarborgd loon: an employee (bediende) keeps the wage for the first 30 calendar days of the
# incapacity (wet van 3 juli 1978 betreffende de arbeidsovereenkomsten, art. 70; Helan, "Gewaarborgd
# loon", helan.be/nl/arbeidsongeschiktheid/gewaarborgd-loon/); the health fund pays from day 31. A
# blue-collar worker (arbeider) has two weeks of full guaranteed wage and from day 15 the fund's
# benefit beside the employer's complement: the simulation keeps one month for every employee.
GUARANTEED_WAGE_DAYS = 30

# Primaire arbeidsongeschiktheid: the first year of incapacity, counted from its first day (the
# guaranteed-wage month included); invalidity from the second year (wet betreffende de verplichte
# verzekering voor geneeskundige verzorging en uitkeringen, gecoördineerd op 14 juli 1994, title IV;
# Plus Magazine, "Kan je op een verzekering gewaarborgd inkomen terugvallen bij burn-out?", 2017).
PRIMARY_INCAPACITY_MONTHS = 12


def invalidity_start_sql(incapacity_start: str) -> str:
    """DuckDB SQL of the first day of invalidity of a spell whose incapacity starts on the date
    ``incapacity_start`` (a column of the caller's query, never outside text): the same calendar
    day :data:`PRIMARY_INCAPACITY_MONTHS` months later, the last day of the month when that month
    is shorter (29 February -> 28 February), as Polars' ``offset_by`` gives it in the warehouse."""
    return f"CAST({incapacity_start} + INTERVAL {PRIMARY_INCAPACITY_MONTHS} MONTH AS DATE)"


def invalidity_offset() -> str:
    """The Polars ``dt.offset_by`` duration of the primary incapacity (see :func:`invalidity_start_sql`)."""
    return f"{PRIMARY_INCAPACITY_MONTHS}mo"
