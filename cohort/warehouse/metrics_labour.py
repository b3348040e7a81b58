"""Calibration metrics of the labour-market tables (registered in ``cohort.warehouse.metrics``).

Each metric reads the contract views (``sep_quarter``, ``jobseeker_quarter``, ``job_quarter``,
``residence_history``, ``person``, ``household_jan1``). Quarterly figures are taken on the last
day of each quarter (the DWH measuring moment) and averaged over the four quarters of the
year, like the yearly averages of the Labour Force Survey and of VDAB. Residence (and so the
scope) is the main residence on that day.
"""

import duckdb

from cohort.warehouse.metrics import metric, scope_predicate


def quarter_ends(year: int) -> list[tuple[int, str]]:
    """The last day of each quarter of ``year`` as a SQL date expression (the classifications'
    ``quarter_last_day`` macro, which ``storage.connect`` creates on every connection)."""
    return [(q, f"quarter_last_day({int(year)}, {q})") for q in (1, 2, 3, 4)]


def _residents(scope: str, day: str, lo: int, hi: int) -> str:
    """Residents of ``scope`` alive on ``day`` aged ``lo``..``hi`` (one row per person)."""
    d = day
    return f"""
        SELECT r.insz FROM residence_history r JOIN person p USING (insz)
        WHERE r.valid_from <= {d} AND (r.valid_to IS NULL OR r.valid_to > {d})
          AND (p.death_date IS NULL OR p.death_date > {d})
          AND {scope_predicate(scope, "r.nis_code")}
          AND completed_age(p.birth_date, {d}) BETWEEN {lo} AND {hi}"""


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchall()[0]
    return float(row[0]) if row[0] is not None else float("nan")


