-- Why a person of the neighbouring years' populations ({prev_year}, {next_year}) is missing from the
-- population of {year}: one row per such person with a reason of cohort.projects.mobility
-- (died, abroad, above_age, below_age, excluded), in that order of precedence.
with

membership as ({membership}),

candidates as (
    select insz, birth_date, death_date, be_{year} as in_belgium
    from membership
    where (in_{prev_year} or in_{next_year}) and not in_{year}
),

reasons as (
    select
        insz,
        case
            when death_date is not null and death_date <= date '{ref}' then 'died'
            when not in_belgium then 'abroad'
            when completed_age(birth_date, date '{ref}') > {max_age}
                then 'above_age'
            when completed_age(birth_date, date '{ref}') < {min_age}
                then 'below_age'
            else 'excluded'
        end as reason
    from candidates
),

final as (
    select m.seq as person_id, r.reason
    from reasons r
    join person_map m on m.hash = keyed_hash(r.insz)
)

select * from final order by person_id
