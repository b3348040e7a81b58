-- Seed 003 population frame: Flemish government staff at the end of {year}, aged {min_age}-{max_age} on {ref_date},
-- with both origin classifications. One row per staff member; NO identifier leaves this query.
-- Parameters (str.format, safe values only): year, ref_date (YYYY-MM-DD), age_class (SQL CASE over `age`),
-- origin_eu15 / origin_eu (the allochtone cascade over own_nats, parent_nats, grandparent_nats) and
-- origin_eu15_class / origin_eu_class (its outcome labelled by the variable's classes in the spec).
with

staff as (
    select insz, policy_domain, entity, level, position, regime
    from flemish_staff
    where year = {year}
),

person_base as (
    select insz, birth_date, sex, first_nationality, father_insz, mother_insz
    from person
),

-- logical CTEs ------------------------------------------------------------------------------------

staff_person as (
    select s.*, p.birth_date, p.sex, p.father_insz, p.mother_insz
    from staff as s
    inner join person_base as p using (insz)
),

parent as (
    select p.insz, p.father_insz, p.mother_insz
    from person_base as p
    where p.insz in (select father_insz from staff_person union select mother_insz from staff_person)
),

-- everyone whose nationalities are needed: the staff, their known parents and known grandparents
relative as (
    select insz from staff
    union select insz from parent
    union select father_insz from parent where father_insz is not null
    union select mother_insz from parent where mother_insz is not null
),

current_nationality as (
    select n.insz, list(distinct n.nationality order by n.nationality) as nats
    from nationality_history as n
    where n.insz in (select insz from relative)
      and n.valid_from <= date '{ref_date}'
      and (n.valid_to is null or n.valid_to > date '{ref_date}')
    group by n.insz
),

-- a person's current and first nationality (a relative without a person row stays unknown)
nationalities as (
    select p.insz, list_distinct(coalesce(c.nats, []) || [p.first_nationality]) as nats
    from person_base as p
    inner join relative as r using (insz)
    left join current_nationality as c using (insz)
),

family as (
    select
        sp.policy_domain,
        sp.entity,
        sp.level,
        sp.position,
        sp.regime,
        sp.sex,
        completed_age(sp.birth_date, date '{ref_date}') as age,
        own.nats as own_nats,
        list_filter([fa.nats, mo.nats], lambda x: x is not null) as parent_nats,
        list_filter([ff.nats, fm.nats, mf.nats, mm.nats], lambda x: x is not null) as grandparent_nats
    from staff_person as sp
    inner join nationalities as own on own.insz = sp.insz
    left join nationalities as fa on fa.insz = sp.father_insz
    left join nationalities as mo on mo.insz = sp.mother_insz
    left join parent as f on f.insz = sp.father_insz
    left join parent as m on m.insz = sp.mother_insz
    left join nationalities as ff on ff.insz = f.father_insz
    left join nationalities as fm on fm.insz = f.mother_insz
    left join nationalities as mf on mf.insz = m.father_insz
    left join nationalities as mm on mm.insz = m.mother_insz
),

classified as (
    select
        policy_domain,
        entity,
        sex,
        {age_class} as age_class,
        level,
        position,
        regime,
        {origin_eu15} as cascade_eu15,
        {origin_eu} as cascade_eu
    from family
    where age between {min_age} and {max_age}
),

final as (
    select
        policy_domain,
        entity,
        sex,
        age_class,
        level,
        position,
        regime,
        {origin_eu15_class} as origin_eu15,
        {origin_eu_class} as origin_eu
    from classified
)

select * from final
order by all
