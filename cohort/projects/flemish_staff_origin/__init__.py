"""Seed 003 (advice 13/71): anonymous tables on the origin of Flemish government staff."""
