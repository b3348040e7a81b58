-- One row per person of year T observed in T+1: origin, and the position in T and in T+1 in classes
-- (the classes of cohort/projects/anonymous.py, SEP_CLASSES).
select
    case when allochtone is null then 'unknown' when allochtone then 'allochtone' else 'not allochtone' end
        as origin,
    case
        when sep_code in ('111', '112') then 'employee'
        when sep_code in ('121', '122', '123', '131', '132', '133') then 'self-employed'
        when sep_code in ('141', '142', '143') then 'employee and self-employed'
        when sep_code in ('211', '212', '213') then 'job seeker with benefit'
        when sep_code = '214' then 'job seeker without benefit'
        when sep_code in ('331', '332') then 'social assistance'
        when sep_code like '3%' then 'other inactive'
        else 'unknown'
    end as sep_class,
    case
        when sep_code_next in ('111', '112') then 'employee'
        when sep_code_next in ('121', '122', '123', '131', '132', '133') then 'self-employed'
        when sep_code_next in ('141', '142', '143') then 'employee and self-employed'
        when sep_code_next in ('211', '212', '213') then 'job seeker with benefit'
        when sep_code_next = '214' then 'job seeker without benefit'
        when sep_code_next in ('331', '332') then 'social assistance'
        when sep_code_next like '3%' then 'other inactive'
        else 'unknown'
    end as sep_class_next
from mobility_next
where next_status = 'observed'
