"""Ant colony optimisation (MAX-MIN ant system) with pheromones over each knob's levels."""

from __future__ import annotations

import numpy as np

from .._agent import Agent, Evaluator
from .._params import PowerOfTwo, Real
from .._space import DesignSpace
from ._encoding import IndexEncoding

TAU_MIN, TAU_MAX = 0.01, 10.0


class AntColony(Agent):
    """Each ant builds a design knob by knob: with probability ``greediness`` it takes the level
    maximising ``tau^alpha * eta^beta``, otherwise it samples a level in proportion to it.

    ``tau`` (pheromone) starts at 1 for every level, evaporates by ``evaporation`` each iteration
    and is reinforced on the levels of the iteration's best ant (+1) and the best design so far
    (+0.5), bounded to [0.01, 10] (MAX-MIN ant system, Stuetzle & Hoos 2000). ``eta`` (heuristic)
    favours levels near the best design so far: ``1 / (1 + |level - best level|)`` for ordered
    knobs, 1 for categorical ones. One iteration of ``ants`` designs is one simulator batch.
    """

    name = "aco"
    description = "ant colony optimisation"
    hyperparameter_space = DesignSpace(
        [
            PowerOfTwo("ants", low=2, high=256, default=16, doc="designs per iteration"),
            Real(
                "evaporation", low=0.01, high=0.9, default=0.3, doc="pheromone lost per iteration"
            ),
            Real("alpha", low=0.0, high=5.0, default=1.0, doc="weight of the pheromone"),
            Real("beta", low=0.0, high=5.0, default=1.0, doc="weight of the heuristic"),
            Real("greediness", low=0.0, high=1.0, default=0.1, doc="probability of the best level"),
        ],
        name="aco hyperparameters",
    )

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        enc = IndexEncoding(evaluator.space)
        tau = [np.ones(n) for n in enc.nvec]
        best_x, best_r = None, -np.inf
        hp = self.hp
        while evaluator.remaining > 0:
            n = min(hp["ants"], evaluator.remaining)
            ants = np.empty((n, enc.dims), dtype=np.int64)
            for i, levels in enumerate(enc.nvec):
                eta = np.ones(levels)
                if best_x is not None and enc.ordered[i]:
                    eta = 1.0 / (1.0 + np.abs(np.arange(levels) - best_x[i]))
                weight = tau[i] ** hp["alpha"] * eta ** hp["beta"]
                sampled = rng.choice(levels, size=n, p=weight / weight.sum())
                ants[:, i] = np.where(rng.random(n) < hp["greediness"], np.argmax(weight), sampled)
            ants = enc.repair(ants)
            rewards, _, _ = evaluator.evaluate(ants)
            it_best = int(np.argmax(rewards))
            if rewards[it_best] > best_r:
                best_x, best_r = ants[it_best].copy(), float(rewards[it_best])
            for i in range(enc.dims):
                tau[i] *= 1.0 - hp["evaporation"]
                tau[i][ants[it_best, i]] += 1.0
                tau[i][best_x[i]] += 0.5
                np.clip(tau[i], TAU_MIN, TAU_MAX, out=tau[i])
