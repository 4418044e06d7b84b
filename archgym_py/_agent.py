"""The Agent protocol: a search strategy over an env's DesignSpace with a budget of evaluations.

Every agent searches the same encoding (one level index per parameter, the env's MultiDiscrete
action), asks for evaluations through an :class:`Evaluator` that enforces the budget exactly and
records every design, and returns a :class:`RunResult`. Budgets count simulator evaluations, the
same unit for every agent, so results are comparable.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ._errors import ArchGymError, unknown_name
from ._record import JsonRecord
from ._space import DesignSpace


class BudgetExhausted(ArchGymError):
    """Raised when an agent asks for an evaluation after its budget is spent."""


@dataclass
class RunResult(JsonRecord):
    """Everything one agent run did: every design, its metrics and reward, and the best-so-far curve.

    Attributes:
        agent, hyperparameters, seed, budget: what ran.
        env_id, env_kwargs: the environment (serialisable, to rebuild it).
        designs: every evaluated design, in order. rewards, feasible: one per design.
        metrics: metric name -> one value per design (SI units).
        best_curve: best reward among the first ``i + 1`` evaluations.
        pareto: indices of the non-dominated feasible designs (multi-objective agents), else None.
        adjusted: hyperparameters changed to fit the budget, ``{name: [asked, used]}``.
        wall_time_s: the whole run; simulator_time_s: the part spent in the simulator.
    """

    agent: str
    hyperparameters: dict[str, Any]
    seed: int
    budget: int
    env_id: str
    env_kwargs: dict[str, Any]
    designs: list[dict[str, Any]] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    feasible: list[bool] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    best_curve: list[float] = field(default_factory=list)
    pareto: list[int] | None = None
    #: Hyperparameters the budget made the agent change: ``{name: [asked, used]}`` (see
    #: :meth:`Agent.for_budget`).
    adjusted: dict[str, list[Any]] = field(default_factory=dict)
    wall_time_s: float = 0.0
    simulator_time_s: float = 0.0

    _kind = "a run result"

    @property
    def evaluations(self) -> int:
        return len(self.rewards)

    @property
    def best_index(self) -> int:
        """Index of the best feasible evaluation (the best overall when none is feasible)."""
        rewards = np.asarray(self.rewards)
        feasible = np.asarray(self.feasible, dtype=bool)
        pool = np.where(feasible, rewards, -np.inf) if feasible.any() else rewards
        return int(np.argmax(pool))

    @property
    def best_reward(self) -> float:
        return float(self.rewards[self.best_index])

    @property
    def best_design(self) -> dict[str, Any]:
        return self.designs[self.best_index]

    @property
    def best_metrics(self) -> dict[str, float]:
        i = self.best_index
        return {k: v[i] for k, v in self.metrics.items()}


class Evaluator:
    """The agent's only way to the simulator: counts evaluations, refuses past the budget, records.

    Args:
        core: the env's :class:`~archgym_py._env.EnvCore`.
        budget: the number of designs the agent may evaluate.
        on_evaluate: optional callback ``f(n_done)`` (progress bars).
    """

    def __init__(self, core, budget: int, on_evaluate=None):
        if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget < 1:
            raise ArchGymError(f"budget: got {budget!r}; expected a positive number of evaluations")
        self.core = core
        self.space: DesignSpace = core.space
        self.budget = int(budget)
        self.used = 0
        self.simulator_time_s = 0.0
        self._on_evaluate = on_evaluate
        self.designs: list[dict[str, Any]] = []
        self.rewards: list[float] = []
        self.feasible: list[bool] = []
        self.metrics: dict[str, list[float]] = {m: [] for m in core.metric_names}

    @property
    def remaining(self) -> int:
        return self.budget - self.used

    def evaluate(self, indices: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """Evaluate designs given as level indices ``(n, d)``; at most ``remaining`` of them.

        Returns ``(rewards, metrics, feasible)`` for the designs evaluated (the first ones, when
        the budget cuts the batch). Raises :class:`BudgetExhausted` when nothing is left.
        """
        indices = np.asarray(indices, dtype=np.int64)
        indices = indices.reshape(1, -1) if indices.ndim == 1 else indices
        if self.remaining <= 0:
            raise BudgetExhausted(f"the budget of {self.budget} evaluations is spent")
        indices = indices[: self.remaining]
        batch = self.space.from_indices(indices)
        ev, reward, feasible, _ = self.core.evaluate(batch)
        self.simulator_time_s += self.core.last_simulator_time_s
        self.record(self.space.unbatch(batch), ev.metrics, reward, feasible)
        return reward, ev.metrics, feasible

    def record(self, designs, metrics: Mapping[str, np.ndarray], rewards, feasible) -> None:
        """Append evaluations made elsewhere (e.g. inside env steps driven by an RL library)."""
        n = len(designs)
        self.used += n
        self.designs.extend(designs)
        self.rewards.extend(float(r) for r in np.asarray(rewards).reshape(-1))
        self.feasible.extend(bool(f) for f in np.asarray(feasible).reshape(-1))
        for name, values in metrics.items():
            self.metrics[name].extend(float(v) for v in np.asarray(values).reshape(-1))
        if self._on_evaluate is not None:
            self._on_evaluate(n)


def pareto_front(points: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` (every column minimised).

    Row ``i`` is dominated when some row is no worse in every column and better in one; the test
    is vectorised over all rows, ``chunk`` candidate rows at a time to bound memory.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim == 2 and points.shape[1] == 2 and len(points):
        return _pareto_front_2d(points)
    dominated = np.zeros(len(points), dtype=bool)
    for lo in range(0, len(points), chunk):
        p = points[lo : lo + chunk, None, :]  # (c, 1, k) candidates against all (1, n, k)
        no_worse = np.all(points[None, :, :] <= p, axis=2)
        better = np.any(points[None, :, :] < p, axis=2)
        dominated[lo : lo + chunk] = np.any(no_worse & better, axis=1)
    return np.flatnonzero(~dominated)


def _pareto_front_2d(points: np.ndarray) -> np.ndarray:
    """Two objectives in O(n log n): after sorting by (x, y), a point is dominated when a point
    of smaller x has y' <= y, or a point of equal x has y' < y (identical points do not dominate
    each other)."""
    x, y = points[:, 0], points[:, 1]
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    group_start = np.searchsorted(xs, xs, side="left")  # first index of each point's x group
    running_min = np.minimum.accumulate(ys)
    before = np.where(group_start > 0, running_min[np.maximum(group_start - 1, 0)], np.inf)
    dominated = (before <= ys) | (ys > ys[group_start])
    return np.sort(order[~dominated])


class Agent:
    """Base class of every search strategy.

    Subclasses set ``name``, ``hyperparameter_space`` (a DesignSpace with defaults) and implement
    :meth:`_search`, which calls ``evaluator.evaluate`` until ``evaluator.remaining == 0``.

    Args:
        env: an env id (``"archgym/Accelerator-v0"``), a gymnasium env, or an EnvCore.
        hyperparameters: values for some of the agent's hyperparameters (the rest keep defaults);
            strings are parsed (``{"population": "32"}``).
        seed: the run's seed; the same seed gives the same run in any process.
        env_kwargs: kwargs for ``gymnasium.make`` when ``env`` is an id.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hyperparameter_space: ClassVar[DesignSpace]
    multi_objective: ClassVar[bool] = False
    #: A baseline ignores rewards (random sampling, random walk): no learning is expected of it.
    baseline: ClassVar[bool] = False

    def __init__(
        self,
        env: Any,
        hyperparameters: Mapping[str, Any] | None = None,
        seed: int = 0,
        env_kwargs: Mapping[str, Any] | None = None,
    ):
        self.env_id, self.core = _env_id_and_core(env, env_kwargs)
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ArchGymError(f"seed: got {seed!r}; expected a non-negative integer")
        self.seed = int(seed)
        # The space is named "<agent> hyperparameters", so its errors name the agent.
        self.hp = self.hyperparameter_space.validate(dict(hyperparameters or {}), partial=True)

    def run(self, budget: int, *, progress=None) -> RunResult:
        """Search with ``budget`` simulator evaluations and return everything that was evaluated."""
        evaluator = Evaluator(self.core, budget, on_evaluate=progress)
        rng = np.random.default_rng(self.seed)
        asked = dict(self.hp)
        self.hp = self.for_budget(asked, evaluator.budget)
        adjusted = {k: [asked[k], v] for k, v in self.hp.items() if v != asked[k]}
        start = time.perf_counter()
        try:
            self._search(evaluator, rng)
        except BudgetExhausted:
            pass
        finally:
            self.hp = asked
        wall = time.perf_counter() - start
        if evaluator.used != evaluator.budget:
            raise ArchGymError(
                f"agent {self.name!r} stopped after {evaluator.used} of {evaluator.budget} evaluations"
            )
        rewards = np.asarray(evaluator.rewards)
        result = RunResult(
            agent=self.name,
            hyperparameters=dict(self.hp),
            adjusted=adjusted,
            seed=self.seed,
            budget=evaluator.budget,
            env_id=self.env_id,
            env_kwargs=self.core.kwargs(),
            designs=evaluator.designs,
            rewards=evaluator.rewards,
            feasible=evaluator.feasible,
            metrics=evaluator.metrics,
            best_curve=np.maximum.accumulate(rewards).tolist(),
            wall_time_s=wall,
            simulator_time_s=evaluator.simulator_time_s,
        )
        if self.multi_objective:
            result.pareto = self._pareto(result)
        return result

    def _pareto(self, result: RunResult) -> list[int]:
        directions = self.core.objective.pareto_directions()
        feasible = np.flatnonzero(np.asarray(result.feasible, dtype=bool))
        if feasible.size == 0:
            return []
        cols = [np.asarray(result.metrics[m])[feasible] * (1.0 if d == "minimize" else -1.0)
                for m, d in directions.items()]  # fmt: skip
        return feasible[pareto_front(np.stack(cols, axis=1))].tolist()

    def for_budget(self, hp: dict[str, Any], budget: int) -> dict[str, Any]:
        """The hyperparameters this run uses with ``budget`` evaluations: a value that cannot
        take effect within the budget (a rollout longer than the whole run) is capped, and the
        run result says so (:attr:`RunResult.adjusted`). Default: unchanged."""
        return hp

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        raise NotImplementedError


