"""Env specs: the YAML that binds a domain, a base architecture, a workload, a design space and
objectives into one environment (``arch_specs/<family>/env.yaml``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ._arch import Arch
from ._domain import Domain
from ._errors import ObjectiveError, SpecError, unknown_name
from ._objective import Objective
from ._simulator import Workload
from ._space import DesignSpace
from ._spec import check_keys, check_spec_version, import_string, load_yaml, shipped_spec_dir

_KEYS = {"spec_version", "id", "description", "domain", "default_arch", "default_workload", "max_steps",
         "design_space", "objectives", "default_objective"}  # fmt: skip
#: ``main_metrics``: the metrics that matter most for this env (benchmarks and surrogate checks
#: report them); default: the metrics the default objective weighs.
_OPTIONAL_KEYS = {"main_metrics"}


@dataclass(frozen=True)
class EnvSpec:
    """A validated env spec (see ``arch_specs/accelerator/env.yaml``)."""

    id: str
    description: str
    domain_entry_point: str
    default_arch: str
    default_workload: str
    max_steps: int
    space: DesignSpace
    objectives: Mapping[str, Mapping[str, Any]]
    default_objective: str
    path: str
    main_metrics: tuple[str, ...] = ()

    @property
    def domain(self) -> Domain:
        return import_string(self.domain_entry_point)

    def space_for(self, arch: Arch, workload: Workload | None = None) -> DesignSpace:
        """The design space on a base architecture and workload: its knobs default to the
        architecture's values and its constraints read their constants (so the space, and its
        hash, depend on both where the constraints name them)."""
        domain = self.domain
        if workload is None:
            workload = domain.load_workload(self.default_workload)
        space = self.space.with_constants(domain.constants(arch, workload))
        return space.with_defaults(domain.arch_defaults(arch))

    def objective(
        self, objective: str | Mapping[str, Any] | Objective | None, metrics
    ) -> Objective:
        """Resolve the ``objective`` kwarg: a preset name, a mapping, an Objective, or the default."""
        if isinstance(objective, Objective):
            return objective
        if objective is None:
            objective = self.default_objective
        if isinstance(objective, str):
            if objective not in self.objectives:
                raise ObjectiveError(
                    unknown_name("objective preset", objective, self.objectives, self.id)
                )
            return Objective.from_spec({"name": objective, **self.objectives[objective]}, metrics,
                                       path=f"{self.id}.objectives.{objective}")  # fmt: skip
        if isinstance(objective, Mapping):
            return Objective.from_spec(objective, metrics, path="objective")
        raise ObjectiveError(
            f"objective: expected a preset name, a mapping or an Objective, got {objective!r}"
        )


def env_spec_from_dict(data: Mapping[str, Any], *, path: str) -> EnvSpec:
    """Schema, then cross-field checks (domain knobs, default workload and arch, objective metrics)."""
    check_spec_version(data, path)
    check_keys(data, required=_KEYS, optional=_OPTIONAL_KEYS, path=path)
    max_steps = data["max_steps"]
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise SpecError(f"{path}.max_steps: got {max_steps!r}; expected a positive integer")
    from .envs import domain_entry_point

    entry = domain_entry_point(str(data["domain"]))  # installed domains only: no arbitrary import
    try:
        domain = import_string(entry)
    except ImportError as exc:
        raise SpecError(
            f"{path}.domain: cannot import {data['domain']!r} ({exc}); is its package installed "
            "or on sys.path?"
        ) from exc
    if not isinstance(domain, Domain):
        raise SpecError(f"{path}.domain: {data['domain']!r} is not an archgym_py.Domain")
    if data["default_workload"] not in domain.workload_names():
        raise SpecError(
            unknown_name(
                "default_workload", data["default_workload"], domain.workload_names(), path
            )
        )
    arch = domain.load_arch(str(data["default_arch"]))
    workload = domain.load_workload(str(data["default_workload"]))
    # Constraints may name the architecture's and the workload's constants (e.g. ``gpus``).
    space = DesignSpace.from_dict(data["design_space"], path=f"{path}.design_space",
                                  name=f"{data['id']} design space",
                                  constants=domain.constants(arch, workload))  # fmt: skip
    objectives = data["objectives"]
    if not isinstance(objectives, Mapping) or not objectives:
        raise SpecError(f"{path}.objectives: expected a non-empty mapping of named objectives")
    spec = EnvSpec(
        id=str(data["id"]),
        description=str(data["description"]),
        domain_entry_point=entry,
        default_arch=str(data["default_arch"]),
        default_workload=str(data["default_workload"]),
        max_steps=max_steps,
        space=space,
        objectives=dict(objectives),
        default_objective=str(data["default_objective"]),
        path=path,
    )
    # Cross-field rules.
    domain.check_space(space, arch)
    if spec.default_objective not in objectives:
        raise SpecError(unknown_name("default_objective", spec.default_objective, objectives, path))
    for name in objectives:
        spec.objective(name, domain.metrics)
    main = data.get("main_metrics") or list(spec.objective(None, domain.metrics).weights)
    known = [m.name for m in domain.metrics]
    if not isinstance(main, list) or not main:
        raise SpecError(
            f"{path}.main_metrics: expected a non-empty list of metric names, got {main!r}"
        )
    for metric in main:
        if metric not in known:
            raise SpecError(unknown_name("metric", metric, known, f"{path}.main_metrics"))
    return dataclasses.replace(spec, main_metrics=tuple(main))


@cache
def load_env_spec(path: str | Path) -> EnvSpec:
    """Load and validate an env spec file (cached: specs are immutable data)."""
    return env_spec_from_dict(load_yaml(path), path=str(path))


def shipped_env_spec(family: str) -> EnvSpec:
    return load_env_spec(str(shipped_spec_dir(family) / "env.yaml"))
