-- Shared block of the seed 001 population frames (inserted after each frame's `event` CTE, which gives:
-- event_id, insz, reference_date, ref_year, ref_quarter, household_year, plus the frame's own columns).
-- It classifies the person at the reference date: personal characteristics, household, main job.

person_e as (
    select insz, birth_date, sex, birth_country, first_nationality, father_insz, mother_insz from person
    where insz in (select insz from event)
),

parent_first as (
    select insz, first_nationality from person
    where insz in (select father_insz from person_e union select mother_insz from person_e)
),

nationality_e as (
    select e.event_id, arg_max(n.nationality, n.valid_from) as nationality
    from event as e
    inner join nationality_history as n
        on n.insz = e.insz and n.valid_from <= e.reference_date
        and (n.valid_to is null or n.valid_to > e.reference_date)
    group by e.event_id
),

main_job as (
    select year, quarter, insz, nace, worker_class, performance_type, part_time_pct, daily_wage, employer_size_class
    from job_quarter
    where job_rank = 1 and insz in (select insz from event)
),

recognised as (
    -- recognised handicap or invalidity (erkend): a disability allowance or invalidity benefit in the quarter,
    -- or registered as a job seeker recognised as disabled (category 06)
    select distinct year, quarter, insz from benefit_quarter
    where benefit in ('disability_allowance', 'invalidity') and insz in (select insz from event)
    union
    select distinct year, quarter, insz from jobseeker_quarter
    where category = '06' and insz in (select insz from event)
),

household_e as (
    select h.year, h.insz, h.household_id, h.lipro from household_jan1 as h
    where h.insz in (select insz from event)
),

-- work intensity of the household (Eurostat-like): FTE worked in the reference quarter by the members aged
-- 18-64, over their number, in the spec's classes (coarsening_rules.low_work_intensity)
household_member as (
    select e.event_id, e.ref_year, e.ref_quarter, e.reference_date, m.insz
    from event as e
    inner join household_e as h on h.insz = e.insz and h.year = e.household_year
    inner join household_jan1 as m on m.year = h.year and m.household_id = h.household_id
),

member_fte as (
    select hm.event_id,
           count(*) as members,
           sum(least(coalesce(j.fte, 0), 1)) as fte
    from household_member as hm
    inner join person as p on p.insz = hm.insz
    left join (
        select year, quarter, insz, sum(fte) as fte from job_quarter
        where insz in (select insz from household_member)
        group by all
    ) as j on j.insz = hm.insz and j.year = hm.ref_year and j.quarter = hm.ref_quarter
    where completed_age(p.birth_date, hm.reference_date) between 18 and 64
    group by hm.event_id
),

situated as (
    select
        e.*,
        p.sex,
        p.birth_country,
        completed_age(p.birth_date, e.reference_date) as age,
        n.nationality,
        {origin_country} as origin_country,
        h.lipro,
        case when h.insz is null then 'unknown'
             when mf.members is null or mf.members = 0 then 'not applicable'
             else {low_work_intensity} end as low_work_intensity,
        case when r.insz is null then 'no' else 'yes' end as recognised_disability,
        j.nace, j.worker_class, j.performance_type, j.part_time_pct, j.daily_wage, j.employer_size_class
    from event as e
    inner join person_e as p on p.insz = e.insz
    left join parent_first as fa on fa.insz = p.father_insz
    left join parent_first as mo on mo.insz = p.mother_insz
    left join nationality_e as n on n.event_id = e.event_id
    left join household_e as h on h.insz = e.insz and h.year = e.household_year
    left join member_fte as mf on mf.event_id = e.event_id
    left join recognised as r on r.insz = e.insz and r.year = e.ref_year and r.quarter = e.ref_quarter
    left join main_job as j on j.insz = e.insz and j.year = e.ref_year and j.quarter = e.ref_quarter
),

classified as (
    select
        s.*,
        {age_class} as age_class,
        {origin_class} as origin_class,
        {nationality_class} as nationality_class,
        {birth_country_class} as birth_country_class,
        case lipro
            when 'SING' then 'single'
            when 'MAR0' then 'couple without children' when 'UNM0' then 'couple without children'
            when 'MAR+' then 'couple with children' when 'UNM+' then 'couple with children'
            when 'H1PA' then 'single parent'
            when 'CMAR' then 'child living with parent(s)' when 'CUNM' then 'child living with parent(s)'
            when 'C1PA' then 'child living with parent(s)'
            when 'COLL' then 'collective household'
            when 'NFRP' then 'other' when 'OTHR' then 'other'
            else 'not registered' end as household_type,
        {daily_wage_class} as daily_wage_class,
        case when nace is null then 'no salaried job' else {nace_section} end as sector,
        coalesce(performance_type, 'no salaried job') as regime,
        {part_time_class} as part_time_class,
        case worker_class when '1' then 'blue-collar' when '2' then 'white-collar' when '3' then 'civil servant'
             when '4' then 'apprentice or student' else 'no salaried job' end as statute,
        coalesce(employer_size_class, 'no salaried job') as employer_size
    from situated as s
)
