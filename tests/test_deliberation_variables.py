"""Every variable a deliberation authorises is in its project's spec, or in the spec's ``not_supplied``
list with a reason; and every variable of the spec answers a line of the deliberation.

The lists below are the deliberations read line by line (seed 002 = deliberation 17/047, project
longitudinal_cohort; 003 = 13/71, flemish_staff_origin; 004 = 26/104, labour_reserve), each variable
as the deliberation names it, with its paragraph, and what delivers it: spec variables, the ``variable``
text of a ``not_supplied`` entry, or both when it is delivered in part. The specs are read through
:func:`cohort.projects.spec.load_spec`, the loader every build uses.
"""

from dataclasses import dataclass

import pytest

from cohort.classifications import codes
from cohort.projects.spec import ProjectSpec, data_dictionary, load_spec


@dataclass(frozen=True)
class Line:
    """One variable of the deliberation and what delivers it."""

    name: str  # as the deliberation says it
    paragraph: str
    variables: tuple[str, ...] = ()  # the spec variables that deliver it
    not_supplied: str = ""  # the `variable` of the spec's not_supplied entry (delivered in part, or not)


def line(name: str, paragraph: str, *variables: str, not_supplied: str = "") -> Line:
    return Line(name, paragraph, variables, not_supplied)


# ---------------------------------------------------------------------------------------------- seed 002
NS_002 = {
    "urban": "§4 Woonplaats: classificatie van de woonplaats in de stedelijke hiërarchie",
    "typology": "§4 Woonplaats: type gemeente (typologieclusters)",
    "cohabitation_end": "§4 Persoonskenmerken: einddatum van de wettelijke samenwoning",
    "self_employed": "§4 Arbeidsregime: beroep en hoedanigheidscode van de zelfstandige (beyond category and quality), einddatum aansluiting",
    "job_detail": "§4 Arbeidsregime: werknemerskengetal, huisarbeid, seizoensarbeid, type leerovereenkomst, uren per week (contract and reference person)",
    "child_benefit_actor": "§4 Kinderbijslag: hoedanigheid van elke actor",
    "unemployment_detail": "§4 Werkloosheid: toekenningsvoorwaarden, selectiewijze, uitsluiting (reden, maand, duur), PWA-uren",
    "activation": "§4 Activeringsmaatregelen: artikel 60/61 details, partnerschapsovereenkomst, GPMI",
    "study_area": "§4 Opleiding: studiegebied",
    "cross_border": "§4 Uitgaande grensarbeid: sociaal statuut CT1/CT2, start- en einddatum",
    "desired_job": "§3 Profiel: gewenste tewerkstelling (beyond the occupation cluster)",
}
ANCESTORS = (
    "father",
    "mother",
    "paternal_grandfather",
    "paternal_grandmother",
    "maternal_grandfather",
    "maternal_grandmother",
)
CARRIED_002 = ("socio_economic_position", "quarter_gross_wage_class", "region", "province")

