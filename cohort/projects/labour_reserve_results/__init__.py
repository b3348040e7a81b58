"""Seed 004 phase 2 (deliberation 26/104): anonymous results of analyses on the secure labour-reserve tables.

``spec.yaml`` declares the deliberation (variables, classes, disclosure rules, tables); ``sql/``
holds one query per frame or table; ``assets`` builds them through :func:`cohort.projects.step.open_step`
and releases their tables through the anonymous kernel (``cohort.projects.anonymous``); ``defs``
puts them on Dagster. Like every deliberation package it may import the rules, storage, the
contract, privacy and the project kernel, never another deliberation nor the operational layer
(tests/test_layers.py).
"""
