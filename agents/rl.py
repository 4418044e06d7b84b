"""Reinforcement learning through stable-baselines3: PPO, A2C (MultiDiscrete actions) and DQN.

Each env step is one simulator evaluation, so the budget is the number of environment steps; a
callback stops learning at exactly the budget. DQN needs a ``Discrete`` action: it drives
:class:`StepwiseActionWrapper`, which moves one knob of the current design up or down per step.
stable-baselines3 and torch are imported only when an RL agent runs.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from .._agent import Agent, Evaluator
from .._env import ArchEnv
from .._imports import optional_import
from .._params import Integer, PowerOfTwo, Real
from .._space import DesignSpace
from ._encoding import IndexEncoding


def _sb3():
    torch = optional_import("torch", "RL agents")
    stable_baselines3 = optional_import("stable_baselines3", "RL agents")
    torch.set_num_threads(1)  # reproducible and fair on shared cores
    return stable_baselines3


class StepwiseActionWrapper(gym.Wrapper):
    """``Discrete(2 * d + 1)`` actions over a design kept by the wrapper: action ``2i`` moves knob
    ``i`` one level down, ``2i + 1`` one level up (categorical knobs cycle), ``2d`` keeps the design.
    Episodes start at the base design; the observation already encodes the current design."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._enc = IndexEncoding(env.unwrapped.space)
        self.action_space = gym.spaces.Discrete(2 * self._enc.dims + 1)
        self._x = self._enc.default()

    def reset(self, **kwargs):
        """Start at the base design."""
        self._x = self._enc.default()
        return self.env.reset(**kwargs)

    def step(self, action):
        """Move one knob (or none) and evaluate the resulting design."""
        a = int(action)
        if a < 2 * self._enc.dims:
            i, up = divmod(a, 2)
            n = self._enc.nvec[i]
            if self._enc.ordered[i]:
                self._x[i] = int(np.clip(self._x[i] + (1 if up else -1), 0, n - 1))
            else:
                self._x[i] = (self._x[i] + (1 if up else -1)) % n
            self._x = self._enc.repair(self._x)[0]
        return self.env.step(self._x.copy())


class RepairActions(gym.ActionWrapper):
    """MultiDiscrete actions that break the design space's constraints become the nearest
    feasible design (:class:`~archgym_py._feasible.FeasibleIndices`), so every simulated step
    is a feasible design; the policy learns from the design it was actually given."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._enc = IndexEncoding(env.unwrapped.space)

    def action(self, action):
        """The nearest feasible design to the policy's action."""
        return self._enc.repair(np.asarray(action))[0]


class _RecordEvaluations(gym.Wrapper):
    """Hands every step's evaluation to the agent's Evaluator (resets re-use the cached base design)."""

    def __init__(self, env: gym.Env, evaluator: Evaluator):
        super().__init__(env)
        self._evaluator = evaluator

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        metrics = {k: np.array([v]) for k, v in info["metrics"].items()}
        self._evaluator.simulator_time_s += self.env.unwrapped.core.last_simulator_time_s
        self._evaluator.record([info["design"]], metrics, [reward], [info["feasible"]])
        return obs, reward, terminated, truncated, info


