"""Code lists of the warehouse contract (docs/domain_facts.md sections 1, 2, 4, 5, 6).

The synthetic warehouse (cohort/warehouse/) draws many codes by their index in these lists: a
reordered list keeps the warehouse valid but changes its bytes for a given seed."""

from datetime import date


def code_list(name: str) -> tuple[str, ...]:
    """The codes of the code list ``name`` of this module (``RESIDENCE_REASON``, ``STATUS_FLAGS``, ...), in
    its order: a dict's keys or a tuple's items. A spec names its code lists this way (``codes:`` of a
    variable, ``members:`` of a group; cohort/projects/spec.py), so each list is written here only."""
    value = globals().get(name) if name.isupper() else None
    if not isinstance(value, dict | tuple):
        raise ValueError(f"no code list {name!r} in cohort.classifications.codes")
    return tuple(str(code) for code in value)


SEX: dict[str, str] = {"M": "Male", "F": "Female"}

# --- the situation of a neighbouring year in a mobility table (cohort/projects/mobility.py): the
# vocabulary of its marker columns next_status / prev_status
NEXT_MARKERS: tuple[str, ...] = (
    "observed",
    "not_yet_observed",
    "not_in_population",
    "died",
    "emigrated",
    "aged_out",
)
PREV_MARKERS: tuple[str, ...] = ("observed", "not_yet_observed", "not_in_population", "immigrated", "aged_in")

# --- socio-economic position, DWH nomenclature since 2003 ("Nomenc"), one position per person
# on the last day of each quarter. Codes marked (u) are reconstructions (docs/domain_facts.md 1.3).
NOMENCLATURE: dict[str, str] = {
    "111": "Employee, one salaried job",
    "112": "Employee, several salaried jobs",
    "121": "Self-employed, main occupation",
    "122": "Self-employed, secondary occupation",
    "123": "Self-employed after pension age",
    "131": "Helper, main occupation",
    "132": "Helper, secondary occupation",
    "133": "Helper after pension",
    "141": "Employee + self-employed, main job employee",  # (u)
    "142": "Employee + self-employed, main job self-employed",  # (u)
    "143": "Employee + helper, main job helper",  # (u)
    "211": "Job seeker with benefit after full-time job",  # (u)
    "212": "Job seeker with benefit after voluntary part-time job",  # (u)
    "213": "Job seeker after studies (waiting/integration allowance)",  # (u)
    "214": "Job seeker without benefit, registered at a PES",  # (u) reconstruction for non-benefit job seekers
    "31": "Full career break / full-time time credit",  # (u)
    "32": "Exempted from registration as job seeker",
    "331": "Integration income (leefloon)",
    "332": "Financial social aid",
    "34": "Pensioner, not working",
    "35": "Early retirement / SWT / availability before pension",  # (u)
    "36": "Child entitled to child benefit",
    "371": "Incapacity known at the health insurance funds",
    "372": "Incapacity, occupational accident",  # (u)
    "373": "Incapacity, occupational disease",  # (u)
    "38": "Disability income-replacement allowance (IVT)",  # (u)
    "39": "Other",  # (u)
    "4": "Unknown",
}
NOMENCLATURE_MAIN_GROUP = {"1": "working", "2": "job seeker", "3": "inactive", "4": "unknown"}