def _env_id_and_core(env: Any, env_kwargs: Mapping[str, Any] | None):
    """``(env id, EnvCore)`` of an agent's ``env`` argument (see :func:`archgym_py.make_core`)."""
    from ._env import make_core

    core = make_core(env, **dict(env_kwargs or {}))
    spec = getattr(env, "spec", None)
    if isinstance(env, str):
        return env, core
    return (spec.id if spec is not None and hasattr(spec, "id") else core.spec.id), core


def agent_names() -> list[str]:
    from .agents import AGENTS

    return list(AGENTS)


def agent_class(name: str) -> type[Agent]:
    """The Agent class registered under ``name`` (see ``archgym_py.agents.AGENTS``), or the one
    a ``"package.module:Class"`` entry point names (an agent of your own, in sweeps too)."""
    from ._spec import import_string
    from .agents import AGENTS

    if name in AGENTS:
        return import_string(AGENTS[name])
    if ":" in name:
        cls = import_string(name)
        if not (isinstance(cls, type) and issubclass(cls, Agent)):
            raise ArchGymError(
                f"agent {name!r}: expected a subclass of archgym_py.Agent, got {cls!r}"
            )
        return cls
    raise ArchGymError(unknown_name("agent", name, AGENTS) + " or a 'module:Class' entry point")


def make_agent(
    name: str,
    env: Any,
    hyperparameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
) -> Agent:
    """Build a registered agent: ``make_agent("ga", "archgym/Accelerator-v0", {"population": 32}, seed=1)``."""
    return agent_class(name)(env, hyperparameters, seed, env_kwargs)
