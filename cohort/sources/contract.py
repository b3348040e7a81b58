"""The warehouse contract: every source table, its columns and their meaning, as Pandera
schemas (polars backend).

The synthetic warehouse writes exactly these tables, and a real extract plugs in by
providing a folder with the same tables (``COHORT_WAREHOUSE_DIR``). Layout on disk:
``<warehouse>/<table>/data.parquet``, or ``<warehouse>/<table>/year=YYYY/data.parquet`` for the
tables marked ``by_year`` (those files carry a ``year`` column themselves).

Conventions: ``insz`` is the 11-digit social-security number (National Register or BIS
number) as text; dates are day-level ``Date`` values (coarsening is the projects' job);
amounts are euro; codes are text from ``cohort.classifications.codes``; ``valid_to`` is
exclusive and null while the state lasts.
"""

from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from cohort.classifications import codes


def _c(dtype, doc: str, nullable: bool = False, isin=None, checks=None, unique: bool = False) -> pa.Column:
    all_checks = list(checks or [])
    if isin is not None:
        all_checks.append(pa.Check.isin(list(isin)))
    return pa.Column(dtype, checks=all_checks or None, nullable=nullable, description=doc, unique=unique)


INSZ = r"^\d{11}$"
ENTERPRISE = r"^\d{10}$"
NIS = r"^\d{5}$"
ISO2 = r"^[A-Z]{2}$"


def insz(
    doc: str = "Social-security number (INSZ: National Register or BIS number), 11 digits",
    nullable: bool = False,
    unique: bool = False,
) -> pa.Column:
    return _c(pl.String, doc, nullable=nullable, checks=[pa.Check.str_matches(INSZ)], unique=unique)


def country(doc: str, nullable: bool = False) -> pa.Column:
    return _c(pl.String, doc + " (ISO 3166 alpha-2)", nullable=nullable, checks=[pa.Check.str_matches(ISO2)])


# Plausible bounds of amounts and counts: a value outside is a delivery error (a wage in cents, a
# sign flipped, a field shifted), not a rare person. Wide enough for the real top of each
# distribution; the synthetic warehouse stays far inside (its maxima at scale 0.01: quarterly
# gross wage 42 k, daily wage 647, self-employed income 358 k, benefit 6.5 k a quarter).
MAX_QUARTER_WAGE = 1_000_000.0  # euro of ordinary gross pay in one quarter, one job
MAX_DAILY_WAGE = 20_000.0
MAX_SELF_EMPLOYED_INCOME = 25_000_000.0  # euro a year
MAX_QUARTER_BENEFIT = 100_000.0
MAX_HOUSEHOLD_SIZE = 1_000  # collective households (care homes, convents) included

YEAR = _c(pl.Int16, "Calendar year of the observation", checks=[pa.Check.in_range(1900, 2100)])
QUARTER = _c(
    pl.Int8, "Quarter of the year (situation on its last day, or the quarter total)", isin=[1, 2, 3, 4]
)


@dataclass(frozen=True)
class SourceTable:
    """One table of the contract."""

    name: str
    description: str
    schema: pa.DataFrameSchema
    key: tuple[str, ...]
    by_year: bool = False
    date_columns: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)


def _table(
    name: str, description: str, columns: dict[str, pa.Column], key: tuple[str, ...], by_year: bool = False
) -> SourceTable:
    schema = pa.DataFrameSchema(columns, name=name, description=description, strict=True, coerce=False)
    dates = tuple(c for c, col in columns.items() if col.dtype is not None and str(col.dtype) == "Date")
    return SourceTable(name, description, schema, key, by_year, dates)


TABLES: dict[str, SourceTable] = {}


def _add(t: SourceTable) -> SourceTable:
    TABLES[t.name] = t
    return t


