"""ArchVectorEnv: ``num_envs`` copies of an ArchEnv stepped with one batched simulator call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from ._env import EnvCore
from ._envspec import EnvSpec


class ArchVectorEnv(VectorEnv):
    """A numpy vector env: every step evaluates all ``num_envs`` designs in one simulator call.

    Accepts the same kwargs as :class:`~archgym_py.ArchEnv`. Autoreset follows Gymnasium's
    ``NEXT_STEP`` mode: the step after an episode ends resets that sub-env (its action is ignored).
    Created by ``gymnasium.make_vec("archgym/Accelerator-v0", num_envs=8)``.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, spec: str | Path | EnvSpec, num_envs: int = 1, **kwargs: Any):
        self.core = EnvCore(spec, **kwargs)
        self.num_envs = int(num_envs)
        self.single_action_space = self.core.action_space
        self.single_observation_space = self.core.observation_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._steps = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        default = {k: np.repeat(v, self.num_envs) for k, v in self.core.default_batch.items()}
        self._start = default

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._steps[:] = 0
        self._needs_reset[:] = False
        # Every sub-env starts at the base design, whose result the core already holds.
        ev, _, feasible, _ = self.core.default_result
        ev = type(ev)({k: np.repeat(v, self.num_envs) for k, v in ev.metrics.items()},
                      np.repeat(ev.feasible, self.num_envs))  # fmt: skip
        feasible = np.repeat(feasible, self.num_envs)
        obs = self.core.observe(self._start, ev, feasible)
        return obs, self._info(self._start, ev, feasible)

    def step(self, actions):
        core = self.core
        if core.action_type == "multidiscrete":
            batch, _ = core.to_batch(np.asarray(actions).reshape(self.num_envs, -1))
        else:
            parts = [core.to_batch(a)[0] for a in actions]
            batch = {k: np.concatenate([p[k] for p in parts]) for k in core.space.names}
        # Sub-envs that ended last step restart at the base design instead of taking the action.
        if self._needs_reset.any():
            for k in batch:
                batch[k] = np.where(self._needs_reset, self._start[k], batch[k])
        ev, reward, feasible, done = core.evaluate(batch)
        obs = core.observe(batch, ev, feasible)
        resetting = self._needs_reset.copy()
        self._steps = np.where(resetting, 0, self._steps + 1)
        terminated = done & ~resetting
        truncated = (self._steps >= core.max_steps) & ~resetting
        reward = np.where(resetting, 0.0, reward)
        self._needs_reset = terminated | truncated
        return obs, reward, terminated, truncated, self._info(batch, ev, feasible)

    def _info(self, batch, ev, feasible) -> dict[str, Any]:
        """Gymnasium's vector info: each key's array and its ``_key`` mask (which sub-envs have
        it: all of them here), nested dicts likewise, as ``SyncVectorEnv`` builds them."""
        info = {"design": {k: np.asarray(v) for k, v in batch.items()},
                "metrics": {k: np.asarray(v) for k, v in ev.metrics.items()},
                "feasible": np.asarray(feasible, dtype=bool),
                "simulator_feasible": np.asarray(ev.feasible, dtype=bool), "step": self._steps.copy()}  # fmt: skip
        return _with_masks(info, self.num_envs)


def _with_masks(info: dict[str, Any], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in info.items():
        out[key] = _with_masks(value, n) if isinstance(value, dict) else value
        out[f"_{key}"] = np.ones(n, dtype=bool)
    return out
