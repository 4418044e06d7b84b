"""A serialisable record of an episode, and its replay: re-run the designs, check every number."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ._errors import ArchGymError


class JsonRecord:
    """Mixin for dataclass records saved as JSON (never pickle): to/from text and files."""

    _kind = "record"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str):
        try:
            return cls(**json.loads(text))
        except (TypeError, json.JSONDecodeError) as exc:
            raise ArchGymError(f"not {cls._kind}: {exc}") from exc

    def save(self, path: str | Path) -> None:
        """Write atomically (a temporary file renamed into place)."""
        from ._trace import atomic_write_text

        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path):
        return cls.from_json(Path(path).read_text())


@dataclass
class EpisodeRecord(JsonRecord):
    """What happened in one episode: enough to rebuild the env and check every step.

    Attributes:
        env_id: registered id, e.g. ``"archgym/Accelerator-v0"``.
        kwargs: the env's kwargs in serialisable form (workload, objective, arch, ...).
        seed: the reset seed.
        start_design: the design the episode started at.
        designs, rewards, metrics, feasible: one entry per step.
    """

    env_id: str
    kwargs: dict[str, Any]
    seed: int | None = None
    start_design: dict[str, Any] = field(default_factory=dict)
    designs: list[dict[str, Any]] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    metrics: list[dict[str, float]] = field(default_factory=list)
    feasible: list[bool] = field(default_factory=list)

    _kind = "an episode record"

    def add(
        self, design: dict[str, Any], reward: float, metrics: dict[str, float], feasible: bool
    ) -> None:
        self.designs.append(dict(design))
        self.rewards.append(float(reward))
        self.metrics.append(dict(metrics))
        self.feasible.append(bool(feasible))

    def __len__(self) -> int:
        return len(self.designs)


@dataclass
class ReplayReport:
    """Outcome of :func:`replay`: ``ok`` and the first mismatches found."""

    steps: int
    mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def replay(record: EpisodeRecord, *, rtol: float = 1e-12) -> ReplayReport:
    """Rebuild the env from the record, re-run its designs, and compare rewards and metrics."""
    import gymnasium as gym

    env = gym.make(record.env_id, **{k: v for k, v in record.kwargs.items() if v is not None})
    core = env.unwrapped.core
    env.reset(seed=record.seed, options={"design": record.start_design})
    mismatches: list[str] = []
    for i, design in enumerate(record.designs):
        batch = core.space.batch([core.space.validate(design, check_constraints=False)])
        action = core.space.to_indices(batch)[0] if core.action_type == "multidiscrete" else None
        if action is None:
            raise ArchGymError(
                f"replay supports multidiscrete envs, got action_type={core.action_type!r}"
            )
        _, reward, _, _, info = env.step(action)
        if info["design"] != design:
            mismatches.append(f"step {i}: design {info['design']} != recorded {design}")
        if not math.isclose(reward, record.rewards[i], rel_tol=rtol, abs_tol=1e-15):
            mismatches.append(f"step {i}: reward {reward!r} != recorded {record.rewards[i]!r}")
        for name, value in record.metrics[i].items():
            got = info["metrics"].get(name)
            if got is None or not math.isclose(got, value, rel_tol=rtol, abs_tol=0.0):
                mismatches.append(f"step {i}: {name} {got!r} != recorded {value!r}")
        if info["feasible"] != record.feasible[i]:
            mismatches.append(
                f"step {i}: feasible {info['feasible']} != recorded {record.feasible[i]}"
            )
    env.close()
    return ReplayReport(steps=len(record.designs), mismatches=mismatches[:20])
