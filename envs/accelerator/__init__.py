"""The DNN-accelerator domain: workloads, base architectures, the analytical simulator.

``DOMAIN`` is the table the engine reaches through the env spec's string entry point
(``archgym_py.envs.accelerator:DOMAIN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._errors import SpecError, WorkloadError, unknown_name
from ..._space import DesignSpace
from ..._spec import shipped_names
from .arch import DATAFLOWS, TUNABLE, AcceleratorArch, load_arch
from .networks import BUILTIN_NETWORKS
from .simulator import METRICS, AcceleratorSimulator
from .workload import Layer, Network, batched_gemm, conv2d, gemm, load_network, network_from_dict

__all__ = [
    "DOMAIN",
    "AcceleratorArch",
    "AcceleratorDomain",
    "AcceleratorSimulator",
    "BUILTIN_NETWORKS",
    "Layer",
    "METRICS",
    "Network",
    "batched_gemm",
    "conv2d",
    "gemm",
    "load_arch",
    "load_network",
    "load_workload",
]


def load_workload(workload: str | Path | Mapping[str, Any] | Network) -> Network:
    """A network from a built-in name, a YAML path, the YAML mapping, or a Network."""
    if isinstance(workload, Network):
        return workload
    if isinstance(workload, Mapping):
        return network_from_dict(workload)
    if isinstance(workload, (str, Path)) and str(workload) in BUILTIN_NETWORKS:
        return BUILTIN_NETWORKS[str(workload)]()
    path = Path(workload)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise WorkloadError(f"workload file {str(path)!r} does not exist")
        return load_network(path)
    raise WorkloadError(
        unknown_name("accelerator workload", str(workload), BUILTIN_NETWORKS) + " or a .yaml file"
    )


class AcceleratorDomain:
    """The engine's view of this family (see :class:`archgym_py.Domain`)."""

    name = "accelerator"
    metrics = METRICS

    def load_arch(self, arch: Any) -> AcceleratorArch:
        return load_arch(arch)

    def arch_names(self) -> list[str]:
        return shipped_names("accelerator", "arch")

    def load_workload(self, workload: Any) -> Network:
        return load_workload(workload)

    def workload_names(self) -> list[str]:
        return list(BUILTIN_NETWORKS)

    def simulator(self, arch: AcceleratorArch) -> AcceleratorSimulator:
        return AcceleratorSimulator(arch)

    def arch_defaults(self, arch: AcceleratorArch) -> dict[str, Any]:
        return arch.tunable_values()

    def check_space(self, space: DesignSpace, arch: AcceleratorArch) -> None:
        for param in space:
            if param.name not in TUNABLE:
                raise SpecError(
                    unknown_name("accelerator knob", param.name, TUNABLE, "design_space")
                )
            field = TUNABLE[param.name]
            for choice in param.choices:
                try:
                    field.check_value(
                        choice.item() if hasattr(choice, "item") else choice,
                        f"design_space.{param.name}",
                    )
                except SpecError as exc:
                    raise SpecError(
                        f"design_space.{param.name}: level {choice!r} is invalid: {exc}"
                    ) from exc
        if "dataflow" in space and not set(space["dataflow"].choices) <= set(DATAFLOWS):
            raise SpecError(f"design_space.dataflow: choices must be among {list(DATAFLOWS)}")


DOMAIN = AcceleratorDomain()
