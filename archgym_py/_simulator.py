"""The Simulator protocol, its metric declarations, and the Domain table each family provides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from ._space import Batch, DesignSpace

Direction = Literal["minimize", "maximize"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric a simulator reports: SI unit, and whether lower or higher is better."""

    name: str
    unit: str
    direction: Direction = "minimize"
    doc: str = ""

    def __post_init__(self):
        if self.direction not in ("minimize", "maximize"):
            raise ValueError(
                f"metric {self.name!r}: direction must be 'minimize' or 'maximize', got {self.direction!r}"
            )


@dataclass
class Evaluation:
    """The result of evaluating a batch of designs on one workload.

    Attributes:
        metrics: one float array per declared metric, each of length ``n`` (SI units, finite).
        feasible: boolean array; an infeasible design (it cannot be mapped, or breaks a rule of
            the simulator) still has finite metrics, computed with its best-effort mapping.
        details: optional per-design extra arrays (breakdowns, binding level, per-layer data).
    """

    metrics: dict[str, np.ndarray]
    feasible: np.ndarray
    details: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.feasible)

    def row(self, i: int) -> dict[str, float]:
        """Metrics of design ``i`` as plain floats."""
        return {k: float(v[i]) for k, v in self.metrics.items()}


@runtime_checkable
class Simulator(Protocol):
    """Evaluates a batch of designs on a workload. Pure and deterministic; no gymnasium, no I/O."""

    metrics: Sequence[MetricSpec]
    version: str

    def evaluate(self, designs: Batch, workload: Any) -> Evaluation:
        """Metrics for every design of the struct-of-arrays batch ``designs``."""
        ...


class Domain(Protocol):
    """What a simulator family (``envs/<family>``) provides to the engine.

    The engine reaches a domain only through the string entry point named in an env spec.
    """

    name: str
    metrics: Sequence[MetricSpec]

    def load_arch(self, arch: str | Mapping[str, Any] | Any) -> Any:
        """A validated base architecture from a shipped name, a YAML path or a mapping."""

    def load_workload(self, workload: str | Any) -> Any:
        """A validated workload from a built-in name, a YAML path or an object."""

    def workload_names(self) -> list[str]: ...

    def arch_names(self) -> list[str]: ...

    def simulator(self, arch: Any) -> Simulator:
        """The simulator for a base architecture (designs override its tunable fields)."""

    def arch_defaults(self, arch: Any) -> dict[str, Any]:
        """The base architecture's values of the tunable fields (defaults of the design space)."""

    def check_space(self, space: DesignSpace, arch: Any) -> None:
        """Cross-field check that every parameter of ``space`` is a knob of this domain."""
