"""The domain kit: feasible proposals per agent on a product-constrained space, and the env's
own overhead per step on a simulator that costs next to nothing.

Run: ``python benchmarks/bench_domain_kit.py`` (``--quick`` for fewer seeds and steps).

1. Feasibility: every agent searches ``archgym/Toy-v0`` (tests/toy_domain: dp x tp x pp x
   microbatches, powers of two up to 64, with ``dp * tp * pp == gpus``, ``heads % tp == 0`` and
   ``layers % pp == 0``: 182 of 2,401 designs, 7.6%, are feasible). It prints the share of each
   agent's simulated designs that satisfy the constraints with the feasible sampling and repair
   on, and with them off (``FeasibleIndices`` told the space has no constraints: exactly the
   proposals agents made before the kit), and the best reward found either way.
2. Overhead: single-env ``step`` calls per second on a simulator that returns constants
   (the env's own cost: action decoding, objective, observation, info, episode record).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.toy_domain

import archgym_py  # noqa: E402
from archgym_py import Evaluation, make_agent  # noqa: E402
from archgym_py._feasible import FeasibleIndices  # noqa: E402

SPEC = str(ROOT / "tests" / "toy_domain" / "env.yaml")
archgym_py.register_domain("toy", "tests.toy_domain:DOMAIN")
AGENTS = ("random", "random_walk", "ga", "aco", "tpe", "cmaes", "nsga2", "ppo", "a2c", "dqn")


def feasible_share(agent: str, seeds: range, budget: int) -> tuple[float, float]:
    shares, best = [], []
    for seed in seeds:
        hp = {"n_startup_trials": 5} if agent == "tpe" else None
        result = make_agent(agent, SPEC, hp, seed=seed).run(budget)
        space = archgym_py.make_core(SPEC).space
        shares.append(space.feasible(space.batch(result.designs)).mean())
        best.append(result.best_reward)
    return float(np.mean(shares)), float(np.median(best))


class _Constant:
    """A simulator that costs nothing: the env's own overhead is all that is left."""

    version = "constant/1"

    def __init__(self, metrics):
        self.metrics = metrics

    def evaluate(self, designs, workload, *, details=False):
        n = len(next(iter(designs.values())))
        return Evaluation({m.name: np.ones(n) for m in self.metrics}, np.ones(n, bool))


def env_overhead(steps: int) -> float:
    core_metrics = archgym_py.make_core(SPEC).metric_specs
    env = archgym_py.ArchEnv(SPEC, backend=_Constant(core_metrics), max_steps=10**9)
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(steps)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for a in actions:
            env.step(a)
        best = min(best, time.perf_counter() - start)
    return steps / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds, budget = (range(2), 100) if args.quick else (range(5), 200)
    print(f"archgym/Toy-v0: share of simulated designs that are feasible, mean of {len(seeds)} "
          f"seeds, budget {budget}; median best reward")  # fmt: skip
    print(f"{'agent':<12} {'kit on':>8} {'kit off':>8} {'best on':>9} {'best off':>9}")
    constrained = FeasibleIndices.__init__
    for agent in AGENTS:
        on, best_on = feasible_share(agent, seeds, budget)

        def off_init(self, space, _init=constrained):
            _init(self, space)
            self.constrained = False

        FeasibleIndices.__init__ = off_init
        try:
            off, best_off = feasible_share(agent, seeds, budget)
        finally:
            FeasibleIndices.__init__ = constrained
        print(f"{agent:<12} {on:>8.1%} {off:>8.1%} {best_on:>9.3f} {best_off:>9.3f}")

    steps = 2000 if args.quick else 20000
    print(
        f"\nenv overhead (constant simulator, unwrapped ArchEnv): {env_overhead(steps):,.0f} steps/s"
    )


if __name__ == "__main__":
    main()
