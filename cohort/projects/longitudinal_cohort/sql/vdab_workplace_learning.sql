-- vdab_workplace_learning: one row per work-place learning action running during the year of a person
-- observed in the year (seed 002 §3 Werkplekleren; dates as month and year).
with

observed as (select * from observed_ids),
actions as (
    select * from vdab_workplace_learning
    where start_date <= make_date({year}, 12, 31) and (end_date is null or end_date >= make_date({year}, 1, 1))
),

final as (
    select
        o.person_id,
        {year}::smallint as year,
        a.internship_type,
        year_month(a.start_date) as action_start_month,
        year_month(a.end_date) as action_end_month,
        a.state as action_state,
        a.situation as action_situation,
        a.training_weeks::integer as training_weeks,
        a.occupation_cluster as action_occupation_cluster,
        a.language_support,
        a.company_size_class,
        a.nace as company_nace
    from actions a
    join observed o using (insz)
)

select * from final order by all
