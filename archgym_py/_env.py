"""ArchEnv: the one gymnasium environment class shared by every domain."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ._arch import Arch
from ._cache import cache_key, load_entry, store_entry
from ._envspec import EnvSpec, load_env_spec, shipped_env_spec
from ._errors import ArchGymError, OffGridWarning, unknown_name
from ._objective import Objective
from ._record import EpisodeRecord
from ._simulator import Evaluation, Simulator, Workload
from ._space import Batch, DesignSpace
from ._spec import shipped_spec_dir

#: Observed metrics are ``ln(metric / reference)`` clipped to this bound.
OBS_BOUND = 30.0
BACKENDS = ("simulator", "surrogate")


def resolve_spec(spec: str | Path | EnvSpec) -> EnvSpec:
    """An EnvSpec from a family name (``"accelerator"``), a shipped spec path under ``arch_specs/``
    (``"accelerator/env_small.yaml"``), a path to an env YAML file, or itself."""
    if isinstance(spec, EnvSpec):
        return spec
    if str(spec).endswith((".yaml", ".yml")):
        shipped = shipped_spec_dir("") / str(spec)
        return load_env_spec(str(spec) if Path(spec).exists() else str(shipped))
    return shipped_env_spec(str(spec))


class EnvCore:
    """Everything an env and its vector twin share: spec, simulator, workload, objective, encoding.

    Built from the common kwargs; see :class:`ArchEnv` for their meaning.
    """

    def __init__(
        self,
        spec: str | Path | EnvSpec,
        *,
        workload: str | Path | Mapping[str, Any] | Workload | None = None,
        objective: str | Mapping[str, Any] | Objective | None = None,
        arch: str | Path | Mapping[str, Any] | Arch | None = None,
        backend: str | Simulator = "simulator",
        max_steps: int | None = None,
        action_type: str = "multidiscrete",
        trace: Any = None,
        surrogate: str | Path | None = None,
    ):
        self.spec = resolve_spec(spec)
        domain = self.spec.domain
        self.arch: Arch = domain.load_arch(self.spec.default_arch if arch is None else arch)
        self.workload: Workload = domain.load_workload(
            self.spec.default_workload if workload is None else workload
        )
        self._workload_arg = (
            workload if workload is None or isinstance(workload, str) else self.workload.to_dict()
        )
        self._arch_arg = arch if arch is None or isinstance(arch, str) else self.arch.to_dict()
        if arch is not None:  # the spec's space was checked against its default arch only
            domain.check_space(self.spec.space, self.arch)
        self.space: DesignSpace = self.spec.space_for(self.arch, self.workload)
        #: Knobs the base architecture sets off the space's levels: ``{name: (value, level)}``.
        #: Episodes start from the level (actions move on levels); :meth:`base_batch` is exact.
        self.off_grid = self.spec.space.off_grid(domain.arch_defaults(self.arch))
        if self.off_grid and arch is not None and not self._is_default_arch():
            knobs = ", ".join(
                f"{k}={v!r} (episodes start at {lv!r})" for k, (v, lv) in self.off_grid.items()
            )
            warnings.warn(
                f"{self.spec.id}: base architecture {self.arch.name!r} sets {knobs} off the design "
                "space's levels (for a number, the nearest level; for a choice, the first); "
                "actions move on the levels, and `archgym eval --arch` "
                "(EnvCore.base_batch) evaluates the architecture's own values",
                OffGridWarning,
                stacklevel=3,
            )
        self.backend = backend if isinstance(backend, str) else "object"
        self.surrogate_path = None if surrogate is None else str(surrogate)
        if isinstance(backend, str):
            if backend not in BACKENDS:
                raise ArchGymError(unknown_name("backend", backend, BACKENDS, "backend"))
            self.simulator: Simulator = (
                self._load_surrogate(surrogate)
                if backend == "surrogate"
                else domain.simulator(self.arch)
            )
        elif isinstance(backend, Simulator):
            self.simulator = backend
        else:
            raise ArchGymError(
                f"backend: expected 'simulator', 'surrogate' or a Simulator object, got {backend!r}"
            )
        if surrogate is not None and backend != "surrogate":
            raise ArchGymError(
                f"surrogate={surrogate!r} needs backend='surrogate' (got {backend!r})"
            )
        self.metric_specs = tuple(self.simulator.metrics)
        self.metric_names = tuple(m.name for m in self.metric_specs)
        self.objective = self.spec.objective(objective, self.metric_specs)
        self._objective_arg = (
            objective
            if objective is None or isinstance(objective, str)
            else self.objective.to_dict()
        )
        if max_steps is not None and (
            not isinstance(max_steps, (int, np.integer)) or max_steps < 1
        ):
            raise ArchGymError(f"max_steps: got {max_steps!r}; expected a positive integer")
        self.max_steps = int(max_steps or self.spec.max_steps)
        self.action_type = action_type
        self.action_space = self.space.gym_space(action_type)
        n_m, n_p = len(self.metric_names), len(self.space)
        low = np.concatenate([np.full(n_m, -OBS_BOUND), [0.0], np.zeros(n_p)]).astype(np.float32)
        high = np.concatenate([np.full(n_m, OBS_BOUND), [1.0], np.ones(n_p)]).astype(np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.trace = _open_trace(trace)
        if self.trace is not None:
            self.trace.bind(simulator_version=self.simulator.version, space_hash=self.space.hash())
        default = self.space.batch([self.space.default()])
        self.default_batch = default
        ev, wall = self._simulate(default)
        self.reference = {k: float(v[0]) for k, v in ev.metrics.items()}
        self._log_ref = np.array(
            [np.log(max(self.reference[m], 1e-300)) for m in self.metric_names]
        )
        # The base design's result is reused by every reset that starts there (no simulator call).
        self.default_result = self._score(default, ev, wall)

    def _load_surrogate(self, path: str | Path | None) -> Simulator:
        """The surrogate at ``path``, or the one shipped for this env; it must fit its space."""
        from .surrogate import load_surrogate, shipped_surrogate

        model = shipped_surrogate(self.spec.id) if path is None else load_surrogate(path)
        model.check_compatible(self.space, self.workload, what=self.spec.id, arch=self.arch.name)
        return model

    def optimum(self, limit: int = 2_000_000) -> tuple[dict[str, Any], float]:
        """The best design and its reward, by evaluating every design (enumerable spaces only).

        The grid goes to the simulator in batches of its ``max_batch`` (65,536 unless it says
        more: the DRAM simulator takes all of DRAM-v0 at once, so identical configurations are
        simulated once across the space). Raises DesignError past ``limit`` designs. With the
        simulator backend the result is cached on disk (:mod:`archgym_py._cache`) keyed by the
        env, space, arch, workload, objective and simulator version.
        """
        if getattr(self, "_optimum", None) is not None:
            return self._optimum
        key = self._optimum_key() if self.backend == "simulator" else None
        hit = load_entry("optimum", key) if key else None
        if hit is not None:
            self._optimum = (hit["design"], float(hit["reward"]))
            return self._optimum
        grid = self.space.grid(limit=limit)
        n = len(next(iter(grid.values())))
        step = int(getattr(self.simulator, "max_batch", 65536))
        best_reward, best_design = -np.inf, None
        for lo in range(0, n, step):
            chunk = {k: v[lo : lo + step] for k, v in grid.items()}
            _, reward, feasible, _ = self.evaluate(chunk)
            reward = np.where(feasible, reward, -np.inf)
            i = int(np.argmax(reward))
            if reward[i] > best_reward:
                best_reward, best_design = (
                    float(reward[i]),
                    self.space.unbatch({k: v[i : i + 1] for k, v in chunk.items()})[0],
                )
        self._optimum = (best_design, best_reward)
        if key:
            store_entry(
                "optimum", key, {"design": best_design, "reward": best_reward, "designs": n}
            )
        return self._optimum

    def _optimum_key(self) -> str:
        """What the exact optimum depends on (the reward is relative to the base design, itself
        a function of these)."""
        workload = self.workload
        content = workload.fingerprint() if hasattr(workload, "fingerprint") else None
        return cache_key(
            {
                "env": self.spec.id,
                "space": self.space.hash(),
                "arch": self.arch.to_dict(),
                "workload": workload.to_dict(),
                "workload_content": content,
                "objective": self.objective.to_dict(),
                "simulator": self.simulator.version,
                "metrics": self.metric_names,
            }
        )

    def kwargs(self) -> dict[str, Any]:
        """The constructor kwargs, in serialisable form (for records and worker processes)."""
        backend = (
            {"backend": "surrogate", "surrogate": self.surrogate_path}
            if self.backend == "surrogate"
            else {}
        )
        return {
            **backend,
            "workload": self._workload_arg,
            "objective": self._objective_arg,
            "arch": self._arch_arg,
            "max_steps": self.max_steps,
            "action_type": self.action_type,
        }

    def _is_default_arch(self) -> bool:
        """Whether the base architecture is the env's own default (whose off-grid knobs, if
        any, the env documents: no warning for passing it explicitly)."""
        default = self.spec.domain.load_arch(self.spec.default_arch)
        return self.arch.to_dict() == default.to_dict()

    def base_batch(self, design: Mapping[str, Any] | None = None) -> Batch:
        """A batch of one design: ``design`` (a partial design, checked against the space), with
        every knob it leaves out at the base architecture's own value, off the space's levels
        included (``off_grid``), where the space's default would be the nearest level."""
        given = dict(design or {})
        full = self.space.validate(given, partial=True, check_constraints=False)
        for name, (value, _) in self.off_grid.items():
            if name not in given:
                full[name] = value
        return {p.name: _exactly(full[p.name], p.dtype) for p in self.space.params}

    def evaluate(self, batch: Batch) -> tuple[Evaluation, np.ndarray, np.ndarray, np.ndarray]:
        """Simulate a batch; return the evaluation, rewards, feasibility and target-met masks."""
        return self._score(batch, *self._simulate(batch))

    def _simulate(self, batch: Batch) -> tuple[Evaluation, float]:
        start = time.perf_counter()
        ev = self.simulator.evaluate(batch, self.workload)
        self.last_simulator_time_s = time.perf_counter() - start
        return ev, self.last_simulator_time_s

    def _score(self, batch: Batch, ev: Evaluation, wall: float):
        sim_ok = ev.feasible & self.space.feasible(batch)
        reward, feasible = self.objective.score(ev.metrics, sim_ok, self.reference)
        done = self.objective.target_met(ev.metrics, feasible)
        if self.trace is not None:
            # The simulator's feasibility (not the objective's constraints): what a surrogate learns.
            self.trace.append(
                batch, ev.metrics, sim_ok, workload=self.workload.name, wall_time_s=wall
            )
        return ev, reward, feasible, done

    def observe(
        self, batch: Batch, ev: Evaluation, feasible: np.ndarray, indices: np.ndarray | None = None
    ) -> np.ndarray:
        """Observation rows: ln(metric / reference) (clipped), the feasible bit, the design in [0, 1].

        ``indices`` (the MultiDiscrete action, when there is one) skips re-encoding the design.
        """
        logs = np.log(
            np.maximum(np.stack([ev.metrics[m] for m in self.metric_names], axis=1), 1e-300)
        )
        unit = self.space.to_unit(batch) if indices is None else self.space.unit_of_indices(indices)
        obs = np.concatenate(
            [np.clip(logs - self._log_ref, -OBS_BOUND, OBS_BOUND), feasible[:, None], unit], axis=1
        )
        return obs.astype(np.float32)

    def to_batch(self, action: Any) -> tuple[Batch, np.ndarray | None]:
        """The design batch of an action, and its level indices when the action is MultiDiscrete."""
        if self.action_type == "multidiscrete":
            indices = np.asarray(action)
            indices = self.space._check_indices(
                indices.reshape(1, -1) if indices.ndim <= 1 else indices
            )
            return self.space._batch_of_indices(indices), indices  # checked just above
        return self.space.from_action(action, self.action_type), None


