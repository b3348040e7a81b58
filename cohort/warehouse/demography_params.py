"""Parameters of the demographic simulation (see :mod:`cohort.warehouse.demography` for the model):
the day numbering, municipalities and regions with their population series, countries and the
origin profiles of the municipalities, immigration mixes, mortality (Gompertz-Makeham, calibrated to
the published life expectancy), fertility, the base age pyramid and the asylum inflow.

It imports only NumPy and :mod:`cohort.classifications.codes`; every other demography module may
import it.
"""

from datetime import date

import numpy as np

from cohort.classifications import codes

EPOCH = date(1970, 1, 1).toordinal()
NO_DATE = np.int32(2**31 - 1)  # "never" (alive, no union end, ...)


YEAR_DAYS = 365.2425


def epoch_day(y: int, m: int = 1, d: int = 1) -> int:
    """The day number (days since 1 January 1970) both halves of the warehouse count in."""
    return date(y, m, d).toordinal() - EPOCH


NATIONAL_REGISTER_START = epoch_day(1968)  # Rijksregister: the persons alive on or after this date

# ---------------------------------------------------------------------------------- geography
# (NIS code, name, population in 2005 in thousands, diversity index, origin profile)
MUNICIPALITIES: list[tuple[str, str, float, float, str]] = [
    # Antwerpen
    ("11002", "Antwerpen", 457, 2.5, "ANT"),
    ("11040", "Schoten (rest of arr. Antwerpen)", 480, 0.8, "FL"),
    ("12025", "Mechelen", 78, 1.6, "ANT"),
    ("12021", "Lier (rest of arr. Mechelen)", 232, 0.6, "FL"),
    ("13040", "Turnhout", 39, 1.1, "FL_NL"),
    ("13008", "Geel (rest of arr. Turnhout)", 385, 0.8, "FL_NL"),
    # Vlaams-Brabant
    ("23088", "Vilvoorde", 37, 1.6, "FL"),
    ("23027", "Halle (rest of arr. Halle-Vilvoorde)", 533, 0.9, "FL"),
    ("24062", "Leuven", 90, 1.4, "FL"),
    ("24001", "Aarschot (rest of arr. Leuven)", 370, 0.55, "FL"),
    # West-Vlaanderen
    ("31005", "Brugge", 117, 0.6, "FL"),
    ("31003", "Beernem (rest of arr. Brugge)", 157, 0.4, "FL"),
    ("32003", "Diksmuide", 49, 0.3, "FL"),
    ("33011", "Ieper", 105, 0.4, "FL_FR"),
    ("34022", "Kortrijk", 74, 0.8, "FL_FR"),
    ("34027", "Menen (rest of arr. Kortrijk)", 205, 0.6, "FL_FR"),
    ("35013", "Oostende", 69, 1.0, "FL"),
    ("35029", "Bredene (rest of arr. Oostende)", 77, 0.5, "FL"),
    ("36015", "Roeselare", 56, 0.5, "FL"),
    ("36008", "Izegem (rest of arr. Roeselare)", 86, 0.35, "FL"),
    ("37015", "Tielt", 89, 0.35, "FL"),
    ("38025", "Veurne", 58, 0.5, "FL_FR"),
    # Oost-Vlaanderen
    ("41002", "Aalst", 77, 0.8, "FL"),
    ("41081", "Zottegem (rest of arr. Aalst)", 190, 0.4, "FL"),
    ("42006", "Dendermonde", 43, 0.6, "FL"),
    ("42025", "Wetteren (rest of arr. Dendermonde)", 147, 0.5, "FL"),
    ("43005", "Eeklo", 79, 0.5, "FL_NL"),
    ("44021", "Gent", 233, 1.9, "GENT"),
    ("44019", "Evergem (rest of arr. Gent)", 270, 0.6, "FL"),
    ("45035", "Oudenaarde", 117, 0.4, "FL"),
    ("46021", "Sint-Niklaas", 70, 1.2, "FL"),
    ("46003", "Beveren (rest of arr. Sint-Niklaas)", 154, 0.6, "FL_NL"),
    # Limburg
    ("71022", "Hasselt", 70, 0.9, "LIM"),
    ("71016", "Genk", 63, 3.4, "LIM"),
    ("71004", "Beringen (rest of arr. Hasselt)", 265, 1.3, "LIM"),
    ("72021", "Maaseik (arr. Maaseik)", 219, 1.3, "LIM"),
    ("73083", "Tongeren", 29, 0.9, "LIM"),
    ("73107", "Maasmechelen", 36, 3.0, "LIM"),
    ("73006", "Bilzen (rest of arr. Tongeren)", 123, 0.9, "LIM"),
    # Brussels-Capital
    ("21004", "Brussel", 140, 1.1, "BXL"),
    ("21015", "Schaerbeek", 112, 1.2, "BXL_MA"),
    ("21001", "Anderlecht", 98, 1.1, "BXL_MA"),
    ("21012", "Sint-Jans-Molenbeek", 79, 1.25, "BXL_MA"),
    ("21009", "Elsene / Ixelles", 77, 1.15, "BXL_EU"),
    ("21016", "Ukkel / Uccle", 76, 0.85, "BXL_EU"),
    ("21002", "Oudergem (rest of Brussels)", 425, 0.9, "BXL"),
    # Wallonia
    ("25072", "Nivelles", 25, 0.8, "WAL"),
    ("25112", "Wavre", 32, 0.8, "WAL"),
    ("25121", "Ottignies (rest of arr. Nivelles)", 303, 0.8, "WAL"),
    ("51004", "Ath", 80, 0.6, "WAL"),
    ("52011", "Charleroi", 201, 1.5, "WAL_IT"),
    ("52012", "Châtelet (rest of arr. Charleroi)", 220, 1.1, "WAL_IT"),
    ("53053", "Mons", 91, 1.1, "WAL_IT"),
    ("53020", "Dour (rest of arr. Mons)", 159, 1.0, "WAL_IT"),
    ("55022", "La Louvière", 77, 1.5, "WAL_IT"),
    ("55040", "Soignies (rest of arr. Soignies)", 106, 1.0, "WAL"),
    ("56078", "Thuin", 147, 0.8, "WAL"),
    ("57081", "Tournai", 67, 0.8, "WAL"),
    ("57018", "Estaimpuis (rest of arr. Tournai, with Mouscron)", 152, 0.8, "WAL"),
    ("61031", "Huy", 102, 0.7, "WAL"),
    ("62063", "Liège", 186, 1.6, "WAL_IT"),
    ("62096", "Seraing", 61, 1.8, "WAL_IT"),
    ("62093", "Saint-Nicolas (rest of arr. Liège)", 345, 1.0, "WAL_IT"),
    ("63079", "Verviers", 53, 1.3, "WAL"),
    ("63023", "Eupen", 18, 1.2, "EAST"),
    ("63040", "Herve (rest of arr. Verviers)", 203, 0.9, "EAST"),
    ("64074", "Waremme", 71, 0.6, "WAL"),
    ("81001", "Arlon", 56, 1.0, "LUX"),
    ("82003", "Bastogne", 43, 0.5, "LUX"),
    ("83034", "Marche-en-Famenne", 53, 0.6, "WAL"),
    ("84043", "Neufchâteau", 58, 0.4, "LUX"),
    ("85045", "Virton", 51, 0.6, "LUX"),
    ("91034", "Dinant", 101, 0.5, "WAL"),
    ("92094", "Namur", 107, 0.9, "WAL"),
    ("92142", "Gembloux (rest of arr. Namur)", 180, 0.6, "WAL"),
    ("93056", "Philippeville", 63, 0.5, "WAL"),
]
# The generator indexes the regions 0 Flanders, 1 Brussels, 2 Wallonia (FL, BXL, WAL), not in the
# order of codes.REGIONS: their codes are looked up by label.
REGION_CODES = tuple(
    {label: code for code, label in codes.REGIONS.items()}[label]
    for label in ("Flemish Region", "Brussels-Capital Region", "Walloon Region")
)
FL, BXL, WAL = 0, 1, 2

