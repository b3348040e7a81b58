-- Phase-2 analysis (seed 004): outflow from the labour reserve by province. The reserve of T: everyone of the
-- population of year {year} not working on 31 December (position outside the working group 1 of the
-- nomenclature). Destination in T+1: to work, still in the reserve, died, or out of the population (emigrated,
-- aged out, not in the population). One row per person of the reserve; only the dimension columns.
with

mobility_next as (
    select province, sep_code, sep_code_next, next_status
    from mobility_next
    where year = {year}
),

final as (
    select
        coalesce(province, 'unknown') as province,
        case
            when next_status = 'observed' and sep_code_next like '1%' then 'to work'
            when next_status = 'observed' then 'still in the reserve'
            when next_status = 'died' then 'died'
            else 'left the population'
        end as destination
    from mobility_next
    where coalesce(sep_code, '4') not like '1%'
      and next_status <> 'not_yet_observed'
)

select * from final
order by all