# Derived status flags of the DWH (seed 004, footnote 1), stored in sep_quarter.status_flags as
# bits: bit i set means STATUS_FLAGS[i] holds. Order is part of the contract; append only.
STATUS_FLAGS: tuple[str, ...] = (
    "activation_rva",  # activering door de RVA
    "working_with_income_guarantee",  # werkend + inkomensgarantieuitkering (IGU)
    "working_with_unemployment_benefit",  # werkend + uitkeringsgerechtigd volledig werkloos
    "working_with_social_assistance",  # werkend + leefloon of financiele hulp
    "working_with_full_career_break",
    "working_with_partial_career_break",
    "working_with_full_swt",  # werkloosheid met bedrijfstoeslag / brugpensioen, voltijds
    "working_with_half_swt",
    "working_with_full_availability",  # terbeschikkingstelling voor het pensioen
    "working_with_partial_availability",
    "working_with_pension",
    "working_with_disability_allowance",
    "working_with_invalidity",
    "working_with_health_fund_incapacity",
    "working_with_occupational_disease",
    "working_with_occupational_accident",
    "local_employment_agency",  # PWA
    "social_assistance_with_disability_allowance",
    "social_assistance_with_invalidity",
    "social_assistance_with_health_fund_incapacity",
    "social_assistance_with_occupational_disease",
    "social_assistance_with_occupational_accident",
    "social_assistance_with_child_benefit",
    "exempted_with_disability_allowance",
    "exempted_with_occupational_disease",
    "exempted_with_occupational_accident",
    "exempted_with_social_assistance",
    "older_job_seeker",
    "exempted_for_training",
    "exempted_family_social",
    "exempted_other",
    "registered_at_regional_pes",  # werkzoekend en gekend bij een gewestelijke dienst
    "known_at_rva",
)

# --- household (docs/domain_facts.md 2)
LIPRO: dict[str, str] = {
    "SING": "Single (one-person household)",
    "MAR0": "Married, no child",
    "MAR+": "Married, with child(ren)",
    "CMAR": "Child of married couple",
    "UNM0": "Unmarried cohabitant, no child",
    "UNM+": "Unmarried cohabitant with child(ren)",
    "CUNM": "Child of unmarried couple",
    "H1PA": "Head of one-parent family",
    "C1PA": "Child in one-parent family",
    "NFRP": "Other household member (non-family related)",
    "OTHR": "Other persons",
    "COLL": "Living in a collective household",
}
RELATION_TO_REFERENCE: dict[str, str] = {
    "01": "Reference person",
    "02": "Spouse",
    "03": "Son/daughter",
    "04": "Son/daughter-in-law",
    "05": "Grandchild",
    "06": "Father/mother",
    "07": "Father/mother-in-law",
    "08": "Grandfather/grandmother",
    "09": "Brother/sister",
    "10": "Brother/sister-in-law",
    "11": "Other relative",
    "12": "No family tie",
    "13": "Stepson/stepdaughter",
    "20": "Communities, homes (collective)",
    "21": "Partner",
}
CIVIL_STATUS: dict[str, str] = {
    "1": "Never married",
    "2": "Married",
    "3": "Widowed",
    "4": "Divorced",
    "5": "Separated",
}

# --- registers and residence (National Register)
REGISTERS: dict[str, str] = {
    "population": "Population register (Belgians and settled foreigners)",
    "foreigners": "Foreigners register",
    "waiting": "Waiting register (asylum seekers)",
}
#: the registers of the residential population (seeds 002 and 004): the waiting register of asylum
#: seekers is not part of it; compiled into the macro ``resident_register`` (classes.MACROS)
RESIDENT_REGISTERS: tuple[str, ...] = ("population", "foreigners")
RESIDENCE_REASON: dict[str, str] = {  # IT202 reason of residence (docs/domain_facts.md 3.4)
    "1": "Family reunification / cohabitation / adoption",
    "2": "Asylum / international protection",
    "3": "Regularisation",
    "4": "Employee",
    "5": "Other",
    "6": "Student",
    "7": "Long-term resident",
    "8": "Special-status foreigner",
}

