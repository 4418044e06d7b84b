"""The joint GPU x layout domain: the reference GPU reproduces the plain cluster model, the GPU
knobs reach the kernels and the memory, and the price is the GPU design domain's."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py import SpecError
from archgym_py.envs.cluster import DESIGN_DOMAIN, DOMAIN
from archgym_py.envs.gpu import DESIGN_DOMAIN as GPU_DESIGN

SIM = DESIGN_DOMAIN.simulator(DESIGN_DOMAIN.load_arch("hgx_h100n4_1024"))
PLAIN = DOMAIN.simulator(DOMAIN.load_arch("dgx_h100_1024"))
JOB = DOMAIN.load_workload("gpt3_175b")
LAYOUTS = {"tp": [8, 4, 2], "pp": [8, 16, 32], "microbatch": [1, 2, 1], "zero_stage": [1, 3, 0],
           "recompute": ["none", "full", "full"]}  # fmt: skip


def test_the_reference_gpu_reproduces_the_plain_cluster_model():
    # hgx_h100n4_1024 is dgx_h100_1024 with the H100 as a design point: same GPU, same step
    design, plain = SIM.evaluate(LAYOUTS, JOB), PLAIN.evaluate(LAYOUTS, JOB)
    for name, values in plain.metrics.items():
        np.testing.assert_allclose(design.metrics[name], values, rtol=1e-12, err_msg=name)
    np.testing.assert_array_equal(design.feasible, plain.feasible)


def test_more_hbm_stacks_buy_capacity_and_bandwidth():
    # TP 8 without a pipeline, four sequences per micro-batch, ZeRO 2: 81.3 GiB per GPU; 90% of
    # 80 GiB (5 stacks) is 72 usable, of 96 GiB (6 stacks) 86.4; the extra bandwidth also
    # shortens the memory-bound kernels
    layout = {"tp": [8, 8], "pp": [1, 1], "microbatch": [4, 4], "zero_stage": [2, 2]}
    ev = SIM.evaluate({**layout, "gpu_hbm_stacks": [5, 6]}, JOB, details=True)
    assert not ev.feasible[0] and "GiB per GPU, 72.0 usable" in ev.details["infeasible_reason"][0]
    assert ev.feasible[1]
    ev = SIM.evaluate({"gpu_hbm_stacks": [5, 6]}, JOB)
    assert ev.metrics["step_time_s"][1] < ev.metrics["step_time_s"][0]


def test_the_price_is_the_gpu_design_domains():
    knobs = {"gpu_sms": [96, 144, 180], "gpu_clock_mhz": [1430, 1830, 2030],
             "gpu_l2_mib": [20, 60, 120], "gpu_hbm_stacks": [4, 6, 8]}  # fmt: skip
    ev = SIM.evaluate(knobs, JOB, details=True)
    gpu = GPU_DESIGN.simulator(GPU_DESIGN.load_arch("h100_sxm_n4"))
    alone = gpu.evaluate({k.removeprefix("gpu_"): v for k, v in knobs.items()},
                         GPU_DESIGN.load_workload("llama3_8b_chat"))  # fmt: skip
    for name in ("die_area_mm2", "silicon_cost_usd", "full_load_power_w"):
        np.testing.assert_allclose(ev.metrics[name], alone.metrics[name], rtol=1e-12)
    # a die past the reticle (26 x 33 mm) is infeasible, with the reason
    assert ev.metrics["die_area_mm2"][2] > 858 and not ev.feasible[2]
    assert "exceeds the 858 mm^2 reticle" in ev.details["infeasible_reason"][2]
    # cost of ownership: 1,024 GPUs' silicon over four years for one step, plus its energy
    g = gpu.arch
    i = 1
    capex = (
        1024
        * ev.metrics["silicon_cost_usd"][i]
        * ev.metrics["step_time_s"][i]
        / (g.service_years * 365.25 * 24 * 3600)
    )
    energy = ev.metrics["energy_j"][i] / 3.6e6 * g.usd_per_kwh
    assert ev.metrics["tco_per_step_usd"][i] == pytest.approx(capex + energy)


def test_a_faster_hotter_gpu_draws_its_own_power():
    # the same layout on a 2030 MHz GPU: its full-load power (SMs x clock^3) sets its energy
    ev = SIM.evaluate({"gpu_clock_mhz": [1830, 2030]}, JOB)
    assert ev.metrics["full_load_power_w"][1] > 700 == ev.metrics["full_load_power_w"][0]
    assert ev.metrics["step_time_s"][1] < ev.metrics["step_time_s"][0]
    assert ev.metrics["energy_j"][1] > ev.metrics["energy_j"][0] * 0.95


def test_a_cluster_design_spec_needs_a_gpu_design_spec():
    data = DESIGN_DOMAIN.load_arch("hgx_h100n4_1024").to_dict()
    data["architecture"]["gpu"]["value"] = "h100_sxm"
    with pytest.raises(SpecError, match=r"gpu: got 'h100_sxm'; expected a GPU design spec"):
        DESIGN_DOMAIN.load_arch(data)
