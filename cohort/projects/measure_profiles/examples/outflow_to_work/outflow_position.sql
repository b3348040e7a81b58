-- One row per outflow (the outflow frame: one row per beneficiary and measure left in 2015).
select
    outflow_quarter,
    case
        when sep_1q_after in ('employee', 'self-employed', 'employee and self-employed') then 'in work'
        when sep_1q_after in ('job seeker with benefit', 'job seeker without benefit') then 'job seeker'
        else 'other'
    end as position_after
from outflow
