"""How fast are the source checks and the export scan? Prints rows, seconds and rows per second.

    python benchmarks/reliability_checks.py --rows 10000000 --persons 1000000

Builds a person table and a job_quarter table (the largest at scale 1.0: hundreds of millions of
rows) in a temporary folder with DuckDB SQL, 0.1% of the job rows broken on purpose, then times
``load_source`` on both and ``scan_export`` on a 1-million-row export-like file.
"""

import argparse
import tempfile
import time
from pathlib import Path

from cohort import storage  # noqa: E402
from cohort.privacy import scan  # noqa: E402
from cohort.sources import checks  # noqa: E402

INSZ_SQL = """
    lpad(CAST(b AS VARCHAR), 9, '0') || lpad(CAST(97 - (b % 97) AS VARCHAR), 2, '0')
"""


def build(wh: Path, rows: int, persons: int) -> None:
    con = storage.connect()
    # 9-digit bodies 50MMDDSSS for people born in 1950..1999 (19xx rule), a valid check digit each.
    con.execute(f"""CREATE TABLE p AS SELECT i,
        (50 + i % 50) * 10000000 + (1 + (i // 50) % 12) * 100000 + (1 + (i // 600) % 28) * 1000
        + (i // 16800) % 1000 AS b
        FROM range({persons}) t(i)""")
    con.execute(f"""CREATE TABLE p2 AS SELECT DISTINCT ON (b) i, b, {INSZ_SQL} AS insz,
        make_date(1900 + (50 + i % 50), 1 + (i // 50) % 12, 1 + (i // 600) % 28) AS birth_date FROM p""")
    storage.write_query(
        con,
        """SELECT insz, birth_date, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS sex,
        'BE' AS birth_country, 'BE' AS first_nationality, NULL::VARCHAR AS father_insz, NULL::VARCHAR AS mother_insz,
        NULL::DATE AS death_date, FALSE AS is_bis FROM p2 ORDER BY insz""",
        wh / "person" / "data.parquet",
    )
    n_people = con.execute("SELECT count(*) FROM p2").fetchall()[0][0]
    con.execute("CREATE TABLE ids AS SELECT row_number() OVER (ORDER BY insz) - 1 AS k, insz FROM p2")
    storage.write_query(
        con,
        f"""
        SELECT 2015::SMALLINT AS year, (1 + (j // {n_people}) % 4)::TINYINT AS quarter, ids.insz,
            '0' || lpad(CAST(e AS VARCHAR), 7, '0') || lpad(CAST(97 - (e % 97) AS VARCHAR), 2, '0') AS employer_id,
            (1 + j // ({n_people} * 4))::TINYINT AS job_rank,
            CASE WHEN j % 1000 = 7 THEN '4711' ELSE '47111' END AS nace,
            '200' AS joint_committee, '2' AS worker_class, 'C' AS statute, 'I' AS contract_type, 'FT' AS performance_type,
            100.0::DOUBLE AS part_time_pct, 1.0::DOUBLE AS fte, 65::SMALLINT AS days, 9000.0::DOUBLE AS gross_wage,
            138.5::DOUBLE AS daily_wage,
            '5' AS employer_size_class, FALSE AS service_vouchers, FALSE AS maternity_leave, FALSE AS cross_border,
            FALSE AS posted
        FROM (SELECT j, j % {n_people} AS k, (j * 7919) % 9000000 AS e FROM range({rows}) t(j)) x JOIN ids USING (k)
        ORDER BY j""",
        wh / "job_quarter" / "year=2015" / "data.parquet",
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--persons", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wh, q = Path(tmp) / "wh", Path(tmp) / "q"
        t = time.perf_counter()
        build(wh, args.rows, args.persons)
        print(f"built in {time.perf_counter() - t:.1f} s")
        for table in ("person", "job_quarter"):
            r = checks.load_source(None, wh, table, 0.01, q)
            print(
                f"load_source {table}: {r.rows:,} rows, {r.rejected:,} rejected {r.counts}, {r.seconds:.2f} s, "
                f"{r.rows / r.seconds:,.0f} rows/s"
            )
        con = storage.connect()
        for label, make in (
            ("raw files", lambda: storage.register_tables(con, wh, ["job_quarter"])),
            ("clean view", lambda: checks.clean_view(con, wh, "job_quarter", q)),
        ):
            make()
            t = time.perf_counter()
            n = con.execute("SELECT count(*), sum(gross_wage) FROM job_quarter").fetchall()[0][0]
            print(f"read job_quarter through the {label}: {n:,} rows in {time.perf_counter() - t:.2f} s")
        out = Path(tmp) / "export.parquet"
        storage.write_query(
            con,
            """SELECT i AS person_seq, 2005 + i % 12 AS year, (2005 + i % 12) || 'Q' || (1 + i % 4) AS quarter,
            CASE i % 3 WHEN 0 THEN '<1000' WHEN 1 THEN '1000-1999' ELSE '2000+' END AS wage_class,
            (2005 + i % 12) || '-' || lpad(CAST(1 + i % 12 AS VARCHAR), 2, '0') AS start_month FROM range(1000000) t(i)""",
            out,
        )
        t = time.perf_counter()
        res = scan.scan_export(
            out,
            {
                "person_seq": "pseudonym",
                "year": "year",
                "quarter": "quarter",
                "wage_class": ["<1000", "1000-1999", "2000+"],
                "start_month": "month",
            },
            "export",
        )
        s = time.perf_counter() - t
        print(
            f"scan_export: {res.rows:,} rows x 5 columns, ok={res.ok}, {s:.2f} s, {res.rows / s:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
