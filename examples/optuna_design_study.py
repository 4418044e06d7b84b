"""An Optuna study whose trials suggest accelerator designs from the env's DesignSpace.

Run: python examples/optuna_design_study.py
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import optuna

import archgym_py  # noqa: F401


def main(n_trials: int = 200, seed: int = 0) -> None:
    core = gym.make("archgym/Accelerator-v0", workload="resnet18").unwrapped.core

    def objective(trial: optuna.Trial) -> float:
        design = core.space.suggest(trial)
        _, reward, feasible, _ = core.evaluate(core.space.batch([design]))
        trial.set_user_attr("feasible", bool(feasible[0]))
        return float(reward[0])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    best = core.space.from_optuna_params(study.best_params)
    ev = core.simulator.evaluate(core.space.batch([best]), core.workload)
    print(f"best reward {study.best_value:.3f} after {n_trials} trials: {best}")
    print({k: f"{float(np.asarray(v)[0]):.4g}" for k, v in ev.metrics.items()})


if __name__ == "__main__":
    main()
