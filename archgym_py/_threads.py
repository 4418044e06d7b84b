"""One process-wide thread pool for work that releases the GIL (compiled kernels, numpy blocks).

Shared by the DRAM simulator's batches and the surrogates' prediction blocks. A forked child (a
sweep worker) has none of its parent's threads, so it starts a pool of its own. Never wait on the
pool from inside one of its own tasks: with every worker waiting, nothing would run.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

#: Cores this process may run on (its CPU affinity where the OS reports one).
WORKERS = (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
)
_POOL: ThreadPoolExecutor | None = None


def thread_pool() -> ThreadPoolExecutor:
    """The pool (``WORKERS`` threads), started on first use."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="archgym")
    return _POOL


def _forget_pool_in_child() -> None:
    global _POOL
    _POOL = None  # a forked child has none of the parent's threads: start its own pool


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)
