"""The projects: one sub-package per deliberation, built the same way, with its spec (YAML),
SQL, schemas, assets and ``defs`` together; ``spec``, ``mobility`` and ``anonymous`` are the
kernel they share.

A project may import the rules, storage, the contract and privacy, and the kernel; never another
deliberation's package, the synthetic warehouse (``cohort.warehouse``: a project reads a real
extract the same way) or ``ops``.
"""
