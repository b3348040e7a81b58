"""Secure-room analyses (seed 004 §2, §15-16; seed 001 §2): a researcher's own SQL, developed on the
extract they received, run on the full tables in the secure area, and released only through the
disclosure engine.

An analysis is a folder the researcher owns (see docs/analysis.md): ``analysis.yaml`` names the project
whose tables it reads and its output tables; one SQL file per output table returns one row per unit
with the table's dimension columns (and the magnitude column of a sum or mean table). Modules:
:mod:`.folder` (load and validate a folder), :mod:`.sources` (which tables of which project an analysis
may read, and where), :mod:`.sandbox` (the locked DuckDB connection the SQL runs on), :mod:`.tabulate`
(run, tabulate, protect, summarise), :mod:`.registry` (submitted analyses, frozen by content hash),
:mod:`.cli` (``cohort analysis run`` / ``submit``).
"""
