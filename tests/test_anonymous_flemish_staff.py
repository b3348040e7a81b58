"""Seed 003: the origin cascade of Flemish government staff, on a hand-made warehouse with known answers."""

from datetime import date

import polars as pl
import pytest
from anonymous_helpers import insz, write

from cohort.projects.flemish_staff_origin.assets import SPEC, staff_sql
from cohort.resources import LakeResource

YEAR = 2021


def _person(i, nat="BE", father=None, mother=None, born=date(1980, 5, 5), sex="M"):
    return {
        "insz": insz(i),
        "birth_date": born,
        "sex": sex,
        "birth_country": nat,
        "first_nationality": nat,
        "father_insz": insz(father) if father is not None else None,
        "mother_insz": insz(mother) if mother is not None else None,
        "is_bis": False,
    }


def origin_warehouse(wh):
    people = [
        # 1 Belgian with Belgian parents and grandparents (100..105 ancestors)
        _person(1, father=100, mother=101),
        _person(100, father=102, mother=103),
        _person(101, father=104, mother=105),
        *[_person(i) for i in range(102, 106)],
        # 2 own first nationality Moroccan
        _person(2, nat="MA"),
        # 3 father Polish: outside EU-15, inside the EU
        _person(3, father=110, mother=111),
        _person(110, nat="PL", father=112, mother=113),
        _person(111, father=114, mother=115),
        *[_person(i) for i in range(112, 116)],
        # 4 parents unknown
        _person(4),
        # 5 parents known (Belgian), two grandparents unknown
        _person(5, father=120, mother=121),
        _person(120, father=122, mother=123),
        _person(121),
        _person(122),
        _person(123),
        # 6 two Turkish grandparents
        _person(6, father=130, mother=131),
        _person(130, father=132, mother=133),
        _person(131, father=134, mother=135),
        _person(132, nat="TR"),
        _person(133, nat="TR"),
        _person(134),
        _person(135),
        # 7 aged 70: outside the population
        _person(7, born=date(1950, 1, 1)),
        # 8 one known Turkish parent, the other unknown: outside on what is known
        _person(8, father=140),
        _person(140, nat="TR"),
        # 10 one known Belgian parent, the other unknown: parents unknown
        _person(10, mother=141),
        _person(141),
        # 9 British father: EU-15 always, outside the EU after Brexit
        _person(9, father=150, mother=151),
        _person(150, nat="GB", father=152, mother=153),
        _person(151, father=154, mother=155),
        *[_person(i) for i in range(152, 156)],
    ]
    write(wh, "person", people)
    # 2 naturalised Belgian in 2010: first nationality still counts
    nat = [
        {
            "insz": p["insz"],
            "nationality": p["first_nationality"],
            "valid_from": p["birth_date"],  # a first nationality starts at birth
            "valid_to": None,
        }
        for p in people
        if p["insz"] != insz(2)
    ]
    nat += [
        {"insz": insz(2), "nationality": "MA", "valid_from": date(1980, 5, 5), "valid_to": date(2010, 1, 1)},
        {"insz": insz(2), "nationality": "BE", "valid_from": date(2010, 1, 1), "valid_to": None},
    ]
    write(wh, "nationality_history", nat)
    staff = [
        {
            "year": YEAR,
            "insz": insz(i),
            "policy_domain": "D1",
            "entity": "E1",
            "level": "A",
            "position": "S",
            "regime": "FT",
        }
        for i in range(1, 11)
    ]
    write(wh, "flemish_staff", staff)


@pytest.fixture
def lake(tmp_path):
    origin_warehouse(tmp_path / "warehouse")
    return LakeResource(data_dir=str(tmp_path))


