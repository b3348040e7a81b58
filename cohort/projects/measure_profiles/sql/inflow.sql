-- Seed 001 inflow frame (§5): one row per inflow in 2015 into a measure that does not target workers, with the
-- socio-economic position in each of the two quarters before the inflow quarter. Characteristics are taken
-- at the end of the quarter before the inflow. NO identifier leaves this query.
with

measure_beneficiary as (
    select insz, measure_type, measure_subtype, targets_workers, education_level, work_disability, inflow_date
    from measure_beneficiary
    where not targets_workers and year(inflow_date) = {year}
),

sep_quarter as (
    select year, quarter, insz, nomenclature from sep_quarter
    where insz in (select insz from measure_beneficiary)
),

event as (
    select
        row_number() over (order by m.insz, m.measure_type, m.measure_subtype, m.inflow_date) as event_id,
        m.insz,
        -- the situation at the end of the quarter before the inflow quarter
        (date_trunc('quarter', m.inflow_date) - interval 1 day)::date as reference_date,
        year(date_trunc('quarter', m.inflow_date) - interval 1 day)::smallint as ref_year,
        quarter(date_trunc('quarter', m.inflow_date) - interval 1 day)::tinyint as ref_quarter,
        year(date_trunc('quarter', m.inflow_date))::smallint as household_year,
        year_quarter(m.inflow_date) as inflow_quarter,
        (date_trunc('quarter', m.inflow_date) - interval 4 month)::date as two_before,
        m.measure_type || ' / ' || m.measure_subtype as measure,
        m.measure_type,
        m.education_level,
        case when m.work_disability then 'yes' else 'no' end as work_disability
    from measure_beneficiary as m
),

{situation},

final as (
    select
        c.inflow_quarter, c.measure_type, c.measure,
        {sep_1} as sep_1q_before,
        {sep_2} as sep_2q_before,
        c.education_level, c.work_disability, c.age_class, c.origin_class, c.nationality_class,
        c.birth_country_class, c.sex, c.recognised_disability, c.low_work_intensity
    from classified as c
    left join sep_quarter as s1 on s1.insz = c.insz and s1.year = c.ref_year and s1.quarter = c.ref_quarter
    left join sep_quarter as s2
        on s2.insz = c.insz and s2.year = year(c.two_before) and s2.quarter = quarter(c.two_before)
)

select * from final
order by all