REGIONS = {"02000": "Flemish Region", "03000": "Walloon Region", "04000": "Brussels-Capital Region"}
PROVINCES: dict[str, tuple[str, str]] = {  # NIS province code -> (name, region)
    "10000": ("Antwerpen", "02000"),
    "20001": ("Vlaams-Brabant", "02000"),
    "30000": ("West-Vlaanderen", "02000"),
    "40000": ("Oost-Vlaanderen", "02000"),
    "70000": ("Limburg", "02000"),
    "20002": ("Brabant wallon", "03000"),
    "50000": ("Hainaut", "03000"),
    "60000": ("Liège", "03000"),
    "80000": ("Luxembourg", "03000"),
    "90000": ("Namur", "03000"),
    "21000": ("Brussels-Capital (no province)", "04000"),
}
# Arrondissements (NIS xx000) and their province; Flemish ones after docs/domain_facts.md 4.1 (unconfirmed list).
ARRONDISSEMENTS: dict[str, str] = {
    "11000": "10000",
    "12000": "10000",
    "13000": "10000",
    "23000": "20001",
    "24000": "20001",
    "31000": "30000",
    "32000": "30000",
    "33000": "30000",
    "34000": "30000",
    "35000": "30000",
    "36000": "30000",
    "37000": "30000",
    "38000": "30000",
    "41000": "40000",
    "42000": "40000",
    "43000": "40000",
    "44000": "40000",
    "45000": "40000",
    "46000": "40000",
    "71000": "70000",
    "72000": "70000",
    "73000": "70000",
    "25000": "20002",
    "51000": "50000",
    "52000": "50000",
    "53000": "50000",
    "55000": "50000",
    "56000": "50000",
    "57000": "50000",
    "58000": "50000",
    "61000": "60000",
    "62000": "60000",
    "63000": "60000",
    "64000": "60000",
    "81000": "80000",
    "82000": "80000",
    "83000": "80000",
    "84000": "80000",
    "85000": "80000",
    "91000": "90000",
    "92000": "90000",
    "93000": "90000",
    "21000": "21000",
}


def province_of_nis(nis: str) -> str:
    """Province NIS code of a municipality NIS code (first two digits give the arrondissement)."""
    return ARRONDISSEMENTS[nis[:2] + "000"]


def region_of_nis(nis: str) -> str:
    return PROVINCES[province_of_nis(nis)][1]


# --- countries and the EU (docs/domain_facts.md 4.2). ISO 3166 alpha-2.
EU_ACCESSION: dict[str, date] = {
    **{c: date(1958, 1, 1) for c in ("BE", "DE", "FR", "IT", "LU", "NL")},
    **{c: date(1973, 1, 1) for c in ("DK", "IE", "GB")},
    "GR": date(1981, 1, 1),
    "ES": date(1986, 1, 1),
    "PT": date(1986, 1, 1),
    **{c: date(1995, 1, 1) for c in ("AT", "FI", "SE")},
    **{c: date(2004, 5, 1) for c in ("CY", "CZ", "EE", "HU", "LV", "LT", "MT", "PL", "SK", "SI")},
    "BG": date(2007, 1, 1),
    "RO": date(2007, 1, 1),
    "HR": date(2013, 7, 1),
}
EU_EXIT: dict[str, date] = {"GB": date(2020, 1, 31)}
EU15: frozenset[str] = frozenset(
    ("BE", "DE", "FR", "IT", "LU", "NL", "DK", "IE", "GB", "GR", "ES", "PT", "AT", "FI", "SE")
)
SOUTH_EU15: frozenset[str] = frozenset(("IT", "ES", "PT", "GR"))
NEIGHBOURS: frozenset[str] = frozenset(("DE", "FR", "LU", "NL"))


def eu_members(on: date) -> frozenset[str]:
    """Member states of the European Union on a given date."""
    return frozenset(
        c for c, d in EU_ACCESSION.items() if d <= on and not (c in EU_EXIT and EU_EXIT[c] <= on)
    )