SEED_002 = (
    # §1-2 design, §4 intro
    line("de periode 2005-2016", "§1", "year"),
    line(
        "longitudinale analyse van de arbeidsmarkttrajecten (opvolging van jaar tot jaar)",
        "§1, §2",
        "situation_quarter",
        "next_status",
        "prev_status",
        *(f"{v}_{d}" for v in CARRIED_002 for d in ("next", "prev")),
    ),
    line(
        "steekproef gestratificeerd naar leeftijdscategorie en herkomst",
        "§2",
        "sample_stratum",
        "design_weight",
        "origin_group",
    ),
    line("jaarlijks bijkomende steekproeven van 18-jarigen (2006-2016)", "§2", "sample_entry_year"),
    line(
        "de gezinsleden van de steekproefpersonen op 1 januari van het observatiejaar",
        "§2",
        "is_household_member",
    ),
    line(
        "identificatienummers omgevormd tot unieke betekenisloze volgnummers",
        "§4",
        "person_id",
        "sample_person_id",
    ),
    line("datums aangeduid met het kwartaal en het jaar", "§4", "quarter"),
    # §3 Profiel
    line("de registratiemaand", "§3 Profiel", "registration_month"),
    line("de werkloosheidsduur", "§3 Profiel", "vdab_unemployment_duration_class"),
    line("de talenkennis", "§3 Profiel", "dutch_level", "other_languages"),
    line("de gewenste tewerkstelling", "§3 Profiel", not_supplied=NS_002["desired_job"]),
    line("de gewenste beroepencluster", "§3 Profiel", "desired_occupation_cluster"),
    line("het gewenste arbeidsregime", "§3 Profiel", "desired_regime"),
    line("het type rijbewijs", "§3 Profiel", "driving_licence"),
    line("het studieniveau", "§3 Profiel", "study_level"),
    line("het studieniveau bij instroom", "§3 Profiel", "study_level_at_inflow"),
    line(
        "de aanduiding van de Europese erkenning van het diploma", "§3 Profiel", "foreign_diploma_recognised"
    ),
    line("de aanduiding van een arbeidshandicap of arbeidsbeperking", "§3 Profiel", "work_disability"),
    # §3 Traject
    line("de begindatum", "§3 Traject", "trajectory_start_month"),
    line("de einddatum", "§3 Traject", "trajectory_end_month"),
    line("de uitvoerder", "§3 Traject", "provider"),
    line("de inschatting van de dienstverleningsnood", "§3 Traject", "service_need"),
    line("de datum van transmissie", "§3 Traject", "transmission_month"),
    line("het aantal mededelingen per maand", "§3 Traject", "communications_per_month"),
    line("het aantal sollicitatieopdrachten per maand", "§3 Traject", "applications_per_month"),
    line("de betrokken vestiging van de VDAB", "§3 Traject", "vdab_office"),
    # §3 Opleiding
    line("de begindatum", "§3 Opleiding", "training_start_month"),
    line("de einddatum", "§3 Opleiding", "training_end_month"),
    line("de methodiek", "§3 Opleiding", "training_method"),
    line("het statuut van de cursist", "§3 Opleiding", "trainee_status"),
    line(
        "de aard (op niveau van de sectie, de sector en de cluster)",
        "§3 Opleiding",
        "training_section",
        "training_sector",
        "training_cluster",
    ),
    line("de module", "§3 Opleiding", "training_module"),
    line("het aantal dagen", "§3 Opleiding", "training_days"),
    line("de toestand", "§3 Opleiding", "training_state"),
    line("het resultaat", "§3 Opleiding", "training_result"),
    line("de aanduiding van de omzetting in een begeleidingslijn", "§3 Opleiding", "converted_to_guidance"),
    # §3 Werkplekleren
    line("het type stage", "§3 Werkplekleren", "internship_type"),
    line("de begindatum van de actie", "§3 Werkplekleren", "action_start_month"),
    line("de einddatum van de actie", "§3 Werkplekleren", "action_end_month"),
    line("de toestand", "§3 Werkplekleren", "action_state"),
    line("de situatie", "§3 Werkplekleren", "action_situation"),
    line("de opleidingsduur", "§3 Werkplekleren", "training_weeks"),
    line("de beroepencluster waartoe de actie behoort", "§3 Werkplekleren", "action_occupation_cluster"),
    line("de aanduiding van de taalondersteuning", "§3 Werkplekleren", "language_support"),
    line("de bedrijfsgrootte", "§3 Werkplekleren", "company_size_class"),
    line("de sector", "§3 Werkplekleren", "company_nace"),
    # §4 Persoonskenmerken
    line("het al dan niet steekproefpersoon zijn", "§4 Persoonskenmerken", "is_sample_person"),
    line("de geboortedatum", "§4 Persoonskenmerken", "birth_quarter"),
    line("het geslacht", "§4 Persoonskenmerken", "sex"),
    line("de datum van de huidige nationaliteit", "§4 Persoonskenmerken", "current_nationality_quarter"),
    line("de huidige nationaliteit (in klassen)", "§4 Persoonskenmerken", "current_nationality_class"),
    line(
        "de eerste nationaliteit (in klassen, ook van ouders en grootouders)",
        "§4 Persoonskenmerken",
        "first_nationality_class",
        *(f"{a}_first_nationality_class" for a in ANCESTORS),
    ),
    line(
        "het geboorteland (in klassen, ook van ouders en grootouders)",
        "§4 Persoonskenmerken",
        "birth_country_class",
        *(f"{a}_birth_country_class" for a in ANCESTORS),
    ),
    line("de datum van inschrijving in het Rijksregister", "§4 Persoonskenmerken", "register_entry_quarter"),
    line("de reden van het verblijf", "§4 Persoonskenmerken", "residence_reason"),
    line("de datum van de beslissing", "§4 Persoonskenmerken", "residence_decision_quarter"),
    line("de datum van overlijden", "§4 Persoonskenmerken", "death_quarter"),
    line("de regio binnen Vlaanderen", "§4 Persoonskenmerken", "province"),
    line("de burgerlijke staat van de steekproefpersoon", "§4 Persoonskenmerken", "civil_status"),
    line(
        "de datum van verandering van de burgerlijke staat",
        "§4 Persoonskenmerken",
        "civil_status_change_quarter",
    ),
    line("de code wettelijke samenwoning", "§4 Persoonskenmerken", "legal_cohabitation"),
    line(
        "de begindatum van de wettelijke samenwoning",
        "§4 Persoonskenmerken",
        "legal_cohabitation_start_quarter",
    ),
    line(
        "de einddatum van de wettelijke samenwoning",
        "§4 Persoonskenmerken",
        not_supplied=NS_002["cohabitation_end"],
    ),
    line(
        "de nomenclatuurcode van de socio-economische positie",
        "§4 Persoonskenmerken",
        "socio_economic_position",
    ),
    # §4 Gezinskenmerken
    line("het identificatienummer van de referentiepersoon", "§4 Gezinskenmerken", "reference_person_id"),
    line("het geslacht van de referentiepersoon", "§4 Gezinskenmerken", "reference_person_sex"),
    line("het aantal gezinsleden", "§4 Gezinskenmerken", "household_size"),
    line("de verwantschap met de referentiepersoon", "§4 Gezinskenmerken", "relation_to_reference"),
    line("het identificatienummer van de partner", "§4 Gezinskenmerken", "partner_id"),
    line("de LIPRO-gezinspositie", "§4 Gezinskenmerken", "lipro"),
    line(
        "de geboortejaren van de kinderen van de steekproefpersoon",
        "§4 Gezinskenmerken",
        "children_birth_years",
    ),
    # §4 Arbeidsregime en arbeidsvolume
    line(
        "de activiteit als zelfstandige: het beroep", "§4 Arbeidsregime", not_supplied=NS_002["self_employed"]
    ),
    line("de activiteit als zelfstandige: de sector", "§4 Arbeidsregime", "self_employed_nace"),
    line(
        "de activiteit als zelfstandige: de bijdragecategorie", "§4 Arbeidsregime", "self_employed_category"
    ),
    line("de activiteit als zelfstandige: de hoedanigheidscode", "§4 Arbeidsregime", "self_employed_quality"),
    line(
        "de activiteit als zelfstandige: het beginkwartaal van aansluiting",
        "§4 Arbeidsregime",
        "self_employed_affiliation_quarter",
    ),
    line(
        "de activiteit als zelfstandige: het eindkwartaal van aansluiting",
        "§4 Arbeidsregime",
        not_supplied=NS_002["self_employed"],
    ),
    line("de werknemerscode", "§4 Arbeidsregime", "worker_code"),
    line("de werknemersklasse", "§4 Arbeidsregime", "worker_class"),
    line("het werknemerskengetal", "§4 Arbeidsregime", not_supplied=NS_002["job_detail"]),
    line("het statuut", "§4 Arbeidsregime", "statute"),
    line("de volgorde van de belangrijkheid van de arbeidsprestaties", "§4 Arbeidsregime", "job_rank"),
    line("het aantal jobs in loondienst", "§4 Arbeidsregime", "salaried_jobs"),
    line("het totale aantal jobs", "§4 Arbeidsregime", "total_jobs"),
    line(
        "het al dan niet verrichten van huisarbeid of seizoensarbeid",
        "§4 Arbeidsregime",
        not_supplied=NS_002["job_detail"],
    ),
    line(
        "het al dan niet werken in het stelsel van de dienstencheques", "§4 Arbeidsregime", "service_vouchers"
    ),
    line("het type leerovereenkomst", "§4 Arbeidsregime", not_supplied=NS_002["job_detail"]),
    line("het type arbeidscontract", "§4 Arbeidsregime", "contract_type"),
    line(
        "het (gecumuleerd) percentage deeltijdse tewerkstelling",
        "§4 Arbeidsregime",
        "cumulated_part_time_class",
        "part_time_class",
    ),
    line(
        "het aantal uren per week volgens het arbeidscontract ten opzichte van dat van de maatman",
        "§4 Arbeidsregime",
        not_supplied=NS_002["job_detail"],
    ),
    line(
        "het gemiddeld aantal uren per week van de maatman",
        "§4 Arbeidsregime",
        not_supplied=NS_002["job_detail"],
    ),
    line(
        "het percentage voltijds equivalenten exclusief gelijkgestelde dagen",
        "§4 Arbeidsregime",
        "fte_total",
        "fte",
    ),
    line("het prestatietype", "§4 Arbeidsregime", "performance_type"),
    line("de NACE-code van de werkgever", "§4 Arbeidsregime", "employer_nace"),
    line("de NACE-code van de vestiging", "§4 Arbeidsregime", "establishment_nace"),
    line("de sectorcode van de werkgever", "§4 Arbeidsregime", "joint_committee"),
    line("het identificatienummer van de werkgever", "§4 Arbeidsregime", "employer_id"),
    line("de belangrijkheidscode van de werkgever", "§4 Arbeidsregime", "employer_size_class"),
    line("het al dan niet in zwangerschapsverlof zijn", "§4 Arbeidsregime", "maternity_leave"),
    # §4 Loon (in klassen)
    line("het fiscaal jaarinkomen als zelfstandige", "§4 Loon", "self_employed_income_class"),
    line(
        "de gewone bruto bezoldiging in het kwartaal",
        "§4 Loon",
        "quarter_gross_wage_class",
        "gross_wage_class",
    ),
    line("het gemiddeld bruto dagloon", "§4 Loon", "daily_wage_class"),
    line("het brutoloon", "§4 Loon", "gross_wage_class"),
    line("het inkomen als zelfstandige", "§4 Loon", "self_employed_income_class"),
    line("het inkomen uit uitkeringen", "§4 Loon", "benefit", "benefit_amount_class"),
    line("de dagloonklasse", "§4 Loon", "daily_wage_class"),
    # §4 Kinderbijslag
    line("het bedrag (in klassen)", "§4 Kinderbijslag", "benefit", "benefit_amount_class"),
    line("de hoedanigheid van elke actor", "§4 Kinderbijslag", not_supplied=NS_002["child_benefit_actor"]),
    line(
        "de relatie tussen de bijslagtrekkende en de rechthebbende", "§4 Kinderbijslag", "related_person_id"
    ),
    # §4 Loopbaanonderbreking en tijdskrediet
    line(
        "het combineren van een werkende arbeidsmarktpositie met loopbaanonderbreking of tijdskrediet (deeltijd of voltijds)",
        "§4 Loopbaanonderbreking",
        "working_with_full_career_break",
        "working_with_partial_career_break",
        "benefit_fraction",
    ),
    line(
        "het als persoon in loopbaanonderbreking of tijdskrediet recht hebben op steun van het OCMW",
        "§4 Loopbaanonderbreking",
        "career_break_with_social_assistance",
    ),
    line("de sector", "§4 Loopbaanonderbreking", "career_break_sector"),
    line("het statuut", "§4 Loopbaanonderbreking", "career_break_statute"),
    line("de reden", "§4 Loopbaanonderbreking", "career_break_reason"),
    line("het motief", "§4 Loopbaanonderbreking", "career_break_motive"),
    line("het stelsel", "§4 Loopbaanonderbreking", "benefit", "benefit_category"),
    line(
        "de aard van de verhoging/verlaging van de uitkering",
        "§4 Loopbaanonderbreking",
        "career_break_adjustment",
    ),
    # §4 Opleiding (per gehaald kwalificatiebewijs)
    line("per gehaald kwalificatiebewijs", "§4 Opleiding", "qualification_quarter"),
    line("het studiedomein", "§4 Opleiding", "education_domain"),
    line("het studiegebied", "§4 Opleiding", not_supplied=NS_002["study_area"]),
    line("het studieniveau", "§4 Opleiding", "education_level"),
    # §4 Werkloosheid
    line("het statuut: al dan niet geactiveerd", "§4 Werkloosheid", "activated_by_rva"),
    line(
        "het statuut: tewerkgesteld in een plaatselijk werkgelegenheidsagentschap",
        "§4 Werkloosheid",
        "local_employment_agency",
    ),
    line(
        "het statuut: werkzoekend",
        "§4 Werkloosheid",
        "registered_job_seeker",
        "jobseeker_service",
        "jobseeker_registration_quarter",
    ),
    line(
        "het statuut: vrijgesteld van inschrijving als werkzoekende",
        "§4 Werkloosheid",
        "exempted_from_registration",
    ),
    line(
        "het statuut: combinatie van werkloosheidsuitkering en zelfstandigenstatuut",
        "§4 Werkloosheid",
        "working_with_unemployment_benefit",
        "unemployment_benefit_with_self_employment",
    ),
    line("het statuut: recht op steun van het OCMW", "§4 Werkloosheid", "jobseeker_category", "benefit"),
    line("de uitkering (in klassen)", "§4 Werkloosheid", "benefit_amount_class"),
    line("de duur", "§4 Werkloosheid", "benefit_days"),
    line("de categorie van werkzoekende", "§4 Werkloosheid", "jobseeker_category"),
    line(
        "het al dan niet begunstigde van een tussenkomst zijn",
        "§4 Werkloosheid",
        "rva_intervention",
    ),
    line(
        "het statuut van de werkloze vóór activering",
        "§4 Werkloosheid",
        "activation_prior_status",
    ),
    line(
        "het percentage arbeidsduur bij activering",
        "§4 Werkloosheid",
        "activation_working_time_class",
    ),
    line("de toekenningsvoorwaarden", "§4 Werkloosheid", not_supplied=NS_002["unemployment_detail"]),
    line("de beginmaand van de tewerkstelling", "§4 Werkloosheid", "activation_start_month"),
    line("de eindmaand van de tewerkstelling", "§4 Werkloosheid", "activation_end_month"),
    line("de vergoedingscategorie", "§4 Werkloosheid", "benefit_category"),
    line("de werkloosheidsduur", "§4 Werkloosheid", "unemployment_duration_class"),
    line(
        "het aantal uren gewerkt in een plaatselijk werkgelegenheidsagentschap",
        "§4 Werkloosheid",
        not_supplied=NS_002["unemployment_detail"],
    ),
    line("de selectiewijze", "§4 Werkloosheid", not_supplied=NS_002["unemployment_detail"]),
    # the sanction flag is the part of the exclusion the contract has (jobseeker_quarter.sanctioned)
    line(
        "de reden, de maand en de voorziene duur van de uitsluiting van de werkloosheid",
        "§4 Werkloosheid",
        "sanctioned",
        not_supplied=NS_002["unemployment_detail"],
    ),
    # §4 Leefloon en gewaarborgd inkomen
    line(
        "het statuut (werkend, werkzoekend of bruggepensioneerd met een inkomensgarantieuitkering of "
        "maatschappelijke integratie/hulp)",
        "§4 Leefloon",
        "working_with_income_guarantee",
        "working_with_social_assistance",
        "benefit",
    ),
    line("de toepasselijke regelgeving", "§4 Leefloon", "benefit"),
    line("de beginmaand van de betalingsperiode", "§4 Leefloon", "spell_start_quarter"),
    line("de eindmaand van de betalingsperiode", "§4 Leefloon", "spell_end_quarter"),
    line(
        "het statuut als rechthebbende op het equivalent-leefloon",
        "§4 Leefloon",
        "social_aid_kind",
    ),
    # §4 Activeringsmaatregelen (voor de betrokkene en voor de partner)
    line(
        "de tewerkstelling volgens artikel 60, § 7 (aanvaard, voorwaarden, soort, uurrooster)",
        "§4 Activeringsmaatregelen",
        not_supplied=NS_002["activation"],
    ),
    line(
        "de tewerkstelling volgens artikel 61 (aanvaard, terugbetaling)",
        "§4 Activeringsmaatregelen",
        not_supplied=NS_002["activation"],
    ),
    line(
        "de aard van de partnerschapsovereenkomst",
        "§4 Activeringsmaatregelen",
        not_supplied=NS_002["activation"],
    ),
    line(
        "het activeringstype, het type tewerkstelling, het type socioprofessionele integratie",
        "§4 Activeringsmaatregelen",
        not_supplied=NS_002["activation"],
    ),
    line(
        "het type geïndividualiseerd project voor maatschappelijke integratie",
        "§4 Activeringsmaatregelen",
        not_supplied=NS_002["activation"],
    ),
    line(
        "zowel voor de betrokkene als voor de partner",
        "§4 Activeringsmaatregelen",
        "related_person_id",
        not_supplied=NS_002["activation"],
    ),
    # §4 Uittrede
    line(
        "het combineren van een werkende arbeidsmarktpositie met een halftijds of voltijds brugpensioen",
        "§4 Uittrede",
        "working_with_full_early_retirement",
        "working_with_half_early_retirement",
    ),
    line("het combineren van een pensioen met toegelaten arbeid", "§4 Uittrede", "working_with_pension"),
    # §4 Invaliditeit en beroepsziekten
    line(
        "een invaliditeitsuitkering met een werkende arbeidsmarktpositie",
        "§4 Invaliditeit",
        "working_with_invalidity",
    ),
    line("een invaliditeitsuitkering met een pensioen", "§4 Invaliditeit", "invalidity_with_pension"),
    line(
        "een invaliditeitsuitkering met de hoedanigheid van op kinderbijslag rechtgevend kind",
        "§4 Invaliditeit",
        "invalidity_with_entitled_child",
    ),
    line(
        "een beroepsziekte met een werkende arbeidsmarktpositie",
        "§4 Beroepsziekten",
        "working_with_occupational_disease",
    ),
    line(
        "een beroepsziekte met het statuut van werkzoekende",
        "§4 Beroepsziekten",
        "occupational_disease_with_job_seeking",
    ),
    line(
        "een beroepsziekte met loopbaanonderbreking of tijdskrediet",
        "§4 Beroepsziekten",
        "occupational_disease_with_career_break",
    ),
    line(
        "een beroepsziekte met vrijstelling van inschrijving als werkzoekende",
        "§4 Beroepsziekten",
        "exempted_with_occupational_disease",
    ),
    line(
        "een beroepsziekte met steun van het OCMW",
        "§4 Beroepsziekten",
        "social_assistance_with_occupational_disease",
    ),
    line(
        "een beroepsziekte met pensioen of brugpensioen",
        "§4 Beroepsziekten",
        "occupational_disease_with_pension",
        "occupational_disease_with_early_retirement",
    ),
    # §4 Uitgaande grensarbeid
    line("uitgaande grensarbeid", "§4 Uitgaande grensarbeid", "outgoing_cross_border", "cross_border"),
    line(
        "het sociaal statuut (CT1/CT2), de startdatum en de einddatum van de grensarbeid",
        "§4 Uitgaande grensarbeid",
        not_supplied=NS_002["cross_border"],
    ),
    # §4 Woonplaats
    line(
        "de classificatie van de woonplaats in de stedelijke hiërarchie",
        "§4 Woonplaats",
        not_supplied=NS_002["urban"],
    ),
    line("de grootte van de gemeente", "§4 Woonplaats", "municipality_size_class"),
    line("het type gemeente (typologieclusters)", "§4 Woonplaats", not_supplied=NS_002["typology"]),
    line("het gewest", "§4 Woonplaats", "region"),
    line("de werkloosheidsgraad", "§4 Woonplaats", "municipality_unemployment_rate_class"),
)

