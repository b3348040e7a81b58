"""The population of the cohort (seed 002 §2): sampling frame, stratified sample with top-ups,
follow-up quarter by quarter and household members on 1 January.

Every rule is a DuckDB query over the warehouse views of one connection
(:meth:`cohort.resources.LakeResource.connect`); the rules themselves are stated in the
``sample:`` and ``follow_up:`` sections of ``spec.yaml``.

- **Frame** of a sampling year Y: persons with a National Register number, alive, aged
  ``min_age``..``max_age`` in completed years on 1 January Y, with their main residence in a
  municipality of the Flemish Region and inscribed in the population or foreigners register on
  that day, whose origin group (Flemish definition) is belgian, south_eu or non_european.
- **Sample**: within each stratum (entry year x origin group x age group) persons are ranked by
  ``md5(insz || ':' || seed)`` and the first ``n_h`` are taken, ``n_h = min(N_h, max(1,
  round(allocation_h * scale)))``. The design weight is ``N_h / n_h``.
- **Observation** of a sample person in a quarter: aged ``follow_up.max_age`` (65) or less on its first day, and alive
  and resident in Belgium on its last day (the DWH reference day). Household members: everyone in the household of a sample person observed
  in the year, on 1 January; their quarters are those in which they are alive and resident.
"""

from pathlib import Path

import duckdb

from cohort import storage
from cohort.classifications import classes, codes, origin
from cohort.projects.spec import ProjectSpec, class_sql

ORIGIN_GROUPS = ("belgian", "south_eu", "non_european", "other_european")
REGION_CLASS = {"02000": "flemish", "03000": "walloon", "04000": "brussels"}


def _lit(s: object) -> str:
    return storage.sql_string(str(s))


def origin_group_sql(country: str) -> str:
    """The origin group of an origin country (seed 002 §2 and the spec's ``sample.origin_rule``)."""
    south = ", ".join(_lit(c) for c in sorted(codes.SOUTH_EU15))
    european = ", ".join(_lit(c) for c in sorted(classes.EUROPEAN))
    return (
        f"CASE WHEN {country} = 'BE' THEN 'belgian' WHEN {country} IN ({south}) THEN 'south_eu' "
        f"WHEN {country} IN ({european}) THEN 'other_european' ELSE 'non_european' END"
    )


def install_rules(con: duckdb.DuckDBPyConnection, spec: ProjectSpec) -> None:
    """Macros and lookup tables every query of the project uses: geography, origin, coarsening.

    ``geo(arrondissement, province, region)``; macros ``country_cls(iso)``, ``origin_country(current, first, father_first,
    mother_first)``, ``origin_group(iso)``, one ``flag_<status flag>(status_flags)`` per bit of
    ``codes.STATUS_FLAGS`` and one ``cls_<variable>(x)`` per coarsening rule of the spec.
    """
    rows = []
    for arr, prov in codes.ARRONDISSEMENTS.items():
        name, region = codes.PROVINCES[prov]
        rows.append((arr, name if region == "02000" else "outside Flanders", REGION_CLASS[region]))
    con.execute("CREATE OR REPLACE TEMP TABLE geo (arrondissement VARCHAR, province VARCHAR, region VARCHAR)")
    con.executemany("INSERT INTO geo VALUES (?, ?, ?)", rows)
    con.execute(f"CREATE OR REPLACE TEMP MACRO country_cls(c) AS {classes.country_class_sql('c')}")
    con.execute(
        "CREATE OR REPLACE TEMP MACRO origin_country(cur, fst, fa, mo) AS "
        + origin.flemish_origin_country_sql("cur", "fst", "fa", "mo")
    )
    con.execute(f"CREATE OR REPLACE TEMP MACRO origin_group(c) AS {origin_group_sql('c')}")
    for flag in codes.STATUS_FLAGS:
        con.execute(f"CREATE OR REPLACE TEMP MACRO flag_{flag}(f) AS {classes.status_flag_sql('f', flag)}")
    for name in spec.extra.get("coarsening_rules") or {}:
        con.execute(f"CREATE OR REPLACE TEMP MACRO cls_{name}(x) AS {class_sql(spec, name, 'x')}")


