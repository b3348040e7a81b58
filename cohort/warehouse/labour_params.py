"""Parameters of the labour-market simulation: target shares, hazard multipliers, persistence.

The socio-economic position follows a Markov chain over *macro states* (working as employee,
self-employed, job seeker, sick, ...). Each quarter a person stays in the current macro state
with a probability ``s`` (state- and person-specific); a person who leaves draws the next state
from ``q_k ∝ pi_k (1 - s_k)``, where ``pi`` is the target cross-sectional distribution for the
person's age, sex, education, origin, region and year. With that choice the chain's stationary
distribution is exactly ``pi`` while spell durations are geometric with mean ``1 / (1 - s)``
quarters, so shares and durations (long-term unemployment) are calibrated separately.

Numbers are calibrated against cohort/warehouse/calibration_targets.csv (Flemish employment
rate 20-64, VDAB job seekers, share unemployed > 2 years, ILO proxy, work intensity) and are
otherwise plausible placeholders (docs/domain_facts.md marks most as unconfirmed).
"""

import numpy as np

from cohort.classifications import codes

# ---------------------------------------------------------------- positions (fine codes)
CODES: tuple[str, ...] = tuple(codes.NOMENCLATURE)
CODE_INDEX = {c: i for i, c in enumerate(CODES)}
WORKING_CODES = frozenset(c for c in CODES if c.startswith("1"))
EMPLOYEE_CODES = ("111", "112", "141", "142", "143")  # codes with at least one job_quarter row
SELF_CODES = (
    "121",
    "122",
    "123",
    "131",
    "132",
    "133",
    "141",
    "142",
    "143",
)  # with a self_employed_quarter row

# ---------------------------------------------------------------- macro states
EMP, SELF, UNEMP, SICK, DIS, SOC, CB, EXEMPT, EARLY, OTHER, STUDENT, PENSION = range(12)
N_ACTIVE = 10  # macro states 0..9 are drawn by the chain; STUDENT and PENSION follow age rules
MACRO_NAMES = (
    "EMP",
    "SELF",
    "UNEMP",
    "SICK",
    "DIS",
    "SOC",
    "CB",
    "EXEMPT",
    "EARLY",
    "OTHER",
    "STUDENT",
    "PENSION",
)

# Age bands of the target table (lower bounds, years).
AGE_BANDS = np.array([15, 18, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65], dtype=np.int16)

# Target shares among *active* persons (not student, not retired) of the reference group:
# Flemish Region, Belgian origin, medium education, man, about 2019. Columns in macro order
# EMP SELF UNEMP SICK DIS SOC CB EXEMPT EARLY OTHER.
_REF = np.array(
    [
        [0.30, 0.00, 0.25, 0.01, 0.01, 0.02, 0.00, 0.00, 0.00, 0.41],  # 15-17 (left school early)
        [0.52, 0.01, 0.22, 0.01, 0.01, 0.04, 0.00, 0.00, 0.00, 0.19],  # 18-19
        [0.75, 0.03, 0.11, 0.015, 0.008, 0.02, 0.00, 0.00, 0.00, 0.067],  # 20-24
        [0.84, 0.05, 0.05, 0.02, 0.006, 0.01, 0.002, 0.00, 0.00, 0.022],  # 25-29
        [0.83, 0.075, 0.035, 0.025, 0.007, 0.007, 0.005, 0.00, 0.00, 0.021],  # 30-34
        [0.815, 0.085, 0.03, 0.033, 0.009, 0.006, 0.005, 0.00, 0.00, 0.017],  # 35-39
        [0.80, 0.09, 0.03, 0.042, 0.010, 0.005, 0.005, 0.00, 0.00, 0.018],  # 40-44
        [0.78, 0.09, 0.03, 0.055, 0.012, 0.005, 0.005, 0.00, 0.00, 0.023],  # 45-49
        [0.74, 0.09, 0.035, 0.075, 0.015, 0.005, 0.006, 0.006, 0.004, 0.024],  # 50-54
        [0.63, 0.09, 0.045, 0.10, 0.02, 0.005, 0.02, 0.02, 0.045, 0.025],  # 55-59
        [0.42, 0.09, 0.03, 0.12, 0.02, 0.005, 0.025, 0.03, 0.22, 0.04],  # 60-64
        [0.50, 0.10, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.40],  # 65+ (not yet retired)
    ]
)
# Calibration of the whole chain against the published Flemish figures (employment rate 20-64,
# VDAB job seekers): the reference group's odds of working and of job seeking, all ages.
EMP_ODDS = 1.42
UNEMP_ODDS = 0.78
BASE_LOGIT = np.log(np.maximum(_REF, 1e-9)).astype(np.float32)
BASE_LOGIT[:, 0] += np.log(EMP_ODDS)
BASE_LOGIT[:, 2] += np.log(UNEMP_ODDS)
BASE_LOGIT[_REF == 0] = -30.0

