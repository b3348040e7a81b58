-- Membership of the populations of several years in one pass over each source (the rule of
-- population.sql, evaluated on every reference day at once): one row per person resident in
-- Belgium on at least one of the days, with per year `be_<year>` (main residence in Belgium on the
-- reference day) and `in_<year>` (in the population of that year). Used by person_mapping and
-- population_absence, which would otherwise run population.sql once per year.
with

residence as (
    select
        insz,
        {residence_flags}
    from residence_history
    where country = 'BE'
      and valid_from <= date '{last_ref}'
      and (valid_to is null or valid_to > date '{first_ref}')
    group by insz
),

register as (
    select
        insz,
        {register_columns}
    from register_history
    where valid_from <= date '{last_ref}'
      and (valid_to is null or valid_to > date '{first_ref}')
    group by insz
),

final as (
    select
        p.insz,
        p.birth_date,
        p.death_date,
        {membership_columns}
    from person p
    join residence r using (insz)
    left join register g using (insz)
    where not p.is_bis
)

select * from final