def _exactly(value: Any, dtype) -> np.ndarray:
    """A one-design column of ``value`` in the knob's dtype, or in floats where that dtype would
    round it (an off-grid base of 1.6 GB/s on a power-of-two knob stays 1.6)."""
    column = np.asarray([value], dtype=dtype)
    if column.dtype.kind in "iu" and float(column[0]) != float(value):
        return np.asarray([value], dtype=np.float64)
    return column


def make_core(env: str | EnvCore | gym.Env, **kwargs: Any) -> EnvCore:
    """The engine behind an env, without gymnasium's wrappers: what agents, sweeps, Optuna
    studies, the CLI and benchmarks evaluate batches through.

    Args:
        env: a registered archgym id (``"archgym/DRAM-v0"``), the path of an env spec YAML
            (a domain of your own, registered or not), an archgym env (wrapped or not), or an
            EnvCore (returned as it is).
        **kwargs: the env's kwargs (``workload``, ``objective``, ``arch``, ``backend``, ...), as
            ``gymnasium.make`` takes them.

    Example:
        >>> import archgym_py
        >>> core = archgym_py.make_core("archgym/AcceleratorSmall-v0", workload="alexnet")
        >>> ev, reward, feasible, done = core.evaluate(core.space.sample(4, seed=0))
        >>> len(reward), sorted(ev.metrics)[:2]
        (4, ['area_mm2', 'edp_js'])
    """
    from .envs import ENVS

    if isinstance(env, EnvCore):
        if kwargs:
            raise ArchGymError(f"make_core: an EnvCore takes no kwargs, got {sorted(kwargs)}")
        return env
    if isinstance(env, str):
        if env.endswith((".yaml", ".yml")) and Path(env).exists():
            return EnvCore(env, **kwargs)
        if env not in ENVS:
            raise ArchGymError(unknown_name("env id", env, ENVS) + " or the path of an env YAML")
        return EnvCore(ENVS[env], **kwargs)
    unwrapped = getattr(env, "unwrapped", None)
    if isinstance(getattr(unwrapped, "core", None), EnvCore):
        if kwargs:
            raise ArchGymError(f"make_core: an existing env takes no kwargs, got {sorted(kwargs)}")
        return unwrapped.core
    raise ArchGymError(
        f"env: expected an archgym env id, an archgym env or an EnvCore, got {env!r}"
    )


