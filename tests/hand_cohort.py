"""Hand-made tiny warehouses for the cohort tests: a few persons whose answers are known (the
``cohort`` fixture of ``conftest.py`` builds :class:`BuiltCohort` on them once per session).

:func:`write_warehouse` takes rows per contract table (dicts with only the interesting columns),
fills every other column with a valid default, validates each table against the warehouse
contract and writes the Parquet layout of ``cohort.sources.contract`` (per year for ``by_year``
tables). Tables without rows are written empty, so every contract view exists.
"""

from datetime import date
from pathlib import Path

import polars as pl

from cohort.classifications.insz import make_enterprise_number, make_insz
from cohort.sources.contract import TABLES

D = date
DEFAULTS: dict[str, dict] = {
    "person": {
        "sex": "M",
        "birth_country": "BE",
        "first_nationality": "BE",
        "father_insz": None,
        "mother_insz": None,
        "death_date": None,
        "is_bis": False,
    },
    "nationality_history": {"nationality": "BE", "valid_from": D(1940, 1, 1), "valid_to": None},
    "residence_history": {
        "nis_code": "11002",
        "country": "BE",
        "valid_from": D(1940, 1, 1),
        "valid_to": None,
    },
    "register_history": {
        "register": "population",
        "valid_from": D(1940, 1, 1),
        "valid_to": None,
        "residence_reason": None,
        "decision_date": None,
    },
    "household_jan1": {
        "relation": "01",
        "household_size": 1,
        "lipro": "SING",
        "civil_status": "1",
        "civil_status_date": None,
        "legal_cohabitation": False,
        "legal_cohabitation_start": None,
        "partner_insz": None,
    },
    "sep_quarter": {"nomenclature": "111", "status_flags": 0},
    "job_quarter": {
        "employer_id": make_enterprise_number(4031997),
        "job_rank": 1,
        "nace": "62010",
        "joint_committee": "200",
        "worker_class": "2",
        "worker_code": "495",
        "statute": "C",
        "contract_type": "I",
        "performance_type": "FT",
        "part_time_pct": 100.0,
        "fte": 1.0,
        "days": 65,
        "gross_wage": 9123.45,
        "daily_wage": 140.3,
        "employer_size_class": "5",
        "service_vouchers": False,
        "maternity_leave": False,
        "cross_border": False,
        "posted": False,
        "establishment_nace": "62010",
        "activation_prior_status": None,
        "activation_pct": None,
        "activation_start": None,
        "activation_end": None,
    },
    "self_employed_quarter": {
        "category": "main",
        "quality": "S",
        "nace": "62010",
        "affiliation_start": D(2000, 2, 3),
        "annual_income": 30000.0,
    },
    "benefit_quarter": {
        "benefit": "unemployment",
        "category": None,
        "amount": 2100.5,
        "days": 60,
        "spell_start": D(2004, 3, 14),
        "spell_end": None,
        "incapacity_start": None,
        "invalidity_start": None,
        "fraction": 1.0,
        "days_type": None,
        "medical_code_type": None,
        "medical_code": None,
        "related_insz": None,
        "career_break_sector": None,
        "career_break_statute": None,
        "career_break_reason": None,
        "career_break_motive": None,
        "career_break_adjustment": None,
        "social_aid_kind": None,
    },
    "jobseeker_quarter": {
        "category": "00",
        "pes": "VDAB",
        "registration_date": D(2004, 5, 6),
        "unemployment_start": D(2004, 5, 6),
        "sanctioned": False,
    },
    "education": {"qualification_date": D(1999, 6, 30), "level": "3", "domain": "04", "issuer_type": "SEC"},
    "vdab_profile": {
        "registration_date": D(2006, 2, 13),
        "unemployment_months": 3,
        "dutch_level": "3",
        "other_languages": 1,
        "desired_occupation_cluster": "12",
        "desired_regime": "FT",
        "driving_licence": "B",
        "study_level": "medium",
        "study_level_at_inflow": "medium",
        "foreign_diploma_recognised": False,
        "work_disability": False,
    },
    "vdab_trajectory": {
        "start_date": D(2006, 3, 1),
        "end_date": None,
        "provider": "VDAB",
        "service_need": "2",
        "transmission_date": None,
        "communications_per_month": 1.0,
        "applications_per_month": 2.0,
        "office": "11000",
    },
    "vdab_training": {
        "start_date": D(2006, 4, 3),
        "end_date": None,
        "method": "classroom",
        "trainee_status": "jobseeker",
        "section": "S1",
        "sector": "ICT",
        "cluster": "C1",
        "module": "M001",
        "days": 10,
        "state": "finished",
        "result": "passed",
        "converted_to_guidance": False,
    },
    "vdab_workplace_learning": {
        "internship_type": "IBO",
        "start_date": D(2006, 5, 2),
        "end_date": None,
        "state": "finished",
        "situation": "hired",
        "training_weeks": 12,
        "occupation_cluster": "12",
        "language_support": False,
        "company_size_class": "3",
        "nace": "62010",
    },
}


