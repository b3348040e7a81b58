-- education: one row per qualification obtained by the end of the year by a person observed in the
-- year (seed 002 §4 Opleiding, per gehaald kwalificatiebewijs).
with

observed as (select * from observed_ids),
qualifications as not materialized (select * from education where qualification_date <= make_date({year}, 12, 31)),

final as (
    select
        o.person_id,
        {year}::smallint as year,
        year_quarter(e.qualification_date) as qualification_quarter,
        e.level as education_level,
        e.domain as education_domain
    from qualifications e
    join observed o using (insz)
)

select * from final order by all
