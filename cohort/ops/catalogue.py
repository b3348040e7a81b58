"""What the operational layer knows about the projects: read from the asset graph, never declared twice.

A *project* is a first asset-key component for which ``cohort/projects/<id>/spec.yaml`` exists
(e.g. ``labour_reserve/situation``). A project may hold several yearly partition sets (the
labour reserve builds its situation for 2019-2027 so that the project years 2020-2026 have
their neighbours); its *main* set is the one most of its yearly assets share. The catalogue
also finds:

- the assets that wait for a human: an op config with ``signed_off_by`` (anonymous releases);
  automation never launches them, the demo signs them off as the demo;
- the T-1 tables: those named in the spec's ``mobility.next_table`` (else any ``*_next``), which
  read year T+1 of their parents and so must be rebuilt once T+1 exists; ``next_tables`` adds
  what depends on them in the project.

The assets of submitted analyses (group ``<project>_analyses``, :mod:`cohort.analysis.assets`) are not
a project's: each analysis is built by its own job and released only after a person's review, so the
project's jobs, schedules, report and ``cohort project build`` leave them out. A spec without assets of
its own (``labour_reserve_results``, whose results are analyses) is no project here.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg

from cohort.analysis.assets import is_analysis_group
from cohort.projects.spec import ProjectSpec, load_spec

SIGNER_FIELD = "signed_off_by"


def spec_or_none(project: str) -> ProjectSpec | None:
    try:
        return load_spec(project)
    except (ModuleNotFoundError, FileNotFoundError, ImportError, KeyError, TypeError, ValueError):
        return None


def needs_signoff(assets_def: Any) -> bool:
    """True when the asset's op takes a ``signed_off_by`` config field (a human decision)."""
    try:
        schema = assets_def.op.config_schema
    except Exception:
        return False
    fields = getattr(getattr(schema, "config_type", None), "fields", None) or {}
    return SIGNER_FIELD in fields


@dataclass(frozen=True)
class Project:
    """One project as the asset graph shows it."""

    id: str
    spec: ProjectSpec
    keys: tuple[dg.AssetKey, ...]  # materialisable assets of the project
    partitions: dict[dg.AssetKey, dg.PartitionsDefinition | None]
    partitions_def: dg.PartitionsDefinition | None  # the main yearly set (None: no yearly asset)
    signoff: tuple[dg.AssetKey, ...]
    next_roots: tuple[dg.AssetKey, ...]
    next_tables: tuple[dg.AssetKey, ...]
    next_parents: tuple[dg.AssetKey, ...]

    @property
    def job_name(self) -> str:
        return f"{self.id}_job"

    @property
    def yearly(self) -> tuple[dg.AssetKey, ...]:
        """Assets of the main yearly set."""
        return tuple(
            k
            for k in self.keys
            if self.partitions_def is not None and self.partitions[k] == self.partitions_def
        )

    @property
    def partitioned(self) -> tuple[dg.AssetKey, ...]:
        return tuple(k for k in self.keys if self.partitions[k] is not None)

    @property
    def unpartitioned(self) -> tuple[dg.AssetKey, ...]:
        return tuple(k for k in self.keys if self.partitions[k] is None)

    @property
    def automatic(self) -> tuple[dg.AssetKey, ...]:
        """Assets automation may launch (all but those waiting for a sign-off)."""
        return tuple(k for k in self.keys if k not in self.signoff)

    @property
    def years(self) -> list[int]:
        if self.partitions_def is None:
            return []
        return [int(k) for k in self.partitions_def.get_partition_keys()]

    def partition_keys(self, key: dg.AssetKey) -> list[str]:
        pd = self.partitions[key]
        return pd.get_partition_keys() if pd is not None else []


def _next_table_names(spec: ProjectSpec) -> set[str]:
    mobility = spec.extra.get("mobility")
    if isinstance(mobility, dict):
        return {str(mobility.get("next_table", "mobility_next"))}
    return set()


def _sorted(keys) -> tuple[dg.AssetKey, ...]:
    return tuple(sorted(keys, key=lambda k: k.to_user_string()))


def projects_of(defs: dg.Definitions) -> list[Project]:
    """The projects of a code location's definitions, sorted by id."""
    graph = defs.resolve_asset_graph()
    by_prefix: dict[str, list[dg.AssetKey]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if len(key.path) < 2 or not node.is_materializable or is_analysis_group(node.group_name):
            continue
        by_prefix.setdefault(key.path[0], []).append(key)
    signoff_keys = {k for a in _assets_defs(defs) if needs_signoff(a) for k in a.keys}
    out = []
    for prefix, keys in sorted(by_prefix.items()):
        spec = spec_or_none(prefix)
        if spec is None:
            continue
        keys = list(_sorted(keys))
        partitions = {k: graph.get(k).partitions_def for k in keys}
        counts: dict[str, tuple[dg.PartitionsDefinition, int]] = {}
        for pd in partitions.values():
            if pd is not None:
                counts[repr(pd)] = (pd, counts.get(repr(pd), (pd, 0))[1] + 1)
        main = max(counts.values(), key=lambda v: v[1])[0] if counts else None
        wanted = _next_table_names(spec)
        roots = [
            k
            for k in keys
            if partitions[k] is not None
            and (k.path[-1] in wanted if wanted else k.path[-1].endswith("_next"))
        ]
        tables: list[dg.AssetKey] = []
        frontier = list(roots)
        while frontier:
            k = frontier.pop()
            if k in tables or k not in partitions or partitions[k] is None:
                continue
            tables.append(k)
            frontier.extend(graph.get(k).child_keys)
        parents = {
            p
            for r in roots
            for p in graph.get(r).parent_keys
            if p in partitions and partitions[p] is not None and p not in roots
        }
        out.append(
            Project(
                id=prefix,
                spec=spec,
                keys=tuple(keys),
                partitions=partitions,
                partitions_def=main,
                signoff=_sorted(k for k in keys if k in signoff_keys),
                next_roots=_sorted(roots),
                next_tables=_sorted(tables),
                next_parents=_sorted(parents),
            )
        )
    return out


def _assets_defs(defs: dg.Definitions) -> list[Any]:
    return [a for a in (defs.assets or []) if isinstance(a, dg.AssetsDefinition)]
