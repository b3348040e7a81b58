"""How DuckDB counts rule offences over a partition: ``count(*) FILTER (WHERE rule)`` against
``count_if(rule)``, the form the labour reserve's validation uses
(cohort/projects/labour_reserve/schemas.py ``sql_violations``). Prints figures; asserts nothing.

    python benchmarks/validation_rules.py                 # 2 million rows, 150 rules, 2 rounds
    python benchmarks/validation_rules.py --rows 7500000  # a full-population year

Both forms run in the same process, alternating, on the same in-memory table; the counts they
return are compared (they must be equal: a null rule counts as not broken in both).
"""

import argparse
import resource

import duckdb


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rules", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE partition AS SELECT range AS person_id, (range % 97)::INTEGER AS code, "
        f"(range % 13)::VARCHAR AS label, random() AS share FROM range({int(args.rows)})"
    )
    rules = [f"(code = {i} OR label = '{i % 13}' OR share < {i / 1000})" for i in range(args.rules)]
    forms = {
        "count(*) FILTER": ", ".join(f"count(*) FILTER (WHERE {rule})" for rule in rules),
        "count_if": ", ".join(f"count_if({rule})" for rule in rules),
    }
    print(f"{args.rows:,} rows x {args.rules} rules")
    for round_no in range(1, args.rounds + 1):
        answers, cpu = {}, {}
        for form, select in forms.items():
            start = _cpu()
            answers[form] = con.execute(f"SELECT {select} FROM partition").fetchall()[0]
            cpu[form] = _cpu() - start
        same = len(set(answers.values())) == 1
        print(
            f"round {round_no}: "
            + ", ".join(f"{form} {seconds:.2f} s CPU" for form, seconds in cpu.items())
            + f" | ratio {cpu['count(*) FILTER'] / cpu['count_if']:.1f} | same counts: {same}"
        )


if __name__ == "__main__":
    main()
