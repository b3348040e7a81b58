"""A hand-built warehouse for the labour reserve (seed 004) whose answers are known; the tests of
the population rule on it are in ``test_labour_reserve_warehouse.py``.

Persons (situation on 31 December; spells are dated, the yearly tables follow from the dates):

- A  born 1980, Belgian, employee every year (wage rises), father of F, lives with J and F.
- B  born 1975, job seeker 2019-2020 (known at the RVA and the PES), employee from 2021.
- C  born 1962, pensioner-like inactive, dies on 15 June 2021        -> next of 2020: died.
- D  born 1990, emigrates to France on 1 April 2021                  -> next of 2020: emigrated.
- E  born 1956-08-01, 64 on 31/12/2020, 65 on 31/12/2021             -> next of 2020: aged_out.
- F  born 2006-03-01, 14 on 31/12/2020, 15 on 31/12/2021             -> prev of 2021: aged_in.
- G  Moroccan, arrives 1 February 2021 (foreigners register)          -> prev of 2021: immigrated.
- H  in the waiting register until 1 March 2021, then foreigners      -> prev of 2021: not_in_population.
- J  born 1982, first nationality Turkish, Belgian since 2010, part-time; mother of F.
- K  a BIS number (frontier worker): never in the population.
- L  born 1970, self-employed, ill from 14 September 2021 (primary incapacity, open, in 2021 Q4);
     invalidity with a medical code in 2022 Q4 (from 14 September 2022, still open): L_INCAPACITY.
- J  also ill from 3 October 2021 while employed: the health fund pays 2-19 November: J_INCAPACITY.
- M  born 1985, social aid and a disability allowance; Spanish.
"""

from datetime import date
from pathlib import Path

import polars as pl

from cohort import storage
from cohort.classifications.insz import make_insz
from cohort.sources import contract

INSZ = {
    "A": make_insz(date(1980, 5, 1), 1),
    "B": make_insz(date(1975, 3, 10), 3),
    "C": make_insz(date(1962, 2, 1), 5),
    "D": make_insz(date(1990, 1, 1), 7),
    "E": make_insz(date(1956, 8, 1), 9),
    "F": make_insz(date(2006, 3, 1), 11),
    "G": make_insz(date(1988, 7, 7), 13),
    "H": make_insz(date(1992, 9, 9), 15),
    "J": make_insz(date(1982, 4, 4), 16),
    "K": make_insz(date(1979, 1, 1), 17, bis_offset=40),
    "L": make_insz(date(1970, 6, 6), 19),
    "M": make_insz(date(1985, 11, 11), 21),
}
BIRTH = {
    "A": date(1980, 5, 1),
    "B": date(1975, 3, 10),
    "C": date(1962, 2, 1),
    "D": date(1990, 1, 1),
    "E": date(1956, 8, 1),
    "F": date(2006, 3, 1),
    "G": date(1988, 7, 7),
    "H": date(1992, 9, 9),
    "J": date(1982, 4, 4),
    "K": date(1979, 1, 1),
    "L": date(1970, 6, 6),
    "M": date(1985, 11, 11),
}
SEX = {
    "A": "M",
    "B": "M",
    "C": "F",
    "D": "M",
    "E": "F",
    "F": "F",
    "G": "M",
    "H": "F",
    "J": "F",
    "K": "M",
    "L": "M",
    "M": "F",
}
FIRST_NAT = {"G": "MA", "H": "SY", "J": "TR", "K": "FR", "M": "ES"}
DEATH = {"C": date(2021, 6, 15)}
D_EMIGRATES = date(2021, 4, 1)
G_ARRIVES = date(2021, 2, 1)
H_LEAVES_WAITING = date(2021, 3, 1)
START = date(2000, 1, 1)
# The incapacity file's dates of two spells (rules: cohort/classifications/incapacity.py), by hand.
# L, self-employed (no employer, no guaranteed wage): paid from the first day; the first year of
# primary incapacity runs to 13 September 2022, the invalidity from 14 September 2022; open.
L_INCAPACITY = {
    "incapacity_start": date(2021, 9, 14),
    "spell_start": date(2021, 9, 14),
    "invalidity_start": date(2022, 9, 14),
}
# J, employee: the employer pays 3 October - 1 November (30 days), the health fund 2 - 19 November.
J_INCAPACITY = {
    "incapacity_start": date(2021, 10, 3),
    "spell_start": date(2021, 11, 2),
    "spell_end": date(2021, 11, 20),
}
NIS = {
    "A": "11002",
    "B": "21004",
    "C": "44021",
    "D": "62063",
    "E": "71011",
    "F": "11002",
    "G": "21015",
    "H": "21001",
    "J": "11002",
    "L": "57081",
    "M": "92094",
}
# Expected province of the NIS codes above (arrondissement -> province)
PROVINCE = {
    "11002": "10000",
    "21004": "21000",
    "44021": "40000",
    "62063": "60000",
    "71011": "70000",
    "21015": "21000",
    "21001": "21000",
    "57081": "50000",
    "92094": "90000",
}
DAILY_WAGE_A = {2019: 120.0, 2020: 130.0, 2021: 140.0, 2022: 160.0, 2025: 170.0, 2026: 180.0}


