"""Pseudonymisation, coarsening guards, export scanning and disclosure control."""
