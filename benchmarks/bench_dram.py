"""Speed of the DRAM domain: simulated requests per second per controller configuration.

Run: ``python benchmarks/bench_dram.py`` (``--quick`` for a shorter run).
Targets: >= 1,000,000 requests/s per core for one configuration on a 100k-request trace, and
better per configuration in a batch (issue 5); a fresh process's first result under 1 s once the
kernel is compiled (issue 11). The batch runs on numba's thread pool over all
cores of the machine; the per-core figure divides by the core count.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _timing import best_time

import archgym_py  # noqa: F401
from archgym_py.envs.dram import DOMAIN, mixed, sequential, uniform_random

# A fresh process's first DRAM result: import, gym.make (simulates the base design on the
# default 20k-request trace) and one step.
COLD = """
import time; t0 = time.perf_counter()
import gymnasium as gym, archgym_py
env = gym.make("archgym/DRAM-v0"); env.reset(seed=0); env.step(env.action_space.sample())
print(time.perf_counter() - t0)
"""


def cold_start(runs: int = 3) -> None:
    """Seconds to the first result in a fresh process: after the first-ever compile (numba's
    on-disk cache warm), and compiling from scratch (an empty cache folder)."""

    def fresh(env=None) -> float:
        out = subprocess.run(
            [sys.executable, "-c", COLD], capture_output=True, text=True, check=True, env=env
        )
        return float(out.stdout.strip().splitlines()[-1])

    fresh()  # make sure the cache holds the kernel
    warm = sorted(fresh() for _ in range(runs))
    with tempfile.TemporaryDirectory() as empty:
        compile_s = fresh({**os.environ, "NUMBA_CACHE_DIR": empty})
    print(
        f"fresh process to its first DRAM-v0 step: median {warm[runs // 2]:.2f} s of {runs} "
        f"(kernel cached on disk); {compile_s:.1f} s the first time ever (compiling)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and configurations")
    args = parser.parse_args()
    repeat = 2 if args.quick else 3
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    cold_start()
    sim = DOMAIN.simulator(DOMAIN.load_arch("ddr4_2400"))

    import gymnasium as gym

    env = gym.make("archgym/DRAM-v0").unwrapped
    space = env.space

    traces = {
        "mixed 8 GB/s": mixed(100_000, rate_gbps=8.0, seed=1),
        "stream saturating": sequential(100_000, rate_gbps=0),
        "random 4 GB/s": uniform_random(100_000, rate_gbps=4.0, seed=1),
    }
    n_batch = 32 if args.quick else 128
    designs = space.sample(n_batch, seed=0)
    rows = [{k: v[i : i + 1] for k, v in designs.items()} for i in range(n_batch)]
    print(f"\n100k-request traces, DDR4-2400, {cores} core(s); {n_batch} random DRAM-v0 designs")
    print("req/s per configuration: the default design alone; the random designs one call each;")
    print(
        "the same designs in one batched call (all cores), and that per core; speed-up = batch / one by one"
    )
    print(
        f"{'trace':<18} {'default':>11} {'one by one':>11} {'batched':>11} {'per core':>11} {'speed-up':>9}"
    )
    for name, trace in traces.items():
        default = len(trace) / best_time(lambda t=trace: sim.evaluate({}, t), repeat)
        start = time.perf_counter()
        for row in rows:
            sim.evaluate(row, trace)
        serial = len(trace) * n_batch / (time.perf_counter() - start)
        batched = len(trace) * n_batch / best_time(lambda t=trace: sim.evaluate(designs, t), 1)
        print(
            f"{name:<18} {default:>11,.0f} {serial:>11,.0f} {batched:>11,.0f} {batched / cores:>11,.0f} "
            f"{batched / serial:>8.2f}x"
        )

    steps = 30 if args.quick else 100
    env.reset(seed=0)
    actions = space.to_indices(space.sample(steps, seed=1))
    start = time.perf_counter()
    for action in actions:
        env.step(action)
    rate = steps / (time.perf_counter() - start)
    print(
        f"\narchgym/DRAM-v0 ({len(env.core.workload):,}-request default trace): {rate:,.0f} env steps/s"
    )


if __name__ == "__main__":
    main()