# --------------------------------------------------------------------------- the sample design
def sampling_years(spec: ProjectSpec) -> list[tuple[int, int, int]]:
    """(entry year, minimum age, maximum age) of every sampling frame: the initial one and the top-ups."""
    s = spec.sample
    lo, hi = s["initial_ages"]
    frames = [(int(s["initial_year"]), int(lo), int(hi))]
    first, last = s["top_up_years"]
    age = int(s["top_up_age"])
    frames += [(y, age, age) for y in range(int(first), int(last) + 1)]
    return frames


def allocation(spec: ProjectSpec) -> list[tuple[int, str, int]]:
    """(entry year, stratum, sample size at scale 1.0) for every stratum of every frame."""
    alloc = spec.sample["allocation"]
    rows = []
    for year, _lo, _hi in sampling_years(spec):
        part = alloc["initial"] if year == int(spec.sample["initial_year"]) else alloc["top_up"]
        rows += [(year, stratum, int(size)) for stratum, size in part.items()]
    return rows


def age_group_sql(age: str, spec: ProjectSpec) -> str:
    """The stratum age group of ``age``: the spec's ``sample.age_groups`` (``name: [first, last]`` in
    completed years, each group starting the year after the one before ends), compiled as class breaks
    by the one class compiler. The last group's end needs no bound of its own: a frame holds only the
    ages ``min_age``..``max_age`` of its sampling year (:func:`frame_sql`)."""
    groups = [(str(name), int(lo), int(hi)) for name, (lo, hi) in spec.sample["age_groups"].items()]
    for (before, _, end), (name, start, _) in zip(groups, groups[1:], strict=False):
        if start != end + 1:
            raise ValueError(f"sample.age_groups: {name} does not start the year after {before} ends")
    rule = {"breaks": [lo for _, lo, _ in groups]}
    return classes.coarsening_sql(age, rule, [name for name, _, _ in groups])


def frame_sql(spec: ProjectSpec) -> str:
    """One row per (entry year, person) of every sampling frame, with origin, age and stratum."""
    years = ", ".join(f"({y}, {lo}, {hi})" for y, lo, hi in sampling_years(spec))
    groups = ", ".join(_lit(g) for g in spec.sample["origin_groups"])
    return f"""
    with frames as (
        select entry_year, min_age, max_age, make_date(entry_year, 1, 1) as d
        from (values {years}) t(entry_year, min_age, max_age)
    ),
    candidates as (
        -- completed age on 1 January between min_age and max_age, as a range join on the birth date
        select f.entry_year, f.d, p.insz, p.birth_date, p.first_nationality, p.father_insz, p.mother_insz
        from person p
        join frames f
          on p.birth_date <= latest_birth(f.d, f.min_age)
         and p.birth_date > latest_birth(f.d, f.max_age + 1)
        where not p.is_bis and (p.death_date is null or p.death_date > f.d)
    ),
    flemish_residents as (
        select c.entry_year, c.insz
        from candidates c
        join residence_history r
          on r.insz = c.insz and r.valid_from <= c.d and (r.valid_to is null or r.valid_to > c.d)
        join geo g on g.arrondissement = substr(r.nis_code, 1, 2) || '000'
        where r.country = 'BE' and g.region = 'flemish'
        group by all
    ),
    registered as (
        select c.entry_year, c.insz
        from candidates c
        join register_history g
          on g.insz = c.insz and g.valid_from <= c.d and (g.valid_to is null or g.valid_to > c.d)
        where resident_register(g.register)
        group by all
    ),
    nationality_on_day as (
        select c.entry_year, c.insz, arg_max(n.nationality, n.valid_from) as nationality
        from candidates c
        join nationality_history n
          on n.insz = c.insz and n.valid_from <= c.d and (n.valid_to is null or n.valid_to > c.d)
        group by all
    ),
    with_origin as (
        select c.entry_year, c.insz, completed_age(c.birth_date, c.d) as age,
               origin_country(coalesce(n.nationality, c.first_nationality), c.first_nationality,
                              fa.first_nationality, mo.first_nationality) as origin_country
        from candidates c
        semi join flemish_residents using (entry_year, insz)
        semi join registered using (entry_year, insz)
        left join nationality_on_day n using (entry_year, insz)
        left join person fa on fa.insz = c.father_insz
        left join person mo on mo.insz = c.mother_insz
    ),
    final as (
        select entry_year, insz, age, origin_country, origin_group(origin_country) as origin_group,
               {age_group_sql("age", spec)} as age_group,
               origin_group(origin_country) || '_' || {age_group_sql("age", spec)} as stratum
        from with_origin
        where origin_group(origin_country) in ({groups})
    )
    select * from final
    """


