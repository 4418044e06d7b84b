"""Sweep specs: envs x agents x hyperparameter configurations x seeds, one budget.

```yaml
spec_version: 1
name: quick
budget: 200                       # simulator evaluations per run, the same for every agent
seeds: 5                          # or an explicit list [0, 1, 7]
envs:
  - {id: archgym/AcceleratorSmall-v0, label: small/resnet18, kwargs: {workload: resnet18}}
agents:
  - {name: random}                                    # defaults only
  - {name: ga, configs: 6, sampling: sobol}           # the defaults + 5 Sobol samples of its space
  - {name: aco, grid: {evaporation: [0.1, 0.3]}, fixed: {ants: 16}}
```

Every cell (env, agent, configuration, seed) has a deterministic id: a hash of what it runs, so a
resumed or extended sweep recognises the cells it already has.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from .._errors import SpecError, unknown_name
from .._spec import check_keys, check_spec_version, load_yaml, resolve_named_yaml, yaml_names

SAMPLING = ("sobol", "random", "lhs")


def stable_hash(obj: Any, n: int = 16) -> str:
    """Hex digest of the canonical JSON of ``obj`` (the same in every process and platform)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


@dataclass(frozen=True)
class EnvEntry:
    id: str
    label: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One run: an agent with one configuration and one seed on one env."""

    env_id: str
    env_label: str
    env_kwargs: Mapping[str, Any]
    agent: str
    config_index: int
    hyperparameters: Mapping[str, Any]
    seed: int
    budget: int

    @property
    def id(self) -> str:
        return stable_hash([self.env_id, dict(self.env_kwargs), self.agent, dict(self.hyperparameters),
                            self.seed, self.budget])  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell_id": self.id, "env_id": self.env_id, "env_label": self.env_label,
            "env_kwargs": dict(self.env_kwargs), "agent": self.agent, "config_index": self.config_index,
            "hyperparameters": dict(self.hyperparameters), "seed": self.seed, "budget": self.budget,
        }  # fmt: skip


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep (see the module docstring for the YAML form)."""

    name: str
    budget: int
    seeds: tuple[int, ...]
    envs: tuple[EnvEntry, ...]
    agents: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]
    description: str = ""

    def cells(self) -> list[Cell]:
        """Every cell, ordered env, agent, configuration, seed."""
        return [
            Cell(env.id, env.label, dict(env.kwargs), agent, i, config, seed, self.budget)
            for env in self.envs
            for agent, configs in self.agents
            for i, config in enumerate(configs)
            for seed in self.seeds
        ]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _configs(entry: Mapping[str, Any], path: str) -> tuple[dict[str, Any], ...]:
    from .._agent import agent_class

    space = agent_class(entry["name"]).hyperparameter_space
    fixed = dict(entry.get("fixed") or {})
    base = space.validate(fixed, partial=True)
    configs: list[dict[str, Any]] = []
    if entry.get("include_default", True):
        configs.append(base)
    if "grid" in entry:
        configs += _grid_configs(space, entry["grid"], fixed, path)
    n_samples = _config_count(entry.get("configs", 1), path) - len(configs)
    if n_samples > 0:
        configs += _sampled_configs(space, entry, fixed, n_samples, path)
    unique, seen = [], set()
    for c in configs:
        key = stable_hash(c)
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return tuple(unique)


#: Hyperparameter configurations one agent entry may ask for (each runs every seed on every env).
MAX_CONFIGS = 10_000


def _config_count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONFIGS:
        raise SpecError(
            f"{path}.configs: got {value!r}; expected an integer in [1, {MAX_CONFIGS:,}]"
        )
    return value


