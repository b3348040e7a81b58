"""The cohort builder: research deliveries from a social-security data warehouse."""

import os

# Polars allocates through jemalloc, which by default hands freed pages back to the kernel
# within a fraction of a second; the warehouse build then faults the same memory in again
# millions of times (at scale 0.1, 4.8 million page faults; with the pages kept 5 s, 2.6
# million, for 0.2 GiB more peak memory). Read once, when Polars is first imported, so it only
# takes effect where ``cohort`` is imported first; a value set by the user wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:0")

__version__ = "0.1.0"
