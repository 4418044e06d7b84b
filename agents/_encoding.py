"""Helpers every index-space agent shares: the level counts, which knobs are ordered, and the
feasible sampling and repair every agent proposes designs through (:mod:`archgym_py._feasible`)."""

from __future__ import annotations

import numpy as np

from .._feasible import FeasibleIndices
from .._space import DesignSpace


class IndexEncoding:
    """A DesignSpace seen as a vector of level indices (the env's MultiDiscrete action).

    Every design it proposes satisfies the space's constraints: draws are uniform over the
    feasible designs and moves are repaired to the nearest feasible design.
    """

    def __init__(self, space: DesignSpace):
        self.space = space
        self.nvec = space.nvec
        self.dims = len(space)
        self.feasible = FeasibleIndices(space)
        # Ordered knobs move to neighbouring levels; categorical ones jump to any other level.
        self.ordered = self.feasible.ordered

    def uniform(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` designs drawn uniformly among the feasible ones, shape ``(n, dims)``."""
        return self.feasible.sample(rng, n)

    def repair(self, rows: np.ndarray) -> np.ndarray:
        """The rows, each moved to the nearest feasible design where it breaks a constraint."""
        return self.feasible.repair(rows)

    def default(self) -> np.ndarray:
        """The base design (repaired if the base architecture breaks a constraint)."""
        return self.repair(self.space.to_indices(self.space.batch([self.space.default()])))[0]

    def neighbour(
        self, rng: np.random.Generator, x: np.ndarray, n_changes: int, max_step: int
    ) -> np.ndarray:
        """A copy of ``x`` with ``n_changes`` knobs moved: ordered ones by 1..max_step levels."""
        y = x.copy()
        for i in rng.choice(self.dims, size=min(n_changes, self.dims), replace=False):
            if self.ordered[i]:
                step = int(rng.integers(1, max_step + 1)) * (1 if rng.random() < 0.5 else -1)
                y[i] = int(np.clip(y[i] + step, 0, self.nvec[i] - 1))
                if y[i] == x[i]:  # pinned at a bound: go the other way
                    y[i] = int(np.clip(x[i] - step, 0, self.nvec[i] - 1))
            elif self.nvec[i] > 1:
                y[i] = (x[i] + int(rng.integers(1, self.nvec[i]))) % self.nvec[i]
        return self.repair(y)[0] if self.feasible.constrained else y

    def mutate(self, rng: np.random.Generator, pop: np.ndarray, rate: float) -> np.ndarray:
        """Each gene of each row is redrawn uniformly with probability ``rate`` (vectorised)."""
        mask = rng.random(pop.shape) < rate
        redraw = rng.integers(0, self.nvec, size=pop.shape)
        return self.repair(np.where(mask, redraw, pop))
