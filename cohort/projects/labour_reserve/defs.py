"""Dagster definitions of the labour-reserve delivery (deliberation 26/104, seed 004)."""

import dagster as dg

from cohort.projects.labour_reserve.assets import ASSETS

defs = dg.Definitions(assets=ASSETS)