MUNI_NIS = np.array([m[0] for m in MUNICIPALITIES])
MUNI_REGION = np.array([REGION_CODES.index(codes.region_of_nis(m[0])) for m in MUNICIPALITIES], dtype=np.int8)
MUNI_PROVINCE = np.array(
    [list(codes.PROVINCES).index(codes.province_of_nis(m[0])) for m in MUNICIPALITIES], dtype=np.int8
)
MUNI_WEIGHT = np.array([m[2] for m in MUNICIPALITIES], dtype=float)
MUNI_DIVERSITY = np.array([m[3] for m in MUNICIPALITIES], dtype=float)
N_MUNI = len(MUNICIPALITIES)

# Legal population on 1 January (population + foreigners register), docs/domain_facts.md 3.1; the years
# in between are interpolated, 2026-2027 extrapolated from the 2024-2025 growth.
_POP_ANCHORS = {
    FL: {
        2005: 6_043_161,
        2008: 6_161_600,
        2015: 6_444_127,
        2016: 6_477_804,
        2019: 6_589_069,
        2020: 6_629_143,
        2023: 6_774_807,
        2024: 6_821_770,
        2025: 6_864_766,
        2028: 6_993_000,
    },
    BXL: {
        2005: 1_006_749,
        2008: 1_048_491,
        2015: 1_175_173,
        2016: 1_187_890,
        2020: 1_218_255,
        2025: 1_255_795,
        2028: 1_268_000,
    },
    WAL: {
        2005: 3_395_942,
        2008: 3_456_775,
        2015: 3_589_744,
        2016: 3_602_216,
        2020: 3_645_243,
        2025: 3_704_990,
        2028: 3_730_000,
    },
}


