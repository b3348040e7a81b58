"""Dagster definitions of seed 004 phase 2 (anonymous results of the labour-reserve analyses)."""

import dagster as dg

from cohort.projects.labour_reserve_results.assets import release, release_tables

defs = dg.Definitions(assets=[release_tables, release])
