"""The resource every asset reads and writes through: the Parquet lake plus a DuckDB engine."""

from pathlib import Path

import dagster as dg
import duckdb

from cohort import settings, storage


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake (``data/`` by default) and an in-process DuckDB connection per step.

    ``data_dir`` and ``warehouse_dir`` default to ``COHORT_DATA_DIR`` / ``COHORT_WAREHOUSE_DIR``
    at run time, so the same definitions serve the demo, the tests and a real extract.
    """

    data_dir: str | None = None
    warehouse_dir: str | None = None

    def paths(self) -> settings.Lake:
        return settings.lake(self.data_dir, self.warehouse_dir)

    def connect(self, warehouse: bool = True) -> duckdb.DuckDBPyConnection:
        """A fresh connection; with ``warehouse=True`` every source table is a view of its name."""
        con = storage.connect()
        if warehouse:
            storage.register_tables(con, self.paths().warehouse)
        return con

    def secure_file(self, project: str, table: str, year: int | None = None) -> Path:
        return storage.partition_file(self.paths().secure / project, table, year)

    def export_file(self, project: str, table: str, year: int | None = None) -> Path:
        return storage.partition_file(self.paths().exports / project, table, year)