# Countries that appear in the synthetic warehouse (origin groups of Flanders and Belgium),
# plus any ISO code a real extract brings: the contract checks the shape, not this list.
COUNTRIES: dict[str, str] = {
    "BE": "Belgium",
    "NL": "Netherlands",
    "FR": "France",
    "DE": "Germany",
    "LU": "Luxembourg",
    "GB": "United Kingdom",
    "IT": "Italy",
    "ES": "Spain",
    "PT": "Portugal",
    "GR": "Greece",
    "PL": "Poland",
    "RO": "Romania",
    "BG": "Bulgaria",
    "AT": "Austria",
    "SE": "Sweden",
    "DK": "Denmark",
    "FI": "Finland",
    "IE": "Ireland",
    "CZ": "Czechia",
    "SK": "Slovakia",
    "HU": "Hungary",
    "LT": "Lithuania",
    "LV": "Latvia",
    "EE": "Estonia",
    "SI": "Slovenia",
    "HR": "Croatia",
    "CY": "Cyprus",
    "MT": "Malta",
    "MA": "Morocco",
    "TR": "Turkey",
    "DZ": "Algeria",
    "TN": "Tunisia",
    "CD": "DR Congo",
    "RW": "Rwanda",
    "CM": "Cameroon",
    "GN": "Guinea",
    "SY": "Syria",
    "AF": "Afghanistan",
    "IQ": "Iraq",
    "IR": "Iran",
    "RU": "Russia",
    "UA": "Ukraine",
    "AL": "Albania",
    "XK": "Kosovo",
    "RS": "Serbia",
    "MK": "North Macedonia",
    "IN": "India",
    "CN": "China",
    "PK": "Pakistan",
    "BR": "Brazil",
    "US": "United States",
    "ER": "Eritrea",
    "SO": "Somalia",
    "PS": "Palestine",
    "TH": "Thailand",
    "PH": "Philippines",
    "NG": "Nigeria",
    "GH": "Ghana",
}

# --- work (docs/domain_facts.md 4.3, 4.4)
NACE_SECTIONS: dict[str, str] = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam",
    "E": "Water supply, waste",
    "F": "Construction",
    "G": "Wholesale and retail trade",
    "H": "Transportation and storage",
    "I": "Accommodation and food",
    "J": "Information and communication",
    "K": "Finance and insurance",
    "L": "Real estate",
    "M": "Professional, scientific and technical",
    "N": "Administrative and support services",
    "O": "Public administration and defence",
    "P": "Education",
    "Q": "Human health and social work",
    "R": "Arts, entertainment and recreation",
    "S": "Other services",
    "T": "Households as employers",
    "U": "Extraterritorial organisations",
}
# NACE division (2 digits) -> section, NACE Rev. 2 structure.
_NACE_RANGES = [
    ("A", 1, 3),
    ("B", 5, 9),
    ("C", 10, 33),
    ("D", 35, 35),
    ("E", 36, 39),
    ("F", 41, 43),
    ("G", 45, 47),
    ("H", 49, 53),
    ("I", 55, 56),
    ("J", 58, 63),
    ("K", 64, 66),
    ("L", 68, 68),
    ("M", 69, 75),
    ("N", 77, 82),
    ("O", 84, 84),
    ("P", 85, 85),
    ("Q", 86, 88),
    ("R", 90, 93),
    ("S", 94, 96),
    ("T", 97, 98),
    ("U", 99, 99),
]


def nace_section(nace: str) -> str:
    """NACE-BEL section letter of a NACE-BEL code (2 to 5 digits)."""
    division = int(nace[:2])
    for section, lo, hi in _NACE_RANGES:
        if lo <= division <= hi:
            return section
    raise ValueError(f"no NACE section for code {nace!r}")


JOINT_COMMITTEES: dict[str, str] = {
    "100": "Residual committee, blue-collar",
    "118": "Food industry, blue-collar",
    "124": "Construction",
    "140": "Transport and logistics",
    "200": "Residual committee, white-collar (from 2015 Q2)",
    "218": "Residual committee, white-collar (until 2015 Q1)",
    "220": "Food industry, white-collar",
    "302": "Hotels and restaurants",
    "318": "Family and elderly care",
    "322": "Temporary agency work and service vouchers",
    "330": "Health care",
    "331": "Flemish welfare and health",
    "335": "Services to business",
    "336": "Liberal professions",
    "337": "Residual non-profit",
    "999": "Public sector (no joint committee)",
}
WORKER_CLASS: dict[str, str] = {
    "1": "Blue-collar",
    "2": "White-collar",
    "3": "Civil servant",
    "4": "Apprentice / student",
}
STATUTE: dict[str, str] = {"C": "Contractual", "S": "Statutory"}
# DMFA worker code (werknemerscode), the finer code beside the worker class (werknemersklasse):
# the codes the synthetic warehouse uses, a subset of the DMFA list.
WORKER_CODE: dict[str, str] = {
    "015": "Blue-collar worker",
    "035": "Blue-collar apprentice",
    "439": "White-collar apprentice",
    "495": "White-collar worker",
    "675": "Statutory civil servant",
    "840": "Student, white-collar",
    "841": "Student, blue-collar",
}
PERFORMANCE_TYPE: dict[str, str] = {
    "FT": "Full-time",
    "PT": "Part-time",
    "PTV": "Part-time with income guarantee",
}
EMPLOYER_SIZE_CLASS: dict[str, str] = {  # RSZ dimension code (werkgeversklasse)
    "0": "No employees at year end",
    "1": "1-4",
    "2": "5-9",
    "3": "10-19",
    "4": "20-49",
    "5": "50-99",
    "6": "100-199",
    "7": "200-499",
    "8": "500-999",
    "9": "1000 or more",
}
SELF_EMPLOYED_CATEGORY: dict[str, str] = {
    "main": "Main occupation",
    "secondary": "Secondary occupation",
    "pension": "After pension",
}

