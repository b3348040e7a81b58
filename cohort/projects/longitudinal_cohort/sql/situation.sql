-- situation (secure): one row per person observed in the year, the yearly situation that the
-- trajectory tables (mobility_next / mobility_prev) put next to the neighbouring years: the position
-- in the last observed quarter and the residence. Read from the year's written person and position
-- exports, so it holds nothing the delivery does not already hold. Parameters: {person_file}, {position_file} (quoted paths).
with

persons as (select * from read_parquet({person_file}, hive_partitioning = false)),
positions as (select * from read_parquet({position_file}, hive_partitioning = false)),

last_quarter as (select person_id, max(quarter) as quarter from positions group by person_id),

final as (
    select
        p.person_id,
        p.year,
        p.is_sample_person,
        lq.quarter as situation_quarter,
        pos.socio_economic_position,
        pos.quarter_gross_wage_class,
        p.region,
        p.province
    from persons p
    left join last_quarter lq using (person_id)
    left join positions pos on pos.person_id = lq.person_id and pos.quarter = lq.quarter
)

select * from final order by person_id