# ---------------------------------------------------------------------------------------------- seed 004
NS_004 = {
    "periods": "§3 Sociale zekerheid: de periodes van arbeidsongeschiktheid, betaling en ziekte/invaliditeit (jaar "
    "en maand van begin- en einddatum)",
}
# footnote 1 of §3, each status (combination) as the deliberation names it, and its flag
FOOTNOTE_1 = (
    ("activering door de Rijksdienst voor Arbeidsvoorziening", "activation_rva"),
    ("werkend met een inkomensgarantieuitkering", "working_with_income_guarantee"),
    ("werkend en uitkeringsgerechtigd volledig werkloos", "working_with_unemployment_benefit"),
    ("werkend met leefloon of financiële hulp", "working_with_social_assistance"),
    ("werkend met volledige loopbaanonderbreking of volledig tijdskrediet", "working_with_full_career_break"),
    (
        "werkend met gedeeltelijke loopbaanonderbreking of gedeeltelijk tijdskrediet",
        "working_with_partial_career_break",
    ),
    ("werkend en volledig in werkloosheid met bedrijfstoelage of in brugpensioen", "working_with_full_swt"),
    ("werkend en halftijds in werkloosheid met bedrijfstoelage of in brugpensioen", "working_with_half_swt"),
    ("werkend en volledig in terbeschikkingstelling vóór het pensioen", "working_with_full_availability"),
    (
        "werkend en gedeeltelijk in terbeschikkingstelling vóór het pensioen",
        "working_with_partial_availability",
    ),
    ("werkend en pensioentrekkend", "working_with_pension"),
    ("werkend met een tegemoetkoming voor personen met een handicap", "working_with_disability_allowance"),
    ("werkend met invaliditeit", "working_with_invalidity"),
    ("werkend en gekend bij het ziekenfonds", "working_with_health_fund_incapacity"),
    ("werkend met een uitkering omwille van een beroepsziekte", "working_with_occupational_disease"),
    ("werkend met een uitkering omwille van een arbeidsongeval", "working_with_occupational_accident"),
    ("tewerkgesteld in een plaatselijk werkgelegenheidsagentschap (PWA)", "local_employment_agency"),
    (
        "leefloon of financiële hulp met een tegemoetkoming voor personen met een handicap",
        "social_assistance_with_disability_allowance",
    ),
    ("leefloon of financiële hulp met invaliditeit", "social_assistance_with_invalidity"),
    (
        "leefloon of financiële hulp en gekend bij het ziekenfonds",
        "social_assistance_with_health_fund_incapacity",
    ),
    ("leefloon of financiële hulp met een beroepsziekte", "social_assistance_with_occupational_disease"),
    ("leefloon of financiële hulp met een arbeidsongeval", "social_assistance_with_occupational_accident"),
    ("leefloon of financiële hulp als rechtgevend kind", "social_assistance_with_child_benefit"),
    (
        "vrijgesteld als werkzoekende met een tegemoetkoming voor personen met een handicap",
        "exempted_with_disability_allowance",
    ),
    ("vrijgesteld als werkzoekende met een beroepsziekte", "exempted_with_occupational_disease"),
    ("vrijgesteld als werkzoekende met een arbeidsongeval", "exempted_with_occupational_accident"),
    ("vrijgesteld als werkzoekende met leefloon of financiële hulp", "exempted_with_social_assistance"),
    ("oudere werkzoekende", "older_job_seeker"),
    ("vrijstelling van inschrijving omwille van een opleiding", "exempted_for_training"),
    ("vrijstelling van inschrijving om familiale of sociale redenen", "exempted_family_social"),
    ("andere vrijstellingen", "exempted_other"),
    (
        "werkzoekend en gekend bij een gewestelijke dienst voor arbeidsbemiddeling",
        "registered_at_regional_pes",
    ),
    ("gekend bij de Rijksdienst voor Arbeidsvoorziening", "known_at_rva"),
)
STATUSES_004 = tuple(f"status_{flag}" for _, flag in FOOTNOTE_1)
# §4: the groups of §3 added for T+1 (first table) and T-1 (second table)
NEIGHBOUR_GROUPS_004 = {
    "de opleiding": ("education_level", "education_domain", "education_issuer_type"),
    "de socio-economische positie": (
        "sep_code",
        *STATUSES_004,
        "jobseeker_category",
        "pes",
        "registration_months_class",
        "unemployment_months_class",
        "sanctioned",
    ),
    "de arbeidsprestaties": (
        "performance_type",
        "nace_division",
        "daily_wage_class",
        "daily_wage_decile",
        "fte",
        "work_intensity_eu2020",
        "work_intensity_eu2030",
        "cross_border",
        "posted",
    ),
    "de sociale zekerheid": (
        "incapacity_benefit_type",
        "incapacity_benefit_code",
        "incapacity_days_type",
        "medical_code_type",
        "medical_code",
        "incapacity_start_month",
        "payment_start_month",
        "invalidity_start_month",
        "incapacity_end_month",
        "disability_allowance_type",
        "social_assistance_type",
        "social_assistance_category",
        "social_assistance_kind",
    ),
    "het gezinstype": ("household_type",),
    "de provincie van de woonplaats": ("province",),
}

