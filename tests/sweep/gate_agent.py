"""An agent whose runs can be held until the test opens a gate: a sweep killed while its workers
wait here has exactly the cells before the gate stored, whatever the machine's speed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from archgym_py import Agent, DesignSpace, Evaluator, Integer


class GateAgent(Agent):
    name = "gate"
    baseline = True
    hyperparameter_space = DesignSpace(
        [Integer("hold", low=0, high=1, default=0, doc="wait for the gate file first")],
        name="gate hyperparameters",
    )

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        if self.hp["hold"]:
            gate = Path(os.environ["ARCHGYM_TEST_GATE"])
            while not gate.exists():
                time.sleep(0.01)
        while evaluator.remaining > 0:
            evaluator.evaluate(
                rng.integers(
                    0, evaluator.space.nvec, size=(evaluator.remaining, len(evaluator.space))
                )
            )


class NaNAgent(Agent):
    """Reports NaN rewards, as a simulator with non-finite metrics (a surrogate with NaN
    weights, a workload of 10^154-sized GEMMs) makes an agent do."""

    name = "nan"
    baseline = True
    hyperparameter_space = DesignSpace(
        [Integer("unused", low=0, high=1, default=0)], name="nan hyperparameters"
    )

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        n = evaluator.remaining
        designs = evaluator.space.unbatch(evaluator.space.sample(n, seed=0))
        metrics = {m: np.full(n, np.nan) for m in evaluator.metrics}
        evaluator.record(designs, metrics, np.full(n, np.nan), np.ones(n, bool))
