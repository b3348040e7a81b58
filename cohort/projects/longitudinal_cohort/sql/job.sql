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
        j.cross_border,
        j.worker_code,
        j.establishment_nace,
        -- the RVA activation file's detail of an activated job: dates to the month, the working
        -- time in the part-time classes (seed 002 §4 Werkloosheid)
        j.activation_prior_status,
        cls_part_time_class(j.activation_pct) as activation_working_time_class,
        year_month(j.activation_start) as activation_start_month,
        -- activation_end is exclusive: the activated job's last day lies one day before
        year_month(j.activation_end - 1) as activation_end_month
    from jobs j
    join quarters q on q.insz = j.insz and q.q = j.quarter
    left join employer_map em on em.hash = keyed_hash(j.employer_id)
)

select * from final order by all