# ---------------------------------------------------------------- National Register
PERSON = _add(
    _table(
        "person",
        "One row per person ever registered (population, foreigners or waiting register) or known to social security through a BIS number.",
        {
            "insz": insz(unique=True),
            "birth_date": _c(pl.Date, "Date of birth"),
            "sex": _c(pl.String, "Sex: M or F", isin=list(codes.SEX)),
            "birth_country": country("Country of birth"),
            "first_nationality": country("First registered nationality (nationality at birth)"),
            "father_insz": insz("Father's INSZ; null when unknown (part of the immigrants)", nullable=True),
            "mother_insz": insz("Mother's INSZ; null when unknown (part of the immigrants)", nullable=True),
            "death_date": _c(pl.Date, "Date of death; null while alive", nullable=True),
            "is_bis": _c(
                pl.Boolean,
                "True for a BIS number (not in the National Register: frontier workers, non-residents, "
                "parents and grandparents who died before the register began in 1968)",
            ),
        },
        key=("insz",),
    )
)

NATIONALITY_HISTORY = _add(
    _table(
        "nationality_history",
        "Nationality spells: one row per person and nationality period (naturalisation starts a new spell).",
        {
            "insz": insz(),
            "nationality": country("Nationality"),
            "valid_from": _c(pl.Date, "First day of the nationality"),
            "valid_to": _c(pl.Date, "Day after the last day; null while current", nullable=True),
        },
        key=("insz", "valid_from"),
    )
)

RESIDENCE_HISTORY = _add(
    _table(
        "residence_history",
        "Main-residence spells: a Belgian municipality (NIS code) or a country abroad.",
        {
            "insz": insz(),
            "nis_code": _c(
                pl.String,
                "Municipality NIS code (5 digits; first two give the arrondissement, so the province and region follow); null when abroad",
                nullable=True,
                checks=[pa.Check.str_matches(NIS)],
            ),
            "country": country("Country of residence; BE when in Belgium"),
            "valid_from": _c(pl.Date, "First day at this residence"),
            "valid_to": _c(pl.Date, "Day after the last day; null while current", nullable=True),
        },
        key=("insz", "valid_from"),
    )
)

REGISTER_HISTORY = _add(
    _table(
        "register_history",
        "Register spells: population, foreigners or waiting register, with the reason of residence of foreigners.",
        {
            "insz": insz(),
            "register": _c(pl.String, "Register: " + ", ".join(codes.REGISTERS), isin=codes.REGISTERS),
            "valid_from": _c(pl.Date, "Date of entry in this register (inschrijving)"),
            "valid_to": _c(pl.Date, "Day after the last day; null while current", nullable=True),
            "residence_reason": _c(
                pl.String,
                "Reason of residence (IT202) for foreigners; null for Belgians",
                nullable=True,
                isin=codes.RESIDENCE_REASON,
            ),
            "decision_date": _c(pl.Date, "Date of the residence decision; null for Belgians", nullable=True),
        },
        key=("insz", "valid_from"),
    )
)

HOUSEHOLD_JAN1 = _add(
    _table(
        "household_jan1",
        "Household composition on 1 January of each year (gezinssamenstelling): one row per resident person and year.",
        {
            "year": YEAR,
            "insz": insz(),
            "household_id": _c(pl.Int64, "Household identifier, stable only within a year"),
            "reference_insz": insz("INSZ of the household's reference person"),
            "relation": _c(pl.String, "Relation to the reference person", isin=codes.RELATION_TO_REFERENCE),
            "household_size": _c(
                pl.Int16, "Number of household members", checks=[pa.Check.in_range(1, MAX_HOUSEHOLD_SIZE)]
            ),
            "lipro": _c(pl.String, "LIPRO household position", isin=codes.LIPRO),
            "civil_status": _c(pl.String, "Civil status", isin=codes.CIVIL_STATUS),
            "civil_status_date": _c(
                pl.Date, "Date of the last change of civil status; null if never changed", nullable=True
            ),
            "legal_cohabitation": _c(pl.Boolean, "Declared legal cohabitation (wettelijke samenwoning)"),
            "legal_cohabitation_start": _c(pl.Date, "Start of the legal cohabitation", nullable=True),
            "partner_insz": insz("INSZ of the spouse or partner in the household", nullable=True),
        },
        key=("year", "insz"),
        by_year=True,
    )
)

