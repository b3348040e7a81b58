-- Seed 000 population frame: the regularised persons at each reference date, classified.
-- One row per person and reference date; NO identifier leaves this query.
-- Parameters (str.format, safe values only): reference_dates (a SQL list of dates), household_years
-- (a SQL list of years, one per reference date), age_class,
-- sep_class, nace_section, birth_country_class, nationality_class (SQL expressions over the CTE columns).
with

regularised_person as (
    select insz, decision_date from regularised_person
),

person as (
    select insz, birth_date, sex, birth_country, death_date from person
),

reference as (
    select
        d as reference_date,
        year(d)::smallint as ref_year,
        quarter(d)::tinyint as ref_quarter,
        household_year::smallint as household_year
    -- household_year: the household register snapshot of each reference date, by the spec's
    -- household_reference (cohort.projects.spec.household_year)
    from (select unnest({reference_dates}) as d, unnest({household_years}) as household_year)
),

sep_quarter as (
    select year, quarter, insz, nomenclature from sep_quarter
    where insz in (select insz from regularised_person)
),

job_quarter as (
    select year, quarter, insz, joint_committee, nace, employer_size_class from job_quarter
    where job_rank = 1 and insz in (select insz from regularised_person)
),

household_jan1 as (
    select year, insz, lipro from household_jan1
    where insz in (select insz from regularised_person)
),

nationality_history as (
    select insz, nationality, valid_from, valid_to from nationality_history
    where insz in (select insz from regularised_person)
),

-- logical CTEs ------------------------------------------------------------------------------------

at_date as (
    select r.reference_date, r.ref_year, r.ref_quarter, r.household_year, g.insz, g.decision_date,
           p.birth_date, p.sex, p.birth_country
    from regularised_person as g
    inner join person as p using (insz)
    cross join reference as r
    where g.decision_date <= r.reference_date
      and (p.death_date is null or p.death_date > r.reference_date)
),

nationality_at_date as (
    select a.insz, a.reference_date, arg_max(n.nationality, n.valid_from) as nationality
    from at_date as a
    inner join nationality_history as n
        on n.insz = a.insz and n.valid_from <= a.reference_date
        and (n.valid_to is null or n.valid_to > a.reference_date)
    group by a.insz, a.reference_date
),

joined as (
    select
        a.*,
        completed_age(a.birth_date, a.reference_date) as age,
        s.nomenclature,
        j.joint_committee,
        j.nace,
        j.employer_size_class,
        h.lipro,
        n.nationality
    from at_date as a
    left join sep_quarter as s on s.insz = a.insz and s.year = a.ref_year and s.quarter = a.ref_quarter
    left join job_quarter as j on j.insz = a.insz and j.year = a.ref_year and j.quarter = a.ref_quarter
    left join household_jan1 as h on h.insz = a.insz and h.year = a.household_year
    left join nationality_at_date as n on n.insz = a.insz and n.reference_date = a.reference_date
),

final as (
    select
        strftime(reference_date, '%Y-%m-%d') as reference_date,
        coalesce(joint_committee, 'none') as joint_committee,
        case when nace is null then 'none' else {nace_section} end as nace_section,
        coalesce(lipro, 'not registered') as lipro,
        coalesce(employer_size_class, 'none') as employer_size,
        {age_class} as age_class,
        sex,
        year_quarter(decision_date) as decision_quarter,
        {sep_class} as socio_economic_position,
        {birth_country_class} as birth_country_class,
        {nationality_class} as nationality_class
    from joined
)

select * from final
order by all