def insz(birth: date, seq: int) -> str:
    return make_insz(birth, seq)


def table_frame(name: str, rows: list[dict]) -> pl.DataFrame:
    """A contract-valid frame of ``rows``, unspecified columns from :data:`DEFAULTS`."""
    table = TABLES[name]
    dtypes = {c: col.dtype.type for c, col in table.schema.columns.items()}
    defaults = DEFAULTS.get(name, {})
    full = []
    for i, row in enumerate(rows):
        r = {**defaults, **row}
        if name == "vdab_trajectory" and "trajectory_id" not in r:
            r["trajectory_id"] = i + 1
        missing = [c for c in dtypes if c not in r]
        if missing:
            raise KeyError(f"{name}: no value or default for {missing}")
        full.append({c: r[c] for c in dtypes})
    df = pl.DataFrame(full, schema=dtypes, orient="row") if full else pl.DataFrame(schema=dtypes)
    table.schema.validate(df)
    return df


# A frontier worker with a BIS number who never lives in Belgium (not in `person`, so in no
# population or household): the row a yearly table gets in a year the scenario leaves empty.
FILLER = make_insz(D(1960, 1, 1), 997, bis_offset=40)


def write_warehouse(
    root: Path, tables: dict[str, list[dict]], years: range = range(2005, 2017), scale: float | None = None
) -> Path:
    """Write a tiny warehouse under ``root``; ``scale`` writes a ``_manifest.json``."""
    import json

    root.mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        df = table_frame(name, tables.get(name, []))
        if table.by_year:
            for y in years:
                path = root / name / f"year={y}" / "data.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                part = df.filter(pl.col("year") == y)
                if part.height == 0 and name in DEFAULTS:  # an empty year is a partial extract: refused
                    filler = {
                        "year": y,
                        "quarter": 4,
                        "insz": FILLER,
                        "household_id": 0,
                        "reference_insz": FILLER,
                    }
                    part = table_frame(name, [filler])
                part.write_parquet(path)
        else:
            path = root / name / "data.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            df.write_parquet(path)
    if scale is not None:
        (root / "_manifest.json").write_text(json.dumps({"scale": scale}))
    return root


def quarters(years, q=(1, 2, 3, 4)) -> list[tuple[int, int]]:
    return [(y, k) for y in years for k in q]


# --------------------------------------------------------------------------- the cohort scenario
# Scale 0.0004 turns the spec's allocation into n_h = 3 (belgian), 3 (south_eu), 4 (non_european)
# for the initial strata and 1 for every top-up stratum.
SCALE = 0.0004
EMPLOYER = make_enterprise_number(4031997)


