"""The Simulator and Workload protocols and the metric declarations (the Domain base is in _domain)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from ._space import Batch

Direction = Literal["minimize", "maximize"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric a simulator reports: SI unit, and whether lower or higher is better."""

    name: str
    unit: str
    direction: Direction = "minimize"
    doc: str = ""
    #: A physical quantity that cannot be negative (times, energies, areas, rates, shares): a
    #: learned model's prediction of it is floored at 0.
    nonnegative: bool = True

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


def check_feasibility(checks: Sequence[tuple[Any, Any]], n: int, details: bool = False):
    """Which of ``n`` designs pass every check, and with ``details`` why each other one does not.

    ``checks`` are in order, each ``(failing, why)``: a boolean mask over the designs (or a
    scalar) and a function of a row index that says why that row fails. A design's reason is its
    first failed check ('' when it runs); the masks are numpy, the strings are built only when
    ``details`` asks for them.

    Example:
        >>> import numpy as np
        >>> tp = np.array([1, 3, 8])
        >>> ok, why = check_feasibility([(8 % tp != 0, lambda i: f"tp {tp[i]} does not divide 8"),
        ...                              (tp > 4, lambda i: f"tp {tp[i]} > 4")], 3, details=True)
        >>> ok.tolist(), why
        ([True, False, False], ['', 'tp 3 does not divide 8', 'tp 8 > 4'])
    """
    fails = np.stack([np.broadcast_to(mask, (n,)) for mask, _ in checks])
    failed = np.where(fails.any(axis=0), fails.argmax(axis=0), -1)
    reasons = None
    if details:
        reasons = [checks[f][1](i) if f >= 0 else "" for i, f in enumerate(failed.tolist())]
    return failed < 0, reasons


@runtime_checkable
class Workload(Protocol):
    """What the engine needs of a workload: a name (traces, records) and its serialisable form.

    A workload may also have ``scalars() -> dict``: numbers that design-space constraints may
    name (e.g. a transformer's ``hidden``).
    """

    name: str

    def to_dict(self) -> dict[str, Any]:
        """The mapping form the domain's ``load_workload`` reads back."""
        ...


@runtime_checkable
class Simulator(Protocol):
    """Evaluates a batch of designs on a workload. Pure and deterministic; no gymnasium, no I/O.

    ``details=True`` adds per-design breakdowns to :attr:`Evaluation.details` (what they are is
    the simulator's to document).
    """

    metrics: Sequence[MetricSpec]
    version: str

    def evaluate(self, designs: Batch, workload: Workload, *, details: bool = False) -> Evaluation:
        """Metrics for every design of the struct-of-arrays batch ``designs``."""
        ...
