"""Speed of the DRAM domain: simulated requests per second per controller configuration.

Run: ``python benchmarks/bench_dram.py`` (``--quick`` for a shorter run).
Target (issue 5): >= 1,000,000 requests/s per core for one configuration on a 100k-request
trace, and better per configuration in a batch. The batch runs on numba's thread pool over all
cores of the machine; the per-core figure divides by the core count.
"""

from __future__ import annotations

import argparse
import os
import time

from _timing import best_time

import archgym_py  # noqa: F401
from archgym_py.envs.dram import DOMAIN, mixed, sequential, uniform_random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and configurations")
    args = parser.parse_args()
    repeat = 2 if args.quick else 3
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    sim = DOMAIN.simulator(DOMAIN.load_arch("ddr4_2400"))
    start = time.perf_counter()
    sim.evaluate({}, mixed(10, seed=0))
    print(f"kernel load (compiled once, then cached on disk): {time.perf_counter() - start:.2f} s")

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