@metric("employment_rate_20_64")
def employment_rate_20_64(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Share of residents aged 20-64 in a working position (nomenclature 1xx) on the last day of
    each quarter, averaged over the four quarters of the year."""
    parts = []
    for q, day in quarter_ends(year):
        parts.append(f"""
            SELECT count(*) AS pop, count(s.insz) AS working FROM ({_residents(scope, day, 20, 64)}) res
            LEFT JOIN (SELECT insz FROM sep_quarter WHERE year = {year} AND quarter = {q} AND nomenclature LIKE '1%') s
              USING (insz)""")
    return _scalar(con, f"SELECT avg(working / pop) FROM ({' UNION ALL '.join(parts)})")


def _jobseekers(scope: str, year: int) -> str:
    """Non-working registered job seekers (position 2xx with a job-seeker registration) per
    quarter, with their age and the unemployment duration in days."""
    parts = []
    for q, day in quarter_ends(year):
        d = day
        parts.append(f"""
            SELECT {q} AS quarter, j.insz, j.category, ({d} - j.unemployment_start) AS duration_days,
                   completed_age(p.birth_date, {d}) AS age
            FROM jobseeker_quarter j
            JOIN sep_quarter s ON s.insz = j.insz AND s.year = j.year AND s.quarter = j.quarter
            JOIN person p ON p.insz = j.insz
            JOIN residence_history r ON r.insz = j.insz AND r.valid_from <= {d} AND (r.valid_to IS NULL OR r.valid_to > {d})
            WHERE j.year = {year} AND j.quarter = {q} AND s.nomenclature LIKE '2%'
              AND {scope_predicate(scope, "r.nis_code")}""")
    return " UNION ALL ".join(parts)


@metric("registered_job_seekers_without_work_annual_avg", scaled=True)
def registered_job_seekers_without_work_annual_avg(
    con: duckdb.DuckDBPyConnection, scope: str, year: int
) -> float:
    """Non-working registered job seekers (jobseeker_quarter rows of persons in position 2xx)
    living in the scope, averaged over the last days of the four quarters."""
    return _scalar(con, f"SELECT count(*) / 4.0 FROM ({_jobseekers(scope, year)})")


@metric("share_job_seekers_unemployed_over_2_years")
def share_job_seekers_unemployed_over_2_years(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Share of the non-working job seekers (pooled over the quarters) whose current
    unemployment duration (since ``unemployment_start``) exceeds two years."""
    return _scalar(
        con,
        f"SELECT avg(CASE WHEN duration_days > 730 THEN 1.0 ELSE 0.0 END) FROM ({_jobseekers(scope, year)})",
    )


@metric("ilo_unemployment_rate_15_64")
def ilo_unemployment_rate_15_64(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """Approximate ILO unemployment rate 15-64: job seekers who are actively seeking, taken as
    non-working job seekers of categories 00 (benefit), 02 (integration period) and 03
    (voluntary) unemployed for less than two years (the long-term registered mostly declare
    no active search in the LFS), over the working residents (1xx) plus those; pooled quarters."""
    working = []
    for q, day in quarter_ends(year):
        working.append(f"""
            SELECT count(*) AS n FROM ({_residents(scope, day, 15, 64)}) res
            JOIN sep_quarter s ON s.insz = res.insz AND s.year = {year} AND s.quarter = {q} AND s.nomenclature LIKE '1%'""")
    unemployed = f"""SELECT count(*) FROM ({_jobseekers(scope, year)})
                     WHERE age BETWEEN 15 AND 64 AND category IN ('00', '02', '03') AND duration_days <= 730"""
    return _scalar(
        con,
        f"""
        WITH w AS (SELECT sum(n) AS n FROM ({" UNION ALL ".join(working)})), u AS ({unemployed})
        SELECT (SELECT * FROM u) / ((SELECT n FROM w) + (SELECT * FROM u))""",
    )


@metric("share_very_low_work_intensity_households")
def share_very_low_work_intensity_households(con: duckdb.DuckDBPyConnection, scope: str, year: int) -> float:
    """EU 2030 definition: share of persons aged 0-64 (private households on 1 January of
    ``year``) living in a household whose working-age members worked at most 20% of their
    potential in ``year - 1``. Working-age members: 18-64, not students aged 18-24 (position 36)
    and not retired (positions 34, 35, 123, 133) in Q4 of the previous year. Work per quarter:
    1 for a main self-employed activity, 0.5 for a secondary one, the sum of job FTEs (max 1)
    for employees."""
    prev = year - 1
    jan1 = f"DATE '{year}-01-01'"
    return _scalar(
        con,
        f"""
        WITH hh AS (
            SELECT h.household_id, h.insz, completed_age(p.birth_date, {jan1}) AS age
            FROM household_jan1 h JOIN person p USING (insz)
            JOIN residence_history r ON r.insz = h.insz AND r.valid_from <= {jan1} AND (r.valid_to IS NULL OR r.valid_to > {jan1})
            WHERE h.year = {year} AND h.lipro <> 'COLL' AND {scope_predicate(scope, "r.nis_code")}
        ),
        fte AS (SELECT insz, quarter, least(sum(fte), 1.0) AS fte FROM job_quarter WHERE year = {prev} GROUP BY ALL),
        work AS (
            SELECT s.insz, sum(CASE WHEN s.nomenclature IN ('121', '131', '142', '143', '123', '133') THEN 1.0
                                    WHEN s.nomenclature IN ('122', '132') THEN 0.5
                                    WHEN s.nomenclature LIKE '1%' THEN coalesce(f.fte, 0.0) ELSE 0.0 END) AS worked,
                   max(CASE WHEN s.quarter = 4 THEN s.nomenclature END) AS pos_q4
            FROM sep_quarter s LEFT JOIN fte f ON f.insz = s.insz AND f.quarter = s.quarter
            WHERE s.year = {prev} GROUP BY s.insz
        ),
        members AS (
            SELECT hh.*, coalesce(w.worked, 0.0) AS worked,
                   (hh.age BETWEEN 18 AND 64
                    AND NOT (hh.age <= 24 AND coalesce(w.pos_q4, '36') = '36')
                    AND coalesce(w.pos_q4, '') NOT IN ('34', '35', '123', '133')) AS eligible
            FROM hh LEFT JOIN work w USING (insz)
        ),
        households AS (
            SELECT household_id, sum(CASE WHEN eligible THEN worked END) / (4.0 * sum(CASE WHEN eligible THEN 1 END)) AS wi,
                   count(*) FILTER (WHERE age <= 64) AS n064
            FROM members GROUP BY household_id HAVING sum(CASE WHEN eligible THEN 1 ELSE 0 END) > 0
        )
        SELECT sum(CASE WHEN wi <= 0.2 THEN n064 ELSE 0 END) / sum(n064) FROM households""",
    )
