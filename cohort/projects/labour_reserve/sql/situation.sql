-- Situation of year {year} (seed 004 §3): one row per person of the population on {ref}, the last
-- day of Q4, with every year-T variable, pseudonymised and coarsened. Death is not a variable of
-- year T (§4). Each source is pre-aggregated to one row per person before the joins.
-- Lookups installed by the asset: province_of_arrondissement(arrondissement, province), lipro_household_type(lipro, household_type);
-- the mapping view person_map and the keyed_hash macro (cohort.privacy.pseudonym).
with

-- import CTEs ---------------------------------------------------------------------------------
pop as ({population}),

nationality_now as (
    select insz, arg_max(nationality, valid_from) as nationality
    from nationality_history
    where valid_from <= date '{ref}' and (valid_to is null or valid_to > date '{ref}')
    group by insz
),

first_registration as (
    select insz, min(valid_from) as first_entry
    from register_history
    where insz in (select insz from pop)
    group by insz
),

education_best as (
    -- the highest level, and the latest certificate of that level: an integer key and scalar
    -- values (arg_max over text keys or struct values is several times slower)
    select
        insz,
        arg_max(level, rank_key) as education_level,
        arg_max(domain, rank_key) as education_domain,
        arg_max(issuer_type, rank_key) as education_issuer_type
    from (
        select insz, level, domain, issuer_type,
               cast(level as integer) * 100000 + (qualification_date - date '1900-01-01') as rank_key
        from education
        where qualification_date <= date '{ref}'
          and insz in (select insz from pop)  -- aggregate only the population's certificates
    )
    group by insz
),

sep_q4 as (
    select insz, nomenclature, status_flags
    from sep_quarter
    where year = {year} and quarter = 4
),

jobseeker_q4 as (
    select insz, category, pes, registration_date, unemployment_start, sanctioned
    from jobseeker_quarter
    where year = {year} and quarter = 4
),

jobs_q4 as (
    select
        insz,
        arg_min(performance_type, job_rank) as performance_type,
        substr(arg_min(nace, job_rank), 1, 2) as nace_division,
        -- rounded: parallel float sums are not bit-stable, and a class boundary must not depend on the thread order
        round(case when sum(days) > 0 then sum(cast(daily_wage as decimal(12, 4)) * days) / sum(days)
                   else avg(cast(daily_wage as decimal(12, 4))) end, 2)::double as daily_wage,
        round(sum(cast(fte as decimal(9, 4))), 2)::double as fte,
        bool_or(cross_border) as cross_border,
        bool_or(posted) as posted
    from job_quarter
    where year = {year} and quarter = 4
    group by insz
),

-- the benefits read here are the code lists of incapacity_benefit_type and social_assistance_type in the
-- spec (build.codes_sql)
benefits_q4 as (
    select
        insz,
        -- the main incapacity spell of Q4: the row with the longest days (ties: the benefit's code), every
        -- column from that one row. arg_max of each column alone skips the rows where that column is null
        -- (an open spell's end, a primary incapacity's invalidity start) and would mix two spells.
        arg_max(
            {{
                'benefit': benefit, 'category': category, 'days_type': days_type,
                'medical_code_type': medical_code_type, 'medical_code': medical_code,
                'incapacity_start': incapacity_start, 'payment_start': spell_start,
                'invalidity_start': invalidity_start, 'incapacity_end': spell_end
            }},
            (days, benefit)
        ) filter (where benefit in ({incapacity_benefits})) as incapacity,
        arg_max(category, days) filter (where benefit = 'disability_allowance') as disability_allowance_type,
        case
            when bool_or(benefit = 'integration_income') then 'integration_income'
            when bool_or(benefit = 'social_aid') then 'social_aid'
        end as social_assistance_type,
        -- the second level of the OCMW support: the category of the type above
        coalesce(
            arg_max(category, days) filter (where benefit = 'integration_income'),
            arg_max(category, days) filter (where benefit = 'social_aid')
        ) as social_assistance_category,
        -- the third level, within financial social aid only: the equivalent leefloon or other aid
        case
            when not bool_or(benefit = 'integration_income')
            then arg_max(social_aid_kind, days) filter (where benefit = 'social_aid')
        end as social_assistance_kind
    from benefit_quarter
    where year = {year} and quarter = 4
      and benefit in ({incapacity_benefits}, 'disability_allowance', {social_assistance_benefits})
    group by insz
),

-- households on the household register snapshot of the spec's household_reference (1 January of T here;
-- the rule is cohort.projects.spec.household_year)
members as (
    select
        h.household_id,
        h.insz,
        h.lipro,
        completed_age(p.birth_date, date '{ref}') as age_end,
        -- a child of the household: under 18 on the snapshot's day (household type and children)
        completed_age(p.birth_date, date '{jan1}') < 18 as minor
    from household_jan1 h
    join person p using (insz)
    where h.year = {household_year}
),