_M = {  # odds multipliers relative to EMP, per macro (EMP SELF UNEMP SICK DIS SOC CB EXEMPT EARLY OTHER)
    "female": [1, 0.55, 1.0, 1.45, 0.9, 1.2, 3.0, 1.0, 0.7, 2.3],
    "edu_low": [1, 0.8, 2.1, 1.8, 1.9, 2.6, 0.8, 1.3, 1.3, 2.2],
    "edu_high": [1, 1.3, 0.55, 0.5, 0.5, 0.3, 1.2, 0.8, 0.8, 0.6],
    "eu": [1, 1.0, 1.4, 1.0, 0.9, 1.6, 0.7, 1.0, 1.0, 1.6],
    "noneu": [1, 0.9, 3.2, 1.15, 1.1, 5.0, 0.4, 1.2, 0.6, 3.2],
    "wallonia": [1, 1.0, 2.3, 1.35, 1.4, 2.2, 0.8, 1.4, 1.0, 1.35],
    "brussels": [1, 1.1, 3.0, 1.1, 1.1, 3.2, 0.6, 1.4, 0.8, 1.7],
    # waiting register (asylum seekers): hardly any work, mostly social aid or nothing
    "waiting": [0.08, 0, 0, 0, 0, 12, 0, 0, 0, 6],
}