def _grid_configs(space, grid: Any, fixed: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """Every combination of the ``grid`` values, with the fixed values."""
    if not isinstance(grid, Mapping) or not grid:
        raise SpecError(f"{path}.grid: expected a mapping hyperparameter -> list of values")
    names = list(grid)
    return [
        space.validate({**fixed, **dict(zip(names, values, strict=True))}, partial=True)
        for values in itertools.product(
            *(grid[n] if isinstance(grid[n], list) else [grid[n]] for n in names)
        )
    ]


def _sampled_configs(space, entry: Mapping[str, Any], fixed: Mapping[str, Any], n: int, path: str):
    """``n`` configurations sampled from the whole space (its constraints hold), with the fixed
    values imposed; those that are then invalid are dropped."""
    method = entry.get("sampling", "sobol")
    if method not in SAMPLING:
        raise SpecError(unknown_name("sampling", method, SAMPLING, f"{path}.sampling"))
    draws = space.unbatch(
        space.sample(8 * n, seed=int(stable_hash(entry["name"], 8), 16), method=method)
    )
    out = []
    for draw in draws:
        candidate = {**{k: _plain(v) for k, v in draw.items()}, **fixed}
        if not space.violated(candidate):
            out.append(space.validate(candidate))
            if len(out) == n:
                return out
    raise SpecError(
        f"{path}: only {len(out)} of {n} sampled configurations satisfy the fixed values"
    )


def _seeds(seeds: Any, path: str) -> tuple[int, ...]:
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        return tuple(range(seeds))
    if isinstance(seeds, Sequence) and seeds and all(isinstance(s, int) and s >= 0 for s in seeds):
        if len(set(seeds)) != len(seeds):
            repeated = sorted({s for s in seeds if list(seeds).count(s) > 1})
            raise SpecError(f"{path}.seeds: seeds {repeated} are repeated; a seed runs once")
        return tuple(seeds)
    raise SpecError(
        f"{path}.seeds: got {seeds!r}; expected a positive count or a list of non-negative ints"
    )


#: What a sweep may set of an env (the common kwargs of ``gymnasium.make``); not ``spec``, which
#: would swap the env for any YAML file.
ENV_KWARGS = frozenset(
    {"workload", "objective", "arch", "backend", "surrogate", "max_steps", "action_type", "trace"}
)

#: A sweep's name becomes its default results file (``<name>.db``): a plain file name.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _check_output_path(value: Any, where: str) -> None:
    """A path a spec writes to stays below the working directory: relative, no ``..``."""
    if value is None:
        return
    path = PurePath(str(value))
    if path.is_absolute() or ".." in path.parts:
        raise SpecError(
            f"{where}: got {str(value)!r}; expected a relative path below the run folder (no '..', "
            "not absolute): a spec must not write elsewhere"
        )


def _env_entries(raw: Any, path: str) -> tuple[EnvEntry, ...]:
    import gymnasium as gym

    envs = []
    for i, e in enumerate(raw or ()):
        where = f"{path}.envs[{i}]"
        check_keys(e, required={"id"}, optional={"label", "kwargs"}, path=where)
        if e["id"] not in gym.registry:
            archgym_ids = [k for k in gym.registry if k.startswith("archgym/")]
            raise SpecError(unknown_name("env id", e["id"], archgym_ids, where))
        kwargs = dict(e.get("kwargs") or {})
        check_keys(kwargs, required=set(), optional=ENV_KWARGS, path=f"{where}.kwargs")
        _check_output_path(kwargs.get("trace"), f"{where}.kwargs.trace")
        envs.append(EnvEntry(e["id"], str(e.get("label") or e["id"].split("/")[-1]), kwargs))
    if not envs:
        raise SpecError(f"{path}.envs: expected at least one env")
    if len({e.label for e in envs}) != len(envs):
        raise SpecError(f"{path}.envs: labels must be distinct, got {[e.label for e in envs]}")
    return tuple(envs)


def _refuse_duplicate_cells(spec: SweepSpec, path: str) -> None:
    """Two cells that run the same thing (same env and kwargs, agent, hyperparameters, seed and
    budget) would be stored once: the second would vanish from the results and the report."""
    seen: dict[str, Cell] = {}
    for cell in spec.cells():
        if cell.id in seen:
            first = seen[cell.id]
            raise SpecError(
                f"{path}: env {cell.env_label!r} runs the same cells as {first.env_label!r} "
                f"({cell.env_id} with kwargs {cell.env_kwargs}); give it other kwargs or drop it"
                if first.env_label != cell.env_label
                else f"{path}.agents: {cell.agent!r} is listed twice with the same configuration "
                f"{cell.hyperparameters}; merge the entries"
            )
        seen[cell.id] = cell


def sweep_from_dict(data: Mapping[str, Any], *, path: str = "sweep") -> SweepSpec:
    """Validate a sweep spec (schema, then agents, hyperparameters and envs) and expand its configs."""
    import archgym_py  # noqa: F401  (registers the envs)

    from .._agent import agent_names

    check_spec_version(data, path)
    if not isinstance(data.get("name"), str) or not _NAME.match(data["name"]):
        raise SpecError(
            f"{path}.name: got {data.get('name')!r}; expected a plain name (letters, digits, _ . -): "
            "it names the results file"
        )
    check_keys(data, required={"spec_version", "name", "budget", "seeds", "envs", "agents"},
               optional={"description"}, path=path)  # fmt: skip
    budget = data["budget"]
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
        raise SpecError(f"{path}.budget: got {budget!r}; expected a positive number of evaluations")
    seeds = _seeds(data["seeds"], path)
    envs = _env_entries(data["envs"], path)
    agents = []
    for i, a in enumerate(data["agents"] or ()):
        where = f"{path}.agents[{i}]"
        check_keys(a, required={"name"}, optional={"configs", "sampling", "grid", "fixed", "include_default"},
                   path=where)  # fmt: skip
        if a["name"] not in agent_names() and ":" not in str(a["name"]):
            raise SpecError(unknown_name("agent", a["name"], agent_names(), where))
        try:
            agents.append((a["name"], _configs(a, where)))
        except SpecError:
            raise
        except Exception as exc:  # DesignError from a bad fixed/grid value: say where
            raise SpecError(f"{where}: {exc}") from exc
    if not agents:
        raise SpecError(f"{path}.agents: expected at least one agent")
    spec = SweepSpec(
        str(data["name"]),
        budget,
        seeds,
        tuple(envs),
        tuple(agents),
        str(data.get("description", "")),
    )
    _refuse_duplicate_cells(spec, path)
    return spec


def _presets_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("archgym_py.agents").joinpath("sweeps")))


def load_sweep(path_or_name: str | Path) -> SweepSpec:
    """A sweep from a YAML path or a shipped preset name (``agents/sweeps/<name>.yaml``)."""
    path = resolve_named_yaml(_presets_dir(), path_or_name, what="sweep preset")
    return sweep_from_dict(load_yaml(path), path=str(path))


def preset_names() -> list[str]:
    return yaml_names(_presets_dir())