def population_target(region: int, year: int) -> float:
    """Legal population of a region (0 Flanders, 1 Brussels, 2 Wallonia) on 1 January of ``year``."""
    anchors = _POP_ANCHORS[region]
    ys = sorted(anchors)
    return float(np.interp(year, ys, [anchors[y] for y in ys]))


# ---------------------------------------------------------------------------------- countries
COUNTRIES = list(codes.COUNTRIES)
COUNTRY_INDEX = {c: i for i, c in enumerate(COUNTRIES)}
BE = COUNTRY_INDEX["BE"]
_EU28 = set(codes.EU_ACCESSION)
IS_EU28 = np.array([c in _EU28 and c != "BE" for c in COUNTRIES])
IS_SOUTH = np.array([c in codes.SOUTH_EU15 for c in COUNTRIES])
IS_NEIGHBOUR = np.array([c in codes.NEIGHBOURS or c == "GB" for c in COUNTRIES])
ASYLUM_ORIGINS = ("SY", "AF", "IQ", "ER", "SO", "PS", "GN", "IR", "CD", "RU", "AL", "XK", "UA")

# Foreign-origin stock of 2005 by origin profile (relative weights). The tail is shared.
_TAIL = {
    "RU": 1.5,
    "CD": 1.5,
    "DZ": 1.0,
    "TN": 0.5,
    "RS": 1.0,
    "AL": 0.4,
    "XK": 0.5,
    "IN": 0.6,
    "CN": 0.7,
    "PK": 0.5,
    "US": 0.7,
    "BR": 0.6,
    "PH": 0.5,
    "TH": 0.6,
    "AF": 0.4,
    "IQ": 0.4,
    "IR": 0.5,
    "RW": 0.4,
    "CM": 0.4,
    "GN": 0.3,
    "SO": 0.2,
    "ER": 0.1,
    "NG": 0.4,
    "GH": 0.5,
    "RO": 0.6,
    "BG": 0.4,
    "SK": 0.3,
    "HU": 0.3,
    "CZ": 0.2,
    "AT": 0.3,
    "SE": 0.3,
    "DK": 0.2,
    "FI": 0.2,
    "IE": 0.2,
    "UA": 0.3,
    "MK": 0.3,
    "SY": 0.2,
    "PS": 0.1,
    "LT": 0.1,
    "LV": 0.1,
    "EE": 0.05,
    "SI": 0.05,
    "HR": 0.1,
    "CY": 0.02,
    "MT": 0.02,
    "LU": 0.1,
    "GB": 1.5,
    "ES": 1.5,
    "PT": 1.0,
    "GR": 0.6,
    "PL": 2.0,
    "FR": 3.0,
    "DE": 2.5,
    "IT": 4.0,
    "NL": 4.0,
    "MA": 9.0,
    "TR": 7.0,
}
_PROFILES: dict[str, dict[str, float]] = {
    "FL": {
        "NL": 16,
        "MA": 12,
        "TR": 9,
        "IT": 4,
        "FR": 4,
        "DE": 2,
        "PL": 2,
        "RU": 4,
        "CD": 3,
        "AF": 2,
        "IQ": 1.5,
        "IN": 1.5,
        "CN": 1,
        "SY": 1,
        "RS": 1,
        "XK": 1,
        "AL": 1,
        "PH": 1,
        "TH": 1,
    },
    "FL_NL": {"NL": 30, "MA": 8, "TR": 7, "DE": 3},
    "FL_FR": {"FR": 30, "NL": 10, "MA": 6, "TR": 4},
    "ANT": {
        "MA": 28,
        "TR": 8,
        "NL": 18,
        "PL": 5,
        "RU": 3,
        "CN": 1.5,
        "IN": 2.5,
        "AF": 1.5,
        "IQ": 1,
        "GH": 1,
        "NG": 1,
        "PK": 1,
    },
    "GENT": {"TR": 26, "MA": 9, "NL": 10, "BG": 4, "SK": 2},
    "LIM": {"IT": 26, "TR": 22, "NL": 24, "MA": 7, "GR": 3, "ES": 2, "PL": 4},
    "BXL": {
        "MA": 24,
        "FR": 12,
        "IT": 8,
        "ES": 5,
        "PT": 5,
        "TR": 6,
        "PL": 4,
        "CD": 6,
        "RO": 2,
        "GR": 2,
        "RW": 1.5,
        "CM": 1.5,
        "GN": 1.0,
        "DZ": 2,
        "TN": 1.2,
        "BR": 1.5,
    },
    "BXL_MA": {"MA": 48, "TR": 10, "CD": 4, "PL": 4, "RO": 3},
    "BXL_EU": {"FR": 24, "IT": 10, "ES": 9, "PT": 8, "DE": 6, "GB": 6, "PL": 4, "GR": 3, "MA": 8, "US": 2},
    "WAL": {
        "IT": 28,
        "FR": 22,
        "MA": 10,
        "ES": 5,
        "TR": 4,
        "DE": 4,
        "NL": 3,
        "PT": 2,
        "GR": 2,
        "PL": 2,
        "CD": 3,
        "DZ": 3,
    },
    "WAL_IT": {"IT": 50, "FR": 12, "MA": 10, "TR": 8, "ES": 5, "GR": 4, "PL": 3, "DZ": 3},
    "EAST": {"DE": 70, "NL": 8, "IT": 6, "FR": 4},
    "LUX": {"FR": 30, "PT": 25, "LU": 12, "IT": 8, "NL": 6},
}
_PROFILE_NAMES = list(_PROFILES)