SEED_004 = (
    line("de jaren 2020-2026 (T), twee tabellen per jaar", "§1, §4", "year"),
    # §3 Persoonskenmerken
    line("het uniek volgnummer", "§3 Persoonskenmerken, §15", "person_id"),
    line("de leeftijd (in klassen)", "§3 Persoonskenmerken", "age_class"),
    line("het geslacht", "§3 Persoonskenmerken", "sex"),
    line("de nationaliteit (in klassen)", "§3 Persoonskenmerken", "nationality_class"),
    line("het geboorteland (in klassen)", "§3 Persoonskenmerken", "birth_country_class"),
    line(
        "het wel of niet gekend zijn van een vreemde herkomst",
        "§3 Persoonskenmerken, §12",
        "foreign_origin_known",
    ),
    line("het land van vreemde herkomst (in klassen)", "§3 Persoonskenmerken, §12", "foreign_origin_class"),
    line("het wel of niet van allochtone afkomst zijn", "§3 Persoonskenmerken, §12", "allochtone"),
    line("het land van allochtone afkomst (in klassen)", "§3 Persoonskenmerken, §12", "allochtone_class"),
    line("de aanduiding van het nieuwkomerschap", "§3 Persoonskenmerken", "newcomer"),
    line("de reden van het verblijf", "§3 Persoonskenmerken", "residence_reason"),
    line("de provincie van de woonplaats", "§3 Persoonskenmerken", "province"),
    line("het gezinstype", "§3 Persoonskenmerken", "household_type"),
    line("het aantal kinderen in het huishouden (in klassen)", "§3 Persoonskenmerken", "children_class"),
    line(
        "het jaar van de inschrijving in het Rijksregister",
        "§3 Persoonskenmerken, §12",
        "register_entry_year",
    ),
    line("het onderwijsniveau", "§3 Persoonskenmerken, §14", "education_level"),
    line("het onderwerp van het behaalde bewijs", "§3 Persoonskenmerken, §14", "education_domain"),
    line(
        "het type organisatie die het bewijs uitreikt", "§3 Persoonskenmerken, §14", "education_issuer_type"
    ),
    # §4: the indication of death is left out of year T and given for T+1 only
    line("het wel of niet overleden zijn", "§3 Persoonskenmerken, §4, §12", "died_next"),
    # §3 Socio-economische positie
    line("de nomenclatuurcode van de socio-economische positie", "§3 Socio-economische positie", "sep_code"),
    *(line(name, "§3 Socio-economische positie, voetnoot 1", f"status_{flag}") for name, flag in FOOTNOTE_1),
    line("de categorie van werkzoekende", "§3 Socio-economische positie", "jobseeker_category"),
    line("de bevoegde arbeidsbemiddelingsdienst", "§3 Socio-economische positie", "pes"),
    line(
        "het aantal maanden inschrijving (in klassen)",
        "§3 Socio-economische positie",
        "registration_months_class",
    ),
    line(
        "het aantal maanden werkloosheid (in klassen)",
        "§3 Socio-economische positie",
        "unemployment_months_class",
    ),
    line("het wel of niet gesanctioneerd zijn", "§3 Socio-economische positie", "sanctioned"),
    # §3 Arbeidsprestaties
    line("het prestatietype", "§3 Arbeidsprestaties", "performance_type"),
    line("de NACE-code (activiteitensector)", "§3 Arbeidsprestaties, §13", "nace_division"),
    line(
        "het gemiddeld bruto dagloon (in klassen en in decielen)",
        "§3 Arbeidsprestaties",
        "daily_wage_class",
        "daily_wage_decile",
    ),
    line("het voltijds equivalent exclusief gelijkgestelde dagen", "§3 Arbeidsprestaties", "fte"),
    line(
        "de werkintensiteit van het gezin (volgens twee definities, in klassen)",
        "§3 Arbeidsprestaties",
        "work_intensity_eu2020",
        "work_intensity_eu2030",
    ),
    line("de aanduiding van tewerkstelling over de grens", "§3 Arbeidsprestaties", "cross_border"),
    line("het wel of niet als gedetacheerde actief zijn", "§3 Arbeidsprestaties", "posted"),
    # §3 Sociale zekerheid
    line("het type dagen arbeidsongeschiktheid", "§3 Sociale zekerheid", "incapacity_days_type"),
    line("het type uitkering", "§3 Sociale zekerheid", "incapacity_benefit_type"),
    line("het type medische code", "§3 Sociale zekerheid", "medical_code_type"),
    line(
        "de periodes van arbeidsongeschiktheid, betaling en ziekte/invaliditeit (jaar en maand van begin- en einddatum)",
        "§3 Sociale zekerheid, §15",
        "incapacity_start_month",
        "payment_start_month",
        "invalidity_start_month",
        "incapacity_end_month",
        not_supplied=NS_004["periods"],
    ),
    line("de medische code", "§3 Sociale zekerheid", "medical_code"),
    line("de uitkeringscode", "§3 Sociale zekerheid", "incapacity_benefit_code"),
    line(
        "het type tegemoetkomingen voor personen met een handicap",
        "§3 Sociale zekerheid",
        "disability_allowance_type",
    ),
    line(
        "het type OCMW-steun (per niveau)",
        "§3 Sociale zekerheid",
        "social_assistance_type",
        "social_assistance_category",
        "social_assistance_kind",
    ),
    # §4 the two tables
    line("de eerste tabel (T+1) en de tweede tabel (T-1)", "§4", "next_status", "prev_status"),
    *(
        line(f"{group} over het volgende jaar (T+1)", "§4", *(f"{v}_next" for v in names))
        for group, names in NEIGHBOUR_GROUPS_004.items()
    ),
    *(
        line(f"{group} over het vorige jaar (T-1)", "§4", *(f"{v}_prev" for v in names))
        for group, names in NEIGHBOUR_GROUPS_004.items()
    ),
)

