"""AcceleratorSimulator: the batched Simulator over (designs x network), built on :mod:`.model`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._simulator import Evaluation, MetricSpec
from ..._space import Batch
from ..workloads import Network
from .arch import AcceleratorArch
from .model import BINDING, LEVELS, LayerCosts, area_mm2, layer_arrays, layer_costs

METRICS = (
    MetricSpec("latency_s", "s", "minimize", "time to run the whole workload once"),
    MetricSpec("energy_j", "J", "minimize", "energy of one run (MAC, RF, NoC, GLB, DRAM)"),
    MetricSpec("area_mm2", "mm^2", "minimize", "MACs, register files and global buffer"),
    MetricSpec("power_w", "W", "minimize", "average power over the run (energy / latency)"),
    MetricSpec("edp_js", "J*s", "minimize", "energy-delay product"),
    MetricSpec("utilization", "1", "maximize", "MACs / (cycles x PEs)"),
)


def network_metrics(full, cycles, energy_j, area_mm2, macs) -> dict[str, np.ndarray]:
    """:data:`METRICS` of designs ``full`` (their knobs' values) that run a network in ``cycles``
    for ``energy_j``, on ``area_mm2``, doing ``macs`` multiply-accumulates."""
    latency = cycles / (np.asarray(full["clock_mhz"], dtype=np.float64) * 1e6)
    return {
        "latency_s": latency,
        "energy_j": energy_j,
        "area_mm2": np.broadcast_to(area_mm2, latency.shape).astype(np.float64),
        "power_w": energy_j / latency,
        "edp_js": energy_j * latency,
        "utilization": macs / (cycles * pe_count(full)),
    }


def pe_count(full) -> np.ndarray:
    """PEs of each design (rows x columns), as floats."""
    return np.asarray(full["pe_rows"], dtype=np.float64) * np.asarray(full["pe_cols"], np.float64)


class AcceleratorSimulator:
    """Analytical DNN-accelerator simulator (see :mod:`archgym_py.envs.accelerator.model`).

    Args:
        arch: the base architecture; a design overrides any of its tunable fields
            (``pe_rows, pe_cols, rf_bytes, glb_kib, glb_bw_bytes_per_cycle, dram_bw_gbps,
            dataflow, clock_mhz``) and keeps the rest.
    """

    metrics = METRICS
    version = "accelerator-model/1"

    def __init__(self, arch: AcceleratorArch):
        self.arch = arch
        self._constants = arch.constant_values()
        self._layer_cache: dict[int, tuple[Network, dict[str, np.ndarray]]] = {}

    def _layers(self, network: Network) -> dict[str, np.ndarray]:
        hit = self._layer_cache.get(id(network))
        if hit is None or hit[0] is not network:
            hit = (network, layer_arrays(network.arrays))
            self._layer_cache[id(network)] = hit
        return hit[1]

    def _full_design(self, designs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return self.arch.fill(designs)

    def evaluate_layers(self, designs: Mapping[str, Any], workload: Network) -> LayerCosts:
        """Per design x layer costs of one instance of each layer (see :class:`LayerCosts`)."""
        return layer_costs(self._full_design(designs), self._constants, self._layers(workload))

    def evaluate(self, designs: Batch, workload: Network, *, details: bool = False) -> Evaluation:
        """Network-level metrics for a batch of designs.

        With ``details``, ``Evaluation.details`` holds the energy breakdown per level
        (``energy_<level>_j``), the area breakdown (``area_<part>_mm2``) and per-layer arrays
        (``layer_latency_s``, ``layer_energy_j``, ``layer_binding``, ``layer_feasible``, ...).
        """
        full = self._full_design(designs)
        L = self._layers(workload)
        costs = layer_costs(full, self._constants, L)
        count = L["count"]
        clock_hz = np.asarray(full["clock_mhz"], dtype=np.float64) * 1e6
        cycles = costs.cycles @ count[0]
        per_level_j = costs.energy_pj @ (count[0] * 1e-12)  # (levels, designs)
        energy = per_level_j.sum(axis=0)
        areas = area_mm2(full, self._constants)
        metrics = network_metrics(full, cycles, energy, sum(areas.values()), costs.macs @ count[0])
        feasible = costs.feasible.all(axis=1)
        extra: dict[str, Any] = {}
        if details:
            extra.update({f"energy_{lvl}_j": v for lvl, v in zip(LEVELS, per_level_j, strict=True)})
            extra.update({f"area_{part}_mm2": v for part, v in areas.items()})
            extra.update(
                layer_names=[layer.name for layer in workload.layers],
                layer_count=count[0],
                layer_latency_s=costs.cycles * count / clock_hz[:, None],
                layer_energy_j=costs.energy_pj.sum(axis=0) * count * 1e-12,
                layer_compute_cycles=costs.compute_cycles,
                layer_glb_cycles=costs.glb_cycles,
                layer_dram_cycles=costs.dram_cycles,
                layer_binding=np.asarray(BINDING)[costs.binding],
                layer_feasible=costs.feasible,
                layer_dram_words=costs.dram_words,
                layer_utilization=costs.macs / (costs.cycles * pe_count(full)[:, None]),
            )
        return Evaluation(metrics=metrics, feasible=feasible, details=extra)