def _profile_vector(name: str) -> np.ndarray:
    w = np.zeros(len(COUNTRIES))
    for c, v in _TAIL.items():
        w[COUNTRY_INDEX[c]] += v
    for c, v in _PROFILES[name].items():
        w[COUNTRY_INDEX[c]] += 3 * v
    w[BE] = 0
    return w / w.sum()


PROFILE_P = np.stack([_profile_vector(n) for n in _PROFILE_NAMES])
MUNI_PROFILE = np.array([_PROFILE_NAMES.index(m[4]) for m in MUNICIPALITIES])

# Share of foreign origin (Flemish definition) by region and year, for a base population drawn
# for another year than 2005 (docs/domain_facts.md 3.4): the 2005 value starts the simulation.
_FOREIGN_SHARE = {
    FL: {2005: 0.112, 2009: 0.146, 2017: 0.205, 2020: 0.23, 2023: 0.255, 2026: 0.275},
    BXL: {2005: 0.65, 2020: 0.72, 2026: 0.77},
    WAL: {2005: 0.31, 2020: 0.31, 2026: 0.34},
}


def foreign_share(region: int, year: int) -> float:
    a = _FOREIGN_SHARE[region]
    ys = sorted(a)
    return float(np.interp(year, ys, [a[y] for y in ys]))


