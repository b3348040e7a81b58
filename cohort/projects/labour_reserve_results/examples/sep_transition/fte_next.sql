select fte_next, fte, coalesce(sex, 'unknown') as sex
from mobility_next
where next_status = 'observed'
  and sep_code like '1%'
  and sep_code_next like '1%'
  and fte is not null
  and fte_next is not null