def _log(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    out = np.where(a > 0, np.log(np.maximum(a, 1e-12)), -30.0)
    return out.astype(np.float32)


SEX_EFF = np.stack([np.zeros(N_ACTIVE, np.float32), _log(_M["female"])])  # [female]
EDU_EFF = np.stack([_log(_M["edu_low"]), np.zeros(N_ACTIVE, np.float32), _log(_M["edu_high"])])  # [edu 0..2]
ORIGIN_EFF = np.stack([np.zeros(N_ACTIVE, np.float32), _log(_M["eu"]), _log(_M["noneu"])])  # [origin 0..2]
# region index: 0 abroad/unknown (unused), 1 Flanders, 2 Wallonia, 3 Brussels
REGION_EFF = np.stack(
    [
        np.zeros(N_ACTIVE, np.float32),
        np.zeros(N_ACTIVE, np.float32),
        _log(_M["wallonia"]),
        _log(_M["brussels"]),
    ]
)
WAITING_EFF = _log(_M["waiting"])

# Business cycle: odds multipliers of (EMP, UNEMP) by year, relative to 2019 (VDAB job seekers
# 2005 ~236,000, peak 2014 > 251,000, 2021 193,150; employment 2010 ~71.8%, 2019 75.5%).
_CYCLE = {
    2003: (0.80, 1.64),
    2004: (0.80, 1.64),
    2005: (0.80, 1.62),
    2006: (0.82, 1.52),
    2007: (0.85, 1.36),
    2008: (0.88, 1.26),
    2009: (0.86, 1.32),
    2010: (0.86, 1.36),
    2011: (0.88, 1.30),
    2012: (0.88, 1.32),
    2013: (0.88, 1.32),
    2014: (0.89, 1.36),
    2015: (0.90, 1.32),
    2016: (0.92, 1.24),
    2017: (0.95, 1.12),
    2018: (0.98, 1.02),
    2019: (1.0, 1.0),
    2020: (0.97, 1.08),
    2021: (1.0, 0.97),
    2022: (1.05, 0.92),
    2023: (1.07, 0.95),
    2024: (1.08, 0.97),
    2025: (1.09, 0.98),
    2026: (1.10, 0.98),
}


def cycle(year: int) -> tuple[float, float]:
    y = min(max(year, 2003), 2026)
    return _CYCLE[y]


# Latent employability: a persistent person effect on the odds of working (scarring: the same
# people are unemployed again), standard normal times this loading.
EMPLOYABILITY_LOADING = 0.55
# Latent health risk (from the demography): loading on the odds of incapacity and disability.
HEALTH_LOADING = 0.6

# ---------------------------------------------------------------- persistence (quarterly)
STAY = np.array([0.975, 0.985, 0.86, 0.93, 0.975, 0.90, 0.80, 0.93, 0.975, 0.93], dtype=np.float32)
# Unemployment persistence by person: longer for older, low-educated and non-EU job seekers,
# plus a personal component ("stuck"), calibrated to ~36% of job seekers > 2 years (2021).
UNEMP_STAY_BASE = 0.76
UNEMP_STAY_AGE50 = 0.05
UNEMP_STAY_EDU = np.array([0.04, 0.0, -0.04], dtype=np.float32)
UNEMP_STAY_ORIGIN = np.array([0.0, 0.0, 0.02], dtype=np.float32)
UNEMP_STAY_STUCK = 0.08  # times a uniform personal draw
UNEMP_STAY_MAX = 0.985

# ---------------------------------------------------------------- sub-positions
P_MULTI_JOB = (0.065, 0.085)  # by sex (men, women): 112
P_EMP_PLUS_SELF = (0.05, 0.025)  # 141 (employee with secondary self-employment)
P_EMP_PLUS_HELPER = 0.003  # 143
SELF_SPLIT = {"121": 0.82, "131": 0.04, "142": 0.08, "122": 0.045, "132": 0.015}  # women: 131 x4
UNEMP_SPLIT_214 = 0.30  # registered job seekers without benefit
UNEMP_SPLIT_212_F = 0.08  # women after voluntary part-time work
UNEMP_213_MAX_AGE = 30
# job-seeker categories of 214 (without benefit): 03 voluntary, 05 OCMW, 06 disabled, 14 excluded
CAT214 = ("03", "05", "06", "14")
CAT214_P = np.array([0.20, 0.36, 0.24, 0.20])
SICK_SPLIT = {"371": 0.93, "372": 0.045, "373": 0.025}
SOC_SPLIT_332 = (0.15, 0.55)  # share of 332 among social assistance (resident, waiting register)
PENSION_SPLIT = {"34": 0.968, "123": 0.027, "133": 0.005}
OTHER_SPLIT_4 = 0.35

# ---------------------------------------------------------------- life-course ages
LEGAL_PENSION_AGE = 65  # 66 from 2025 (pension reform 2015)


def retire_age_probs(birth_year: np.ndarray) -> np.ndarray:
    """P(retire at 60, 61, 62, 63, 64, legal age) by birth cohort: early retirement got harder."""
    old = np.array([0.22, 0.08, 0.10, 0.10, 0.07, 0.43])
    new = np.array([0.04, 0.04, 0.10, 0.10, 0.08, 0.64])
    w = np.clip((birth_year.astype(np.float32) - 1945) / 15.0, 0, 1)[:, None]
    return old[None, :] * (1 - w) + new[None, :] * w


# school-leaving age (years, fractional) by education group: mean, spread
SCHOOL_EXIT = {0: (17.2, 1.2), 1: (19.3, 1.3), 2: (23.0, 1.6)}

# ---------------------------------------------------------------- jobs
# Sector groups: (name, NACE codes, joint committee blue-collar, joint committee white-collar
# ('W' = residual white-collar 218 until 2015 Q1, 200 after), public)
SECTORS: tuple[tuple[str, tuple[str, ...], str, str, bool], ...] = (
    ("agriculture", ("01110", "01410", "01250"), "100", "W", False),
    ("food", ("10110", "10710", "10890"), "118", "220", False),
    ("manufacturing", ("20140", "22220", "24100", "25620", "28990", "29100"), "100", "W", False),
    ("energy_water", ("35110", "36000", "38110"), "100", "W", False),
    ("construction", ("41201", "43211", "43320", "43990"), "124", "W", False),
    ("trade", ("45113", "46900", "47111", "47190", "47710"), "100", "W", False),
    ("transport", ("49410", "52100", "53100"), "140", "140", False),
    ("hotels", ("55100", "56101", "56301"), "302", "302", False),
    ("ict", ("62010", "62020", "63110"), "W", "W", False),
    ("finance", ("64190", "65110", "66220"), "W", "W", False),
    ("business_services", ("69201", "70220", "71121", "73110"), "336", "336", False),
    ("temp_agency", ("78200",), "322", "322", False),
    ("cleaning_vouchers", ("81210",), "322", "322", False),
    ("public_admin", ("84110", "84120", "84240"), "999", "999", True),
    ("education", ("85201", "85310", "85420"), "999", "999", True),
    ("health", ("86101", "86210", "86901"), "330", "330", False),
    ("social_work", ("87101", "87301", "88991"), "331", "318", False),
    ("other_services", ("90011", "93110", "94990", "96021"), "100", "337", False),
    ("flemish_government", ("84110", "84130"), "999", "999", True),
)
N_SECTORS = len(SECTORS)
FLEMISH_GOV = N_SECTORS - 1
TEMP_AGENCY = 11
CLEANING = 12
# Employee share by sector (Belgium, approximate) and multipliers by sex and education.
SECTOR_BASE = np.array(
    [
        0.008,
        0.03,
        0.12,
        0.02,
        0.07,
        0.15,
        0.07,
        0.04,
        0.04,
        0.035,
        0.07,
        0.03,
        0.035,
        0.08,
        0.08,
        0.08,
        0.07,
        0.03,
        0.0,
    ],
    dtype=np.float64,
)
SECTOR_FEMALE = np.array(
    [0.5, 0.7, 0.45, 0.4, 0.12, 0.9, 0.4, 1.1, 0.4, 1.0, 1.1, 0.8, 3.5, 1.3, 2.3, 3.0, 3.2, 1.2, 1.0]
)
SECTOR_EDU = np.array(
    [  # low, medium, high
        [2.5, 1.0, 0.3],
        [1.8, 1.0, 0.4],
        [1.5, 1.1, 0.6],
        [1.0, 1.0, 1.0],
        [2.2, 1.1, 0.3],
        [1.3, 1.1, 0.6],
        [1.6, 1.0, 0.5],
        [2.5, 1.0, 0.3],
        [0.2, 0.6, 2.5],
        [0.2, 0.8, 2.2],
        [0.3, 0.7, 2.3],
        [2.5, 1.0, 0.4],
        [4.0, 0.9, 0.1],
        [0.5, 1.0, 1.5],
        [0.3, 0.7, 2.8],
        [0.6, 1.0, 1.6],
        [0.9, 1.2, 1.0],
        [1.0, 1.0, 1.0],
        [0.2, 1.0, 1.8],
    ]
)
# Flemish government staff: ~40,000 at scale 1.0 among ~2.9 million Flemish employees.
FLEMISH_GOV_SHARE = 0.0145
SECTOR_WAGE = np.array(
    [0.92, 1.0, 1.12, 1.3, 1.0, 0.93, 1.0, 0.78, 1.3, 1.38, 1.2, 0.85, 0.75, 1.08, 1.05, 1.0, 0.9, 0.9, 1.1],
    dtype=np.float32,
)
P_BLUE = np.array(
    [
        0.85,
        0.65,
        0.6,
        0.45,
        0.8,
        0.35,
        0.55,
        0.75,
        0.05,
        0.02,
        0.05,
        0.65,
        0.95,
        0.08,
        0.05,
        0.15,
        0.15,
        0.35,
        0.02,
    ]
)
P_STATUTORY = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.55, 0.6, 0.08, 0, 0, 0.62])
SELF_SECTOR_BASE = np.array(
    [
        0.08,
        0.02,
        0.05,
        0.005,
        0.15,
        0.18,
        0.04,
        0.08,
        0.06,
        0.03,
        0.19,
        0,
        0.03,
        0,
        0.01,
        0.07,
        0.01,
        0.09,
        0,
    ],
    dtype=np.float64,
)

