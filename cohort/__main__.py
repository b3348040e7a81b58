"""The ``cohort`` program (the ``cohort`` script, or ``python -m cohort``): the process-wide settings
that must be in place before any library loads, then the command line (:mod:`cohort.cli`).

Importing the package sets nothing; the settings are made here, at program start, and reach the
processes the command line starts (``cohort dev``'s Dagster, the demo's run workers) through
their inherited environment.
"""

import os

#: Polars allocates through jemalloc, which by default hands freed pages back to the kernel within
#: a fraction of a second; the warehouse build then faults the same memory in again millions of
#: times (at scale 0.1, 4.8 million page faults; with the pages kept 5 s, 2.6 million, for 0.2 GiB
#: more peak memory). jemalloc reads it once, when Polars loads; a value set by the user wins.
POLARS_ALLOCATOR_SETTING = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:0")


def main() -> None:
    os.environ.setdefault(*POLARS_ALLOCATOR_SETTING)
    # imported only now: the command line loads Polars, which reads the setting above as it loads
    from cohort.cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