def test_origin_cascade_both_blocs(lake):
    con = lake.connect(SPEC.warehouse, years=[YEAR])
    got = con.sql(staff_sql(YEAR, generated_on=date(2022, 1, 15))).pl()
    assert got.height == 9  # the 70-year-old is not counted
    assert "insz" not in got.columns
    # rows are ordered by all columns, so identify them by their origin pair counts
    pairs = got.group_by("origin_eu15", "origin_eu").len().sort("origin_eu15", "origin_eu")
    expected = pl.DataFrame(
        {
            "origin_eu15": [
                "EU-15",
                "EU-15",
                "non-EU-15",
                "non-EU-15",
                "unknown: grandparents unknown",
                "unknown: parents unknown",
            ],
            "origin_eu": [
                "EU",
                "non-EU",
                "EU",
                "non-EU",
                "unknown: grandparents unknown",
                "unknown: parents unknown",
            ],
            # 1 | 9 (British father after Brexit) | 3 (Polish father) | 2, 6, 8 | 5 | 4 and 10
            "len": [1, 1, 1, 3, 1, 2],
        }
    ).with_columns(pl.col("len").cast(pl.UInt32))
    assert pairs.to_dicts() == expected.to_dicts()
    assert set(got.get_column("age_class")) == {"35-44"}


def test_brexit_depends_on_the_generation_date(lake, tmp_path):
    # generated before 2020 the British father is inside the EU too (spec eu_membership: generation,
    # tests/test_eu_membership.py)
    con = lake.connect(SPEC.warehouse, years=[YEAR])
    sql = staff_sql(YEAR, generated_on=date(2022, 1, 15)).replace(f"where year = {YEAR}", "where true")
    got = con.sql(sql).pl()
    assert got.filter(pl.col("origin_eu") == "non-EU").height == 4
    # the 2019 table generated on 15 January 2020, before the United Kingdom left on 31 January
    sql_2019 = staff_sql(2019, generated_on=date(2020, 1, 15)).replace("where year = 2019", "where true")
    got_2019 = con.sql(sql_2019).pl()
    assert got_2019.filter(pl.col("origin_eu") == "non-EU").height == 3


# ---------------------------------------------------------------------------------------------------------
# The yearly release through Dagster: entities under 50 staff only in their own restricted release.


