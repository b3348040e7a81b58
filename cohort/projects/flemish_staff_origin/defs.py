"""Dagster definitions of seed 003 (origin of Flemish government staff)."""

import dagster as dg

from cohort.projects.flemish_staff_origin.assets import release, release_tables, staff

defs = dg.Definitions(assets=[staff, release_tables, release])
