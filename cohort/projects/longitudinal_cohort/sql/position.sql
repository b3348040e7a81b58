-- position: one row per person and observed quarter of the year: the socio-economic position on the
-- last day of the quarter with its derived status flags, the volume of work and wages (in classes),
-- self-employment and the job-seeker registration (seed 002 §4).
with

quarters as (select * from observed_quarters),
positions as not materialized (select * from sep_quarter where year = {year}),
jobs as not materialized (select * from job_quarter where year = {year}),
self_employed as not materialized (select * from self_employed_quarter where year = {year}),
jobseekers as not materialized (select * from jobseeker_quarter where year = {year}),
benefits as not materialized (select * from benefit_quarter where year = {year}),

-- only the observed persons' rows: the year's source tables are large, the cohort is small
own_positions as (select s.* from positions s semi join quarters q on q.insz = s.insz and q.q = s.quarter),
own_self_employed as (select s.* from self_employed s semi join quarters q on q.insz = s.insz and q.q = s.quarter),
own_jobseekers as (select s.* from jobseekers s semi join quarters q on q.insz = s.insz and q.q = s.quarter),

-- Status combinations the DWH's derived flags (sep_quarter.status_flags) do not hold, derived here
-- from the rows of the same person and quarter: a benefit row of each kind in the quarter (paid or
-- right open at some time in it, not necessarily on the reference day), a job-seeker registration
-- on its last day, a self-employed affiliation in it; an entitled child is the related person of a
-- child_benefit row. RVA interventions: an RVA benefit (unemployment, career break, SWT) or an
-- activated job (the activation allowance).
own_benefits as (
    select
        b.insz, b.quarter as q,
        bool_or(b.benefit = 'career_break') as career_break,
        bool_or(b.benefit in ('integration_income', 'social_aid')) as social_assistance,
        bool_or(b.benefit = 'invalidity') as invalidity,
        bool_or(b.benefit = 'pension') as pension,
        bool_or(b.benefit = 'occupational_disease') as occupational_disease,
        bool_or(b.benefit = 'early_retirement') as early_retirement,
        bool_or(b.benefit = 'unemployment') as unemployment,
        bool_or(b.benefit in ('unemployment', 'career_break', 'early_retirement')) as rva_benefit
    from benefits b
    semi join quarters q on q.insz = b.insz and q.q = b.quarter
    group by all
),
entitled_children as (
    select distinct b.related_insz as insz, b.quarter as q
    from benefits b
    semi join quarters q on q.insz = b.related_insz and q.q = b.quarter
    where b.benefit = 'child_benefit'
),
activated_jobs as (
    select distinct j.insz, j.quarter as q
    from jobs j
    semi join quarters q on q.insz = j.insz and q.q = j.quarter
    where j.activation_start is not null
),

job_totals as (
    select j.insz, j.quarter as q, count(*) as salaried_jobs, sum(j.fte) as fte,
           sum(j.part_time_pct) as part_time_pct, sum(j.gross_wage) as gross_wage,
           bool_or(j.cross_border) as cross_border
    from jobs j
    semi join quarters q on q.insz = j.insz and q.q = j.quarter
    group by all
),

final as (
    select
        q.person_id,
        {year}::smallint as year,
        q.quarter,
        s.nomenclature as socio_economic_position,
        {status_flag_columns},
        s.nomenclature = '32' as exempted_from_registration,
        coalesce(j.salaried_jobs, 0)::integer as salaried_jobs,
        (coalesce(j.salaried_jobs, 0) + case when se.insz is not null then 1 else 0 end)::integer as total_jobs,
        round(coalesce(j.fte, 0), 2)::double as fte_total,
        cls_part_time_class(j.part_time_pct) as cumulated_part_time_class,
        cls_gross_wage_class(j.gross_wage) as quarter_gross_wage_class,
        se.category as self_employed_category,
        se.quality as self_employed_quality,
        se.nace as self_employed_nace,
        year_quarter(se.affiliation_start) as self_employed_affiliation_quarter,
        cls_self_employed_income_class(se.annual_income) as self_employed_income_class,
        js.category as jobseeker_category,
        js.pes as jobseeker_service,
        year_quarter(js.registration_date) as jobseeker_registration_quarter,
        cls_unemployment_duration_class(date_diff('month', js.unemployment_start, q.quarter_end)) as unemployment_duration_class,
        js.sanctioned,
        coalesce(j.cross_border, false) as outgoing_cross_border,
        coalesce(b.rva_benefit, false) or aj.insz is not null as rva_intervention,
        coalesce(b.career_break and b.social_assistance, false) as career_break_with_social_assistance,
        coalesce(b.unemployment, false) and se.insz is not null as unemployment_benefit_with_self_employment,
        coalesce(b.invalidity and b.pension, false) as invalidity_with_pension,
        coalesce(b.invalidity, false) and ec.insz is not null as invalidity_with_entitled_child,
        coalesce(b.occupational_disease, false) and js.insz is not null as occupational_disease_with_job_seeking,
        coalesce(b.occupational_disease and b.career_break, false) as occupational_disease_with_career_break,
        coalesce(b.occupational_disease and b.pension, false) as occupational_disease_with_pension,
        coalesce(b.occupational_disease and b.early_retirement, false) as occupational_disease_with_early_retirement
    from quarters q
    left join own_positions s on s.insz = q.insz and s.quarter = q.q
    left join job_totals j on j.insz = q.insz and j.q = q.q
    left join own_self_employed se on se.insz = q.insz and se.quarter = q.q
    left join own_jobseekers js on js.insz = q.insz and js.quarter = q.q
    left join own_benefits b on b.insz = q.insz and b.q = q.q
    left join entitled_children ec on ec.insz = q.insz and ec.q = q.q
    left join activated_jobs aj on aj.insz = q.insz and aj.q = q.q
)

select * from final order by all