# ---------------------------------------------------------------- DWH positions and work
SEP_QUARTER = _add(
    _table(
        "sep_quarter",
        "Socio-economic position of the DWH nomenclature on the last day of each quarter, one per person known to social security, with the derived status flags.",
        {
            "year": YEAR,
            "quarter": QUARTER,
            "insz": insz(),
            "nomenclature": _c(
                pl.String, "Socio-economic position code (Nomenc, since 2003)", isin=codes.NOMENCLATURE
            ),
            "status_flags": _c(
                pl.Int64,
                "Derived status flags as bits, in the order of codes.STATUS_FLAGS (seed 004, footnote 1)",
                checks=[pa.Check.in_range(0, 2 ** len(codes.STATUS_FLAGS) - 1)],
            ),
        },
        key=("year", "quarter", "insz"),
        by_year=True,
    )
)

JOB_QUARTER = _add(
    _table(
        "job_quarter",
        "Salaried jobs (DMFA): one row per person, employer and quarter.",
        {
            "year": YEAR,
            "quarter": QUARTER,
            "insz": insz(),
            "employer_id": _c(
                pl.String,
                "Enterprise number of the employer (10 digits)",
                checks=[pa.Check.str_matches(ENTERPRISE)],
            ),
            "job_rank": _c(
                pl.Int8,
                "Order of importance of the job in the quarter (1 = main job)",
                checks=[pa.Check.ge(1)],
            ),
            "nace": _c(
                pl.String,
                "NACE-BEL activity code of the employer (5 digits)",
                checks=[pa.Check.str_matches(r"^\d{5}$")],
            ),
            "joint_committee": _c(
                pl.String, "Joint committee (paritair comité)", isin=codes.JOINT_COMMITTEES
            ),
            "worker_class": _c(pl.String, "Worker class (werknemersklasse)", isin=codes.WORKER_CLASS),
            "worker_code": _c(pl.String, "DMFA worker code (werknemerscode)", isin=codes.WORKER_CODE),
            "statute": _c(pl.String, "Statute: contractual or statutory", isin=codes.STATUTE),
            "contract_type": _c(
                pl.String, "Contract: I indefinite, F fixed term, T temporary agency", isin=["I", "F", "T"]
            ),
            "performance_type": _c(
                pl.String, "Performance type (prestatietype)", isin=codes.PERFORMANCE_TYPE
            ),
            "part_time_pct": _c(
                pl.Float64,
                "Part-time percentage (hours in contract / reference hours x 100)",
                checks=[pa.Check.in_range(0, 100)],
            ),
            "fte": _c(
                pl.Float64,
                "Full-time equivalent in the quarter, excluding assimilated days",
                checks=[pa.Check.in_range(0, 1.5)],
            ),
            "days": _c(pl.Int16, "Paid days in the quarter", checks=[pa.Check.in_range(0, 92)]),
            "gross_wage": _c(
                pl.Float64,
                "Ordinary gross pay in the quarter, euro",
                checks=[pa.Check.in_range(0, MAX_QUARTER_WAGE)],
            ),
            "daily_wage": _c(
                pl.Float64,
                "Average gross daily wage (full-time day equivalent), euro",
                checks=[pa.Check.in_range(0, MAX_DAILY_WAGE)],
            ),
            "employer_size_class": _c(
                pl.String, "Employer size class (RSZ dimension code)", isin=codes.EMPLOYER_SIZE_CLASS
            ),
            "service_vouchers": _c(pl.Boolean, "Job in the service-voucher system"),
            "maternity_leave": _c(pl.Boolean, "On maternity leave during the quarter"),
            "cross_border": _c(
                pl.Boolean, "Outgoing cross-border work (resident working abroad) or incoming frontier worker"
            ),
            "posted": _c(pl.Boolean, "Posted worker (gedetacheerd)"),
            "establishment_nace": _c(
                pl.String,
                "NACE-BEL activity code of the establishment unit (vestiging) where the person works "
                "(5 digits); null when the employer declared no establishment unit",
                nullable=True,
                checks=[pa.Check.str_matches(r"^\d{5}$")],
            ),
            # RVA activation file (ACTIVA, SINE, work experience), on the rows of an activated job
            "activation_prior_status": _c(
                pl.String,
                "Status of the worker before the activation; null when the job is not activated",
                nullable=True,
                isin=codes.ACTIVATION_PRIOR_STATUS,
            ),
            "activation_pct": _c(
                pl.Float64,
                "Working time of the activated job, percent of full time; null when not activated",
                nullable=True,
                checks=[pa.Check.in_range(0, 100)],
            ),
            "activation_start": _c(
                pl.Date, "Start of the activated employment; null when not activated", nullable=True
            ),
            "activation_end": _c(
                pl.Date,
                "End of the activated employment (exclusive, the planned end of the measure); null when not activated",
                nullable=True,
            ),
        },
        key=("year", "quarter", "insz", "employer_id"),
        by_year=True,
    )
)

