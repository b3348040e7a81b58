-- job: one row per person, observed quarter and employer (DMFA), the employer as a sequence number of
-- the project and wages in classes (seed 002 §4 Arbeidsregime en arbeidsvolume, Loon).
with

quarters as (select * from observed_quarters),
jobs as not materialized (select * from job_quarter where year = {year}),

final as (
    select
        q.person_id,
        {year}::smallint as year,
        q.quarter,
        em.seq as employer_id,
        j.job_rank::integer as job_rank,
        j.nace as employer_nace,
        j.joint_committee,
        j.worker_class,
        j.statute,
        j.contract_type,
        j.performance_type,
        cls_part_time_class(j.part_time_pct) as part_time_class,
        round(j.fte, 2)::double as fte,
        cls_gross_wage_class(j.gross_wage) as gross_wage_class,
        cls_daily_wage_class(j.daily_wage) as daily_wage_class,
        j.employer_size_class,
        j.service_vouchers,
        j.maternity_leave,
        j.cross_border
    from jobs j
    join quarters q on q.insz = j.insz and q.q = j.quarter
    left join employer_map em on em.hash = keyed_hash(j.employer_id)
)

select * from final order by all