def staff_warehouse(wh, seed=3):
    """Two policy domains: D1 with a large entity (50) and two small ones (8, 6), D2 with a single small entity
    (7): its pool holds one entity, so the pool is protected in full in the public release. Few distinct
    levels, positions and regimes keep the combination tables small (the test budget)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    layout = [("D1", "Big", 50), ("D1", "Small A", 8), ("D1", "Small B", 6), ("D2", "Lonely", 7)]
    people, nat, staff, i = [], [], [], 1000
    for domain, entity, size in layout:
        for _ in range(size):
            i += 1
            n = str(rng.choice(["BE", "BE", "BE", "MA"]))
            people.append(
                _person(
                    i, nat=n, born=date(int(rng.choice([1970, 1990])), 3, 3), sex=str(rng.choice(["F", "M"]))
                )
            )
            born = people[-1]["birth_date"]  # a first nationality starts at birth
            nat.append({"insz": insz(i), "nationality": n, "valid_from": born, "valid_to": None})
            staff.append(
                {
                    "year": YEAR,
                    "insz": insz(i),
                    "policy_domain": domain,
                    "entity": entity,
                    "level": str(rng.choice(["A", "C"])),
                    "position": "S",
                    "regime": "FT",
                }
            )
    write(wh, "person", people)
    write(wh, "nationality_history", nat)
    write(wh, "flemish_staff", staff)


def test_small_entities_only_in_their_restricted_release(tmp_path):
    """Fast version on the two overall tables: pools, the single-entity pool protected, restricted releases."""
    from cohort.projects import anonymous
    from cohort.projects.flemish_staff_origin import assets as A

    staff_warehouse(tmp_path / "warehouse")
    frame = (
        LakeResource(data_dir=str(tmp_path)).connect(SPEC.warehouse, years=[YEAR]).sql(staff_sql(YEAR)).pl()
    )
    rt = A.build_release(frame, only=["origin_eu15", "origin_eu"])
    keep = {"origin_eu15", "origin_eu"}
    rt.tables = {k: v for k, v in rt.tables.items() if k in keep}
    rt.specs = {k: v for k, v in rt.specs.items() if k in keep}
    for sub in rt.restricted.values():
        sub.tables = {k: v for k, v in sub.tables.items() if k in keep}
        sub.specs = {k: v for k, v in sub.specs.items() if k in keep}
    assert set(rt.restricted) == {"Small A", "Small B", "Lonely"}
    assert rt.forced == {"organisation": {"D2: other entities (<50)"}}
    rt = anonymous.protect_release(rt)
    written = anonymous.publish(rt, tmp_path, "flemish_staff_origin", "2021", who="checker")
    folder = tmp_path / "releases" / "flemish_staff_origin" / "2021"
    assert folder / "release.json" in written
    public = pl.read_csv(folder / "origin_eu15.csv", infer_schema=False)
    orgs = set(public.get_column("organisation"))
    assert {"Big", "D1", "D2", "D1: other entities (<50)"} <= orgs
    assert not orgs & {"Small A", "Small B", "Lonely"}
    lonely = public.filter(pl.col("organisation") == "D2: other entities (<50)").get_column("shown")
    assert set(lonely) <= {"x", "1-5", "0"}  # no count of the single small entity of D2 is shown
    for entity, size in (("Small_A", 8), ("Small_B", 6), ("Lonely", 7)):
        sub = pl.read_csv(
            folder.parent / "restricted" / entity / "2021" / "origin_eu15.csv", infer_schema=False
        )
        assert sub.filter(pl.col("origin_eu15") == "Total").get_column("shown").to_list() == [str(size)]


@pytest.mark.slow
def test_yearly_release_keeps_small_entities_out_of_the_public_release(tmp_path, monkeypatch):
    import json

    import dagster as dg

    from cohort.projects.flemish_staff_origin import assets as A

    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path))
    staff_warehouse(tmp_path / "warehouse")
    lake = LakeResource(data_dir=str(tmp_path))
    result = dg.materialize(
        [A.staff, A.release_tables, A.release],
        partition_key=str(YEAR),
        resources={"lake": lake},
        run_config={"ops": {"flemish_staff_origin__release": {"config": {"signed_off_by": "test checker"}}}},
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["small_cell_risk_analysis"] and checks[0].passed
    folder = tmp_path / "releases" / "flemish_staff_origin" / str(YEAR)
    manifest = json.loads((folder / "release.json").read_text())
    assert manifest["signed_off_by"] == ["test checker"]
    public = {
        p.stem: pl.read_csv(p, infer_schema=False)
        for p in folder.glob("*.csv")
        if not p.name.endswith(".reasons.csv")
    }
    assert {p.name.removesuffix(".reasons.csv") for p in folder.glob("*.reasons.csv")} == set(public)
    assert len(public) == 14
    orgs = set().union(*(set(t.get_column("organisation")) for t in public.values()))
    assert "Big" in orgs and "D1" in orgs and "D2" in orgs
    assert not orgs & {"Small A", "Small B", "Lonely"}
    # the pool of D2 holds a single entity: none of its cells is shown
    lonely_pool = [c for c in orgs if c.startswith("D2:")]
    assert lonely_pool
    for t in public.values():
        assert set(t.filter(pl.col("organisation") == lonely_pool[0]).get_column("shown")) <= {
            "x",
            "1-5",
            "0",
        }
    # every shown count is a label, a suppression, zero, or at least the threshold
    for t in public.values():
        shown = t.get_column("shown").to_list()
        assert all(s in ("x", "1-5") or int(s) == 0 or int(s) >= 5 for s in shown)
    # the restricted releases carry exact counts, without the label, in a folder per entity beside
    # the public releases: nothing of them inside the public year folder
    assert not (folder / "restricted").exists()
    for entity, size in (("Small_A", 8), ("Small_B", 6), ("Lonely", 7)):
        sub = folder.parent / "restricted" / entity / str(YEAR)
        assert (sub / "release.json").is_file()
        overall = pl.read_csv(sub / "origin_eu15.csv", infer_schema=False)
        assert "1-5" not in set(overall.get_column("shown"))
        total = overall.filter(pl.col("origin_eu15") == "Total").get_column("shown").to_list()
        assert total == [str(size)]
