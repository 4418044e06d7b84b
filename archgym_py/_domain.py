"""Domain: what a simulator family (``envs/<family>``) gives the engine, with the shared parts built in.

A domain is mostly data plus physics. It subclasses :class:`Domain` and sets:

* ``name`` and ``metrics`` (the simulator's :class:`~archgym_py.MetricSpec` list);
* ``arch_type``, an :class:`~archgym_py.Arch` subclass (schema, cross-field rules, derived values);
* ``workload_type``, ``builtin_workloads`` (name -> factory) and ``workload_from_dict``;
* ``simulator(arch)``, the physics.

Everything else (loading shipped, YAML and mapping architectures and workloads, the design
space's defaults, checking a design space against an architecture, the names constraints may
use, the ``eval --details`` view) has a default here that the domain may refine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._arch import Arch
from ._errors import SpecError, WorkloadError, unknown_name
from ._simulator import MetricSpec, Simulator, Workload
from ._space import Batch, DesignSpace
from ._spec import load_yaml, yaml_names


class Domain:
    """Base class of every simulator family; the engine reaches one through an env spec's
    ``domain: "package.module:DOMAIN"`` entry point.

    Example (the shipped accelerator domain):
        >>> from archgym_py.envs.accelerator import DOMAIN
        >>> arch = DOMAIN.load_arch("eyeriss")
        >>> DOMAIN.arch_defaults(arch)["pe_rows"], DOMAIN.load_workload("alexnet").name
        (12, 'alexnet')
    """

    name: ClassVar[str] = ""
    metrics: ClassVar[Sequence[MetricSpec]] = ()
    arch_type: ClassVar[type[Arch]] = Arch
    workload_type: ClassVar[type] = object
    #: Built-in workloads: name -> a function of no arguments that builds it.
    builtin_workloads: ClassVar[Mapping[str, Callable[[], Workload]]] = {}
    #: How an unknown workload is named in messages (default ``"<name> workload"``), and the
    #: other forms the message offers.
    workload_what: ClassVar[str] = ""
    workload_forms: ClassVar[str] = " or a path to a workload file"

    # ------------------------------------------------------------------ architectures
    def load_arch(self, arch: str | Path | Mapping[str, Any] | Arch) -> Arch:
        """A validated base architecture from a shipped name, a YAML path, a mapping or itself."""
        return self.arch_type.load(arch)

    def arch_names(self) -> list[str]:
        """Names of the shipped base architectures (``arch_specs/<family>/arch/*.yaml``)."""
        return yaml_names(self.arch_type.folder())

    def arch_defaults(self, arch: Arch) -> dict[str, Any]:
        """The base architecture's knob values: the defaults of an env's design space."""
        return arch.tunable_values()

    # ------------------------------------------------------------------ workloads
    def workload_names(self) -> list[str]:
        return list(self.builtin_workloads)

    def workload_from_dict(self, data: Mapping[str, Any], *, path: str = "workload") -> Workload:
        """A workload from its YAML form (domains override)."""
        raise WorkloadError(f"{path}: the {self.name} domain reads no workload mappings")

    def workload_from_file(self, path: Path) -> Workload:
        """A workload from a file that is not YAML (e.g. a trace); YAML goes through
        :meth:`workload_from_dict`."""
        raise WorkloadError(f"workload file {str(path)!r}: expected a .yaml workload")

    def load_workload(self, workload: str | Path | Mapping[str, Any] | Workload) -> Workload:
        """A workload from a built-in name, a YAML (or domain-specific) file, a mapping, or itself."""
        if isinstance(workload, self.workload_type) and self.workload_type is not object:
            return workload
        if isinstance(workload, Mapping):
            return self.workload_from_dict(workload)
        if isinstance(workload, (str, Path)) and str(workload) in self.builtin_workloads:
            return self.builtin_workloads[str(workload)]()
        if isinstance(workload, (str, Path)):
            path = Path(workload)
            if path.suffix in (".yaml", ".yml"):
                if not path.exists():
                    raise WorkloadError(f"workload file {str(path)!r} does not exist")
                return self.workload_from_dict(load_yaml(path), path=str(path))
            if path.exists():
                return self.workload_from_file(path)
            if path.suffix or len(path.parts) > 1:  # a path, not a built-in name
                raise WorkloadError(f"workload file {str(path)!r} does not exist")
        what = self.workload_what or f"{self.name} workload"
        raise WorkloadError(
            unknown_name(what, str(workload), self.builtin_workloads) + self.workload_forms
        )

    # ------------------------------------------------------------------ simulator
    def simulator(self, arch: Arch) -> Simulator:
        """The simulator for a base architecture (designs override its tunable values)."""
        raise NotImplementedError(f"domain {self.name!r} defines no simulator")

    # ------------------------------------------------------------------ design spaces
    def check_space(self, space: DesignSpace, arch: Arch) -> None:
        """Every parameter of ``space`` is a knob of the architecture and each of its levels is
        a valid value (the knob's schema, then :meth:`check_level`)."""
        tunable = self.arch_type.tunable
        for param in space:
            if param.name not in tunable:
                raise SpecError(
                    unknown_name(self.arch_type.knob, param.name, tunable, "design_space")
                )
            for choice in param.choices:
                value = choice.item() if hasattr(choice, "item") else choice
                where = f"design_space.{param.name}"
                try:
                    tunable[param.name].check_value(value, where)
                    self.check_level(param.name, value, arch)
                except SpecError as exc:
                    raise SpecError(f"{where}: level {value!r} is invalid: {exc}") from exc

    def check_level(self, knob: str, value: Any, arch: Arch) -> None:
        """Extra rule for one level of a knob on an architecture (raise SpecError); none by default."""

    def constants(self, arch: Arch, workload: Workload) -> dict[str, Any]:
        """Names a design-space constraint may use besides the parameters: the architecture's
        values and derived quantities, then the workload's ``scalars()`` (if it has one)."""
        out = arch.scalars()
        workload_scalars = getattr(workload, "scalars", None)
        if callable(workload_scalars):
            out.update(workload_scalars())
        return out

    # ------------------------------------------------------------------ reporting
    def details(self, simulator: Simulator, batch: Batch, workload: Workload) -> dict[str, Any]:
        """Per-design breakdowns for ``archgym eval --details`` (the simulator's ``details=True``)."""
        return dict(simulator.evaluate(batch, workload, details=True).details)

    def describe_details(self, details: Mapping[str, Any]) -> list[str]:
        """Lines that print design 0's details: every per-design number, ``name = value``."""
        return [f"  {key:<28} {float(value):>14.6g}" for key, value in _design0(details).items()]

    def json_details(self, details: Mapping[str, Any]) -> dict[str, Any]:
        """Design 0's per-design scalar details, as JSON values."""
        return _design0(details)


def _design0(details: Mapping[str, Any]) -> dict[str, Any]:
    """Design 0's value of every per-design number (one-dimensional numeric arrays)."""
    out = {}
    for key, value in details.items():
        array = np.asarray(value)
        if array.ndim == 1 and array.dtype.kind in "fiub" and len(array):
            out[key] = array[0].item()
    return out
