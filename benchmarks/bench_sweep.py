"""Sweep throughput: cells per minute on local workers, and scheduling overhead per cell.

Run: ``python benchmarks/bench_sweep.py`` (the quick preset on 2 workers, into a temporary store).
``--preset NAME`` picks another shipped sweep. Target (issue 4): scheduling overhead < 50 ms/cell.

The overhead is wall time not spent inside cells, per cell: ``wall - sum(cell time) / workers``.
A second measurement runs 200 trivial cells (random search, budget 1) so that the overhead of
the executor, the store and the progress bar is not hidden behind simulation.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from archgym_py.sweep import load_sweep, run_sweep, sweep_from_dict  # noqa: E402


def timed_sweep(spec, workers: int):
    """Run ``spec`` into a throwaway store; return its summary and the wall time (worker start-up included)."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = run_sweep(spec, os.path.join(tmp, "results.db"), workers=workers, progress=False)
        return summary, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    spec = load_sweep(args.preset)
    s, wall = timed_sweep(spec, args.workers)
    print(f"preset {spec.name!r}: {s.ran} cells on {args.workers} workers in {wall:.1f} s = "
          f"{s.ran / wall * 60:,.0f} cells/minute; scheduling overhead {s.overhead_per_cell_s * 1e3:.1f} ms/cell")  # fmt: skip

    trivial = sweep_from_dict({
        "spec_version": 1, "name": "trivial", "budget": 1, "seeds": 200,
        "envs": [{"id": "archgym/AcceleratorSmall-v0"}], "agents": [{"name": "random"}],
    })  # fmt: skip
    s, wall = timed_sweep(trivial, args.workers)
    print(f"200 trivial cells (budget 1) on {args.workers} workers: {wall:.2f} s incl. worker start-up, "
          f"{wall / s.ran * 1e3:.1f} ms/cell end to end; overhead {s.overhead_per_cell_s * 1e3:.1f} ms/cell")  # fmt: skip


if __name__ == "__main__":
    main()
