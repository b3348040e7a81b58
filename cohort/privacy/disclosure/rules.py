"""The primary disclosure rules of one project (deliberation), read from its YAML spec.

The regulator's words map onto standard statistical-disclosure-control rules
(see docs/disclosure.md):

- "counts below 5 are replaced by 'one to five'" (*één tot vijf*): a minimum-frequency
  rule with ``threshold = 5``; counts 1..threshold-1 are primary-sensitive and, when the
  rules allow it, shown as ``label`` instead of being hidden. An attacker then knows the
  interval [1, threshold-1] for free, so labelled cells stay protected cells (they get
  secondary partners like any suppressed cell).
- zeros: shown unless ``protect_zeros`` (group-attribute disclosure: "nobody of origin X in
  entity Y" can itself be sensitive).
- magnitude tables (sums of amounts): the (n,k) dominance rule and the p% rule on the
  largest contributions. Keep these parameters confidential (Handbook on SDC, ch. 4.2).
- ``protection_interval``: an extra relative width a protected cell's feasibility interval
  must keep around its true value (0 = only exact disclosure is forbidden, the handbook's
  recommendation for pure frequency rules).
- ``min_entity_size``: tables about an entity with fewer staff go only to that entity's own
  restricted release (see :func:`cohort.privacy.disclosure.entity.split_by_entity_size`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DisclosureRules:
    """Primary rules and protection requirements for one release.

    Attributes:
        threshold: counts 1..threshold-1 are primary-sensitive ("counts under 5").
        label: what is shown instead of a primary-sensitive count (e.g. ``"1-5"``, the
            regulator's *één tot vijf*). Empty string or ``None`` means such counts are
            shown as ``"x"`` like any suppressed cell. A label is only used when it
            still hides something (``threshold - 1 >= 2``).
        protect_zeros: treat zero counts as primary-sensitive (shown ``"x"``).
        dominance_n, dominance_k: the (n,k) dominance rule for magnitude cells: a cell is
            sensitive when its ``dominance_n`` largest contributions exceed ``dominance_k``
            of its total (n is 1 or 2: the tables carry the two largest contributions).
        p_percent: the p% rule for magnitude cells (``None`` switches it off): sensitive
            when ``total - top1 - top2 < p * top1``.
        protection_interval: extra relative width required around the true value of
            each protected cell (0.0: only exact recomputation is forbidden).
        threshold_protection: a hidden primary count (shown "x", not as the label) must keep
            a feasible whole-number value >= ``threshold``, so that no outsider can conclude
            that the group is small (tau-ARGUS's upper protection level for a frequency rule).
            Labelled counts are exempt: the label already tells that they are small.
        min_entity_size: entities with fewer units than this are published only to
            themselves (0 switches the rule off).
        percentage_decimals: decimals of published percentages.
        sliding_protection: judge the protection interval by its width only (tau-ARGUS's
            "sliding" protection range: upper - lower >= lower + upper protection level),
            rather than requiring it to reach both v - LPL and v + UPL. Sliding is the
            default because publishing zeros gives every hidden count a lower bound of 1
            per non-empty part, which no suppression can widen.
        published_totals: dimension -> depth: the totals of that dimension's hierarchy down to
            this depth (0: the grand total; 1: also the codes just below it, seed 003's policy
            domains), every other dimension at its total, are never chosen as secondary partners
            (nor a cell equal to one of them, a domain's only entity): the protection of the cells
            below them is found among those cells. A deliberation that asks for these totals sets
            it (seed 003: "voor de volledige Vlaamse administratie, per beleidsdomein", §4). Only
            when nothing else is left to hide does the engine hide one (a warning; the release's
            summary then tells). Empty by default: a headline total is the last partner of a
            failing cell's equations (``suppression.headline_tier``).
    """

    threshold: int = 5
    label: str | None = "1-5"
    protect_zeros: bool = False
    dominance_n: int = 1
    dominance_k: float = 0.85
    p_percent: float | None = 0.10
    protection_interval: float = 0.0
    threshold_protection: bool = True
    min_entity_size: int = 0
    percentage_decimals: int = 1
    sliding_protection: bool = True
    published_totals: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError(f"disclosure rules: threshold must be >= 1, got {self.threshold}")
        if self.dominance_n not in (1, 2):
            raise ValueError(f"disclosure rules: dominance_n must be 1 or 2, got {self.dominance_n}")
        if not 0.0 < self.dominance_k <= 1.0:
            raise ValueError(f"disclosure rules: dominance_k must be in (0, 1], got {self.dominance_k}")
        if self.p_percent is not None and not 0.0 <= self.p_percent <= 1.0:
            raise ValueError(f"disclosure rules: p_percent must be in [0, 1], got {self.p_percent}")
        if any(int(depth) < 0 for depth in (self.published_totals or {}).values()):
            raise ValueError(
                f"disclosure rules: published_totals depths must be >= 0, got {self.published_totals}"
            )
        if self.protection_interval < 0:
            raise ValueError(
                f"disclosure rules: protection_interval must be >= 0, got {self.protection_interval}"
            )

    @property
    def uses_label(self) -> bool:
        """True when primary-sensitive counts are shown as the label rather than "x"."""
        return bool(self.label) and self.threshold - 1 >= 2

    @property
    def label_bounds(self) -> tuple[int, int]:
        """What an outsider learns from a label: the count lies in [1, threshold-1]."""
        return 1, self.threshold - 1

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any] | None) -> "DisclosureRules":
        """Rules from a project's spec (the ``disclosure:`` mapping of its YAML).

        Accepts the field names of this class plus a few spellings used in specs:
        ``min_count`` / ``frequency_threshold`` for ``threshold``, ``small_count_label``
        for ``label``, ``zeros_are_disclosive`` for ``protect_zeros``, ``p`` for
        ``p_percent``, ``entity_min_size`` / ``min_entity_staff`` for
        ``min_entity_size``. Percentages given as numbers above 1 (``k: 85``,
        ``p: 10``) are read as percent. Unknown keys are an error, so that a typo in a
        spec never silently weakens the protection.
        """
        if not d:
            return cls()
        aliases = {
            "min_count": "threshold",
            "frequency_threshold": "threshold",
            "small_count_label": "label",
            "zeros_are_disclosive": "protect_zeros",
            "p": "p_percent",
            "k": "dominance_k",
            "n": "dominance_n",
            "entity_min_size": "min_entity_size",
            "min_entity_staff": "min_entity_size",
        }
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in d.items():
            name = aliases.get(key, key)
            if name not in known:
                raise ValueError(
                    f"disclosure rules: unknown key {key!r} (known: {sorted(known | set(aliases))})"
                )
            kwargs[name] = value
        for pct in ("dominance_k", "p_percent"):
            if kwargs.get(pct) is not None and float(kwargs[pct]) > 1.0:
                kwargs[pct] = float(kwargs[pct]) / 100.0
        return cls(**kwargs)