# Immigration mix by period (relative weights by country), for foreigners arriving.
def immigration_mix(year: int) -> np.ndarray:
    w = {
        "NL": 8,
        "FR": 5,
        "MA": 11,
        "TR": 7,
        "PL": 4,
        "RO": 3,
        "BG": 1.5,
        "IT": 4,
        "ES": 3,
        "PT": 3,
        "DE": 4,
        "GB": 2.5,
        "IN": 7,
        "CN": 3,
        "US": 1.5,
        "BR": 2,
        "CD": 3,
        "CM": 2,
        "RU": 2,
        "SY": 2,
        "AF": 2.5,
        "IQ": 2,
        "ER": 1,
        "SO": 0.5,
        "GN": 1,
        "PS": 1,
        "UA": 0.5,
        "AL": 0.5,
        "XK": 0.5,
        "RS": 0.5,
        "GR": 1,
        "HU": 0.8,
        "SK": 0.8,
        "CZ": 0.5,
        "LT": 0.5,
        "LV": 0.3,
        "EE": 0.1,
        "HR": 0.3,
        "SI": 0.1,
        "AT": 0.4,
        "SE": 0.5,
        "DK": 0.4,
        "FI": 0.3,
        "IE": 0.4,
        "LU": 0.5,
        "PK": 0.8,
        "DZ": 1.2,
        "TN": 1,
        "IR": 0.5,
        "PH": 0.6,
        "TH": 0.5,
        "NG": 0.6,
        "GH": 0.4,
        "RW": 0.4,
        "MK": 0.4,
        "CY": 0.05,
        "MT": 0.05,
    }
    if year >= 2007:
        w["RO"] += 4 + (3 if year >= 2014 else 0)
        w["BG"] += 3 + (2 if year >= 2014 else 0)
    if 2009 <= year <= 2016:
        w["ES"] += 3
        w["IT"] += 2
        w["GR"] += 1.5
        w["PT"] += 2
    if year >= 2012:
        w["MA"] -= 3
    if 2015 <= year <= 2017:
        w["SY"] += 12
        w["AF"] += 4
        w["IQ"] += 5
        w["ER"] += 2
    if year >= 2018:
        w["SY"] += 2
        w["AF"] += 3
        w["PS"] += 2
        w["IN"] += 2
    if year >= 2022:
        w["UA"] += 25 if year == 2022 else 8
    v = np.zeros(len(COUNTRIES))
    for c, x in w.items():
        v[COUNTRY_INDEX[c]] = max(x, 0.0)
    return v / v.sum()


# Where immigrants of an origin settle: (region weights FL, BXL, WAL), then municipality by
# population weight x diversity x affinity of the municipality profile for that origin.
def _dest_weights(country: int) -> np.ndarray:
    prof = PROFILE_P[MUNI_PROFILE, country]  # affinity of each municipality's profile
    w = MUNI_WEIGHT * (0.3 + MUNI_DIVERSITY) * (0.2 + 12 * prof)
    return w / w.sum()


DEST_P = np.stack([_dest_weights(c) for c in range(len(COUNTRIES))])  # (country, muni)

# ---------------------------------------------------------------------------------- mortality
# Life expectancy at birth, Belgium (Statbel, docs/domain_facts.md 3.5; 2005-2015 and 2021+ rounded).
_E0 = {
    "M": {
        2000: 75.1,
        2005: 76.2,
        2010: 77.5,
        2015: 78.7,
        2016: 78.8,
        2018: 79.2,
        2019: 79.6,
        2020: 78.6,
        2021: 79.3,
        2022: 79.7,
        2023: 80.0,
        2024: 80.2,
        2027: 80.6,
    },
    "F": {
        2000: 81.1,
        2005: 82.0,
        2010: 82.6,
        2015: 83.4,
        2016: 83.7,
        2018: 83.7,
        2019: 84.0,
        2020: 83.1,
        2021: 83.9,
        2022: 84.0,
        2023: 84.3,
        2024: 84.4,
        2027: 84.8,
    },
}
# Mortality level of each region relative to Belgium (Flanders ~ +0.9 year, Wallonia ~ -1.5).
REGION_MORTALITY = np.array([0.905, 0.98, 1.155])
_GOMPERTZ_B = {"M": 0.0935, "F": 0.0990}


