-- Seed 001 outflow frame (§6): one row per outflow in 2015 from a measure that does not target workers, with
-- the socio-economic position in each of the two quarters after the outflow quarter. Characteristics (job,
-- household) are taken at the end of the first quarter after the outflow. NO identifier leaves this query.
with

measure_beneficiary as (
    select insz, measure_type, measure_subtype, targets_workers, education_level, work_disability, outflow_date
    from measure_beneficiary
    where not targets_workers and outflow_date is not null and year(outflow_date) = {year}
),

sep_quarter as (
    select year, quarter, insz, nomenclature from sep_quarter
    where insz in (select insz from measure_beneficiary)
),

event as (
    select
        row_number() over (order by m.insz, m.measure_type, m.measure_subtype, m.outflow_date) as event_id,
        m.insz,
        -- the situation at the end of the first quarter after the outflow quarter
        (date_trunc('quarter', m.outflow_date) + interval 6 month - interval 1 day)::date as reference_date,
        year(date_trunc('quarter', m.outflow_date) + interval 3 month)::smallint as ref_year,
        quarter(date_trunc('quarter', m.outflow_date) + interval 3 month)::tinyint as ref_quarter,
        year(date_trunc('quarter', m.outflow_date) + interval 6 month)::smallint as household_year,
        year_quarter(m.outflow_date) as outflow_quarter,
        (date_trunc('quarter', m.outflow_date) + interval 6 month)::date as two_after,
        m.measure_type || ' / ' || m.measure_subtype as measure,
        m.measure_type,
        m.education_level,
        case when m.work_disability then 'yes' else 'no' end as work_disability
    from measure_beneficiary as m
),

{situation},

final as (
    select
        c.outflow_quarter, c.measure_type, c.measure,
        {sep_1} as sep_1q_after,
        {sep_2} as sep_2q_after,
        c.education_level, c.work_disability, c.age_class, c.origin_class, c.nationality_class,
        c.birth_country_class, c.sex, c.recognised_disability, c.low_work_intensity, c.household_type,
        c.daily_wage_class, c.sector, c.regime, c.part_time_class, c.statute, c.employer_size
    from classified as c
    left join sep_quarter as s1 on s1.insz = c.insz and s1.year = c.ref_year and s1.quarter = c.ref_quarter
    left join sep_quarter as s2
        on s2.insz = c.insz and s2.year = year(c.two_after) and s2.quarter = quarter(c.two_after)
)

select * from final
order by all