def _dtype(table: str, col: str):
    return contract.TABLES[table].schema.columns[col].dtype.type


def write_table(wh: Path, table: str, rows: list[dict], year: int | None = None) -> None:
    """Write ``rows`` with the contract's columns and dtypes (missing nullable columns are null)."""
    cols = contract.TABLES[table].schema.columns
    data = {c: [r.get(c) for r in rows] for c in cols}
    df = pl.DataFrame(data, schema={c: _dtype(table, c) for c in cols})
    contract.TABLES[table].schema.validate(df)
    storage.write_frame(df, storage.partition_file(wh, table, year))


def resident_on(p: str, d: date) -> bool:
    if p == "K" or (p in DEATH and DEATH[p] <= d):
        return False
    if p == "D" and d >= D_EMIGRATES:
        return False
    if p == "G" and d < G_ARRIVES:
        return False
    return BIRTH[p] <= d


def build_hand_warehouse(wh: Path, years: tuple[int, ...] = (2019, 2020, 2021, 2022)) -> Path:
    persons = list(INSZ)
    write_table(
        wh,
        "person",
        [
            {
                "insz": INSZ[p],
                "birth_date": BIRTH[p],
                "sex": SEX[p],
                "birth_country": FIRST_NAT.get(p, "BE"),
                "first_nationality": FIRST_NAT.get(p, "BE"),
                "death_date": DEATH.get(p),
                "is_bis": p == "K",
                "father_insz": INSZ["A"] if p == "F" else None,
                "mother_insz": INSZ["J"] if p == "F" else None,
            }
            for p in persons
        ],
    )
    nat = []
    for p in persons:
        if p == "J":
            nat += [
                {"insz": INSZ[p], "nationality": "TR", "valid_from": BIRTH[p], "valid_to": date(2010, 1, 1)},
                {"insz": INSZ[p], "nationality": "BE", "valid_from": date(2010, 1, 1)},
            ]
        else:
            nat.append({"insz": INSZ[p], "nationality": FIRST_NAT.get(p, "BE"), "valid_from": BIRTH[p]})
    write_table(wh, "nationality_history", nat)
    res = []
    for p in persons:
        if p == "K":
            res.append({"insz": INSZ[p], "country": "FR", "valid_from": BIRTH[p]})
        elif p == "D":
            res += [
                {
                    "insz": INSZ[p],
                    "nis_code": NIS[p],
                    "country": "BE",
                    "valid_from": START,
                    "valid_to": D_EMIGRATES,
                },
                {"insz": INSZ[p], "country": "FR", "valid_from": D_EMIGRATES},
            ]
        elif p == "G":
            res += [
                {"insz": INSZ[p], "country": "MA", "valid_from": BIRTH[p], "valid_to": G_ARRIVES},
                {"insz": INSZ[p], "nis_code": NIS[p], "country": "BE", "valid_from": G_ARRIVES},
            ]
        else:
            res.append(
                {
                    "insz": INSZ[p],
                    "nis_code": NIS[p],
                    "country": "BE",
                    "valid_from": max(START, BIRTH[p]),
                    "valid_to": DEATH.get(p),
                }
            )
    write_table(wh, "residence_history", res)
    reg = []
    for p in persons:
        if p == "K":
            continue
        if p == "G":
            reg.append(
                {
                    "insz": INSZ[p],
                    "register": "foreigners",
                    "valid_from": G_ARRIVES,
                    "residence_reason": "1",
                    "decision_date": G_ARRIVES,
                }
            )
        elif p == "H":
            reg += [
                {
                    "insz": INSZ[p],
                    "register": "waiting",
                    "valid_from": date(2018, 5, 1),
                    "valid_to": H_LEAVES_WAITING,
                    "residence_reason": "2",
                    "decision_date": date(2018, 5, 1),
                },
                {
                    "insz": INSZ[p],
                    "register": "foreigners",
                    "valid_from": H_LEAVES_WAITING,
                    "residence_reason": "2",
                    "decision_date": H_LEAVES_WAITING,
                },
            ]
        elif p == "M":
            reg.append(
                {
                    "insz": INSZ[p],
                    "register": "foreigners",
                    "valid_from": date(2015, 9, 1),
                    "residence_reason": "4",
                    "decision_date": date(2015, 9, 1),
                }
            )
        else:
            reg.append(
                {
                    "insz": INSZ[p],
                    "register": "population",
                    "valid_from": max(START, BIRTH[p]),
                    "valid_to": DEATH.get(p) or (D_EMIGRATES if p == "D" else None),
                }
            )
    write_table(wh, "register_history", reg)
    write_table(
        wh,
        "education",
        [
            {
                "insz": INSZ["A"],
                "qualification_date": date(2002, 6, 30),
                "level": "6",
                "domain": "04",
                "issuer_type": "HO",
            },
            {
                "insz": INSZ["A"],
                "qualification_date": date(1998, 6, 30),
                "level": "3",
                "domain": "00",
                "issuer_type": "SEC",
            },
            {
                "insz": INSZ["B"],
                "qualification_date": date(2021, 6, 30),
                "level": "4",
                "domain": "07",
                "issuer_type": "VDAB",
            },
            {
                "insz": INSZ["J"],
                "qualification_date": date(2004, 6, 30),
                "level": "7",
                "domain": "09",
                "issuer_type": "HO",
            },
        ],
    )
    for y in years:
        _year_tables(wh, y)
    return wh


