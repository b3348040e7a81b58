-- person: one row per person observed in the year (sample persons with an observed quarter and
-- the members of their households on 1 January), person characteristics of seed 002 §4.
-- Views prepared by build.prepare_year: observed_ids, sample_person, person_map; macros from
-- population.install_rules. Parameters: {year}, {scale} (warehouse scale, for municipality sizes).
with

observed as (select * from observed_ids),
sample as (select * from sample_person),
persons as not materialized (select * from person),
nationalities as not materialized (select * from nationality_history),
residences as not materialized (select * from residence_history),
registers as not materialized (select * from register_history),
households as not materialized (select * from household_jan1 where year = {year}),
positions_q1 as not materialized (select * from sep_quarter where year = {year} and quarter = 1),

days as (select make_date({year}, 1, 1) as jan1, make_date({year}, 12, 31) as dec31),

family as materialized (
    -- the observed persons, their parents and grandparents: a small table to join, never the whole register
    with own as (select p.* from persons p semi join observed using (insz)),
    parents as (
        select p.* from persons p
        semi join (select father_insz as insz from own union select mother_insz from own) k using (insz)
    ),
    grandparents as (
        select p.* from persons p
        semi join (select father_insz as insz from parents union select mother_insz from parents) k using (insz)
    )
    select * from own union select * from parents union select * from grandparents
),
nationality_jan1 as (
    select n.insz, arg_max(n.nationality, n.valid_from) as nationality, max(n.valid_from) as valid_from
    from nationalities n semi join observed using (insz), days
    where n.valid_from <= jan1 and (n.valid_to is null or n.valid_to > jan1)
    group by n.insz
),
nationality_dec31 as (
    select n.insz, arg_max(n.nationality, n.valid_from) as nationality, max(n.valid_from) as valid_from
    from nationalities n semi join observed using (insz), days
    where n.valid_from <= dec31 and (n.valid_to is null or n.valid_to > dec31)
    group by n.insz
),
residence_jan1 as (
    select r.insz, arg_max(r.nis_code, r.valid_from) as nis_code, arg_max(r.country, r.valid_from) as country
    from residences r semi join observed using (insz), days
    where r.valid_from <= jan1 and (r.valid_to is null or r.valid_to > jan1)
    group by r.insz
),
residence_dec31 as (
    select r.insz, arg_max(r.nis_code, r.valid_from) as nis_code, arg_max(r.country, r.valid_from) as country
    from residences r semi join observed using (insz), days
    where r.valid_from <= dec31 and (r.valid_to is null or r.valid_to > dec31)
    group by r.insz
),
register_first as (
    select g.insz, min(g.valid_from) as first_entry
    from registers g semi join observed using (insz)
    group by g.insz
),
register_year as (
    select g.insz, arg_max(g.residence_reason, g.valid_from) as residence_reason,
           arg_max(g.decision_date, g.valid_from) as decision_date
    from registers g semi join observed using (insz), days
    -- the latest register spell that overlaps the year
    where g.valid_from <= dec31 and (g.valid_to is null or g.valid_to > jan1)
    group by g.insz
),

municipality_residents as (
    -- everyone with a main residence in the municipality on 1 January
    select r.nis_code, count(*) / {scale} as residents
    from residences r, days
    where r.valid_from <= jan1 and (r.valid_to is null or r.valid_to > jan1) and r.country = 'BE'
    group by r.nis_code
),
municipality_unemployment as (
    -- job seekers among the working and job seekers at the end of the first quarter, by residence on 1 January
    select r.nis_code,
           100.0 * count(*) filter (where left(s.nomenclature, 1) = '2')
               / nullif(count(*) filter (where left(s.nomenclature, 1) in ('1', '2')), 0) as unemployment_rate
    from positions_q1 s
    join residences r on r.insz = s.insz
    cross join days
    where r.valid_from <= jan1 and (r.valid_to is null or r.valid_to > jan1) and r.country = 'BE'
      and left(s.nomenclature, 1) in ('1', '2')
    group by r.nis_code
),
children as (
    select parent_insz as insz, string_agg(cast(year(birth_date) as varchar), ',' order by birth_date) as birth_years
    from (
        select c.father_insz as parent_insz, c.birth_date from persons c
        semi join (select insz from observed where is_sample_person) s on s.insz = c.father_insz
        union all
        select c.mother_insz as parent_insz, c.birth_date from persons c
        semi join (select insz from observed where is_sample_person) s on s.insz = c.mother_insz
    ) k, days
    where k.birth_date <= dec31
    group by parent_insz
),

