"""The synthetic data warehouse: a seeded, vectorised microsimulation of the population of
Belgium 2005-2026 that writes the tables of ``cohort.sources.contract``."""
