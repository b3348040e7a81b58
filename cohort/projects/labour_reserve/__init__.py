"""The labour-reserve delivery of deliberation 26/104 (seed 004) for Steunpunt Werk: yearly
situation of everyone aged 15-64 living in Belgium, 2020-2026, with the T+1 and T-1 mobility
tables; phase 1 a panel of about 10,000 persons a year exported, phase 2 the full population in
the secure area. See docs/labour_reserve.md."""