def _year_tables(wh: Path, y: int) -> None:
    q4 = date(y, 12, 31)
    jan1 = date(y, 1, 1)
    sep, jobs, seq, js, ben, hh = [], [], [], [], [], []
    for p in INSZ:
        if not resident_on(p, q4) and p != "K":
            continue
        if p in ("A",) or (p == "B" and y >= 2021):
            nom, flags = "111", 0
        elif p == "B":
            nom, flags = "211", (1 << 31) | (1 << 32)
        elif p == "J":
            nom, flags = "111", 1 << 0
        elif p == "L":
            nom, flags = ("121", 0) if y < 2022 else ("371", 0)
        elif p == "M":
            nom, flags = "332", (1 << 17)
        elif p == "C":
            nom, flags = "34", 0
        elif p == "F":
            nom, flags = "36", 0
        else:
            nom, flags = "4", 0
        sep.append({"year": y, "quarter": 4, "insz": INSZ[p], "nomenclature": nom, "status_flags": flags})
    for q in (1, 2, 3, 4):
        jobs.append(_job(y, q, "A", DAILY_WAGE_A.get(y, 150.0), 1.0, "FT", "62010"))
        if q == 4 or y >= 2021:
            pass
        if y >= 2021:
            jobs.append(_job(y, q, "B", 90.0, 1.0, "FT", "41201"))
        jobs.append(_job(y, q, "J", 110.0, 0.5, "PT", "86101", cross_border=(y == 2022)))
        if y < 2022:
            seq.append(
                {
                    "year": y,
                    "quarter": q,
                    "insz": INSZ["L"],
                    "category": "main",
                    "quality": "S",
                    "nace": "01110",
                    "affiliation_start": date(2001, 1, 1),
                    "annual_income": 30000.0,
                }
            )
        jobs.append(_job(y, q, "K", 100.0, 1.0, "FT", "10110"))
    if y <= 2020:
        js.append(
            {
                "year": y,
                "quarter": 4,
                "insz": INSZ["B"],
                "category": "00",
                "pes": "ACTIRIS",
                "registration_date": date(2019, 2, 1),
                "unemployment_start": date(2018, 11, 1),
                "sanctioned": y == 2020,
            }
        )
    if y == 2021:
        ben += [
            {
                "year": y,
                "quarter": 4,
                "insz": INSZ["L"],
                "benefit": "incapacity",
                "category": "primary",
                "amount": 4500.0,
                "days": 78,
                **{**L_INCAPACITY, "invalidity_start": None},  # not reached by 31 December 2021
                "fraction": 1.0,
                "days_type": "1",
                "medical_code_type": "ICD10",
                "medical_code": "F",
            },
            {
                "year": y,
                "quarter": 4,
                "insz": INSZ["J"],
                "benefit": "incapacity",
                "category": "primary",
                "amount": 800.0,
                "days": 15,
                **J_INCAPACITY,
                "fraction": 1.0,
                "days_type": "1",
                "medical_code_type": "ICPC2",
                "medical_code": "L",
            },
        ]
    if y == 2022:
        ben.append(
            {
                "year": y,
                "quarter": 4,
                "insz": INSZ["L"],
                "benefit": "invalidity",
                "category": "INV1",
                "amount": 4000.0,
                "days": 78,
                **L_INCAPACITY,
                "fraction": 1.0,
                "days_type": "2",
                "medical_code_type": "ICD10",
                "medical_code": "F",
            }
        )
    if resident_on("M", q4):
        ben += [
            {
                "year": y,
                "quarter": 4,
                "insz": INSZ["M"],
                "benefit": "social_aid",
                "category": "financial_aid",
                "social_aid_kind": "equivalent_integration_income",
                "amount": 900.0,
                "days": 92,
                "spell_start": date(2016, 1, 1),
                "fraction": 1.0,
            },
            {
                "year": y,
                "quarter": 4,
                "insz": INSZ["M"],
                "benefit": "disability_allowance",
                "category": "IT",
                "amount": 600.0,
                "days": 92,
                "spell_start": date(2017, 1, 1),
                "fraction": 1.0,
            },
        ]
    hid = 1
    family = [p for p in ("A", "J", "F") if resident_on(p, jan1)]
    for p in INSZ:
        if p in ("A", "J", "F") or not resident_on(p, jan1):
            continue
        hh.append(_hh(y, hid, p, p, "01", "SING", 1))
        hid += 1
    for p in family:
        rel = {"A": "01", "J": "21", "F": "03"}[p]
        lipro = {"A": "UNM+", "J": "UNM+", "F": "CUNM"}[p]
        hh.append(_hh(y, 100, p, "A", rel, lipro, len(family)))
    # K (a BIS number, never in the population) keeps a year's file from being empty, which the
    # contract refuses as a partial extract
    filler = {"year": y, "quarter": 4, "insz": INSZ["K"], "affiliation_start": date(2001, 1, 1)}
    if not seq:
        seq.append({**filler, "category": "main", "quality": "S", "nace": "10110", "annual_income": 30000.0})
    if not js:
        js.append(
            {
                **filler,
                "category": "00",
                "pes": "VDAB",
                "registration_date": date(y, 10, 1),
                "unemployment_start": date(y, 10, 1),
                "sanctioned": False,
            }
        )
    if not ben:
        ben.append(
            {
                **filler,
                "benefit": "child_benefit",
                "amount": 100.0,
                "days": 92,
                "spell_start": date(y, 1, 1),
                "fraction": 1.0,
            }
        )
    write_table(wh, "sep_quarter", sep, y)
    write_table(wh, "job_quarter", jobs, y)
    write_table(wh, "self_employed_quarter", seq, y)
    write_table(wh, "jobseeker_quarter", js, y)
    write_table(wh, "benefit_quarter", ben, y)
    write_table(wh, "household_jan1", hh, y)


def _job(y, q, p, wage, fte, perf, nace, cross_border=False):
    return {
        "year": y,
        "quarter": q,
        "insz": INSZ[p],
        "employer_id": "0403199702",
        "job_rank": 1,
        "nace": nace,
        "joint_committee": "200",
        "worker_class": "2",
        "worker_code": "495",
        "statute": "C",
        "contract_type": "I",
        "performance_type": perf,
        "part_time_pct": 100.0 * fte,
        "fte": fte,
        "days": 65,
        "gross_wage": wage * 65,
        "daily_wage": wage,
        "employer_size_class": "5",
        "service_vouchers": False,
        "maternity_leave": False,
        "cross_border": cross_border,
        "posted": False,
    }


def _hh(y, hid, p, ref, rel, lipro, size):
    return {
        "year": y,
        "insz": INSZ[p],
        "household_id": hid,
        "reference_insz": INSZ[ref],
        "relation": rel,
        "household_size": size,
        "lipro": lipro,
        "civil_status": "1",
        "legal_cohabitation": False,
    }
