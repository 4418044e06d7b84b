"""Objectives turn a simulator's metrics into a scalar reward (vectorised over designs).

Two kinds, both with optional constraint penalties:

* ``weighted_log``: ``reward = -sum_m w_m * s_m * ln(metric_m / ref_m)`` with ``s_m = +1`` for a
  metric to minimise and ``-1`` for one to maximise; ``ref`` is the base design's metrics, so the
  base design scores 0 and a design twice as fast on latency alone scores ``w * ln 2``.
* ``target`` (ArchGym's style): ``reward = -sum_m w_m * d_m`` with ``d_m`` the relative distance
  to the target, ``|m - t| / t``, or only the shortfall when ``one_sided`` (a latency below its
  target is not penalised). The target is met when every ``d_m <= tolerance``; the env then ends
  the episode (``terminated``).

A constraint ``{metric: area_mm2, max: 4.0}`` that is broken subtracts
``penalty * (1 + ln(area / 4.0))`` (a log ratio keeps the penalty bounded and smooth); a design the simulator reports infeasible loses
``2 * penalty``. Such designs are reported ``feasible = False``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import ObjectiveError, unknown_name
from ._simulator import Direction, MetricSpec

OBJECTIVE_KINDS = ("weighted_log", "target")


@dataclass(frozen=True)
class MetricBound:
    """``metric <= max`` and/or ``metric >= min``."""

    metric: str
    max: float | None = None
    min: float | None = None

    def violation(self, values: np.ndarray) -> np.ndarray:
        """Violation as a log ratio, ``ln(value / max)`` or ``ln(min / value)`` (0 where satisfied)."""
        values = np.maximum(values, 1e-300)
        out = np.zeros(np.shape(values))
        if self.max is not None:
            out = np.maximum(out, np.log(values / self.max))
        if self.min is not None:
            out = np.maximum(out, np.log(self.min / values))
        return out

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{self.metric} >= {self.min:g}")
        if self.max is not None:
            parts.append(f"{self.metric} <= {self.max:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Objective:
    """A scalar reward over metrics; see the module docstring for the formulas.

    Build one from the mapping form used in env specs with :meth:`from_spec`.
    """

    kind: str
    weights: Mapping[str, float]
    directions: Mapping[str, Direction]
    targets: Mapping[str, float] = field(default_factory=dict)
    tolerance: float = 0.0
    one_sided: bool = True
    constraints: tuple[MetricBound, ...] = ()
    penalty: float = 10.0
    name: str = ""

    @classmethod
    def from_spec(
        cls, data: Mapping[str, Any], metrics: Sequence[MetricSpec], *, path: str = "objective"
    ) -> Objective:
        """Validate and build from ``{kind, weights | targets, constraints, penalty, ...}``."""
        from ._spec import check_keys

        if not isinstance(data, Mapping):
            raise ObjectiveError(f"{path}: expected a mapping, got {data!r}")
        kind = data.get("kind", "weighted_log")
        if kind not in OBJECTIVE_KINDS:
            raise ObjectiveError(unknown_name("objective kind", kind, OBJECTIVE_KINDS, path))
        common = {"kind", "constraints", "penalty", "name"}
        if kind == "weighted_log":
            check_keys(data, required={"weights"}, optional=common, path=path, error=ObjectiveError)
        else:
            check_keys(data, required={"targets"}, optional=common | {"weights", "tolerance", "one_sided"}, path=path,
                       error=ObjectiveError)  # fmt: skip
        known = {m.name: m for m in metrics}

        def metric(name: str, where: str) -> str:
            return _metric(name, known, where)

        targets = {
            metric(k, f"{path}.targets"): _number(v, f"{path}.targets.{k}")
            for k, v in (data.get("targets") or {}).items()
        }
        raw_weights = data.get("weights") or {k: 1.0 for k in targets}
        if not isinstance(raw_weights, Mapping) or not raw_weights:
            raise ObjectiveError(f"{path}.weights: expected a non-empty mapping metric -> weight")
        weights = {
            metric(k, f"{path}.weights"): _number(v, f"{path}.weights.{k}", positive=False)
            for k, v in raw_weights.items()
        }
        if kind == "target" and set(weights) - set(targets):
            extra = sorted(set(weights) - set(targets))
            raise ObjectiveError(f"{path}.weights: metrics {extra} have a weight but no target")
        constraints = _bounds(data.get("constraints") or (), known, path)
        return cls(
            kind=kind,
            weights=weights,
            directions={m.name: m.direction for m in metrics},
            targets=targets,
            tolerance=_number(data.get("tolerance", 0.0), f"{path}.tolerance", positive=False),
            one_sided=bool(data.get("one_sided", True)),
            constraints=tuple(constraints),
            penalty=_number(data.get("penalty", 10.0), f"{path}.penalty", positive=False),
            name=str(data.get("name", kind)),
        )

    # ------------------------------------------------------------------ scoring
    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics the reward depends on (objectives first, then constrained ones)."""
        names = list(self.weights)
        names += [c.metric for c in self.constraints if c.metric not in names]
        return tuple(names)

    def pareto_directions(self) -> dict[str, Direction]:
        """Metric -> direction for multi-objective (Pareto) use: the weighted metrics."""
        return {m: self.directions[m] for m in self.weights}

    def distance(self, metrics: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-metric relative distance to the targets (``target`` kind)."""
        out = {}
        for m, t in self.targets.items():
            rel = (np.asarray(metrics[m], dtype=np.float64) - t) / t
            if self.one_sided:
                rel = (
                    np.maximum(rel, 0.0)
                    if self.directions[m] == "minimize"
                    else np.maximum(-rel, 0.0)
                )
            out[m] = np.abs(rel)
        return out

    def constraint_violation(self, metrics: Mapping[str, np.ndarray]) -> np.ndarray:
        """Summed violation (log ratios) of the constraints (0 where all hold)."""
        total = 0.0
        for c in self.constraints:
            total = total + c.violation(np.asarray(metrics[c.metric], dtype=np.float64))
        return np.asarray(total, dtype=np.float64)

    def _violations(self, metrics: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return [
            c.violation(np.asarray(metrics[c.metric], dtype=np.float64)) for c in self.constraints
        ]

    def feasible(self, metrics: Mapping[str, np.ndarray], sim_feasible: np.ndarray) -> np.ndarray:
        """Simulator-feasible and every constraint satisfied."""
        return self._feasible(sim_feasible, self._violations(metrics))

    def _feasible(self, sim_feasible: np.ndarray, violations: list[np.ndarray]) -> np.ndarray:
        ok = np.asarray(sim_feasible, dtype=bool).copy()
        for v in violations:
            ok &= v <= 0
        return ok

    def reward(
        self,
        metrics: Mapping[str, np.ndarray],
        sim_feasible: np.ndarray,
        reference: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """Scalar reward per design (higher is better)."""
        return self._reward(metrics, sim_feasible, reference, self._violations(metrics))

    def score(
        self,
        metrics: Mapping[str, np.ndarray],
        sim_feasible: np.ndarray,
        reference: Mapping[str, float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(reward, feasible)`` with each constraint's violation computed once."""
        violations = self._violations(metrics)
        return (self._reward(metrics, sim_feasible, reference, violations),
                self._feasible(sim_feasible, violations))  # fmt: skip

    def _reward(self, metrics, sim_feasible, reference, violations: list[np.ndarray]) -> np.ndarray:
        sim_feasible = np.asarray(sim_feasible, dtype=bool)
        if self.kind == "weighted_log":
            score = np.zeros(sim_feasible.shape)
            for m, w in self.weights.items():
                ref = 1.0 if reference is None else float(reference[m])
                sign = 1.0 if self.directions[m] == "minimize" else -1.0
                value = np.maximum(np.asarray(metrics[m], dtype=np.float64), 1e-300)
                score = score - w * sign * np.log(value / max(ref, 1e-300))
        else:
            dist = self.distance(metrics)
            score = -sum(self.weights[m] * dist[m] for m in self.targets)
            score = np.asarray(score, dtype=np.float64) * np.ones(sim_feasible.shape)
        for v in violations:
            score = score - np.where(v > 0, self.penalty * (1.0 + v), 0.0)
        return np.where(sim_feasible, score, score - 2.0 * self.penalty)

    def target_met(self, metrics: Mapping[str, np.ndarray], feasible: np.ndarray) -> np.ndarray:
        """``target`` kind: every metric within tolerance of its target and the design feasible."""
        feasible = np.asarray(feasible, dtype=bool)
        if self.kind != "target":
            return np.zeros(feasible.shape, dtype=bool)
        ok = feasible.copy()
        for d in self.distance(metrics).values():
            ok &= d <= self.tolerance
        return ok

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "weights": dict(self.weights),
            "penalty": self.penalty,
        }
        if self.kind == "target":
            out.update(
                targets=dict(self.targets), tolerance=self.tolerance, one_sided=self.one_sided
            )
        if self.constraints:
            out["constraints"] = [
                {"metric": c.metric, **({"max": c.max} if c.max is not None else {}),
                 **({"min": c.min} if c.min is not None else {})}
                for c in self.constraints
            ]  # fmt: skip
        return out


def _metric(name: str, known: Mapping[str, MetricSpec], where: str) -> str:
    if name not in known:
        raise ObjectiveError(unknown_name("metric", name, known, where))
    return name


def _number(value: Any, where: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ObjectiveError(f"{where}: expected a number, got {value!r}")
    if positive and not value > 0:
        raise ObjectiveError(f"{where}: expected a positive number, got {value!r}")
    return float(value)


def _bounds(raw: Sequence[Any], known: Mapping[str, MetricSpec], path: str) -> list[MetricBound]:
    """The ``constraints`` list of an objective: ``{metric, max and/or min}`` each."""
    from ._spec import check_keys

    bounds = []
    for i, c in enumerate(raw):
        where = f"{path}.constraints[{i}]"
        check_keys(
            c, required={"metric"}, optional={"max", "min"}, path=where, error=ObjectiveError
        )
        if "max" not in c and "min" not in c:
            raise ObjectiveError(f"{where}: give 'max' and/or 'min' for {c['metric']!r}")
        bounds.append(
            MetricBound(
                _metric(c["metric"], known, where),
                max=_number(c["max"], f"{where}.max") if "max" in c else None,
                min=_number(c["min"], f"{where}.min") if "min" in c else None,
            )
        )
    return bounds
