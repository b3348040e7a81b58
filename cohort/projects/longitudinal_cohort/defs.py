"""Dagster definitions of the longitudinal cohort (seed 002); merged by ``cohort.definitions``."""

import dagster as dg

from cohort.projects.longitudinal_cohort.assets import ASSETS

defs = dg.Definitions(assets=ASSETS)
