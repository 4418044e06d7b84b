"""A genetic algorithm over level indices: selection, crossover, mutation and elitism."""

from __future__ import annotations

import numpy as np

from .._agent import Agent, Evaluator
from .._params import Categorical, Integer, PowerOfTwo, Real
from .._space import DesignSpace
from ._encoding import IndexEncoding


class GeneticAlgorithm(Agent):
    """Generational GA: each generation of ``population`` designs is one simulator batch.

    Parents are chosen by tournament (best of ``tournament_size`` random members) or roulette
    (probability proportional to reward minus the generation's worst); pairs cross over with
    ``crossover_rate`` (uniform: each gene from either parent; one-point: a prefix from one and the
    suffix from the other); each gene then mutates to a random level with ``mutation_rate``; the
    ``elitism`` best designs carry over unchanged.
    """

    name = "ga"
    description = "genetic algorithm"
    hyperparameter_space = DesignSpace(
        [
            PowerOfTwo("population", low=4, high=512, default=32, doc="designs per generation"),
            Categorical("selection", values=("tournament", "roulette"), default="tournament"),
            Integer("tournament_size", low=2, high=8, default=3),
            Categorical("crossover", values=("uniform", "one_point"), default="uniform"),
            Real("crossover_rate", low=0.0, high=1.0, default=0.9),
            Real("mutation_rate", low=0.0, high=0.5, default=0.125, doc="per gene"),
            Integer(
                "elitism",
                low=0,
                high=16,
                default=2,
                doc="best designs copied to the next generation",
            ),
        ],
        constraints=["elitism < population"],
        name="ga hyperparameters",
    )

    def _select(self, rng: np.random.Generator, fitness: np.ndarray, n: int) -> np.ndarray:
        if self.hp["selection"] == "tournament":
            contenders = rng.integers(0, len(fitness), size=(n, self.hp["tournament_size"]))
            return contenders[np.arange(n), np.argmax(fitness[contenders], axis=1)]
        weights = fitness - fitness.min() + 1e-12
        return rng.choice(len(fitness), size=n, p=weights / weights.sum())

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        enc = IndexEncoding(evaluator.space)
        size = self.hp["population"]
        pop = enc.uniform(rng, min(size, evaluator.remaining))
        fitness, _, _ = evaluator.evaluate(pop)
        while evaluator.remaining > 0:
            elite = np.argsort(-fitness, kind="stable")[: self.hp["elitism"]]
            n_children = min(size - len(elite), evaluator.remaining)
            mothers = pop[self._select(rng, fitness, n_children)]
            fathers = pop[self._select(rng, fitness, n_children)]
            if self.hp["crossover"] == "uniform":
                take_father = rng.random(mothers.shape) < 0.5
            else:
                cut = (
                    rng.integers(1, enc.dims, size=(n_children, 1))
                    if enc.dims > 1
                    else np.ones((n_children, 1))
                )
                take_father = np.arange(enc.dims)[None, :] >= cut
            cross = rng.random((n_children, 1)) < self.hp["crossover_rate"]
            children = np.where(take_father & cross, fathers, mothers)
            children = enc.mutate(rng, children, self.hp["mutation_rate"])
            child_fitness, _, _ = evaluator.evaluate(children)
            pop = np.concatenate([pop[elite], children])
            fitness = np.concatenate([fitness[elite], child_fitness])