SELF_EMPLOYED_QUARTER = _add(
    _table(
        "self_employed_quarter",
        "Self-employed activity (RSVZ): one row per person and quarter of affiliation.",
        {
            "year": YEAR,
            "quarter": QUARTER,
            "insz": insz(),
            "category": _c(pl.String, "Contribution category", isin=codes.SELF_EMPLOYED_CATEGORY),
            "quality": _c(
                pl.String, "Quality: self-employed (S) or helper / co-working spouse (H)", isin=["S", "H"]
            ),
            "nace": _c(
                pl.String,
                "NACE-BEL code of the activity (5 digits)",
                checks=[pa.Check.str_matches(r"^\d{5}$")],
            ),
            "affiliation_start": _c(pl.Date, "Start of the affiliation"),
            "annual_income": _c(
                pl.Float64,
                "Taxable annual income as self-employed, euro (of the calendar year)",
                checks=[pa.Check.in_range(0, MAX_SELF_EMPLOYED_INCOME)],
            ),
        },
        key=("year", "quarter", "insz"),
        by_year=True,
    )
)

BENEFIT_QUARTER = _add(
    _table(
        "benefit_quarter",
        "Benefits paid or rights open in a quarter: one row per person, quarter and benefit, with the spell it belongs to.",
        {
            "year": YEAR,
            "quarter": QUARTER,
            "insz": insz(),
            "benefit": _c(pl.String, "Benefit: " + ", ".join(codes.BENEFITS), isin=codes.BENEFITS),
            "category": _c(
                pl.String,
                "Benefit category or type within the benefit (e.g. unemployment allowance class, disability allowance type, career-break kind, child-benefit rank)",
                nullable=True,
            ),
            "amount": _c(
                pl.Float64,
                "Amount paid in the quarter, euro",
                checks=[pa.Check.in_range(0, MAX_QUARTER_BENEFIT)],
            ),
            "days": _c(pl.Int16, "Benefit days in the quarter", checks=[pa.Check.in_range(0, 92)]),
            "spell_start": _c(
                pl.Date,
                "Start of the benefit spell: its first day paid by the benefit's payer (for the health "
                "fund's incapacity and invalidity, after an employee's guaranteed-wage month)",
            ),
            "spell_end": _c(pl.Date, "End of the spell (exclusive); null while open", nullable=True),
            # RIZIV incapacity file, on the health fund's incapacity and invalidity rows (null on the
            # others); the periods they make: cohort/classifications/incapacity.py
            "incapacity_start": _c(
                pl.Date,
                "First day of the recognised incapacity of the spell (the employer's guaranteed-wage "
                "month included); null on the other benefits",
                nullable=True,
            ),
            "invalidity_start": _c(
                pl.Date,
                "First day of invalidity, the end of the primary incapacity (its first year), when the "
                "spell has reached it by the quarter's last day; null before, and on the other benefits",
                nullable=True,
            ),
            "fraction": _c(
                pl.Float64,
                "Share of full time (1 for full, 0.5 half-time, 0.2 a fifth ...)",
                checks=[pa.Check.in_range(0, 1)],
            ),
            "days_type": _c(
                pl.String, "Type of incapacity days", nullable=True, isin=codes.INCAPACITY_DAYS_TYPE
            ),
            "medical_code_type": _c(
                pl.String, "Type of medical code", nullable=True, isin=codes.MEDICAL_CODE_TYPE
            ),
            "medical_code": _c(pl.String, "Medical code (chapter)", nullable=True),
            "related_insz": insz(
                "Other actor: the child of a child-benefit payment, the partner for activation measures",
                nullable=True,
            ),
            # RVA career-break file, on the career_break rows (null on the others)
            "career_break_sector": _c(
                pl.String, "Sector of the career break", nullable=True, isin=codes.CAREER_BREAK_SECTOR
            ),
            "career_break_statute": _c(
                pl.String, "Statute of the worker in career break", nullable=True, isin=codes.STATUTE
            ),
            "career_break_reason": _c(
                pl.String,
                "Reason (kind of leave) of the career break",
                nullable=True,
                isin=codes.CAREER_BREAK_REASON,
            ),
            "career_break_motive": _c(
                pl.String, "Motive of the career break", nullable=True, isin=codes.CAREER_BREAK_MOTIVE
            ),
            "career_break_adjustment": _c(
                pl.String,
                "Kind of increase or decrease of the career-break allowance",
                nullable=True,
                isin=codes.CAREER_BREAK_ADJUSTMENT,
            ),
            # POD MI, on the social_aid rows (null on the others)
            "social_aid_kind": _c(
                pl.String, "Kind of the financial social aid", nullable=True, isin=codes.SOCIAL_AID_KIND
            ),
        },
        key=("year", "quarter", "insz", "benefit", "related_insz"),
        by_year=True,
    )
)

