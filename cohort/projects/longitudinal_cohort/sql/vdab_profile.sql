-- vdab_profile: one row per VDAB registration in the year of a person observed in the year, the
-- profile at registration (seed 002 §3 Profiel; dates as month and year).
with

observed as (select * from observed_ids),
profiles as not materialized (select * from vdab_profile where year(registration_date) = {year}),

final as (
    select
        o.person_id,
        {year}::smallint as year,
        year_month(v.registration_date) as registration_month,
        cls_vdab_unemployment_duration_class(v.unemployment_months) as vdab_unemployment_duration_class,
        v.dutch_level,
        v.other_languages::integer as other_languages,
        v.desired_occupation_cluster,
        v.desired_regime,
        v.driving_licence,
        v.study_level,
        v.study_level_at_inflow,
        v.foreign_diploma_recognised,
        v.work_disability
    from profiles v
    join observed o using (insz)
)

select * from final order by all