class SB3Agent(Agent):
    """Shared training loop; subclasses name the SB3 algorithm and map hyperparameters."""

    algorithm = ""
    stepwise = False

    def _model_kwargs(self) -> dict[str, Any]:
        return dict(self.hp)

    def for_budget(self, hp: dict[str, Any], budget: int) -> dict[str, Any]:
        """Step counts capped so that learning changes what the run proposes: a rollout
        (``n_steps``) at most half the budget (one longer than the run never updates the policy;
        a power of two stays one), a minibatch no larger than the rollout, and DQN starting to
        learn by half the budget."""
        hp = dict(hp)
        half = max(budget // 2, 1)
        if "n_steps" in hp and hp["n_steps"] > half:
            pow2 = isinstance(self.hyperparameter_space["n_steps"], PowerOfTwo)
            hp["n_steps"] = 2 ** int(np.log2(half)) if pow2 else half
        if "batch_size" in hp and "n_steps" in hp:
            hp["batch_size"] = min(hp["batch_size"], hp["n_steps"])
        if "learning_starts" in hp:
            hp["learning_starts"] = min(hp["learning_starts"], half)
        return hp

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        sb3 = _sb3()
        from stable_baselines3.common.callbacks import BaseCallback

        env: gym.Env = ArchEnv.from_core(self.core)
        if self.stepwise:
            env = StepwiseActionWrapper(env)
        elif self.core.space.constraints:
            env = RepairActions(env)
        env = _RecordEvaluations(env, evaluator)

        class StopAtBudget(BaseCallback):
            def _on_step(self) -> bool:
                return evaluator.remaining > 0

        model = getattr(sb3, self.algorithm)("MlpPolicy", env, seed=self.seed, device="cpu", verbose=0,
                                             **self._model_kwargs())  # fmt: skip
        # a logger with no outputs: SB3's default one makes an empty SB3-<time> folder in the
        # temporary directory on every learn() call
        from stable_baselines3.common.logger import Logger

        model.set_logger(Logger(folder=None, output_formats=[]))
        model.learn(total_timesteps=evaluator.remaining, callback=StopAtBudget())


def _common(lr: float) -> list:
    return [
        Real("learning_rate", low=1e-5, high=1e-2, log=True, default=lr),
        Real(
            "gamma",
            low=0.0,
            high=0.999,
            default=0.9,
            doc="discount; designs are nearly independent steps",
        ),
    ]


class PPO(SB3Agent):
    """Proximal policy optimisation (Schulman et al., 2017) on the MultiDiscrete action."""

    name = "ppo"
    description = "stable-baselines3 PPO"
    algorithm = "PPO"
    hyperparameter_space = DesignSpace(
        [
            *_common(3e-4),
            PowerOfTwo("n_steps", low=8, high=2048, default=64, doc="steps per rollout"),
            PowerOfTwo("batch_size", low=4, high=512, default=32),
            Integer("n_epochs", low=1, high=20, default=5),
            Real("gae_lambda", low=0.8, high=1.0, default=0.95),
            Real("clip_range", low=0.05, high=0.5, default=0.2),
            Real("ent_coef", low=0.0, high=0.1, default=0.01),
        ],
        constraints=["batch_size <= n_steps"],
        name="ppo hyperparameters",
    )


class A2C(SB3Agent):
    """Advantage actor-critic (Mnih et al., 2016) on the MultiDiscrete action."""

    name = "a2c"
    description = "stable-baselines3 A2C"
    algorithm = "A2C"
    hyperparameter_space = DesignSpace(
        [
            *_common(7e-4),
            Integer("n_steps", low=1, high=128, default=8),
            Real("gae_lambda", low=0.8, high=1.0, default=1.0),
            Real("ent_coef", low=0.0, high=0.1, default=0.01),
            Real("vf_coef", low=0.1, high=1.0, default=0.5),
        ],
        name="a2c hyperparameters",
    )


class DQN(SB3Agent):
    """Deep Q-learning (Mnih et al., 2015) over one-knob moves (:class:`StepwiseActionWrapper`)."""

    name = "dqn"
    description = "stable-baselines3 DQN (one knob per step)"
    algorithm = "DQN"
    stepwise = True
    hyperparameter_space = DesignSpace(
        [
            *_common(1e-3),
            PowerOfTwo("buffer_size", low=256, high=1048576, default=16384),
            Integer("learning_starts", low=0, high=2000, default=64),
            PowerOfTwo("batch_size", low=8, high=512, default=32),
            Integer("train_freq", low=1, high=16, default=4),
            Integer("target_update_interval", low=10, high=5000, default=250),
            Real("exploration_fraction", low=0.05, high=0.9, default=0.3),
            Real("exploration_final_eps", low=0.0, high=0.3, default=0.05),
        ],
        name="dqn hyperparameters",
    )
