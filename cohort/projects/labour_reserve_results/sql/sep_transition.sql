-- Phase-2 analysis (seed 004): transition matrix of the socio-economic position T -> T+1 by origin and age group.
-- One row per person of year {year} observed in T+1; only the classified dimension columns.
with

mobility_next as (
    select allochtone, age_class, sep_code, sep_code_next, next_status
    from mobility_next
    where year = {year}
),

final as (
    select
        case when allochtone is null then 'unknown' when allochtone then 'allochtone' else 'not allochtone' end as origin,
        {age_group} as age_group,
        {sep_class} as sep_class,
        {sep_class_next} as sep_class_next
    from mobility_next
    where next_status = 'observed'
)

select * from final
order by all