# Gross daily wage (full-time day equivalent, euro, 2019 prices): by education group.
WAGE_BASE_2019 = np.array([118.0, 138.0, 185.0], dtype=np.float32)
WAGE_FEMALE = 0.93
WAGE_PERSON_SD = 0.22
WAGE_GROWTH = 0.022  # nominal yearly growth (indexation + drift)
FT_DAYS = 65  # paid days of a full-time quarter (13 weeks x 5 days)

P_PART_TIME = (0.10, 0.42)  # men, women
PART_TIME_PCTS = np.array([50, 60, 75, 80, 90], dtype=np.int8)
PART_TIME_PCT_P = np.array([0.35, 0.10, 0.2, 0.3, 0.05])
P_CONTRACT_FIXED = 0.07
P_IGU = 0.04  # share of part-timers with an income-guarantee allowance (PTV)

# yearly per-person flags of working people (status_flags)
P_PARTIAL_CAREER_BREAK = (0.03, 0.08)
P_WORK_INCAPACITY_Q = 0.03  # quarterly chance of a (primary) incapacity spell while working
P_WORK_INVALIDITY_PARTIAL = 0.012  # partial resumption of work under invalidity
P_WORK_DISABILITY_ALLOWANCE = 0.004
P_WORK_SOCIAL_ASSISTANCE = 0.004
P_ACTIVATION_AFTER_UNEMP = 0.25
ACTIVATION_QUARTERS = 8
P_MATERNITY_Q = 0.012  # women 20-42 at work

# benefits (euro per benefit day or per quarter)
UNEMP_DAILY = (48.0, 62.0)  # min, max range of the daily allowance (2019)
BENEFIT_DAYS = 78  # 6-day week, one quarter
