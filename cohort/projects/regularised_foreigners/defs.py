"""Dagster definitions of seed 000 (regularised foreigners)."""

import dagster as dg

from cohort.projects.regularised_foreigners.assets import regularised, release, release_tables

defs = dg.Definitions(assets=[regularised, release_tables, release])
