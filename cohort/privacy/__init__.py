"""Privacy, above the contract and below the projects: what protects people on the way out.

Pseudonyms (``pseudonym``), the export scan that refuses identifiers and day-level dates
(``scan``), the retention guard (``retention``), the hash-chained audit log of every export,
release, refusal and purge (``audit_log``), and disclosure control for anonymous tables
(``disclosure``). May import the rules, storage and the contract; never a project or ``ops``.
"""
