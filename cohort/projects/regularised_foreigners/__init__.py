"""Seed 000 (advice 15/46): anonymous tables on regularised foreigners in the Flemish labour market."""
