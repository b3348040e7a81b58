"""Seed 004 phase 2 (deliberation 26/104 §2, §16): the anonymous results of the researchers' own analyses
of the secure full-population tables of ``labour_reserve``.

The project builds nothing of its own. The researchers develop their analyses on the phase-1 extract and
submit them (``cohort analysis run | submit``); each submitted analysis becomes the Dagster assets of
:mod:`cohort.analysis.assets`, runs in the secure area, and leaves only after the small-cell risk analysis,
the output review and the release (docs/analysis.md). ``spec.yaml`` holds what the deliberation says of
those results (years, retention date, small-cell rules, models and review settings), read through
:mod:`cohort.analysis.sources`; ``examples/`` holds the two example analyses that ``cohort demo`` takes
through that path (before, the same two tables were a built-in yearly release of this package).
"""
