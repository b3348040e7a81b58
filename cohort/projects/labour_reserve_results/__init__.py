"""Seed 004 phase 2 (deliberation 26/104): anonymous results of analyses on the secure labour-reserve tables."""
