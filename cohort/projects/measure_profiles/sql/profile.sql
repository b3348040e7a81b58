-- Seed 001 profile frame (§4): one row per beneficiary and measure in the measure on each reference date
-- (inflow on or before it, no outflow before it). NO identifier leaves this query.
with

measure_beneficiary as (
    select insz, measure_type, measure_subtype, education_level, work_disability, inflow_date, outflow_date
    from measure_beneficiary
),

reference as (
    select d as reference_date from (select unnest({reference_dates}) as d)
),

event as (
    select
        row_number() over (order by r.reference_date, m.insz, m.measure_type, m.measure_subtype, m.inflow_date) as event_id,
        m.insz,
        r.reference_date,
        year(r.reference_date)::smallint as ref_year,
        quarter(r.reference_date)::tinyint as ref_quarter,
        year(r.reference_date + interval 1 day)::smallint as household_year,
        m.measure_type || ' / ' || m.measure_subtype as measure,
        m.measure_type,
        m.education_level,
        case when m.work_disability then 'yes' else 'no' end as work_disability
    from measure_beneficiary as m
    cross join reference as r
    where m.inflow_date <= r.reference_date
      and (m.outflow_date is null or m.outflow_date > r.reference_date)
),

{situation},

final as (
    select
        strftime(reference_date, '%Y-%m-%d') as reference_date,
        measure_type, measure, education_level, work_disability, age_class, origin_class, nationality_class,
        birth_country_class, sex, recognised_disability, low_work_intensity, household_type, daily_wage_class,
        sector, regime, part_time_class, statute, employer_size
    from classified
)

select * from final
order by all