def gompertz_rates(ages: np.ndarray, level: float, sex: str) -> np.ndarray:
    """Central death rate: infant + child/young adult hump + Gompertz senescence."""
    b = _GOMPERTZ_B[sex]
    infant = np.where(ages < 1, 0.0036 if sex == "M" else 0.0030, 0.0)
    young = 0.00012 + (0.0004 if sex == "M" else 0.00012) * np.exp(-(((ages - 22.0) / 6.0) ** 2))
    return infant + young + level * np.exp(b * (ages - 60.0))


def life_expectancy(level: float, sex: str) -> float:
    ages = np.arange(0, 121, dtype=float)
    m = gompertz_rates(ages, level, sex)
    q = 1 - np.exp(-m)
    lx = np.concatenate([[1.0], np.cumprod(1 - q)])
    return float(((lx[:-1] + lx[1:]) / 2).sum())


def _solve_level(target: float, sex: str) -> float:
    lo, hi = 1e-4, 0.1
    for _ in range(60):
        mid = np.sqrt(lo * hi)
        if life_expectancy(mid, sex) > target:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


# the mortality the ancestors died of: adult mortality of Belgium around 1950, as the model's
# life expectancy at birth (men 66, women 71; the model's infant mortality is that of today)
_ANCESTOR_E0 = {"M": 66.0, "F": 71.0}
_ANCESTOR_LEVEL: dict[str, float] = {}


def ancestor_deaths(
    rng: np.random.Generator, birth: np.ndarray, lo: np.ndarray, hi: np.ndarray, female: bool
) -> np.ndarray:
    """Death dates in ``[lo, hi)``, drawn from mid-20th-century mortality truncated to that span
    (not evenly: an ancestor born in 1895 dies at about 70, not at any age up to 125)."""
    sex = "F" if female else "M"
    if sex not in _ANCESTOR_LEVEL:
        _ANCESTOR_LEVEL[sex] = _solve_level(_ANCESTOR_E0[sex], sex)
    grid = np.arange(0, 132, dtype=float)
    # survival to each whole age, made strictly decreasing so that it can be inverted
    s = np.concatenate([[1.0], np.exp(-np.cumsum(gompertz_rates(grid[:-1], _ANCESTOR_LEVEL[sex], sex)))])
    s = s - grid * 1e-12
    b = birth.astype(np.int64)
    s_lo = np.interp((lo - b) / YEAR_DAYS, grid, s)
    s_hi = np.interp((hi - b) / YEAR_DAYS, grid, s)
    at = s_lo - rng.random(len(b)) * (s_lo - s_hi)
    age = np.interp(-at, -s, grid)
    return np.clip(b + (age * YEAR_DAYS).astype(np.int64), lo, np.maximum(lo, hi - 1))


def _e0_target(sex: str, year: int) -> float:
    a = _E0[sex]
    ys = sorted(a)
    return float(np.interp(year, ys, [a[y] for y in ys]))


_LEVEL_CACHE: dict[tuple[str, int], float] = {}


def mortality_level(sex: str, year: int) -> float:
    key = (sex, year)
    if key not in _LEVEL_CACHE:
        _LEVEL_CACHE[key] = _solve_level(_e0_target(sex, year), sex)
    return _LEVEL_CACHE[key]


def death_rate(age: np.ndarray, female: np.ndarray, region: np.ndarray, year: int) -> np.ndarray:
    m = np.where(
        female,
        gompertz_rates(age, mortality_level("F", year), "F"),
        gompertz_rates(age, mortality_level("M", year), "M"),
    )
    return np.minimum(m * REGION_MORTALITY[region], 5.0)


def survival(age: np.ndarray, female: np.ndarray, year: int = 1990) -> np.ndarray:
    """Probability to survive from birth to ``age`` under the mortality of ``year``."""
    grid = np.arange(0, 131, dtype=float)
    out = np.empty(len(age))
    for sex, mask in (("F", female), ("M", ~female)):
        m = gompertz_rates(grid, mortality_level(sex, year), sex)
        s = np.concatenate([[1.0], np.exp(-np.cumsum(m))])
        out[mask] = np.interp(age[mask], np.arange(0, 132), s)
    return out