def sample_sql(spec: ProjectSpec, scale: float) -> str:
    """The sample: the first n_h persons of each stratum in the seeded hash order, with N_h, n_h and weight."""
    seed = int(spec.sample["seed"])
    alloc = ", ".join(f"({y}, {_lit(s)}, {n})" for y, s, n in allocation(spec))
    return f"""
    with frame as ({frame_sql(spec)}),
    allocation as (select * from (values {alloc}) t(entry_year, stratum, size_at_scale_1)),
    strata as (
        select a.entry_year, a.stratum, count(f.insz) as frame_size,
               least(count(f.insz), greatest(1, round(a.size_at_scale_1 * {float(scale)!r})))::bigint as sample_size
        from allocation a
        left join frame f using (entry_year, stratum)
        group by a.entry_year, a.stratum, a.size_at_scale_1
    ),
    ranked as (
        select f.*, row_number() over (partition by f.entry_year, f.stratum
                                       order by md5(f.insz || ':' || '{seed}'), f.insz) as sample_rank
        from frame f
    ),
    final as (
        select r.insz, r.entry_year::smallint as entry_year, r.stratum, r.origin_group, r.age_group,
               r.origin_country, r.age::smallint as age_at_entry, s.frame_size, s.sample_size,
               s.frame_size / s.sample_size as design_weight, r.sample_rank
        from ranked r
        join strata s using (entry_year, stratum)
        where r.sample_rank <= s.sample_size
    )
    select * from final order by entry_year, stratum, sample_rank
    """


def strata_sql(spec: ProjectSpec, scale: float) -> str:
    """Every stratum with its frame size N_h and sample size n_h (also the empty ones)."""
    alloc = ", ".join(f"({y}, {_lit(s)}, {n})" for y, s, n in allocation(spec))
    return f"""
    with frame as ({frame_sql(spec)}),
    allocation as (select * from (values {alloc}) t(entry_year, stratum, size_at_scale_1))
    select a.entry_year, a.stratum, a.size_at_scale_1, count(f.insz) as frame_size,
           least(count(f.insz), greatest(1, round(a.size_at_scale_1 * {float(scale)!r})))::bigint as sample_size
    from allocation a left join frame f using (entry_year, stratum)
    group by a.entry_year, a.stratum, a.size_at_scale_1 order by all
    """


