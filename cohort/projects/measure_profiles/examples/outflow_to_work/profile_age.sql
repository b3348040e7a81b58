-- One row per beneficiary and measure on each reference date.
select reference_quarter, coalesce(age_class, 'unknown') as age_class
from profile