JOBSEEKER_QUARTER = _add(
    _table(
        "jobseeker_quarter",
        "Registration as a job seeker at a regional employment service (DWH_VDAB_FOREM_ACTIRIS_ADG), situation on the last day of the quarter.",
        {
            "year": YEAR,
            "quarter": QUARTER,
            "insz": insz(),
            "category": _c(pl.String, "Job-seeker category", isin=codes.JOBSEEKER_CATEGORY),
            "pes": _c(pl.String, "Competent employment service", isin=codes.PES),
            "registration_date": _c(pl.Date, "Start of the current registration"),
            "unemployment_start": _c(
                pl.Date, "Start of the current unemployment duration (the clock restarts after 3 months away)"
            ),
            "sanctioned": _c(pl.Boolean, "Sanctioned by the RVA in the quarter"),
        },
        key=("year", "quarter", "insz"),
        by_year=True,
    )
)

EDUCATION = _add(
    _table(
        "education",
        "Qualifications obtained (one row per certificate).",
        {
            "insz": insz(),
            "qualification_date": _c(pl.Date, "Date the qualification was obtained"),
            "level": _c(pl.String, "ISCED level", isin=codes.EDUCATION_LEVEL),
            "domain": _c(pl.String, "Study domain (ISCED-F broad field)", isin=codes.EDUCATION_DOMAIN),
            "issuer_type": _c(
                pl.String, "Type of organisation that issued the certificate", isin=codes.ISSUER_TYPE
            ),
        },
        key=("insz", "qualification_date", "level"),
    )
)