# ---------------------------------------------------------------------------------------------- seed 003
SEED_003 = (
    line("de herkomst: migratieachtergrond EU-15 / niet-EU-15 / niet-gekend", "§2, §4", "origin_eu15"),
    line(
        "de herkomst: migratieachtergrond EU / niet-EU / niet-gekend (lidstaten op het ogenblik van het genereren)",
        "§2, §4",
        "origin_eu",
    ),
    line("het geslacht", "§3", "sex"),
    line("de leeftijdsklasse", "§3", "age_class"),
    line("het niveau binnen de Vlaamse overheid", "§3, §4", "level"),
    line("de beroepspositie (statutair of contractueel)", "§3", "position"),
    line("het arbeidsregime (voltijds of deeltijds)", "§3", "regime"),
    line(
        "op het niveau van de Vlaamse overheid, van het beleidsdomein en van de entiteit",
        "§3, §4",
        "organisation",
    ),
)

DELIBERATIONS = {
    "longitudinal_cohort": SEED_002,
    "flemish_staff_origin": SEED_003,
    "labour_reserve": SEED_004,
}


def not_supplied(spec: ProjectSpec) -> dict[str, str]:
    """The spec's ``not_supplied`` entries: the variable as the deliberation says it -> the reason."""
    return {
        str(e["variable"]): str(e.get("not_supplied_reason") or "").strip()
        for e in spec.extra.get("not_supplied", [])
    }


