"""The operational layer, on top: what runs the projects and what users touch around them.

Jobs, the yearly schedules, the warehouse sensor and the report assets (``defs``, made from the
projects' asset graph by ``catalogue``), the demo and the project commands (``commands``,
``runner``), the development server (``devserver``), the reports with their pictures, and the
audit, purge and retention commands (``cli``). May import every layer below; nothing in
``cohort`` but the command line (``cohort.cli``) and the definitions imports it.
"""
