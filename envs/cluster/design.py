"""The GPU itself as part of a cluster design: the domain behind ``archgym/ClusterGPUDesign-v0``.

A cluster design spec (``arch_specs/cluster/design/*.yaml``) is a cluster spec whose ``gpu`` names
a GPU *design* spec (``arch_specs/gpu/design``), plus four knobs of that GPU: ``gpu_sms``,
``gpu_clock_mhz``, ``gpu_l2_mib`` and ``gpu_hbm_stacks``. Each design's training step runs on
the GPU those knobs build (the GPU domain's kernels at its SM count, clock, L2, and the HBM
bandwidth and capacity of its stacks), and the GPU design domain prices it
(:mod:`archgym_py.envs.gpu.design`): die area (over the reticle is infeasible), silicon cost,
full-load power. ``tco_per_step_usd`` is what a step costs the owner of the cluster: every GPU's
silicon spread over its service life for the step's duration, plus the step's energy at the
spec's electricity price. Searching the layout and the GPU together is the joint hardware x
parallelism search of issue 14 (no peer simulator offers it).

Example:
    >>> from archgym_py.envs.cluster import DESIGN_DOMAIN
    >>> sim = DESIGN_DOMAIN.simulator(DESIGN_DOMAIN.load_arch("hgx_h100n4_1024"))
    >>> ev = sim.evaluate({"gpu_hbm_stacks": [5, 6]}, DESIGN_DOMAIN.load_workload("gpt3_175b"))
    >>> bool(ev.metrics["silicon_cost_usd"][1] > ev.metrics["silicon_cost_usd"][0])
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._simulator import Evaluation, MetricSpec
from ..._space import Batch
from ..._spec import Field
from ..gpu.design import DESIGN_METRICS as GPU_DESIGN_METRICS
from ..gpu.design import GpuDesignSimulator
from ..gpu.training import GpuTrainingSimulator
from .arch import CONSTANTS, TUNABLE, ClusterArch
from .step import METRICS, ClusterSimulator, TrainingJob

DESIGN_TUNABLE: dict[str, Field] = {
    **TUNABLE,
    "gpu_sms": Field(int, "streaming multiprocessors of the GPU", low=1, high=4096),
    "gpu_clock_mhz": Field(float, "sustained SM clock of the GPU, MHz", low=1.0, high=1e5),
    "gpu_l2_mib": Field(float, "L2 cache of the GPU, MiB", low=0.1, high=1e5),
    "gpu_hbm_stacks": Field(
        int, "HBM stacks of the GPU (bandwidth and capacity follow)", low=1, high=16
    ),  # fmt: skip
}

#: The GPU design domain's price of the GPU, and the step's cost of ownership.
DESIGN_METRICS = (
    *METRICS,
    *(
        m
        for m in GPU_DESIGN_METRICS
        if m.name in ("die_area_mm2", "silicon_cost_usd", "full_load_power_w")
    ),  # fmt: skip
    MetricSpec(
        "tco_per_step_usd",
        "USD",
        "minimize",
        "every GPU's silicon over its service life for one step, plus the step's energy",
    ),  # fmt: skip
)


class ClusterDesignArch(ClusterArch):
    """A cluster spec on a GPU design spec, with the GPU's knobs (see the module docstring)."""

    subdir = "design"
    what = "cluster design spec"
    tunable = DESIGN_TUNABLE
    constants = CONSTANTS

    @classmethod
    def gpu_specs(cls) -> tuple[str, list[str]]:
        """The ``gpu`` field names a GPU design spec."""
        from ..gpu import DESIGN_DOMAIN

        return "a GPU design spec, one of", DESIGN_DOMAIN.arch_names()


class _PricedTraining(GpuTrainingSimulator):
    """The GPU domain's training model on a GPU design that draws the design's own full-load
    power (SMs x clock^3 scaling), not its reference's board limit."""

    def __init__(self, arch, pricing: GpuDesignSimulator):
        super().__init__(arch)
        self._pricing = pricing

    def full_load_power(self, full) -> np.ndarray:
        return self._pricing.full_load_power(full)


class ClusterDesignSimulator(ClusterSimulator):
    """:class:`ClusterSimulator` on a GPU built from the design's GPU knobs, priced."""

    metrics = DESIGN_METRICS
    version = "cluster-design-model/3"

    def __init__(self, arch: ClusterDesignArch):
        from ..gpu import DESIGN_DOMAIN

        self.arch = arch
        gpu = DESIGN_DOMAIN.load_arch(arch.gpu)
        self.pricing = GpuDesignSimulator(gpu)
        self.gpu = _PricedTraining(gpu, self.pricing)

    def _gpu_full(self, full, tp, microbatch) -> dict[str, np.ndarray]:
        """The layout's GPU design, with the HBM bandwidth and capacity of its stacks."""
        return self.pricing.with_stacks({**self._gpu_design(full, tp, microbatch),
                                         **self._gpu_knobs(full)})  # fmt: skip

    def _gpu_knobs(self, full) -> dict[str, np.ndarray]:
        """The GPU design domain's knobs of each design."""
        return {"sms": full["gpu_sms"], "clock_mhz": full["gpu_clock_mhz"],
                "l2_mib": full["gpu_l2_mib"], "hbm_stacks": full["gpu_hbm_stacks"]}  # fmt: skip

    def _checks(self, cfg, work, full, dp, memory, capacity,
                stage_fbw) -> list[tuple[np.ndarray, Any]]:  # fmt: skip
        """The layout's checks, and: the GPU's die fits the reticle."""
        area, reticle = self.pricing.die_area(self._gpu_knobs(full)), self.pricing.arch.reticle_mm2
        return [*super()._checks(cfg, work, full, dp, memory, capacity, stage_fbw),
                (area > reticle,
                 lambda i: f"GPU die of {area[i]:.0f} mm^2 exceeds the {reticle:.0f} mm^2 reticle")]  # fmt: skip

    def evaluate(
        self, designs: Batch, workload: TrainingJob, *, details: bool = False
    ) -> Evaluation:
        """The cluster metrics on each design's GPU, plus the GPU's area, silicon cost, power
        and the step's cost of ownership (see the module docstring)."""
        ev = super().evaluate(designs, workload, details=details)
        full = self.arch.fill(designs)
        knobs, m = self._gpu_knobs(full), ev.metrics
        metrics = {
            **m,
            "die_area_mm2": self.pricing.die_area(knobs),
            "silicon_cost_usd": self.pricing.silicon_cost(knobs),
            "full_load_power_w": self.pricing.full_load_power(knobs),
            "tco_per_step_usd": self.pricing.ownership_usd(
                knobs, self.arch.gpus, m["step_time_s"], m["energy_j"]
            ),
        }
        return Evaluation(metrics=metrics, feasible=ev.feasible, details=ev.details)
