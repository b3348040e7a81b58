"""Seed 002 (IVC 17/047): the longitudinal cohort of the Flemish population of foreign origin, 2005-2016.

``spec.yaml`` declares the deliberation; ``population`` draws the sample and follows it;
``build`` makes the yearly export tables from ``sql/``; ``schemas`` validates them; ``assets``
and ``defs`` put it all on Dagster. Like every deliberation package it may import the rules,
storage, the contract, privacy and the project kernel, never another deliberation nor the
operational layer (tests/test_layers.py).
"""

PROJECT_ID = "longitudinal_cohort"
