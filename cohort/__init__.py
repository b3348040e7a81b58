"""The cohort builder: research deliveries from a social-security data warehouse.

Importing the package does nothing but name its version; process-wide settings are made by the
program's entry point (:mod:`cohort.__main__`).
"""

__version__ = "0.1.0"
