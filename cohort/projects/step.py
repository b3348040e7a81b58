"""The one way into a project step: every build and export step of every deliberation opens its
work with :func:`open_step` and gets a :class:`Step`.

Opening a step, in this order: the retention guard (after the project's retention date the step is
refused with a ``refusal`` entry in the audit log, run id included; see
:func:`cohort.privacy.retention.refuse_if_expired`), a fresh DuckDB connection from the lake
resource (:meth:`cohort.resources.LakeResource.connect`), spilling into a folder of its own inside
the secure area (removed when the step ends), with, when the step reads the warehouse,
the contract-checked views of the tables of the spec's ``warehouse`` block, and, when it
pseudonymises, the ``keyed_hash`` macro under the project key. Leaving the ``with`` block closes the
connection, whether the step succeeded or failed.

It may import the rules, storage, the contract and privacy layers and the project spec; the
deliberation packages import it (it is part of the project kernel of ``tests/test_layers.py``).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import duckdb

from cohort import clock, storage
from cohort.privacy import pseudonym
from cohort.privacy.retention import refuse_if_expired
from cohort.projects.spec import ProjectSpec
from cohort.resources import LakeResource
from cohort.settings import Lake


@dataclass(frozen=True)
class Step:
    """What a project step works with: its connection, the lake's folders, its run and its day."""

    con: duckdb.DuckDBPyConnection
    lake: Lake
    run_id: str | None
    #: the day of the step (:func:`cohort.clock.today`), read once so a step spanning midnight has one date
    today: date


def resource_of(lake: LakeResource | Lake) -> LakeResource:
    """The lake resource of ``lake``: itself, or the resource over the same folders (a build
    driven without Dagster, by a benchmark or a test)."""
    if isinstance(lake, LakeResource):
        return lake
    return LakeResource(data_dir=str(lake.root), warehouse_dir=str(lake.warehouse))


@contextmanager
def open_step(
    lake: LakeResource | Lake,
    spec: ProjectSpec | None,
    run_id: str | None = None,
    *,
    years: Iterable[int] = (),
    warehouse: bool = False,
    pseudonyms: bool = False,
    what: str = "build",
) -> Iterator[Step]:
    """Guard, connect and (always) close one step of project ``spec``.

    ``spec`` None: a step of the generic kernel outside any deliberation (the mobility step of
    ``tests/test_mobility.py``): no retention date to guard, no warehouse, no key.

    - ``run_id``: the Dagster run (``context.run.run_id``), written with a refusal and with what
      the step logs;
    - ``warehouse``: the connection has the contract-checked warehouse views of the spec, and each
      yearly table must hold ``years``;
    - ``pseudonyms``: the connection has ``keyed_hash`` under the project key (a missing key is
      refused with :class:`cohort.privacy.pseudonym.MissingKeyError`);
    - ``what``: what the refusal says was attempted.
    """
    resource = resource_of(lake)
    paths = resource.paths()
    if spec is None:
        if warehouse or pseudonyms:
            raise ValueError("a step without a project spec reads no warehouse and has no key")
    else:
        refuse_if_expired(paths, spec.id, spec.retention_date, run_id, what=what)
    # the key before the connection: a missing key is refused before the warehouse is checked
    key = pseudonym.load_key(spec.id, keys_dir=paths.keys) if spec is not None and pseudonyms else None
    # what DuckDB writes out above COHORT_DUCKDB_MEMORY holds the secure tables' rows: it stays in
    # the secure area, in a folder of this step's own that goes when the step ends
    with storage.spill_folder(paths.secure) as spill:
        con = resource.connect(
            spec.warehouse if spec is not None and warehouse else None, years, run_id, spill=spill
        )
        try:
            if key is not None:
                pseudonym.install_hmac(con, key)
            yield Step(con, paths, run_id, clock.today())
        finally:
            con.close()