def _open_trace(trace: Any):
    if trace is None:
        return None
    from ._trace import TraceStore

    return trace if isinstance(trace, TraceStore) else TraceStore(trace)


class ArchEnv(gym.Env):
    """Design-space exploration as a gymnasium environment, shared by every archgym domain.

    **Description.** Each step proposes one complete design (a value for every knob of the
    env's DesignSpace); the simulator evaluates it on the workload and the objective scores it.
    The env is stateless between steps except for the step counter, as in ArchGym.

    **Action space.** ``MultiDiscrete(space.nvec)``: one level index per parameter (see
    ``env.unwrapped.space`` for the levels). ``action_type="box"`` gives ``Box(0, 1, (d,))``
    (unit cube) and ``"dict"`` a ``Dict`` of ``Discrete``. An invalid action raises
    :class:`~archgym_py.DesignError` naming the parameter and the allowed range.

    **Observation space.** ``Box(float32)`` of ``n_metrics + 1 + n_params`` values:
    ``ln(metric / reference)`` for every simulator metric (reference = the base design's
    metrics, so the base design observes zeros; clipped to +-30), a feasible bit, and the
    design's unit-cube encoding.

    **Reward.** From the :class:`~archgym_py.Objective` (``objective=`` preset name from the env
    spec, a mapping, or an Objective): weighted log-improvement over the base design, or
    ArchGym's distance to a target, minus penalties for broken constraints/infeasible designs.

    **Episode end.** ``terminated`` when a ``target`` objective is met by a feasible design;
    ``truncated`` after ``max_steps`` steps (default from the env spec).

    **Info.** ``design`` (dict), ``metrics`` (dict, SI units), ``feasible`` (bool: the design
    meets every rule: the simulator's, the design space's constraints and the objective's
    budgets such as an area or power limit), ``simulator_feasible`` (bool: the simulator alone
    could build and map it, whatever the budgets), ``step``.

    **Arguments.**
        spec: family name (``"accelerator"``), path to an env YAML, or an EnvSpec.
        workload: built-in workload name, YAML path, or workload object (default from the spec).
        objective: objective preset name, mapping, or Objective (default from the spec).
        arch: base architecture: shipped name, YAML path, mapping or object; the design space's
            defaults are its values.
        backend: ``"simulator"``; ``"surrogate"``: the learned model shipped for this env (or the
            one at ``surrogate=``), refused unless trained on this design space and workload; or
            any object with the Simulator protocol.
        surrogate: folder of a saved surrogate (``archgym surrogate fit``), with ``backend="surrogate"``.
        max_steps: steps per episode.
        action_type: ``"multidiscrete"`` (default), ``"box"`` or ``"dict"``.
        trace: a path or TraceStore; every evaluation is appended to it.

    **Version history.** v0: first release.

    Example:
        >>> import gymnasium as gym, archgym_py
        >>> env = gym.make("archgym/Accelerator-v0", workload="alexnet")
        >>> obs, info = env.reset(seed=0)
        >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        >>> sorted(info)
        ['design', 'feasible', 'metrics', 'simulator_feasible', 'step']
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    @property
    def spec(self):
        """Gymnasium's EnvSpec of this env (set by ``gymnasium.make``), whose
        ``max_episode_steps`` is the episode length this env truncates at (``max_steps``), so
        tooling reads the length in use. The env truncates its episodes itself; ids are
        registered without a TimeLimit, which would cut a longer ``max_steps`` at the default."""
        return self.__dict__.get("_gym_spec")

    @spec.setter
    def spec(self, value) -> None:
        if value is not None and value.max_episode_steps != self.core.max_steps:
            import dataclasses

            value = dataclasses.replace(value, max_episode_steps=self.core.max_steps)
        self.__dict__["_gym_spec"] = value

    def __init__(
        self,
        spec: str | Path | EnvSpec,
        *,
        render_mode: str | None = None,
        **kwargs,
    ):
        self.core = EnvCore(spec, **kwargs)
        self.action_space = self.core.action_space
        self.observation_space = self.core.observation_space
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            # Gymnasium's convention (gym.make warns; render() then returns None): SB3's
            # make_vec_env asks every env for "rgb_array".
            gym.logger.warn(
                f"render_mode {render_mode!r} is not supported (only {self.metadata['render_modes']}); "
                "render() returns None"
            )
        self.render_mode = render_mode
        self._steps = 0
        self._last: dict[str, Any] | None = None
        self._record: EpisodeRecord | None = None

    @classmethod
    def from_core(cls, core: EnvCore, *, render_mode: str | None = None) -> ArchEnv:
        """An env over an existing core (shares its simulator, workload and cached base design)."""
        env = cls.__new__(cls)
        env.core = core
        env.action_space = core.action_space
        env.observation_space = core.observation_space
        env.render_mode = render_mode
        env._steps, env._last, env._record = 0, None, None
        return env

    # Convenience views of the core.
    @property
    def space(self) -> DesignSpace:
        return self.core.space

    @property
    def objective(self) -> Objective:
        return self.core.objective

    @property
    def simulator(self) -> Simulator:
        return self.core.simulator

    @property
    def workload(self) -> Workload:
        return self.core.workload

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode at the base design (or ``options["design"]``, a partial design dict)."""
        super().reset(seed=seed)
        self._steps = 0
        options = options or {}
        design = self.space.validate(
            options.get("design", {}), partial=True, check_constraints=False
        )
        batch = self.space.batch([design])
        start_is_default = design == self.space.default()
        obs, _, info = self._evaluate(
            batch, result=self.core.default_result if start_is_default else None
        )
        env_id = self.spec.id if self.spec is not None else self.core.spec.id
        self._record = EpisodeRecord(env_id=env_id, kwargs=self.core.kwargs(), seed=seed,
                                     start_design=design)  # fmt: skip
        return obs, info

    def step(self, action):
        if self._record is None:
            raise ArchGymError("call reset() before step()")
        batch, indices = self.core.to_batch(action)
        obs, reward, info = self._evaluate(batch, indices)
        self._steps += 1
        info["step"] = self._steps
        terminated = bool(self._done)
        truncated = self._steps >= self.core.max_steps
        self._record.add(info["design"], reward, info["metrics"], info["feasible"])
        return obs, reward, terminated, truncated, info

    def _evaluate(self, batch: Batch, indices: np.ndarray | None = None, result=None):
        ev, reward, feasible, done = self.core.evaluate(batch) if result is None else result
        obs = self.core.observe(batch, ev, feasible, indices)[0]
        self._done = bool(done[0])
        info = {"design": self.space.unbatch(batch)[0], "metrics": ev.row(0), "feasible": bool(feasible[0]),
                "simulator_feasible": bool(ev.feasible[0]), "step": self._steps}  # fmt: skip
        self._last = info
        return obs, float(reward[0]), info

    def episode_record(self) -> EpisodeRecord:
        """The serialisable record of the current episode (replay it with :func:`replay`)."""
        if self._record is None:
            raise ArchGymError("no episode yet: call reset() first")
        return self._record

    def render(self):
        if self.render_mode == "ansi" and self._last is not None:
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in self._last["metrics"].items())
            return f"step {self._steps}: {self._last['design']} -> {metrics} feasible={self._last['feasible']}"
        return None
