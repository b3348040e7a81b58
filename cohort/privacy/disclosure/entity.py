"""The entity-size rule: tables about small entities go only to that entity.

Deliberation 003: anonymous data about an entity with fewer than fifty staff
(*entiteit met minder dan vijftig personeelsleden*) are made available only to that
entity's head (*leidend ambtenaar*), who receives exact counts; the public release must not
show such an entity. Dropping the entity's rows is not enough: its figures would follow by
subtracting the published entities from their policy-domain subtotal. So small entities are
pooled per parent into one "other entities" code, and a pool that holds a single entity is
returned in ``forced``: pass it to ``protect(..., forced={entity_column: split.forced})`` so
that all its cells are primary-protected (and get partners) in the public release.
"""

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class EntitySplit:
    """Result of :func:`split_by_entity_size`.

    Attributes:
        public: the microdata for the public release, small entities recoded to pool codes.
        restricted: entity code -> its own microdata (for that entity's restricted release,
            which carries exact counts and is not subject to the public rules).
        hierarchy: the entity hierarchy of ``public`` (child -> parent) with small entities
            replaced by their pools; ``None`` when no hierarchy was given.
        pools: pool code -> the small entities it holds.
        forced: pool codes that hold a single entity (protect all their cells).
        sizes: entity code -> number of units.
    """

    public: pl.DataFrame
    restricted: dict[str, pl.DataFrame]
    hierarchy: dict[str, str] | None
    pools: dict[str, tuple[str, ...]] = field(default_factory=dict)
    forced: frozenset[str] = frozenset()
    sizes: dict[str, int] = field(default_factory=dict)


def split_by_entity_size(
    micro: pl.DataFrame,
    entity: str,
    min_size: int,
    hierarchy: dict[str, str] | None = None,
    *,
    unit: str | None = None,
    total_label: str = "Total",
    pool_label: str = "{parent}: other entities (<{min_size})",
) -> EntitySplit:
    """Split microdata by the entity-size rule (entities with fewer than ``min_size`` units).

    ``unit``: column identifying a unit (counted distinct); default: one row = one unit.
    ``hierarchy``: entity -> parent (policy domain); small entities are pooled per parent
    (or in one pool under the total without a hierarchy). ``min_size <= 0`` disables the rule.
    """
    if entity not in micro.columns:
        raise ValueError(f"entity-size rule: microdata lacks the entity column {entity!r}")
    nulls = micro.get_column(entity).null_count()
    if nulls:
        raise ValueError(f"entity-size rule: {nulls} rows have no {entity}")
    size_expr = pl.col(unit).n_unique() if unit else pl.len()
    sizes_df = micro.group_by(pl.col(entity).cast(pl.String)).agg(size=size_expr.cast(pl.Int64))
    sizes = dict(
        zip(sizes_df.get_column(entity).to_list(), sizes_df.get_column("size").to_list(), strict=True)
    )
    small = sorted(e for e, s in sizes.items() if s < min_size) if min_size > 0 else []
    if hierarchy is not None:
        unknown = sorted(set(sizes) - set(hierarchy))
        if unknown:
            raise ValueError(
                f"entity-size rule: entities {unknown[:10]} ({len(unknown)}) have no parent in the hierarchy"
            )
    recode: dict[str, str] = {}
    pools: dict[str, list[str]] = {}
    for e in small:
        parent = hierarchy.get(e, total_label) if hierarchy is not None else total_label
        code = pool_label.format(parent=parent, min_size=min_size)
        recode[e] = code
        pools.setdefault(code, []).append(e)
    new_hierarchy: dict[str, str] | None = None
    if hierarchy is not None:
        new_hierarchy = {c: p for c, p in hierarchy.items() if c not in recode}
        for code, members in pools.items():
            new_hierarchy[code] = hierarchy.get(members[0], total_label)
        clash = set(pools) & (set(hierarchy) | set(hierarchy.values()))
        if clash:
            raise ValueError(f"entity-size rule: pool codes {sorted(clash)} collide with existing codes")
    ent = pl.col(entity).cast(pl.String)
    public = micro.with_columns(ent.replace(recode).alias(entity)) if recode else micro
    restricted = {e: micro.filter(ent == e) for e in small}
    forced = frozenset(code for code, members in pools.items() if len(members) == 1)
    return EntitySplit(
        public=public,
        restricted=restricted,
        hierarchy=new_hierarchy,
        pools={k: tuple(v) for k, v in pools.items()},
        forced=forced,
        sizes=sizes,
    )