def unanswered(spec: ProjectSpec, lines: tuple[Line, ...]) -> list[str]:
    """The deliberation's lines that neither a spec variable nor a not_supplied entry answers."""
    declared = not_supplied(spec)
    problems = []
    for entry in lines:
        where = f"{entry.paragraph}: {entry.name}"
        missing = [v for v in entry.variables if v not in spec.variables]
        if missing:
            problems.append(f"{where}: spec variable(s) {missing} not in the spec")
        if entry.not_supplied and entry.not_supplied not in declared:
            problems.append(f"{where}: no not_supplied entry {entry.not_supplied!r}")
        if not entry.variables and not entry.not_supplied:
            problems.append(f"{where}: neither delivered nor declared not supplied")
    return problems


@pytest.mark.parametrize("project", sorted(DELIBERATIONS))
def test_every_deliberation_variable_is_delivered_or_declared_not_supplied(project: str) -> None:
    assert unanswered(load_spec(project), DELIBERATIONS[project]) == []


@pytest.mark.parametrize("project", sorted(DELIBERATIONS))
def test_every_not_supplied_entry_has_a_reason_and_a_deliberation_line(project: str) -> None:
    declared = not_supplied(load_spec(project))
    assert [v for v, reason in declared.items() if not reason] == []
    used = {entry.not_supplied for entry in DELIBERATIONS[project]}
    assert sorted(set(declared) - used) == []