def cohort_scenario() -> tuple[dict[str, list[dict]], dict[str, str], dict]:
    """(tables, named persons, expected strata) of a warehouse whose sample and follow-up are known."""
    people: list[dict] = []
    nat: list[dict] = []
    res: list[dict] = []
    reg: list[dict] = []
    names: dict[str, str] = {}
    seq = iter(range(1, 999))

    def add(name: str, birth: date, nationality: str = "BE", first: str | None = None, **kw) -> str:
        number = insz(birth, 2 * next(seq) + 1)
        names[name] = number
        people.append(
            {
                "insz": number,
                "birth_date": birth,
                "first_nationality": first or nationality,
                "birth_country": first or nationality,
                **{
                    k: v
                    for k, v in kw.items()
                    if k in ("death_date", "is_bis", "father_insz", "mother_insz", "sex")
                },
            }
        )
        nat.append({"insz": number, "nationality": nationality, "valid_from": birth})
        if "residences" in kw:
            res.extend({"insz": number, **r} for r in kw["residences"])
        else:
            res.append({"insz": number, "nis_code": kw.get("nis", "11002"), "valid_from": birth})
        reg.append(
            {
                "insz": number,
                "register": kw.get("register", "population"),
                "valid_from": birth,
                "residence_reason": None if nationality == "BE" else "4",
                "decision_date": None if nationality == "BE" else D(2001, 8, 9),
            }
        )
        return number

    for i in range(5):
        add(f"be_young_{i}", D(1975, 1, 3 + i))
    add("E", D(1976, 9, 9), sex="F")
    add("edge_18", D(1987, 1, 1))  # exactly 18 on 1 January 2005
    for i in range(5):
        add(f"be_old_{i}", D(1950, 2, 3 + i))
    add("edge_65", D(1939, 1, 2))  # 65 on 1 January 2005
    add("edge_66", D(1939, 1, 1))  # 66 on 1 January 2005: outside
    add("D", D(1975, 4, 4), "IT")
    add("es_young", D(1980, 3, 3), "ES")
    add("A", D(1941, 3, 15), "IT")  # turns 66 on 15 March 2007
    add("B", D(1950, 2, 2), "PT", death_date=D(2008, 5, 10))
    add(
        "C",
        D(1960, 7, 7),
        "GR",
        residences=[
            {"nis_code": "11002", "country": "BE", "valid_from": D(1960, 7, 7), "valid_to": D(2009, 7, 1)},
            {"nis_code": None, "country": "GR", "valid_from": D(2009, 7, 1), "valid_to": D(2011, 2, 1)},
            {"nis_code": "44021", "country": "BE", "valid_from": D(2011, 2, 1)},
        ],
    )
    for i in range(5):
        add(f"ma_young_{i}", D(1980, 5, 1 + i), "MA")
    add("naturalised", D(1981, 1, 1), "BE", first="MA")
    for i in range(2):
        add(f"tr_old_{i}", D(1955, 6, 1 + i), "TR")
    father = add("father_ma", D(1930, 1, 1), "MA")  # 75: outside the frame himself
    add("second_gen", D(1960, 1, 1), "BE", father_insz=father)
    # outside the frame
    add("french", D(1975, 1, 1), "FR")
    add("walloon", D(1975, 1, 1), nis="52011")
    add("waiting", D(1975, 1, 1), "SY", register="waiting")
    add("bis", D(1975, 1, 1), "MA", is_bis=True)
    add("dead", D(1975, 1, 1), death_date=D(2004, 12, 31))
    add("F", D(2000, 6, 6), father_insz=names["D"], mother_insz=names["E"])
    # top-ups: 18 on 1 January of 2006 (Belgian) and 2009 (two non-European), one Walloon 18-year-old
    add("topup_2006", D(1987, 1, 2))
    add("topup_2009_a", D(1990, 6, 15), "MA")
    add("topup_2009_b", D(1990, 8, 1), "MA")
    add("walloon_18", D(1988, 6, 1), nis="52011")

    households = []
    for y in range(2005, 2017):
        hid = 1000 * y
        members = [("D", "01", "E"), ("E", "02", "D")] + ([("F", "03", None)] if y <= 2007 else [])
        for who, rel, partner in members:
            households.append(
                {
                    "year": y,
                    "insz": names[who],
                    "household_id": hid,
                    "reference_insz": names["D"],
                    "relation": rel,
                    "household_size": len(members),
                    "lipro": "MAR+",
                    # D and E married in 1999; their child F is single since birth
                    "civil_status": "2" if who in ("D", "E") else "1",
                    "civil_status_date": D(1999, 5, 5) if who in ("D", "E") else None,
                    "partner_insz": names[partner] if partner else None,
                }
            )
        if y >= 2008:
            households.append(
                {
                    "year": y,
                    "insz": names["F"],
                    "household_id": hid + 1,
                    "reference_insz": names["F"],
                    "relation": "01",
                    "household_size": 1,
                }
            )
    n = names
    tables = {
        "person": people,
        "nationality_history": nat,
        "residence_history": res,
        "register_history": reg,
        "household_jan1": households,
        "sep_quarter": [
            {"year": y, "quarter": q, "insz": n["D"], "status_flags": 1}
            for y, q in quarters(range(2005, 2017))
        ]
        + [
            {"year": y, "quarter": q, "insz": n["B"], "nomenclature": "211"}
            for y, q in quarters(range(2005, 2009))
        ],
        # D's job of 2006 Q1 is an activated job at another establishment (seed 002 §4 Werkloosheid)
        "job_quarter": [
            {"year": y, "quarter": q, "insz": n["D"], **(ACTIVATED_JOB if (y, q) == (2006, 1) else {})}
            for y, q in quarters(range(2005, 2008))
        ],
        "benefit_quarter": [
            {
                "year": 2006,
                "quarter": 1,
                "insz": n["D"],
                "benefit": "child_benefit",
                "amount": 320.0,
                "related_insz": n["F"],
            }
        ]
        + [{"year": 2008, "quarter": q, "insz": n["B"]} for q in (1, 2, 3, 4)]
        # issue 24: a career break with social aid (D, 2006 Q2), an occupational disease of a job
        # seeker (B, 2008 Q1), an unemployment benefit beside self-employment (A, 2006 Q2)
        + [
            {"year": 2006, "quarter": 2, "insz": n["D"], **CAREER_BREAK},
            {"year": 2006, "quarter": 2, "insz": n["D"], **EQUIVALENT_LEEFLOON},
            {"year": 2008, "quarter": 1, "insz": n["B"], **OCCUPATIONAL_DISEASE},
            {"year": 2006, "quarter": 2, "insz": n["A"]},
        ]
        + status_combinations_2011(n),
        "jobseeker_quarter": [{"year": 2008, "quarter": 1, "insz": n["B"]}],
        "self_employed_quarter": [{"year": 2006, "quarter": 2, "insz": n["A"]}],
        "education": [{"insz": n["D"]}, {"insz": n["F"], "qualification_date": D(2018, 6, 30)}],
        "vdab_profile": [{"insz": n["D"]}],
        "vdab_trajectory": [{"insz": n["D"], "transmission_date": D(2006, 9, 9)}],
        "vdab_training": [{"insz": n["D"], "end_date": D(2007, 2, 2)}],
        "vdab_workplace_learning": [{"insz": n["D"]}],
    }
    expected = {  # (entry year, stratum) -> (N_h, n_h)
        (2005, "belgian_18_35"): (7, 3),
        (2005, "belgian_36_65"): (6, 3),
        (2005, "south_eu_18_35"): (2, 2),
        (2005, "south_eu_36_65"): (3, 3),
        (2005, "non_european_18_35"): (6, 4),
        (2005, "non_european_36_65"): (3, 3),
        (2006, "belgian_18_35"): (1, 1),
        (2009, "non_european_18_35"): (2, 1),
    }
    return tables, names, expected