work_share as (
    -- share of the year worked: per quarter the salaried FTE plus a main self-employed activity,
    -- capped at 1, averaged over the four quarters of T
    select insz, sum(least(cast(1 as decimal(9, 4)), q_fte)) / 4 as share
    from (
        select insz, quarter, sum(q_fte) as q_fte
        from (
            select insz, quarter, cast(fte as decimal(9, 4)) as q_fte from job_quarter where year = {year}
            union all
            select insz, quarter, cast(1 as decimal(9, 4)) from self_employed_quarter where year = {year} and category = 'main'
        )
        group by insz, quarter
    )
    group by insz
),

member_status as (
    select
        m.household_id,
        m.insz,
        m.age_end,
        coalesce(w.share, 0.0) as share,
        m.age_end between 18 and 24 and s.nomenclature = '36' as student,
        s.nomenclature = '34' as pensioner,
        s.nomenclature like '3%' as inactive
    from members m
    left join work_share w using (insz)
    left join sep_q4 s using (insz)
),

households as (
    select
        household_id,
        bool_or(pensioner) as pension_household,
        count(*) filter (where minor) as minors
    from members m
    left join member_status s using (household_id, insz)
    group by household_id
),

work_intensity as (
    select
        s.household_id,
        round(avg(s.share) filter (where s.age_end between 18 and 59 and not coalesce(s.student, false)), 6) as wi_2020,
        round(avg(s.share) filter (
            where s.age_end between 18 and 64
              and not coalesce(s.student, false)
              and not coalesce(s.pensioner, false)
              and not (s.age_end between 60 and 64 and coalesce(s.inactive, false) and h.pension_household)
        ), 6) as wi_2030
    from member_status s
    join households h using (household_id)
    group by s.household_id
),

person_household as (
    select
        m.insz,
        t.household_type,
        h.minors - case when m.minor then 1 else 0 end as children,
        wi.wi_2020,
        wi.wi_2030
    from members m
    join households h using (household_id)
    left join work_intensity wi using (household_id)
    left join lipro_household_type t on t.lipro = m.lipro
),

-- the origin cascade: own, parents' and grandparents' current and first nationality
natinfo as (
    select p.insz, p.father_insz, p.mother_insz, p.first_nationality, n.nationality as current_nationality
    from person p
    left join nationality_now n using (insz)
),

-- relatives in long form: two joins with natinfo instead of one per relative (six hash tables)
parents_long as (
    select r.insz, r.ord, n.current_nationality, n.first_nationality, n.father_insz, n.mother_insz
    from (
        select insz, 1 as ord, father_insz as rid from pop where father_insz is not null
        union all
        select insz, 2 as ord, mother_insz as rid from pop where mother_insz is not null
    ) r
    join natinfo n on n.insz = r.rid
),

grandparents_long as (
    select r.insz, r.ord, n.current_nationality, n.first_nationality
    from (
        select insz, 2 * ord - 1 as ord, father_insz as rid from parents_long where father_insz is not null
        union all
        select insz, 2 * ord as ord, mother_insz as rid from parents_long where mother_insz is not null
    ) r
    join natinfo n on n.insz = r.rid
),

-- pivot with scalar filtered aggregates (list() aggregates of lists are an order of magnitude slower)
parent_pivot as (
    select
        insz,
        bool_or(ord = 1) as has_father,
        bool_or(ord = 2) as has_mother,
        any_value(current_nationality) filter (where ord = 1) as f_current,
        any_value(first_nationality) filter (where ord = 1) as father_first,
        any_value(current_nationality) filter (where ord = 2) as m_current,
        any_value(first_nationality) filter (where ord = 2) as mother_first
    from parents_long
    group by insz
),

grandparent_pivot as (
    select
        insz,
        bool_or(ord = 1) as has_1, bool_or(ord = 2) as has_2, bool_or(ord = 3) as has_3, bool_or(ord = 4) as has_4,
        any_value(current_nationality) filter (where ord = 1) as c1, any_value(first_nationality) filter (where ord = 1) as f1,
        any_value(current_nationality) filter (where ord = 2) as c2, any_value(first_nationality) filter (where ord = 2) as f2,
        any_value(current_nationality) filter (where ord = 3) as c3, any_value(first_nationality) filter (where ord = 3) as f3,
        any_value(current_nationality) filter (where ord = 4) as c4, any_value(first_nationality) filter (where ord = 4) as f4
    from grandparents_long
    group by insz
),

family as (
    select
        pop.insz,
        [coalesce(n.nationality, pop.first_nationality), pop.first_nationality] as own,
        list_filter([
            case when pp.has_father then [pp.f_current, pp.father_first] end,
            case when pp.has_mother then [pp.m_current, pp.mother_first] end
        ], lambda x: x is not null) as parents,
        list_filter([
            case when gp.has_1 then [gp.c1, gp.f1] end,
            case when gp.has_2 then [gp.c2, gp.f2] end,
            case when gp.has_3 then [gp.c3, gp.f3] end,
            case when gp.has_4 then [gp.c4, gp.f4] end
        ], lambda x: x is not null) as grandparents,
        pp.father_first,
        pp.mother_first
    from pop
    left join nationality_now n on n.insz = pop.insz
    left join parent_pivot pp on pp.insz = pop.insz
    left join grandparent_pivot gp on gp.insz = pop.insz
),

