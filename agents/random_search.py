"""Baselines: uniform random search, and ArchGym's random walker."""

from __future__ import annotations

import numpy as np

from .._agent import Agent, Evaluator
from .._params import Categorical, Integer, PowerOfTwo, Real
from .._space import DesignSpace
from ._encoding import IndexEncoding


class RandomSearch(Agent):
    """Uniform random designs, evaluated in batches (the baseline every agent must beat)."""

    name = "random"
    baseline = True
    description = "uniform random search"
    hyperparameter_space = DesignSpace(
        [PowerOfTwo("batch_size", low=1, high=1024, default=64, doc="designs per simulator call")],
        name="random hyperparameters",
    )

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        enc = IndexEncoding(evaluator.space)
        while evaluator.remaining > 0:
            evaluator.evaluate(enc.uniform(rng, min(self.hp["batch_size"], evaluator.remaining)))


class RandomWalk(Agent):
    """A random walk: each step moves ``n_changes`` knobs of the current design to a neighbouring
    level (categorical knobs to any other level), whatever the reward; with ``restart_prob`` it
    jumps to a uniformly random design. ArchGym's "random walker"."""

    name = "random_walk"
    baseline = True
    description = "random walk over neighbouring designs"
    hyperparameter_space = DesignSpace(
        [
            Integer("n_changes", low=1, high=4, default=1, doc="knobs moved per step"),
            Integer(
                "max_step",
                low=1,
                high=8,
                default=2,
                doc="largest move of an ordered knob, in levels",
            ),
            Real(
                "restart_prob",
                low=0.0,
                high=0.5,
                default=0.05,
                doc="probability of a random restart per step",
            ),
            Categorical("start", values=("random", "base"), default="random", doc="first design"),
        ],
        name="random_walk hyperparameters",
    )

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        enc = IndexEncoding(evaluator.space)
        x = enc.uniform(rng, 1)[0] if self.hp["start"] == "random" else enc.default()
        evaluator.evaluate(x)
        while evaluator.remaining > 0:
            if rng.random() < self.hp["restart_prob"]:
                x = enc.uniform(rng, 1)[0]
            else:
                x = enc.neighbour(rng, x, self.hp["n_changes"], self.hp["max_step"])
            evaluator.evaluate(x)
