"""The resource every asset reads and writes through: the Parquet lake plus a DuckDB engine."""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import duckdb

from cohort import settings, storage
from cohort.sources import checks


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake (``data/`` by default) and an in-process DuckDB connection per step.

    ``data_dir`` and ``warehouse_dir`` default to ``COHORT_DATA_DIR`` / ``COHORT_WAREHOUSE_DIR``
    at run time, so the same definitions serve the demo, the tests and a real extract.
    """

    data_dir: str | None = None
    warehouse_dir: str | None = None

    def paths(self) -> settings.Lake:
        return settings.lake(self.data_dir, self.warehouse_dir)

    def connect(
        self,
        reads: checks.WarehouseReads | None = None,
        years: Iterable[int] = (),
        run_id: str | None = None,
        spill: Path | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """A fresh connection. With ``reads`` (a project spec's ``warehouse``), each table the
        project reads is a view of its name over the rows that passed the warehouse contract
        (checked now if its files changed since the last check; see
        :func:`cohort.sources.checks.open_warehouse`), and a yearly table must hold ``years``.
        ``spill``: DuckDB's spill folder (:func:`cohort.storage.spill_folder`; none: no spilling)."""
        con = storage.connect(spill=spill)
        if reads is not None:
            try:
                checks.open_warehouse(con, self.paths(), reads, years, run_id)
            except BaseException:
                con.close()
                raise
        return con

    def secure_file(self, project: str, table: str, year: int | None = None) -> Path:
        return storage.partition_file(self.paths().secure / project, table, year)

    def export_file(self, project: str, table: str, year: int | None = None) -> Path:
        return storage.partition_file(self.paths().exports / project, table, year)