# --- benefits (benefit_quarter.benefit)
BENEFITS: dict[str, str] = {
    "unemployment": "Unemployment benefit (RVA)",
    "integration_income": "Integration income (leefloon, POD MI)",
    "social_aid": "Financial social aid (OCMW)",
    "incapacity": "Primary incapacity (health insurance fund, RIZIV)",
    "invalidity": "Invalidity (health insurance fund, RIZIV)",
    "maternity": "Maternity, paternity or adoption leave (RIZIV)",
    "occupational_disease": "Occupational disease (FBZ/Fedris)",
    "occupational_accident": "Occupational accident (FAO/Fedris)",
    "disability_allowance": "Disability allowance (FOD SZ: IVT/IT/THAB)",
    "pension": "Retirement pension",
    "early_retirement": "Unemployment with company supplement (SWT, brugpensioen)",
    "career_break": "Career break / time credit",
    "child_benefit": "Child benefit (paid to the recipient, one row per child)",
}
# RVA career-break file (loopbaanonderbreking en tijdskrediet): the detail of a career-break spell
CAREER_BREAK_SECTOR: dict[str, str] = {
    "private": "Private sector (time credit, thematic leave)",
    "public": "Public services (career break)",
    "education": "Education (career break)",
}
CAREER_BREAK_REASON: dict[str, str] = {  # de reden
    "time_credit": "Time credit (private sector)",
    "career_break": "Ordinary career break (public sector and education)",
    "thematic_leave": "Thematic leave (parental leave, medical assistance, palliative care)",
    "end_of_career": "End-of-career reduction (landingsbaan), 50 or older",
}
CAREER_BREAK_MOTIVE: dict[str, str] = {  # het motief
    "none": "Without motive",
    "child_care": "Care for a child",
    "family_care": "Care for a seriously ill family member",
    "palliative_care": "Palliative care",
    "training": "Recognised training",
}
CAREER_BREAK_ADJUSTMENT: dict[str, str] = {  # de aard van de verhoging/verlaging van de uitkering
    "none": "Basic allowance",
    "single_parent": "Increase for a single parent",
    "age_50": "Increase from age 50",
    "seniority": "Increase for seniority (5 years with the employer)",
    "income_reduction": "Reduction for cumulation with other income",
}
# RVA activation file (ACTIVA, SINE, work experience): the status of the worker before activation
ACTIVATION_PRIOR_STATUS: dict[str, str] = {
    "full_unemployment_benefit": "Fully unemployed with an unemployment benefit",
    "integration_allowance": "Young job seeker with a waiting / integration allowance",
    "integration_income": "Entitled to the integration income (leefloon) or social aid of the OCMW",
    "other_job_seeker": "Other registered job seeker",
}
# POD MI: the kind of the financial social aid (benefit social_aid) of the OCMW
SOCIAL_AID_KIND: dict[str, str] = {
    "equivalent_integration_income": "Equivalent integration income (equivalent leefloon): foreigners without a right to the integration income",
    "other_financial_aid": "Other financial social aid",
}
DISABILITY_ALLOWANCE_TYPE = {
    "IVT": "Income replacement",
    "IT": "Integration allowance",
    "THAB": "Assistance to the elderly",
}
MEDICAL_CODE_TYPE = {"ICD10": "ICD-10 chapter", "ICPC2": "ICPC-2 chapter"}
# The health fund's incapacity spells (RIZIV): the benefits of benefit_quarter that carry the incapacity
# file's dates (incapacity_start, invalidity_start; cohort/classifications/incapacity.py), and the types of
# the labour reserve's incapacity spell (seed 004 §3, §14: maternity rest is one of them)
HEALTH_FUND_INCAPACITY: tuple[str, ...] = ("incapacity", "invalidity", "maternity")

