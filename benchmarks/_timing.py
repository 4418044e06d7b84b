"""Timing helper shared by the benchmarks (run as scripts: ``benchmarks/`` is on ``sys.path``)."""

from __future__ import annotations

import time


def best_time(fn, repeat: int = 3) -> float:
    """The fastest of ``repeat`` calls of ``fn``, in seconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