# ---------------------------------------------------------------------------------- fertility
_TFR = {
    2000: 1.67,
    2005: 1.76,
    2008: 1.86,
    2010: 1.84,
    2012: 1.79,
    2015: 1.70,
    2017: 1.65,
    2019: 1.60,
    2021: 1.60,
    2022: 1.53,
    2023: 1.47,
    2025: 1.42,
    2027: 1.40,
}


def total_fertility(year: int) -> float:
    ys = sorted(_TFR)
    return float(np.interp(year, ys, [_TFR[y] for y in ys]))


_FERT_AGES = np.arange(0, 60)
FERTILITY_SHAPE = np.where(
    (_FERT_AGES >= 15) & (_FERT_AGES <= 49),
    np.exp(-0.5 * ((_FERT_AGES - 30.5) / 5.2) ** 2),
    0.0,
)
FERTILITY_SHAPE = FERTILITY_SHAPE / FERTILITY_SHAPE.sum()
# multiplicative fine tuning (calibrated against births in Flanders 2019; 0.80 before demography-9, whose
# later unions of the young lowered the births)
FERTILITY_TUNING = 0.85

# ---------------------------------------------------------------------------------- base age pyramid
# Sizes of the Belgian birth cohorts (thousands of births per year).
_COHORT = {
    1880: 157,
    1905: 154,
    1913: 154,
    1915: 88,
    1918: 88,
    1920: 132,
    1930: 135,
    1935: 130,
    1940: 120,
    1944: 120,
    1946: 150,
    1950: 150,
    1955: 155,
    1960: 158,
    1964: 162,
    1967: 145,
    1972: 130,
    1976: 120,
    1985: 117,
    1992: 124,
    1996: 118,
    2000: 115,
    2004: 116,
    2008: 128,
    2010: 129,
    2015: 122,
    2019: 117,
    2022: 114,
    2026: 110,
}


def _cohort_size(birth_year: np.ndarray) -> np.ndarray:
    ys = sorted(_COHORT)
    return np.interp(birth_year, ys, [_COHORT[y] for y in ys])


def age_weights(region: int, year: int) -> np.ndarray:
    """Relative number of residents by single age 0..105 on 1 January ``year``."""
    ages = np.arange(0, 106, dtype=float)
    surv = 0.5 * (
        survival(ages, np.zeros(len(ages), bool), year - 40)
        + survival(ages, np.ones(len(ages), bool), year - 40)
    )
    # migration surplus accumulated by age (more immigrants at young working ages)
    mig = 1 + (0.10 + 0.004 * (year - 2005)) * np.clip((ages - 18) / 15, 0, 1) * np.exp(
        -np.clip(ages - 45, 0, None) / 40
    )
    w = _cohort_size(year - ages) * surv * mig
    if region == BXL:
        w *= (
            np.where(ages < 10, 1.2, 1.0)
            * np.where((ages >= 22) & (ages < 45), 1.35, 1.0)
            * np.where(ages >= 65, 0.78, 1.0)
        )
    elif region == WAL:
        w *= np.where(ages < 18, 1.05, 1.0) * np.where(ages >= 65, 0.97, 1.0)
    else:
        w *= np.where(ages < 18, 0.97, 1.0) * np.where(ages >= 65, 1.03, 1.0)
    return w / w.sum()


def foreign_age_profile(ages: np.ndarray) -> np.ndarray:
    return np.interp(
        ages,
        [0, 5, 12, 18, 30, 45, 55, 65, 75, 85, 100],
        [1.75, 1.65, 1.45, 1.35, 1.4, 1.1, 0.8, 0.5, 0.32, 0.25, 0.2],
    )


def asylum_count(y: int) -> float:
    a = {
        2004: 15000,
        2005: 12500,
        2008: 12000,
        2010: 19000,
        2011: 26000,
        2013: 15000,
        2015: 39000,
        2016: 15000,
        2018: 19000,
        2019: 23000,
        2020: 13000,
        2021: 20000,
        2022: 32000,
        2023: 30000,
        2025: 26000,
        2027: 24000,
    }
    ys = sorted(a)
    return float(np.interp(y, ys, [a[k] for k in ys]))
