"""The future-GPU design model: area from the reference die, the reticle, yield-driven cost,
full-load power, cost per token."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.gpu import DESIGN_DOMAIN, DOMAIN

ARCH = DESIGN_DOMAIN.load_arch("h100_sxm_n4")
SIM = DESIGN_DOMAIN.simulator(ARCH)
WORK = DOMAIN.load_workload("llama3_8b_chat")


def evaluate(**design):
    return SIM.evaluate({k: list(v) for k, v in design.items()}, WORK, details=True)


def test_the_reference_die_reproduces_its_published_area():
    # the full GH100: 144 SMs, 60 MB L2, 6 HBM PHYs (and 18 NVLinks): 814 mm^2 by construction
    ev = evaluate(sms=[144], l2_mib=[60], hbm_stacks=[6])
    assert ev.metrics["die_area_mm2"][0] == pytest.approx(ARCH.reference_die_mm2)
    assert 3.0 < ARCH.sm_mm2 < 6.0  # GH100 less L2 and PHYs over 144 SMs


def test_a_die_past_the_reticle_is_infeasible_and_says_so():
    ev = evaluate(sms=[132, 192], l2_mib=[50, 120], hbm_stacks=[5, 8])
    assert ev.feasible.tolist() == [True, False]
    assert "reticle" in ev.details["infeasible_reason"][1]


def test_yield_makes_die_cost_grow_faster_than_area():
    small, large = SIM.die_cost(np.array([400.0, 800.0]))
    assert large > 2.5 * small
    # by hand: gross dies on a 300 mm wafer, Poisson yield at D0 = 0.1 / cm^2
    area = 800.0
    gross = np.pi * 150**2 / area - np.pi * 300 / np.sqrt(2 * area)
    assert large == pytest.approx(ARCH.wafer_usd / (gross * np.exp(-0.1 * area / 100)))


def test_full_load_power_is_the_board_limit_at_the_reference_and_cubic_in_clock():
    ev = evaluate(sms=[132, 132], clock_mhz=[1830, 1830 * 0.8], hbm_stacks=[5, 5])
    p = ev.metrics["full_load_power_w"]
    assert p[0] == pytest.approx(ARCH.tdp_w)
    fixed = ARCH.idle_power_w + 5 * ARCH.hbm_stack_w
    assert p[1] - fixed == pytest.approx((p[0] - fixed) * 0.8**3)


def test_hbm_follows_the_stack_count_and_costs_per_gib():
    ev = evaluate(hbm_stacks=[4, 8], batch=[8, 8])
    assert ev.metrics["tpot_s"][1] < ev.metrics["tpot_s"][0]  # twice the bandwidth
    hbm_cost = (
        np.diff(ev.metrics["silicon_cost_usd"])[0]
        - np.diff(SIM.die_cost(ev.metrics["die_area_mm2"]))[0]
    )
    assert hbm_cost == pytest.approx(4 * ARCH.hbm_stack_gib * ARCH.hbm_usd_per_gib)


def test_cost_per_token_is_finite_and_falls_with_batch():
    ev = evaluate(batch=[1, 16, 128])
    cost = ev.metrics["cost_per_mtoken_usd"]
    assert np.isfinite(cost).all() and np.all(np.diff(cost) < 0)


def test_every_gpu_simulator_returns_exactly_the_metrics_it_declares():
    from archgym_py.envs.gpu import TRAINING_DOMAIN

    cases = [
        (DOMAIN, "h100_sxm", WORK),
        (TRAINING_DOMAIN, "h100_sxm", TRAINING_DOMAIN.load_workload("gpt2_seq1024")),
        (DESIGN_DOMAIN, "h100_sxm_n4", WORK),
    ]
    for domain, arch, work in cases:
        sim = domain.simulator(domain.load_arch(arch))
        ev = sim.evaluate({"batch": [1, 2]}, work)
        assert set(ev.metrics) == {m.name for m in sim.metrics}, domain.name
