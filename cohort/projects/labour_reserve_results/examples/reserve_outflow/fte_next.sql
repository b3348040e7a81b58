select coalesce(province, 'unknown') as province, fte_next
from mobility_next
where coalesce(sep_code, '4') not like '1%'
  and next_status = 'observed'
  and sep_code_next like '1%'
  and fte_next is not null
