"""A future GPU's price in silicon, power and money: the design domain behind ``archgym/GPUDesign-v0``.

A design spec (``arch_specs/gpu/design/*.yaml``) is a GPU spec plus its process technology and
the die it was measured on. The model, per design:

* **Die area** = SMs x the area per SM + L2 MiB x the SRAM area per MiB + HBM stacks x one HBM
  PHY + NVLink links x one NVLink PHY. The SRAM and PHY figures are LLMCompass's (Zhang et al.,
  ISCA 2024, cost model); the area per SM is *derived* from the reference die: its published
  area less its L2 and PHYs, over its physical SMs (so it carries each SM's share of crossbar,
  memory controllers and I/O). The reference die reproduces its own area by construction; a
  design must fit the lithography reticle (26 x 33 mm).
* **Silicon cost** = the die's share of a wafer (dies per wafer from the standard gross-die
  formula, Poisson yield ``exp(-D0 x area)``, no redundancy) + HBM at a price per GiB. Packaging,
  board, margin and the memory-stack base dies are left out: this is a relative cost for design
  comparisons, not a price.
* **Full-load power**: the reference's board limit less its idle power is its dynamic power at
  its SM count and clock; a design scales it by SMs x (clock ratio)^3 (CMOS dynamic power C V^2 f
  with voltage tracking frequency near the top of the DVFS range) and adds HBM power per stack
  in proportion to its bandwidth. The objective caps it.
* **Cost per million tokens** = (silicon cost over its service life + energy at an electricity
  price) per million output tokens of the run.
* HBM bandwidth and capacity follow the stack count (``hbm_stacks`` x per-stack figures).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._errors import SpecError
from ..._simulator import Evaluation, MetricSpec
from ..._space import Batch
from ..._spec import Field
from .arch import CONSTANTS, TUNABLE, GpuArch
from .llm import Generation
from .simulator import METRICS, GpuSimulator

_HOURS_PER_YEAR = 365.25 * 24

DESIGN_TUNABLE: dict[str, Field] = {
    **TUNABLE,
    "hbm_stacks": Field(int, "HBM stacks (bandwidth and capacity follow)", low=1, high=16),
}
DESIGN_CONSTANTS: dict[str, Field] = {
    **CONSTANTS,
    "process": Field(str, "process technology"),
    "reference_die_mm2": Field(float, "published area of the reference die", low=1.0),
    "reference_sms": Field(int, "physical SMs on the reference die", low=1),
    "reference_l2_mib": Field(float, "physical L2 on the reference die, MiB", low=0.0),
    "reference_hbm_phys": Field(int, "HBM PHYs on the reference die", low=0),
    "nvlink_links": Field(int, "NVLink links per GPU", low=0),
    "sram_mm2_per_mib": Field(float, "L2 SRAM area per MiB at this process", low=0.0),
    "hbm_phy_mm2": Field(float, "area of one HBM PHY (1024-bit stack interface)", low=0.0),
    "nvlink_phy_mm2": Field(float, "area of one NVLink PHY", low=0.0),
    "reticle_mm2": Field(float, "largest die one lithography exposure prints", low=1.0),
    "wafer_usd": Field(float, "price of a 300 mm wafer at this process", low=0.0),
    "wafer_diameter_mm": Field(float, "wafer diameter", low=1.0),
    "defects_per_cm2": Field(float, "defect density D0", low=0.0),
    "hbm_usd_per_gib": Field(float, "HBM price per GiB", low=0.0),
    "hbm_stack_gbps": Field(float, "bandwidth of one HBM stack, GB/s", low=0.0),
    "hbm_stack_gib": Field(float, "capacity of one HBM stack, GiB", low=0.0),
    "hbm_stack_w": Field(float, "power of one HBM stack at full bandwidth, W", low=0.0),
    "service_years": Field(float, "years the silicon cost is spread over", low=0.01),
    "usd_per_kwh": Field(float, "electricity price", low=0.0),
}

DESIGN_METRICS = (
    *METRICS,
    MetricSpec("die_area_mm2", "mm^2", "minimize", "compute die area"),
    MetricSpec("silicon_cost_usd", "USD", "minimize", "die (with yield) + HBM, per GPU"),
    MetricSpec("full_load_power_w", "W", "minimize", "board power at full tensor load"),
    MetricSpec(
        "cost_per_mtoken_usd",
        "USD",
        "minimize",
        "silicon over its service life + energy, per million output tokens",
    ),  # fmt: skip
)


class GpuDesignArch(GpuArch):
    """A GPU spec with its process technology and reference die (see the module docstring)."""

    family = "gpu"
    subdir = "design"
    what = "GPU design spec"
    tunable = DESIGN_TUNABLE
    constants = DESIGN_CONSTANTS
    derived = (*GpuArch.derived, "sm_mm2")

    @property
    def sm_mm2(self) -> float:
        """Area per SM: the reference die less its L2 and PHYs, over its physical SMs."""
        rest = (self.reference_die_mm2 - self.reference_l2_mib * self.sram_mm2_per_mib
                - self.reference_hbm_phys * self.hbm_phy_mm2 - self.nvlink_links * self.nvlink_phy_mm2)  # fmt: skip
        return rest / self.reference_sms

    def check(self, *, path: str = "arch.architecture") -> None:
        """The GPU rules, then: the reference die holds more than its L2 and PHYs."""
        super().check(path=path)
        if self.sm_mm2 <= 0:
            raise SpecError(f"{path}.reference_die_mm2: the L2 and PHYs alone exceed the die")


class GpuDesignSimulator(GpuSimulator):
    """:class:`GpuSimulator` plus area, silicon cost, full-load power and cost per token."""

    metrics = DESIGN_METRICS
    version = "gpu-design-model/7"

    def with_stacks(self, designs: Batch) -> dict[str, Any]:
        """A full batch whose HBM bandwidth and capacity follow its stack counts."""
        full = dict(self.arch.fill(designs))
        stacks = np.asarray(full["hbm_stacks"], dtype=np.float64)
        full["hbm_bw_gbps"] = stacks * self.arch.hbm_stack_gbps
        full["hbm_gib"] = stacks * self.arch.hbm_stack_gib
        return full

    def evaluate(
        self, designs: Batch, workload: Generation, *, details: bool = False
    ) -> Evaluation:
        """The generation metrics of the design with its stack-derived HBM, plus the cost metrics."""
        full = self.with_stacks(designs)
        ev = super().evaluate(full, workload, details=details)
        tp = np.asarray(full["tp"], dtype=np.float64)
        seconds = ev.metrics["latency_s"]
        tokens = ev.metrics["tokens_per_s"] * seconds
        owning = self.ownership_usd(full, tp, seconds, ev.metrics["energy_j"])
        metrics = {
            **ev.metrics,
            "die_area_mm2": self.die_area(full),
            "silicon_cost_usd": self.silicon_cost(full),
            "full_load_power_w": self.full_load_power(full),
            "cost_per_mtoken_usd": owning / tokens * 1e6,
        }
        return Evaluation(metrics=metrics, feasible=ev.feasible, details=ev.details)

    def die_area(self, full: Mapping[str, np.ndarray]) -> np.ndarray:
        """Compute-die area per design, mm^2 (see the module docstring)."""
        a = self.arch
        sms = np.asarray(full["sms"], dtype=np.float64)
        stacks = np.asarray(full["hbm_stacks"], dtype=np.float64)
        return (sms * a.sm_mm2 + np.asarray(full["l2_mib"], float) * a.sram_mm2_per_mib
                + stacks * a.hbm_phy_mm2 + a.nvlink_links * a.nvlink_phy_mm2)  # fmt: skip

    def _checks(self, full, cfg, memory, capacity):
        """The deployment's checks, and: the die fits the reticle."""
        area, reticle = self.die_area(full), self.arch.reticle_mm2
        return [*super()._checks(full, cfg, memory, capacity),
                (area > reticle,
                 lambda i: f"die of {area[i]:.0f} mm^2 exceeds the {reticle:.0f} mm^2 reticle")]  # fmt: skip

    def full_load_power(self, full: Mapping[str, np.ndarray]) -> np.ndarray:
        """The reference's dynamic power scaled by SMs x clock^3, plus idle and HBM power."""
        a = self.arch
        sms = np.asarray(full["sms"], dtype=np.float64)
        stacks = np.asarray(full["hbm_stacks"], dtype=np.float64)
        clock = np.asarray(full["clock_mhz"], dtype=np.float64) / a.values["clock_mhz"]
        reference = a.tdp_w - a.idle_power_w - a.values["hbm_stacks"] * a.hbm_stack_w
        return (
            a.idle_power_w + reference * sms / a.values["sms"] * clock**3 + stacks * a.hbm_stack_w
        )

    def ownership_usd(self, full: Mapping[str, np.ndarray], gpus, seconds, energy_j) -> np.ndarray:
        """What ``seconds`` of ``gpus`` GPUs cost their owner: the silicon spread over its
        service life, plus ``energy_j`` at the electricity price."""
        a = self.arch
        capex = (
            self.silicon_cost(full) * gpus * seconds / (a.service_years * _HOURS_PER_YEAR * 3600)
        )
        return capex + energy_j / 3.6e6 * a.usd_per_kwh

    def silicon_cost(self, full: Mapping[str, np.ndarray]) -> np.ndarray:
        """Silicon per GPU, USD: the good die's share of its wafer plus the HBM stacks."""
        a = self.arch
        stacks = np.asarray(full["hbm_stacks"], dtype=np.float64)
        return self.die_cost(self.die_area(full)) + stacks * a.hbm_stack_gib * a.hbm_usd_per_gib

    def die_cost(self, area_mm2: np.ndarray) -> np.ndarray:
        """A good die's share of its wafer: gross dies per wafer (area term less the edge loss)
        times the Poisson yield ``exp(-D0 x area)``."""
        a = self.arch
        d = a.wafer_diameter_mm
        gross = np.pi * (d / 2) ** 2 / area_mm2 - np.pi * d / np.sqrt(2 * area_mm2)
        good = np.maximum(gross, 1e-9) * np.exp(-a.defects_per_cm2 * area_mm2 / 100.0)
        return a.wafer_usd / good