# ---------------------------------------------------------------- VDAB (seed 002, section 3)
VDAB_PROFILE = _add(
    _table(
        "vdab_profile",
        "VDAB job-seeker profile, one row per registration.",
        {
            "insz": insz(),
            "registration_date": _c(pl.Date, "Date of registration"),
            "unemployment_months": _c(
                pl.Int16, "Unemployment duration at registration, months", checks=[pa.Check.in_range(0, 720)]
            ),
            "dutch_level": _c(pl.String, "Knowledge of Dutch: 0 none .. 3 good", isin=["0", "1", "2", "3"]),
            "other_languages": _c(
                pl.Int8, "Number of other languages known", checks=[pa.Check.in_range(0, 30)]
            ),
            "desired_occupation_cluster": _c(
                pl.String, "Desired occupation cluster (competent code, 2 digits)"
            ),
            "desired_regime": _c(pl.String, "Desired work regime", isin=codes.WORK_REGIME),
            "driving_licence": _c(pl.String, "Driving licence: none, B, C, D", isin=["none", "B", "C", "D"]),
            "study_level": _c(pl.String, "Study level (low, medium, high)", isin=["low", "medium", "high"]),
            "study_level_at_inflow": _c(pl.String, "Study level at inflow", isin=["low", "medium", "high"]),
            "foreign_diploma_recognised": _c(pl.Boolean, "European recognition of a foreign diploma"),
            "work_disability": _c(pl.Boolean, "Work disability or limitation (arbeidshandicap)"),
        },
        key=("insz", "registration_date"),
    )
)

VDAB_TRAJECTORY = _add(
    _table(
        "vdab_trajectory",
        "VDAB guidance trajectories.",
        {
            "insz": insz(),
            "trajectory_id": _c(pl.Int64, "Trajectory identifier", unique=True),
            "start_date": _c(pl.Date, "Start date"),
            "end_date": _c(pl.Date, "End date; null while running", nullable=True),
            "provider": _c(pl.String, "Provider (uitvoerder)", isin=codes.TRAJECTORY_PROVIDER),
            "service_need": _c(pl.String, "Assessed need of service", isin=codes.SERVICE_NEED),
            "transmission_date": _c(
                pl.Date, "Date of transmission to the RVA for non-cooperation", nullable=True
            ),
            "communications_per_month": _c(
                pl.Float64, "Communications per month", checks=[pa.Check.in_range(0, 500)]
            ),
            "applications_per_month": _c(
                pl.Float64, "Application assignments per month", checks=[pa.Check.in_range(0, 500)]
            ),
            "office": _c(
                pl.String,
                "VDAB office (vestiging): NIS arrondissement code",
                checks=[pa.Check.str_matches(NIS)],
            ),
        },
        key=("trajectory_id",),
    )
)

VDAB_TRAINING = _add(
    _table(
        "vdab_training",
        "VDAB training modules followed.",
        {
            "insz": insz(),
            "start_date": _c(pl.Date, "Start date"),
            "end_date": _c(pl.Date, "End date", nullable=True),
            "method": _c(
                pl.String,
                "Method: classroom, online, blended, workplace",
                isin=["classroom", "online", "blended", "workplace"],
            ),
            "trainee_status": _c(
                pl.String,
                "Status of the trainee: job seeker, employee, other",
                isin=["jobseeker", "employee", "other"],
            ),
            "section": _c(pl.String, "Training section"),
            "sector": _c(pl.String, "Training sector"),
            "cluster": _c(pl.String, "Training cluster"),
            "module": _c(pl.String, "Module code"),
            "days": _c(pl.Int16, "Number of training days", checks=[pa.Check.in_range(0, 3660)]),
            "state": _c(
                pl.String, "State: running, finished, stopped", isin=["running", "finished", "stopped"]
            ),
            "result": _c(pl.String, "Result: passed, failed, none", isin=["passed", "failed", "none"]),
            "converted_to_guidance": _c(pl.Boolean, "Converted into a guidance line"),
        },
        key=("insz", "start_date", "module"),
    )
)