@pytest.mark.parametrize("project", sorted(DELIBERATIONS))
def test_every_spec_variable_answers_a_deliberation_line(project: str) -> None:
    answered = {v for entry in DELIBERATIONS[project] for v in entry.variables}
    assert sorted(set(load_spec(project).variables) - answered) == []


def test_the_issue_24_gaps_are_delivered() -> None:
    """The seed-002 gaps issue 24 found are delivered by spec variables (not declared not supplied),
    so that they cannot silently drop out or fall back to not_supplied."""
    delivered = {v for entry in SEED_002 for v in entry.variables}
    assert {
        "career_break_sector",
        "career_break_statute",
        "career_break_reason",
        "career_break_motive",
        "career_break_adjustment",
        "career_break_with_social_assistance",
        "rva_intervention",
        "activation_prior_status",
        "activation_working_time_class",
        "activation_start_month",
        "activation_end_month",
        "unemployment_benefit_with_self_employment",
        "social_aid_kind",
        "invalidity_with_pension",
        "invalidity_with_entitled_child",
        "occupational_disease_with_job_seeking",
        "occupational_disease_with_career_break",
        "occupational_disease_with_pension",
        "occupational_disease_with_early_retirement",
        "establishment_nace",
        "worker_code",
    } <= delivered
    assert {entry.not_supplied for entry in SEED_004} >= set(NS_004.values())
    # every footnote status is listed once, in the warehouse's flag order
    assert tuple(flag for _, flag in FOOTNOTE_1) == codes.STATUS_FLAGS


