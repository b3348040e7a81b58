-- The reserve of T: not working on 31 December (position outside group 1 of the nomenclature);
-- one row per person, destination in T+1.
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