VDAB_WORKPLACE_LEARNING = _add(
    _table(
        "vdab_workplace_learning",
        "VDAB work-place learning actions (werkplekleren).",
        {
            "insz": insz(),
            "internship_type": _c(pl.String, "Type of internship", isin=codes.WORKPLACE_LEARNING_TYPE),
            "start_date": _c(pl.Date, "Start of the action"),
            "end_date": _c(pl.Date, "End of the action", nullable=True),
            "state": _c(
                pl.String, "State: running, finished, stopped", isin=["running", "finished", "stopped"]
            ),
            "situation": _c(
                pl.String,
                "Situation after the action: hired, not_hired, unknown",
                isin=["hired", "not_hired", "unknown"],
            ),
            "training_weeks": _c(
                pl.Int16, "Planned training duration, weeks", checks=[pa.Check.in_range(0, 520)]
            ),
            "occupation_cluster": _c(pl.String, "Occupation cluster of the action"),
            "language_support": _c(pl.Boolean, "With language support"),
            "company_size_class": _c(pl.String, "Size class of the company", isin=codes.EMPLOYER_SIZE_CLASS),
            "nace": _c(
                pl.String,
                "NACE-BEL code of the company (5 digits)",
                checks=[pa.Check.str_matches(r"^\d{5}$")],
            ),
        },
        key=("insz", "start_date", "internship_type"),
    )
)

# ---------------------------------------------------------------- agency input lists
REGULARISED_PERSON = _add(
    _table(
        "regularised_person",
        "Seed 000: persons granted a work permit under 'durable local anchoring' (regularisation 2009), supplied by the Flemish Department of Work.",
        {
            "insz": insz(unique=True),
            "measure": _c(pl.String, "Measure applied", isin=["durable_local_anchoring"]),
            "decision_date": _c(pl.Date, "Date of the work-permit decision"),
        },
        key=("insz",),
    )
)

MEASURE_BENEFICIARY = _add(
    _table(
        "measure_beneficiary",
        "Seed 001: beneficiaries of employment measures, supplied by the Department of Work and VDAB.",
        {
            "insz": insz(),
            "measure_type": _c(pl.String, "Type of measure"),
            "measure_subtype": _c(pl.String, "Subtype of measure"),
            "targets_workers": _c(
                pl.Boolean, "The measure targets people in work (not part of the inflow/outflow tables)"
            ),
            "education_level": _c(
                pl.String, "Education level: low, medium, high", isin=["low", "medium", "high"]
            ),
            "work_disability": _c(pl.Boolean, "Work disability (arbeidshandicap)"),
            "inflow_date": _c(pl.Date, "Date of entry in the measure"),
            "outflow_date": _c(pl.Date, "Date of exit; null while in the measure", nullable=True),
        },
        key=("insz", "measure_type", "inflow_date"),
    )
)

FLEMISH_STAFF = _add(
    _table(
        "flemish_staff",
        "Seed 003: staff of the Flemish government with a legal employment tie at the end of the year, supplied by the Flemish government.",
        {
            "year": YEAR,
            "insz": insz(),
            "policy_domain": _c(pl.String, "Policy domain (beleidsdomein)"),
            "entity": _c(pl.String, "Entity (entiteit)"),
            "level": _c(pl.String, "Level within the Flemish government", isin=codes.FLEMISH_STAFF_LEVEL),
            "position": _c(pl.String, "Statutory or contractual", isin=codes.FLEMISH_STAFF_POSITION),
            "regime": _c(pl.String, "Full-time or part-time", isin=codes.WORK_REGIME),
        },
        key=("year", "insz"),
        by_year=True,
    )
)
