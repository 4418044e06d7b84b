"""Surrogate-assisted search: screen many DRAM controller designs on a surrogate, then check the
best few on the simulator.

1. Simulate a few hundred designs and fit a surrogate on them (held-out scores printed).
2. Score 20,000 candidate designs on the surrogate in one batched call (milliseconds).
3. Simulate the 10 the surrogate ranks best and keep the truly best one.

Run: python examples/surrogate_search.py
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import archgym_py  # noqa: F401
from archgym_py.surrogate import dataset_from_env, fit_surrogate, split


def main(n_train: int = 600, n_candidates: int = 20000, seed: int = 0) -> None:
    core = gym.make("archgym/DRAM-v0", objective="latency_under_power").unwrapped.core
    data = dataset_from_env(core, n_train, seed=seed, method="sobol")
    train, test = split(data, "random", seed=seed)
    model = fit_surrogate(data.subset(train), "et", cv=3, seed=seed, test=data.subset(test))
    scores = model.card["held_out"]["scores"]
    print(f"surrogate on {len(train)} simulated designs: latency Kendall tau "
          f"{scores['latency_s']['kendall_tau']:.3f}, power nRMSE {scores['power_w']['nrmse']:.2%}")  # fmt: skip

    candidates = core.space.sample(n_candidates, seed=seed + 1)
    predicted = model.evaluate(candidates, core.workload)
    reward, feasible = core.objective.score(predicted.metrics, predicted.feasible, core.reference)
    top = np.argsort(-np.where(feasible, reward, -np.inf), kind="stable")[:10]
    shortlist = {k: v[top] for k, v in candidates.items()}
    ev, true_reward, true_feasible, _ = core.evaluate(shortlist)
    best = int(np.argmax(np.where(true_feasible, true_reward, -np.inf)))
    print(f"best reward {true_reward[best]:.3f} (simulated) among the surrogate's top 10 of "
          f"{n_candidates} candidates; {n_train + 10} simulations in all")  # fmt: skip
    print("design:", core.space.unbatch(shortlist)[best])
    print("metrics:", {k: f"{v:.4g}" for k, v in ev.row(best).items()})


if __name__ == "__main__":
    main()