def test_the_check_fails_on_a_missing_variable_and_an_empty_reason() -> None:
    """The checks above would catch a variable dropped from the spec, or a not_supplied entry without reason."""
    spec = load_spec("longitudinal_cohort")
    lines = (
        line("een variabele die de spec niet kent", "§0", "no_such_variable"),
        line("een onbekende niet-geleverde variabele", "§0", not_supplied="§0 nowhere"),
        line("niets", "§0"),
    )
    assert len(unanswered(spec, lines)) == 3
    emptied = ProjectSpec(
        **{
            **spec.__dict__,
            "extra": {**spec.extra, "not_supplied": [{"variable": "x", "not_supplied_reason": " "}]},
        }
    )
    assert not_supplied(emptied) == {"x": ""}


@pytest.mark.parametrize("project", ["longitudinal_cohort", "labour_reserve"])
def test_the_data_dictionary_shows_what_is_not_supplied(project: str) -> None:
    spec = load_spec(project)
    markdown, doc = data_dictionary(spec)
    declared = not_supplied(spec)
    assert [n["variable"] for n in doc["not_supplied"]] == list(declared)
    section = markdown.split("## Variables of the deliberation not supplied", 1)[1]
    assert all(f"| {variable} | {reason} |" in section for variable, reason in declared.items())
