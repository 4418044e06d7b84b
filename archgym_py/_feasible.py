"""Feasible designs as level indices: sampling and repair for spaces with constraints.

Agents search level indices (the env's MultiDiscrete action). Where a design space has
constraints (``dp * tp * pp == gpus``, ``hidden % tp == 0``), a uniform draw or a mutation
mostly lands outside them and a budget counted in simulator calls is wasted. This module gives
every agent the same two tools:

* :meth:`FeasibleIndices.sample`: uniform over the feasible designs. A space of at most
  ``ENUMERATE`` designs is enumerated once (exactly uniform); a larger one is sampled by
  rejection with a bounded number of rounds, then topped up from a fixed pool of feasible designs.
* :meth:`FeasibleIndices.repair`: the nearest feasible design (distance in the unit cube per
  ordered knob, 1 per changed categorical knob): first among the designs one knob away (a product
  constraint is usually met by moving one factor), else among the feasible pool.

Without constraints both are the identity (``sample`` draws exactly what ``rng.integers`` draws),
so unconstrained runs are unchanged. Both are deterministic given the ``rng``.

Example:
    >>> import numpy as np
    >>> from archgym_py import DesignSpace, PowerOfTwo
    >>> space = DesignSpace([PowerOfTwo(n, low=1, high=64) for n in ("dp", "tp", "pp")],
    ...                     constraints=["dp * tp * pp == 64"])
    >>> feasible = FeasibleIndices(space)
    >>> rows = feasible.sample(np.random.default_rng(0), 1000)
    >>> bool(feasible.mask(rows).all()), len(feasible.pool)  # 28 of the 343 designs are feasible
    (True, 28)
    >>> feasible.repair(np.array([[2, 3, 0], [6, 6, 6]])).tolist()
    [[3, 3, 0], [0, 2, 4]]

    ``4 x 8 x 1`` is one knob from feasible (``8 x 8 x 1``); ``64 x 64 x 64`` is not, and goes to
    the nearest feasible design (``1 x 4 x 16``: unit-cube distance 2, the least; ties go to the
    first in level order).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ._errors import DesignError
from ._params import Boolean, Categorical
from ._space import DesignSpace

#: Spaces up to this many designs (before constraints) are enumerated for sampling and repair.
ENUMERATE = 200_000
#: Feasible designs kept for repair and top-up in spaces too large to enumerate.
POOL = 4096
#: Rejection rounds before a draw is topped up from the pool.
MAX_ROUNDS = 32
#: Row x pool x knob elements per block of the nearest-in-pool search (bounds memory).
_BLOCK = 1 << 22


class FeasibleIndices:
    """Sampling and repair of level-index rows of ``space`` (see the module docstring)."""

    def __init__(self, space: DesignSpace):
        self.space = space
        self.nvec = space.nvec
        self.dims = len(space)
        self.constrained = bool(space.constraints)
        #: Knobs whose levels are ordered (distance in levels); categorical ones differ or not.
        self.ordered = ordered = np.array(
            [not isinstance(p, (Categorical, Boolean)) for p in space.params]
        )
        self._scale = np.where(ordered, 1.0 / np.maximum(self.nvec - 1, 1), 1.0)
        # Every single-knob move: knob i to level l.
        self._knob = np.repeat(np.arange(self.dims), self.nvec)
        self._level = np.concatenate([np.arange(n) for n in self.nvec])

    def mask(self, indices: np.ndarray) -> np.ndarray:
        """Which rows satisfy every constraint."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1, self.dims)
        if not self.constrained:
            return np.ones(len(indices), dtype=bool)
        return self.space.feasible(self.space.from_indices(indices))

    @cached_property
    def enumerated(self) -> bool:
        return self.space.size <= ENUMERATE

    @cached_property
    def pool(self) -> np.ndarray:
        """Feasible rows: all of them in an enumerable space, else ``POOL`` sampled with seed 0."""
        if self.enumerated:
            rows = self.space.to_indices(self.space.grid(limit=ENUMERATE))
        else:
            rows = np.unique(self.space.to_indices(self.space.sample(POOL, seed=0)), axis=0)
        if len(rows) == 0:
            raise DesignError(
                f"{self.space.name}: no design satisfies the constraints "
                f"{[c.expression for c in self.space.constraints]} with constants {self.space.constants}"
            )
        return rows

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` rows drawn uniformly among the feasible designs."""
        if not self.constrained:
            return rng.integers(0, self.nvec, size=(n, self.dims))
        if self.enumerated:
            return self.pool[rng.integers(0, len(self.pool), size=n)]
        kept: list[np.ndarray] = []
        have = 0
        for _ in range(MAX_ROUNDS):
            if have >= n:
                break
            draw = rng.integers(0, self.nvec, size=(2 * (n - have), self.dims))
            draw = draw[self.mask(draw)]
            kept.append(draw)
            have += len(draw)
        if have < n:  # a rare feasible set: the rest from the pool
            kept.append(self.pool[rng.integers(0, len(self.pool), size=n - have)])
        return np.concatenate(kept)[:n]

    def repair(self, indices: np.ndarray) -> np.ndarray:
        """Each row, or the nearest feasible design to it when it breaks a constraint."""
        rows = np.array(indices, dtype=np.int64).reshape(-1, self.dims)
        if not self.constrained:
            return rows
        bad = np.flatnonzero(~self.mask(rows))
        if len(bad) == 0:
            return rows
        fixed = self._one_knob_away(rows[bad])
        still = np.flatnonzero(fixed[:, 0] < 0)
        if len(still):
            fixed[still] = self._nearest_in_pool(rows[bad][still])
        rows[bad] = fixed
        return rows

    def _one_knob_away(self, rows: np.ndarray) -> np.ndarray:
        """The nearest feasible row that differs in one knob (``-1`` rows where none is)."""
        m, k = len(rows), len(self._knob)
        candidates = np.repeat(rows[:, None, :], k, axis=1)
        candidates[:, np.arange(k), self._knob] = self._level
        ok = self.mask(candidates.reshape(-1, self.dims)).reshape(m, k)
        moved = np.abs(self._level[None, :] - rows[:, self._knob])
        cost = np.where(self.ordered[self._knob], moved * self._scale[self._knob], moved > 0)
        cost = np.where(ok & (moved > 0), cost, np.inf)
        best = np.argmin(cost, axis=1)
        out = candidates[np.arange(m), best]
        out[~np.isfinite(cost[np.arange(m), best])] = -1
        return out

    def _nearest_in_pool(self, rows: np.ndarray) -> np.ndarray:
        pool = self.pool
        block = max(1, _BLOCK // (len(pool) * self.dims))
        out = np.empty_like(rows)
        for lo in range(0, len(rows), block):
            diff = np.abs(rows[lo : lo + block, None, :] - pool[None, :, :])
            cost = np.where(self.ordered, diff * self._scale, diff > 0).sum(axis=2)
            out[lo : lo + block] = pool[np.argmin(cost, axis=1)]
        return out
