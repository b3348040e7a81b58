select
    case when sep_code_next like '1%' then 1 else 0 end as to_work,
    coalesce(sex, 'unknown') as sex,
    coalesce(age_class, 'unknown') as age_class
from mobility_next
where coalesce(sep_code, '4') not like '1%'
  and next_status = 'observed'
