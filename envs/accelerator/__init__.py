"""The DNN-accelerator domain: workloads, base architectures, the analytical simulator.

``DOMAIN`` is the table the engine reaches through the env spec's string entry point
(``archgym_py.envs.accelerator:DOMAIN``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..._domain import Domain
from ..._errors import SpecError
from ..._space import DesignSpace
from ..workloads import Layer, Network, batched_gemm, conv2d, gemm, load_network, network_from_dict
from .arch import DATAFLOWS, AcceleratorArch, load_arch
from .networks import BUILTIN_NETWORKS
from .simulator import METRICS, AcceleratorSimulator

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


class AcceleratorDomain(Domain):
    """The engine's view of this family (see :class:`archgym_py.Domain`)."""

    name = "accelerator"
    metrics = METRICS
    arch_type = AcceleratorArch
    workload_type = Network
    builtin_workloads = BUILTIN_NETWORKS

    def workload_from_dict(self, data: Mapping[str, Any], *, path: str = "workload") -> Network:
        """A network from its YAML form (layers)."""
        return network_from_dict(data, path=path)

    def simulator(self, arch: AcceleratorArch) -> AcceleratorSimulator:
        """The analytical accelerator model on ``arch``."""
        return AcceleratorSimulator(arch)

    def check_space(self, space: DesignSpace, arch: AcceleratorArch) -> None:
        """The generic knob checks, then: dataflow levels are known dataflows."""
        super().check_space(space, arch)
        if "dataflow" in space and not set(space["dataflow"].choices) <= set(DATAFLOWS):
            raise SpecError(f"design_space.dataflow: choices must be among {list(DATAFLOWS)}")

    def describe_details(self, details: Mapping[str, Any]) -> list[str]:
        """The energy breakdown and one line per layer (latency, energy, utilisation, binding)."""
        if "layer_names" not in details:  # e.g. a surrogate's intervals
            return super().describe_details(details)
        energy = ", ".join(f"{k[7:-2]}={float(np.asarray(v)[0]):.4g}"
                           for k, v in details.items() if k.startswith("energy_"))  # fmt: skip
        lines = [f"energy breakdown (J): {energy}",
                 f"  {'layer':<28} {'count':>5} {'latency_s':>11} {'energy_j':>11} {'util':>6} bound"]  # fmt: skip
        for i, name in enumerate(details["layer_names"]):
            lines.append(
                f"  {name:<28} {int(details['layer_count'][i]):>5} "
                f"{details['layer_latency_s'][0, i]:>11.4g} {details['layer_energy_j'][0, i]:>11.4g} "
                f"{details['layer_utilization'][0, i]:>6.3f} {details['layer_binding'][0, i]}"
                + ("" if details["layer_feasible"][0, i] else " (unmappable)")
            )
        return lines

    def json_details(self, details: Mapping[str, Any]) -> dict[str, Any]:
        """The energy and area breakdowns (per-layer arrays stay out of the JSON)."""
        per_design = {k: v for k, v in details.items() if k.startswith(("energy_", "area_"))}
        return super().json_details(per_design)


DOMAIN = AcceleratorDomain()


def load_workload(workload: str | Path | Mapping[str, Any] | Network) -> Network:
    """A network from a built-in name, a YAML path, the YAML mapping, or a Network."""
    return DOMAIN.load_workload(workload)
