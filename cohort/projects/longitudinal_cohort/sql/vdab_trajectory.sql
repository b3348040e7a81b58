-- vdab_trajectory: one row per VDAB guidance trajectory running during the year of a person observed
-- in the year (seed 002 §3 Traject; dates as month and year). The trajectory number is not delivered.
with

observed as (select * from observed_ids),
trajectories as (
    select * from vdab_trajectory
    where start_date <= make_date({year}, 12, 31) and (end_date is null or end_date >= make_date({year}, 1, 1))
),

final as (
    select
        o.person_id,
        {year}::smallint as year,
        year_month(t.start_date) as trajectory_start_month,
        year_month(t.end_date) as trajectory_end_month,
        t.provider,
        t.service_need,
        year_month(t.transmission_date) as transmission_month,
        t.communications_per_month::double as communications_per_month,
        t.applications_per_month::double as applications_per_month,
        t.office as vdab_office
    from trajectories t
    join observed o using (insz)
)

select * from final order by all
