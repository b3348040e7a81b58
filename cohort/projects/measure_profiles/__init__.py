"""Seed 001 (advice 16/39): anonymous tables on beneficiaries of employment measures."""
