"""The labour-reserve delivery of deliberation 26/104 (seed 004) for Steunpunt Werk: yearly
situation of everyone aged 15-64 living in Belgium, 2020-2026, with the T+1 and T-1 mobility
tables; phase 1 a panel of about 10,000 persons a year exported, phase 2 the full population in
the secure area. See docs/labour_reserve.md.

``spec.yaml`` declares the deliberation; ``build`` makes the population, the situation of each
year, the absences and the phase-1 panel from ``sql/`` (the mobility tables come from the kernel's
``cohort.projects.mobility``); ``schemas`` validates each written partition; ``assets`` and
``defs`` put it on Dagster. Like every deliberation package it may import the rules, storage, the
contract, privacy and the project kernel, never another deliberation nor the operational layer
(tests/test_layers.py)."""