# The seed-002 detail of issue 24 on hand-made rows (tests/test_warehouse_seed002_variables.py reads them back)
ACTIVATED_JOB = {
    "establishment_nace": "47111",
    "activation_prior_status": "integration_allowance",
    "activation_pct": 80.0,
    "activation_start": D(2005, 11, 14),
    "activation_end": D(2007, 10, 1),
}
CAREER_BREAK = {
    "benefit": "career_break",
    "category": "partial_1/5",
    "amount": 450.0,
    "spell_start": D(2006, 4, 1),
    "fraction": 0.2,
    "career_break_sector": "public",
    "career_break_statute": "S",
    "career_break_reason": "career_break",
    "career_break_motive": "none",
    "career_break_adjustment": "seniority",
}
EQUIVALENT_LEEFLOON = {
    "benefit": "social_aid",
    "category": "financial_aid",
    "amount": 300.0,
    "spell_start": D(2006, 5, 2),
    "social_aid_kind": "equivalent_integration_income",
}
OCCUPATIONAL_DISEASE = {
    "benefit": "occupational_disease",
    "category": "permanent",
    "amount": 400.0,
    "fraction": 0.3,
}


PENSION = {"benefit": "pension", "category": "survivor", "amount": 2400.0, "spell_start": D(2009, 3, 1)}
INVALIDITY = {
    "benefit": "invalidity",
    "category": "invalidity",
    "amount": 3000.0,
    "spell_start": D(2009, 1, 5),
    # an employee's incapacity: the guaranteed-wage month before the health fund's payment, the
    # invalidity a year after its first day (cohort/classifications/incapacity.py)
    "incapacity_start": D(2008, 12, 6),
    "invalidity_start": D(2009, 12, 6),
    "days_type": "2",
}
EARLY_RETIREMENT = {
    "benefit": "early_retirement",
    "category": "SWT",
    "amount": 4800.0,
    "spell_start": D(2010, 1, 1),
}