# --------------------------------------------------------------------------- follow-up
def observed_sql(year: int, sample_file: Path, spec: ProjectSpec) -> str:
    """The persons observed in ``year``: sample persons with their observed quarters, household members.
    A sample person is followed while aged ``follow_up.max_age`` or less on the first day of a quarter.

    Columns: ``insz, year, is_sample_person, is_household_member, in_q1 .. in_q4`` (quarterly data is
    delivered for the quarters marked true), ordered by ``insz``.
    """
    y = int(year)
    max_age = int(spec.extra["follow_up"]["max_age"])
    return f"""
    with sample as (
        select s.insz, s.entry_year, p.birth_date, p.death_date
        from read_parquet({storage.sql_string(sample_file)}, hive_partitioning = false) s join person p using (insz)
        where s.entry_year <= {y}
    ),
    quarter_ends as (
        select q, quarter_first_day({y}, q) as qstart, quarter_last_day({y}, q) as qend
        from (values (1), (2), (3), (4)) t(q)
    ),
    resident_quarters as (
        -- main residence in Belgium on the last day of the quarter
        select r.insz, e.q
        from residence_history r
        join quarter_ends e on r.valid_from <= e.qend and (r.valid_to is null or r.valid_to > e.qend)
        where r.country = 'BE'
        group by all
    ),
    sample_quarters as (
        select s.insz, e.q
        from sample s cross join quarter_ends e
        semi join resident_quarters rq on rq.insz = s.insz and rq.q = e.q
        -- followed up to the end of the quarter in which the person turns 66
        where completed_age(s.birth_date, e.qstart) <= {max_age} and (s.death_date is null or s.death_date > e.qend)
    ),
    observed_sample as (select insz, list(q order by q) as quarters from sample_quarters group by insz),
    households as (select * from household_jan1 where year = {y}),
    sample_households as (
        select h.household_id, h.insz as sample_insz from households h semi join observed_sample o using (insz)
    ),
    members as (
        select distinct m.insz
        from households m join sample_households s using (household_id)
        where m.insz <> s.sample_insz
    ),
    member_quarters as (
        select m.insz, list(e.q order by e.q) as quarters
        from members m
        join person p using (insz)
        cross join quarter_ends e
        semi join resident_quarters rq on rq.insz = m.insz and rq.q = e.q
        where p.death_date is null or p.death_date > e.qend
        group by m.insz
    ),
    final as (
        select insz, {y}::smallint as year,
               o.insz is not null as is_sample_person,
               m.insz is not null as is_household_member,
               {", ".join(f"list_contains(coalesce(o.quarters, []), {q}) or list_contains(coalesce(mq.quarters, []), {q}) as in_q{q}" for q in (1, 2, 3, 4))}
        from observed_sample o
        full join members m using (insz)
        left join member_quarters mq using (insz)
    )
    select * from final order by insz
    """


def mapped_persons_sql(sample_file: Path, first_year: int, last_year: int) -> str:
    """Every national number that may appear in a delivery (a superset is harmless: the mapping never
    leaves): sample persons, everyone in their households in the years they can be observed, the
    reference persons and partners of those households, and the other actors of their benefits."""
    return f"""
    with sample as (select insz, entry_year from read_parquet({storage.sql_string(sample_file)}, hive_partitioning = false)),
    households as (select * from household_jan1 where year between {first_year} and {last_year}),
    sample_households as (
        select distinct h.year, h.household_id
        from households h join sample s on s.insz = h.insz and s.entry_year <= h.year
    ),
    members as (select h.* from households h semi join sample_households using (year, household_id)),
    persons as (
        select insz from sample
        union select insz from members
        union select reference_insz from members
        union select partner_insz from members where partner_insz is not null
    ),
    related as (
        select b.related_insz as insz from benefit_quarter b
        semi join persons using (insz)
        where b.year between {first_year} and {last_year} and b.related_insz is not null
    )
    select insz from persons union select insz from related
    """


def mapped_employers_sql(persons_table: str, first_year: int, last_year: int) -> str:
    """Every employer of a mapped person in the project's years."""
    return f"""
    select distinct j.employer_id from job_quarter j
    semi join {persons_table} p on p.insz = j.insz
    where j.year between {first_year} and {last_year}
    """


def write_sample(con: duckdb.DuckDBPyConnection, spec: ProjectSpec, scale: float, path: Path) -> Path:
    install_rules(con, spec)
    return storage.write_query(con, sample_sql(spec, scale), path)
