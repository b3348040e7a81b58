-- vdab_training: one row per VDAB training module running during the year of a person observed in
-- the year (seed 002 §3 Opleiding; dates as month and year).
with

observed as (select * from observed_ids),
trainings as (
    select * from vdab_training
    where start_date <= make_date({year}, 12, 31) and (end_date is null or end_date >= make_date({year}, 1, 1))
),

final as (
    select
        o.person_id,
        {year}::smallint as year,
        year_month(t.start_date) as training_start_month,
        year_month(t.end_date) as training_end_month,
        t.method as training_method,
        t.trainee_status,
        t.section as training_section,
        t.sector as training_sector,
        t.cluster as training_cluster,
        t.module as training_module,
        t.days::integer as training_days,
        t.state as training_state,
        t.result as training_result,
        t.converted_to_guidance
    from trainings t
    join observed o using (insz)
)

select * from final order by all