def status_combinations_2011(n: dict[str, str]) -> list[dict]:
    """Benefit rows of 2011 that make each of the position table's remaining status combinations in a
    quarter of its own, with one part of each also alone in another quarter (issue 24): C (observed all
    of 2011) has invalidity and a survivor's pension in Q1, a permanent occupational disease and the
    pension in Q2, with SWT in Q3 and with a career break in Q4; E (a household member) is the entitled
    child of a child-benefit row paid to another person and has an invalidity benefit in Q2 only."""
    rows = [
        (1, "C", INVALIDITY),
        (1, "C", PENSION),
        (2, "C", OCCUPATIONAL_DISEASE),
        (2, "C", PENSION),
        (3, "C", OCCUPATIONAL_DISEASE),
        (3, "C", EARLY_RETIREMENT),
        (4, "C", OCCUPATIONAL_DISEASE),
        (4, "C", CAREER_BREAK),
        (2, "E", INVALIDITY),
    ]
    child_benefit = [
        {
            "quarter": q,
            "insz": n["second_gen"],
            "benefit": "child_benefit",
            "amount": 300.0,
            "related_insz": n["E"],
        }
        for q in (2, 3)
    ]
    return [{"year": 2011, "quarter": q, "insz": n[who], **values} for q, who, values in rows] + [
        {"year": 2011, **row} for row in child_benefit
    ]


def write_cohort_warehouse(root: Path) -> tuple[Path, dict[str, str], dict]:
    tables, names, expected = cohort_scenario()
    return write_warehouse(root, tables, scale=SCALE), names, expected


# --------------------------------------------------------------------------- a built cohort (session)
KEY_HEX = "5e" * 32  # a fixed test key: the same key and seed must give the same bytes
EXPORT_YEARS = (2005, 2006, 2008, 2011)
TRAJECTORY_YEARS = (2005, 2006)


class BuiltCohort:
    def __init__(self, root: Path, warehouse: Path, names: dict[str, str], expected: dict):
        from cohort.projects.spec import load_spec
        from cohort.settings import lake

        self.root, self.warehouse, self.names, self.expected = root, warehouse, names, expected
        self.lake = lake(root, warehouse)
        self.spec = load_spec("longitudinal_cohort")

    def build(
        self, observed_years=range(2005, 2017), export_years=EXPORT_YEARS, trajectory_years=TRAJECTORY_YEARS
    ) -> "BuiltCohort":
        from cohort.projects.longitudinal_cohort import build

        lake, spec = self.lake, self.spec
        build.run(lake, spec, build.build_sample)
        build.run(lake, spec, build.build_mapping)
        for y in observed_years:
            build.run(lake, spec, build.build_observed, y)
        for y in export_years:
            build.run(lake, spec, build.build_exports, y)
        for y in trajectory_years:
            for table in build.trajectory_tables(spec):
                build.run(lake, spec, build.build_trajectory, y, table=table)
        build.run(lake, spec, build.write_data_dictionary)
        return self

    def export(self, table: str, year: int) -> pl.DataFrame:
        return pl.read_parquet(self.lake.exports / self.spec.id / table / f"year={year}" / "data.parquet")

    def observed(self, year: int) -> pl.DataFrame:
        return pl.read_parquet(
            self.lake.secure / self.spec.id / "observed_person" / f"year={year}" / "data.parquet"
        )

    def sample(self) -> pl.DataFrame:
        return pl.read_parquet(self.lake.secure / self.spec.id / "sample_person" / "data.parquet")

    def person_ids(self) -> dict[str, int]:
        """Sequence number of each named person, looked up in the secure mapping with the test key."""
        from cohort import storage
        from cohort.privacy import pseudonym

        con = storage.connect()
        pseudonym.install_hmac(con, pseudonym.ProjectKey(self.spec.id, bytes.fromhex(KEY_HEX), "test"))
        pseudonym.attach_mapping(con, self.lake.secure / self.spec.id, "person")
        out = {}
        for name, number in self.names.items():
            rows = con.execute("SELECT seq FROM person_map WHERE hash = keyed_hash(?)", [number]).fetchall()
            if rows:
                out[name] = int(rows[0][0])
        return out