origin as (
    select
        insz,
        own,
        {foreign_origin} as foreign_origin_known,
        {foreign_origin_country} as foreign_origin_country,
        {allochtone} as allochtone_outcome,
        list_filter(flatten([[own], parents, grandparents]), lambda g: {outside_bloc_list})[1] as allochtone_group
    from family
),

-- logical CTEs -------------------------------------------------------------------------------
joined as (
    select
        m.seq as person_id,
        pop.*,
        coalesce(n.nationality, pop.first_nationality) as nationality,
        fr.first_entry,
        e.education_level, e.education_domain, e.education_issuer_type,
        s.nomenclature, s.status_flags,
        js.category as jobseeker_category, js.pes, js.registration_date, js.unemployment_start, js.sanctioned,
        j.performance_type, j.nace_division, j.daily_wage, j.fte, j.cross_border, j.posted,
        b.incapacity.benefit as incapacity_benefit_type, b.incapacity.category as incapacity_benefit_code,
        b.incapacity.days_type as incapacity_days_type, b.incapacity.medical_code_type,
        b.incapacity.medical_code, b.incapacity.incapacity_start, b.incapacity.payment_start,
        b.incapacity.invalidity_start, b.incapacity.incapacity_end, b.disability_allowance_type, b.social_assistance_type,
        b.social_assistance_category, b.social_assistance_kind,
        ph.household_type, ph.children, ph.wi_2020, ph.wi_2030,
        o.foreign_origin_known, o.foreign_origin_country, o.allochtone_outcome,
        list_filter(o.allochtone_group, lambda x: {outside_bloc_item})[1] as allochtone_country,
        pa.province
    from pop
    join person_map m on m.hash = keyed_hash(pop.insz)
    left join nationality_now n on n.insz = pop.insz
    left join first_registration fr on fr.insz = pop.insz
    left join education_best e on e.insz = pop.insz
    left join sep_q4 s on s.insz = pop.insz
    left join jobseeker_q4 js on js.insz = pop.insz
    left join jobs_q4 j on j.insz = pop.insz
    left join benefits_q4 b on b.insz = pop.insz
    left join person_household ph on ph.insz = pop.insz
    left join origin o on o.insz = pop.insz
    left join province_of_arrondissement pa on pa.arrondissement = substr(pop.nis_code, 1, 2) || '000'
),

deciles as (
    select person_id, ntile(10) over (order by daily_wage, person_id) as decile
    from joined
    where daily_wage is not null
),

final as (
    select
        j.person_id,
        cast({year} as smallint) as year,
        {age_class} as age_class,
        j.sex,
        {nationality_class} as nationality_class,
        {birth_country_class} as birth_country_class,
        j.foreign_origin_known,
        case when j.foreign_origin_known then {foreign_origin_class} end as foreign_origin_class,
        case j.allochtone_outcome when 'outside' then true when 'inside' then false when 'belgian' then false end as allochtone,
        case when j.allochtone_outcome = 'outside' then {allochtone_class} end as allochtone_class,
        coalesce(j.nationality <> 'BE' and j.first_entry > date '{ref}' - interval 12 month, false) as newcomer,
        j.residence_reason,
        j.province,
        j.household_type,
        {children_class} as children_class,
        cast(year(j.first_entry) as smallint) as register_entry_year,
        j.education_level,
        j.education_domain,
        j.education_issuer_type,
        j.nomenclature as sep_code,
        {status_flag_columns},
        j.jobseeker_category,
        j.pes,
        {registration_months_class} as registration_months_class,
        {unemployment_months_class} as unemployment_months_class,
        j.sanctioned,
        j.performance_type,
        j.nace_division,
        {daily_wage_class} as daily_wage_class,
        cast(d.decile as varchar) as daily_wage_decile,
        j.fte,
        {wi_2020_class} as work_intensity_eu2020,
        {wi_2030_class} as work_intensity_eu2030,
        j.cross_border,
        j.posted,
        j.incapacity_benefit_type,
        j.incapacity_benefit_code,
        j.incapacity_days_type,
        j.medical_code_type,
        j.medical_code,
        -- the periods of the spell to the month (cohort/classifications/incapacity.py)
        year_month(j.incapacity_start) as incapacity_start_month,
        year_month(j.payment_start) as payment_start_month,
        year_month(j.invalidity_start) as invalidity_start_month,
        year_month(j.incapacity_end) as incapacity_end_month,
        j.disability_allowance_type,
        j.social_assistance_type,
        j.social_assistance_category,
        j.social_assistance_kind
    from joined j
    left join deciles d using (person_id)
)

select * from final order by person_id
