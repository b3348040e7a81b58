-- household: one row per sample person observed in the year and member of that sample person's
-- household on 1 January (the sample person included): the link between household members and their
-- sample person(s), with the household characteristics of seed 002 §4 Gezinskenmerken.
with

observed as (select * from observed_ids),
households as not materialized (select * from household_jan1 where year = {year}),
persons as not materialized (select insz, sex from person),

sample_households as (
    select o.person_id as sample_person_id, h.household_id
    from observed o
    join households h using (insz)
    where o.is_sample_person
),
members as (
    select s.sample_person_id, h.*
    from sample_households s
    join households h using (household_id)
),
reference_persons as (
    select p.insz, p.sex from persons p semi join (select reference_insz as insz from members) r using (insz)
),

final as (
    select
        m.sample_person_id,
        o.person_id,
        {year}::smallint as year,
        o.is_sample_person,
        rm.seq as reference_person_id,
        rp.sex as reference_person_sex,
        m.household_size::integer as household_size,
        m.relation as relation_to_reference,
        pm.seq as partner_id,
        m.lipro
    from members m
    join observed o using (insz)
    left join person_map rm on rm.hash = keyed_hash(m.reference_insz)
    left join person_map pm on pm.hash = keyed_hash(m.partner_insz)
    left join reference_persons rp on rp.insz = m.reference_insz
)

select * from final order by all