enriched as (
    select
        o.person_id, o.is_sample_person, o.is_household_member, o.insz,
        p.birth_date, p.sex, p.first_nationality, p.birth_country, p.death_date,
        coalesce(nj.nationality, nd.nationality) as nationality,
        coalesce(nj.valid_from, nd.valid_from) as nationality_from,
        fa.first_nationality as fa_nat, mo.first_nationality as mo_nat,
        fa.birth_country as fa_birth, mo.birth_country as mo_birth,
        ffa.first_nationality as ffa_nat, fmo.first_nationality as fmo_nat,
        mfa.first_nationality as mfa_nat, mmo.first_nationality as mmo_nat,
        ffa.birth_country as ffa_birth, fmo.birth_country as fmo_birth,
        mfa.birth_country as mfa_birth, mmo.birth_country as mmo_birth,
        coalesce(rj.nis_code, rd.nis_code) as nis_code,
        coalesce(rj.country, rd.country) as residence_country,
        rf.first_entry, rg.residence_reason, rg.decision_date,
        h.civil_status, h.civil_status_date, h.legal_cohabitation, h.legal_cohabitation_start,
        s.stratum, s.entry_year, s.design_weight,
        ch.birth_years
    from observed o
    join family p using (insz)
    left join family fa on fa.insz = p.father_insz
    left join family mo on mo.insz = p.mother_insz
    left join family ffa on ffa.insz = fa.father_insz
    left join family fmo on fmo.insz = fa.mother_insz
    left join family mfa on mfa.insz = mo.father_insz
    left join family mmo on mmo.insz = mo.mother_insz
    left join nationality_jan1 nj using (insz)
    left join nationality_dec31 nd using (insz)
    left join residence_jan1 rj using (insz)
    left join residence_dec31 rd using (insz)
    left join register_first rf using (insz)
    left join register_year rg using (insz)
    left join households h using (insz)
    left join sample s using (insz)
    left join children ch using (insz)
),

final as (
    select
        e.person_id,
        {year}::smallint as year,
        e.is_sample_person,
        e.is_household_member,
        case when e.is_sample_person then e.stratum end as sample_stratum,
        case when e.is_sample_person then e.entry_year end::smallint as sample_entry_year,
        case when e.is_sample_person then e.design_weight end::double as design_weight,
        origin_group(origin_country(coalesce(e.nationality, e.first_nationality), e.first_nationality, e.fa_nat, e.mo_nat)) as origin_group,
        year_quarter(e.birth_date) as birth_quarter,
        e.sex,
        country_cls(e.nationality) as current_nationality_class,
        year_quarter(e.nationality_from) as current_nationality_quarter,
        country_cls(e.first_nationality) as first_nationality_class,
        country_cls(e.fa_nat) as father_first_nationality_class,
        country_cls(e.mo_nat) as mother_first_nationality_class,
        country_cls(e.ffa_nat) as paternal_grandfather_first_nationality_class,
        country_cls(e.fmo_nat) as paternal_grandmother_first_nationality_class,
        country_cls(e.mfa_nat) as maternal_grandfather_first_nationality_class,
        country_cls(e.mmo_nat) as maternal_grandmother_first_nationality_class,
        country_cls(e.birth_country) as birth_country_class,
        country_cls(e.fa_birth) as father_birth_country_class,
        country_cls(e.mo_birth) as mother_birth_country_class,
        country_cls(e.ffa_birth) as paternal_grandfather_birth_country_class,
        country_cls(e.fmo_birth) as paternal_grandmother_birth_country_class,
        country_cls(e.mfa_birth) as maternal_grandfather_birth_country_class,
        country_cls(e.mmo_birth) as maternal_grandmother_birth_country_class,
        year_quarter(e.first_entry) as register_entry_quarter,
        e.residence_reason,
        year_quarter(e.decision_date) as residence_decision_quarter,
        case when e.death_date <= make_date({year}, 12, 31) then year_quarter(e.death_date) end as death_quarter,
        case when e.residence_country is null then null
             when e.residence_country <> 'BE' then 'abroad'
             else g.region end as region,
        case when e.residence_country is null then null
             when e.residence_country <> 'BE' then 'outside Flanders'
             else g.province end as province,
        cls_municipality_size_class(mr.residents) as municipality_size_class,
        cls_municipality_unemployment_rate_class(mu.unemployment_rate) as municipality_unemployment_rate_class,
        case when e.is_sample_person then e.civil_status end as civil_status,
        case when e.is_sample_person then year_quarter(e.civil_status_date) end as civil_status_change_quarter,
        e.legal_cohabitation,
        year_quarter(e.legal_cohabitation_start) as legal_cohabitation_start_quarter,
        case when e.is_sample_person then coalesce(e.birth_years, '') end as children_birth_years
    from enriched e
    left join geo g on g.arrondissement = substr(e.nis_code, 1, 2) || '000'
    left join municipality_residents mr on mr.nis_code = e.nis_code and e.residence_country = 'BE'
    left join municipality_unemployment mu on mu.nis_code = e.nis_code and e.residence_country = 'BE'
)

select * from final order by person_id
