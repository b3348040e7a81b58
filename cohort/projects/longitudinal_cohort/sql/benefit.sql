-- benefit: one row per person, observed quarter and benefit (one per child for child benefit):
-- amounts in classes, spell dates as quarters, the other actor as a sequence number (seed 002 §4).
with

quarters as (select * from observed_quarters),
benefits as not materialized (select * from benefit_quarter where year = {year}),

final as (
    select
        q.person_id,
        {year}::smallint as year,
        q.quarter,
        b.benefit,
        b.category as benefit_category,
        cls_benefit_amount_class(b.amount) as benefit_amount_class,
        b.days::integer as benefit_days,
        year_quarter(b.spell_start) as spell_start_quarter,
        -- spell_end is exclusive: the spell's last day lies one day before
        year_quarter(b.spell_end - 1) as spell_end_quarter,
        b.fraction::double as benefit_fraction,
        rm.seq as related_person_id,
        -- the RVA career-break file's detail (career_break rows) and the POD MI's kind of social aid
        -- (social_aid rows: the equivalent leefloon); null on the other benefits
        b.career_break_sector,
        b.career_break_statute,
        b.career_break_reason,
        b.career_break_motive,
        b.career_break_adjustment,
        b.social_aid_kind
    from benefits b
    join quarters q on q.insz = b.insz and q.q = b.quarter
    left join person_map rm on rm.hash = keyed_hash(b.related_insz)
)

select * from final order by all
