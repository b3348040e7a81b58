"""A small partitioned asset for the crash and concurrency tests: it writes one yearly partition
through ``cohort.storage.write_query``, big enough to be killed in the middle of the write.

Run in a subprocess as ``python reliability_crash_defs.py DATA_DIR YEAR VERSION ROWS``.
"""

import os
import sys

import dagster as dg

from cohort import storage
from cohort.partitions import yearly_partitions
from cohort.resources import LakeResource

TOY_PROJECT = "toy"


class PanelConfig(dg.Config):
    version: int = 1
    rows: int = 1000


@dg.asset(partitions_def=yearly_partitions(2005, 2006))
def big_panel(
    context: dg.AssetExecutionContext, config: PanelConfig, lake: LakeResource
) -> dg.MaterializeResult:
    """One yearly partition of deterministic rows (same config, same bytes)."""
    year = int(context.partition_key)
    con = lake.connect()
    path = lake.secure_file(TOY_PROJECT, "big_panel", year)
    storage.write_query(
        con,
        f"SELECT {year}::SMALLINT AS year, i AS seq, hash(i * {config.version} + {year}) AS h, "
        f"(i % 97)::INTEGER AS c FROM range({config.rows}) t(i)",
        path,
    )
    return dg.MaterializeResult(metadata={"rows": config.rows})


def materialize(data_dir: str, year: int, version: int, rows: int) -> bool:
    result = dg.materialize(
        [big_panel],
        partition_key=str(year),
        resources={"lake": LakeResource(data_dir=data_dir)},
        run_config=dg.RunConfig({"big_panel": PanelConfig(version=version, rows=rows)}),
        instance=dg.DagsterInstance.ephemeral(),
    )
    return result.success


if __name__ == "__main__":
    ok = materialize(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's slow shutdown (Dagster's background threads): the file is already in place.
    os._exit(0 if ok else 1)
