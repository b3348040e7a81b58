-- The population of year {year} (seed 004 §1, §3): persons with a National Register number (no BIS
-- number), alive and with their main residence in Belgium on {ref} (the last day of Q4), aged
-- {min_age}-{max_age} on that day (the spec's population_ages), inscribed in the population or foreigners register (the waiting register is out).
-- One row per person; used by situation, population_absence and person_mapping.
with

residence as (
    select
        insz,
        arg_max(nis_code, valid_from) as nis_code
    from residence_history
    where valid_from <= date '{ref}'
      and (valid_to is null or valid_to > date '{ref}')
      and country = 'BE'
    group by insz
),

register as (
    select
        insz,
        arg_max(register, valid_from) as register,
        arg_max(residence_reason, valid_from) as residence_reason
    from register_history
    where valid_from <= date '{ref}'
      and (valid_to is null or valid_to > date '{ref}')
    group by insz
),

aged as (
    select
        p.*,
        r.nis_code,
        g.register,
        g.residence_reason,
        completed_age(p.birth_date, date '{ref}') as age
    from person p
    join residence r using (insz)
    join register g using (insz)
    where not p.is_bis
      and (p.death_date is null or p.death_date > date '{ref}')
      and resident_register(g.register)
),

final as (
    select * from aged where age between {min_age} and {max_age}
)

select * from final
