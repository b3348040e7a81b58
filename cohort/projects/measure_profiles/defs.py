"""Dagster definitions of seed 001 (measure beneficiaries)."""

import dagster as dg

from cohort.projects.measure_profiles.assets import extract, inflow, outflow, profile, release, release_tables

defs = dg.Definitions(assets=[profile, inflow, outflow, extract, release_tables, release])
