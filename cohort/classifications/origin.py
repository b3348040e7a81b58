"""Origin rules (herkomst): who is of foreign origin, and from where.

Three rules are in use (docs/domain_facts.md 3.4; seeds 002, 003, 004):

- **Statbel**: current nationality not Belgian -> ``non_belgian``; else own first nationality or a
  parent's first nationality not Belgian -> ``belgian_foreign_background``; else ``belgian_origin``.
- **Flemish** (Statistiek Vlaanderen, integration decree): foreign origin when any of own current,
  own first, father's first or mother's first nationality is not Belgian. Origin country: the
  father's first nationality if not Belgian, else the mother's, else the person's own.
- **Allochtone cascade** (seed 003 section 2, used by seed 004 with the EU): allochtone when own
  current or first nationality is outside the bloc, or at least one parent, or at least two
  grandparents, have a current or first nationality outside the bloc. When neither is shown and
  parents (then grandparents) are not all known, origin is unknown for that reason.

Inputs per person are lists of nationalities per generation (a known relative's current and first
nationality; unknown relatives are absent). The rules are SQL expressions over those lists so
that the set work stays in DuckDB; they are pure and unit-tested through DuckDB.
"""

from collections.abc import Iterable

ALLOCHTONE_OUTCOMES = ("outside", "inside", "belgian", "unknown_parents", "unknown_grandparents")


def _in_list_sql(values: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in sorted(values)) + "]"


def outside_sql(nats_expr: str, bloc: Iterable[str]) -> str:
    """True when any nationality in the list ``nats_expr`` lies outside ``bloc``."""
    return f"len(list_filter({nats_expr}, lambda x: x IS NOT NULL AND NOT list_contains({_in_list_sql(bloc)}, x))) > 0"


def allochtone_sql(own: str, parents: str, grandparents: str, bloc: Iterable[str]) -> str:
    """SQL CASE giving one of ``ALLOCHTONE_OUTCOMES``.

    ``own``: list of the person's nationalities (current and first); ``parents``: list of lists,
    one per KNOWN parent (their current and first nationality); ``grandparents``: same for known
    grandparents. ``outside`` = allochtone with an origin outside the bloc; ``inside`` = a foreign
    origin inside the bloc (a non-Belgian nationality of the person, of one parent or of two
    grandparents, all inside the bloc); ``belgian`` = all
    Belgian; ``unknown_parents`` / ``unknown_grandparents`` = not allochtone on what is known, but
    missing parents or grandparents could change that.
    """
    bloc = list(bloc)
    own_out = outside_sql(own, bloc)
    n_par_out = f"len(list_filter({parents}, lambda p: {outside_sql('p', bloc)}))"
    n_gp_out = f"len(list_filter({grandparents}, lambda g: {outside_sql('g', bloc)}))"
    # a foreign origin inside the bloc follows the same thresholds: own, one parent, two grandparents
    not_be = "len(list_filter({}, lambda x: x IS NOT NULL AND x <> 'BE')) > 0"
    any_foreign = (
        f"({not_be.format(own)} OR len(list_filter({parents}, lambda p: {not_be.format('p')})) >= 1 "
        f"OR len(list_filter({grandparents}, lambda g: {not_be.format('g')})) >= 2)"
    )
    return (
        "CASE "
        f"WHEN {own_out} OR {n_par_out} >= 1 OR {n_gp_out} >= 2 THEN 'outside' "
        f"WHEN len({parents}) < 2 THEN 'unknown_parents' "
        f"WHEN {n_gp_out} + (4 - len({grandparents})) >= 2 THEN 'unknown_grandparents' "
        f"WHEN {any_foreign} THEN 'inside' "
        "ELSE 'belgian' END"
    )


def allochtone_class_sql(outcome: str, labels: list[str] | tuple[str, ...]) -> str:
    """The class label of an :func:`allochtone_sql` outcome. ``labels`` are the variable's four
    classes in this order: no origin outside the bloc (``inside`` and ``belgian``), ``outside``,
    ``unknown_parents``, ``unknown_grandparents`` (seed 003 §2: "EU-15", "non-EU-15",
    "unknown: parents unknown", "unknown: grandparents unknown")."""
    if len(labels) != 4:
        raise ValueError(f"an allochtone classification has four classes, not {len(labels)}: {list(labels)}")
    within, outside, parents, grandparents = (_sql_text(label) for label in labels)
    return (
        f"CASE {outcome} WHEN 'outside' THEN {outside} WHEN 'unknown_parents' THEN {parents} "
        f"WHEN 'unknown_grandparents' THEN {grandparents} ELSE {within} END"
    )


def _sql_text(label: str) -> str:
    return "'" + label.replace("'", "''") + "'"


def flemish_foreign_origin_sql(own_current: str, own_first: str, father_first: str, mother_first: str) -> str:
    """True when the Flemish definition gives a foreign origin (unknown parents count as Belgian)."""
    return " OR ".join(
        f"coalesce({c}, 'BE') <> 'BE'" for c in (own_current, own_first, father_first, mother_first)
    )


def flemish_origin_country_sql(own_current: str, own_first: str, father_first: str, mother_first: str) -> str:
    """Origin country of the Flemish definition: father's first nationality if not Belgian, else
    the mother's, else the person's own first, else own current; ``BE`` when all are Belgian."""
    return (
        f"CASE WHEN coalesce({father_first}, 'BE') <> 'BE' THEN {father_first} "
        f"WHEN coalesce({mother_first}, 'BE') <> 'BE' THEN {mother_first} "
        f"WHEN coalesce({own_first}, 'BE') <> 'BE' THEN {own_first} "
        f"WHEN coalesce({own_current}, 'BE') <> 'BE' THEN {own_current} ELSE 'BE' END"
    )


def statbel_origin_sql(own_current: str, own_first: str, father_first: str, mother_first: str) -> str:
    """Statbel's three groups: ``non_belgian``, ``belgian_foreign_background``, ``belgian_origin``."""
    return (
        f"CASE WHEN {own_current} <> 'BE' THEN 'non_belgian' "
        f"WHEN {own_first} <> 'BE' OR coalesce({father_first}, 'BE') <> 'BE' OR coalesce({mother_first}, 'BE') <> 'BE' "
        "THEN 'belgian_foreign_background' ELSE 'belgian_origin' END"
    )
