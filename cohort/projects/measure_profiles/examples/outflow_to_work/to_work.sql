-- The design rows of the model: one per outflow, the outcome 0/1 and two factors.
select
    case when sep_1q_after in ('employee', 'self-employed', 'employee and self-employed') then 1 else 0 end as to_work,
    coalesce(sex, 'unknown') as sex,
    coalesce(education_level, 'unknown') as education_level
from outflow
