"""A multi-objective Optuna study (NSGA-II) over accelerator designs: latency vs energy under an
area budget, with the constraint passed to Optuna. Prints the Pareto front.

Run: python examples/optuna_multiobjective.py
"""

from __future__ import annotations

import gymnasium as gym
import optuna

import archgym_py  # noqa: F401

AREA_MM2 = 4.0


def main(n_trials: int = 400, seed: int = 0) -> None:
    core = gym.make("archgym/Accelerator-v0", workload="mobilenet_v2").unwrapped.core

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        design = core.space.suggest(trial)
        ev = core.simulator.evaluate(core.space.batch([design]), core.workload)
        metrics = ev.row(0)
        # <= 0 means satisfied: the area budget, and the design must be mappable.
        trial.set_constraint("area", metrics["area_mm2"] - AREA_MM2)
        trial.set_constraint("mappable", 0.0 if ev.feasible[0] else 1.0)
        return metrics["latency_s"], metrics["energy_j"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.NSGAIISampler(population_size=40, seed=seed)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=n_trials)
    print(f"Pareto front ({len(study.best_trials)} designs): latency_s, energy_j, design")
    for t in sorted(study.best_trials, key=lambda t: t.values[0]):
        print(f"  {t.values[0]:.4g}  {t.values[1]:.4g}  {core.space.from_optuna_params(t.params)}")


if __name__ == "__main__":
    main()
