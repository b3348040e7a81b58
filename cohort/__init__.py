"""The cohort builder: research deliveries from a social-security data warehouse."""

__version__ = "0.1.0"