INCAPACITY_DAYS_TYPE = {
    "1": "Primary incapacity",
    "2": "Invalidity",
    "3": "Maternity protection",
    "4": "Partial resumption of work",
}

# --- job seekers (docs/domain_facts.md 5.1)
JOBSEEKER_CATEGORY: dict[str, str] = {
    "00": "Fully unemployed with benefit (WZUA)",
    "02": "Young people in integration period (BIT)",
    "03": "Voluntarily registered, no benefit",
    "05": "Supported by OCMW/CPAS",
    "06": "Recognised as disabled",
    "07": "Voluntary part-time worker",
    "14": "Excluded from benefits",
}
PES: dict[str, str] = {
    "VDAB": "Flanders",
    "FOREM": "Wallonia",
    "ACTIRIS": "Brussels",
    "ADG": "German-speaking community",
}

# --- education
EDUCATION_LEVEL: dict[str, str] = {  # ISCED 2011 levels grouped as the DWH publishes them
    "1": "Primary",
    "2": "Lower secondary",
    "3": "Upper secondary",
    "4": "Post-secondary non-tertiary",
    "5": "Short-cycle tertiary",
    "6": "Bachelor",
    "7": "Master",
    "8": "Doctorate",
}
EDUCATION_DOMAIN: dict[str, str] = {  # ISCED-F 2013 broad fields
    "00": "Generic",
    "01": "Education",
    "02": "Arts and humanities",
    "03": "Social sciences",
    "04": "Business, administration and law",
    "05": "Natural sciences",
    "06": "ICT",
    "07": "Engineering, manufacturing and construction",
    "08": "Agriculture",
    "09": "Health and welfare",
    "10": "Services",
}
ISSUER_TYPE: dict[str, str] = {
    "SEC": "Secondary school",
    "HO": "University college / university",
    "VWO": "Adult education",
    "VDAB": "VDAB / public employment service",
    "SYN": "Syntra (entrepreneurship training)",
    "BUI": "Foreign, recognised",
}

# --- VDAB (docs/domain_facts.md 5.2-5.4)
WORKPLACE_LEARNING_TYPE: dict[str, str] = {
    "IBO": "Individuele beroepsopleiding",
    "BIS": "Beroepsinlevingsstage",
    "OOS": "Opleiding en opleidingsstage",
    "BVS": "Beroepsverkennende stage",
    "ACT": "Activeringsstage",
    "WES": "Werkervaringsstage",
}
TRAJECTORY_PROVIDER: dict[str, str] = {
    "VDAB": "VDAB",
    "TIBB": "Tender intensive guidance",
    "TIW": "Tender work-place learning",
    "WIJ": "Work-immersion (<25)",
    "OCMW": "OCMW / TWE",
}
SERVICE_NEED: dict[str, str] = {
    "1": "Self-reliant",
    "2": "Light guidance",
    "3": "Intensive guidance",
    "4": "Not deployable long-term",
}

# --- agency input lists
FLEMISH_STAFF_LEVEL = {
    "A": "Level A (master)",
    "B": "Level B (bachelor)",
    "C": "Level C (secondary)",
    "D": "Level D",
}
FLEMISH_STAFF_POSITION = {"S": "Statutory", "C": "Contractual"}
WORK_REGIME = {"FT": "Full-time", "PT": "Part-time"}
