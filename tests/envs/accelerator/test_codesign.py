"""The co-design env (hardware and mapping knobs on the loop-nest model): the hierarchy a design
builds, the knob mappings (within their budget, exact on the loop-nest model, close to the
mapper's optimum), and the env through gymnasium."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import archgym_py  # noqa: F401  (registers the envs)
from archgym_py import DesignError, SpecError
from archgym_py.envs.accelerator import DOMAIN as ACCELERATOR
from archgym_py.envs.accelerator.codesign import (
    CODESIGN_DOMAIN,
    evaluate_layer,
    hierarchy_of,
    knob_mapping,
    layer_problems,
)
from archgym_py.envs.accelerator.loopnest import (
    DIMS,
    OPERANDS,
    LevelMapping,
    Problem,
    evaluate,
    search,
)

CONV2 = Problem(K=64, C=64, P=56, Q=56, R=3, S=3)  # ResNet-18 conv2_x (He et al., 2016)


def eyeriss(**changes):
    arch = CODESIGN_DOMAIN.load_arch("eyeriss")
    return {**arch.constant_values(), **arch.tunable_values(), **changes}


def test_a_design_builds_rf_glb_and_dram_from_the_compact_knobs():
    h = hierarchy_of(eyeriss())
    rf, glb, dram = h.levels
    assert (rf.capacity_bits, glb.capacity_bits, dram.capacity_bits) == (4096, 108 * 8192, None)
    # 0.15625 pJ/bit at 8 KiB x (0.5 KiB / 8 KiB) ^ 0.5; the GLB adds the NoC's 0.106 pJ/bit
    assert rf.read_pj_per_bit["W"] == pytest.approx(0.15625 * 0.25)
    assert glb.read_pj_per_bit["I"] == pytest.approx(0.15625 * (108 / 8) ** 0.5 + 0.106)
    assert dram.bandwidth_bits == pytest.approx(64.0)  # 1.6 GB/s at 200 MHz: 8 B a cycle
    assert glb.bandwidth_bits == 128 and rf.bandwidth_bits is None
    assert h.precision_bits == {"W": 16, "I": 16, "O": 16} and h.array == {"rows": 12, "cols": 14}
    assert h.dataflow == {"rows": ("R", "C"), "cols": ("P", "K")}


@pytest.mark.parametrize("stationary", list(itertools.product(OPERANDS, OPERANDS)))
def test_knob_mappings_stay_within_their_budget_and_cost_what_the_loop_nest_says(stationary):
    rng = np.random.default_rng(sum(map(ord, "".join(stationary))))
    for _ in range(4):
        design = eyeriss(rf_bytes=int(rng.choice([64, 256, 1024])),
                         glb_kib=int(rng.choice([16, 128, 1024])),
                         dataflow=str(rng.choice(["WS", "OS", "IS", "RS"])))  # fmt: skip
        fill = tuple(float(x) for x in rng.choice([0.25, 0.5, 1.0], 2))
        problem = Problem(K=int(rng.choice([16, 64, 96])), C=int(rng.choice([3, 32, 64])),
                          P=int(rng.choice([7, 14, 28])), Q=14, R=3, S=3)  # fmt: skip
        h = hierarchy_of(design)
        T, orders, spatial, levels = knob_mapping(h, problem, stationary, fill)
        assert (T.prod(axis=0) * [np.prod([s.get(d, 1) for s in spatial]) for d in DIMS]
                == list(problem.bounds.values())).all()  # fmt: skip
        mapping = [LevelMapping([(DIMS[d], int(T[lv, d])) for d in orders[lv] if T[lv, d] > 1],
                                spatial[lv]) for lv in range(3)]  # fmt: skip
        got = evaluate_layer({**design, "rf_stationary": stationary[0],
                              "glb_stationary": stationary[1], "rf_fill": fill[0],
                              "glb_fill": fill[1]}, problem)  # fmt: skip
        if not got["fits"]:  # the array's tiles alone overfill the GLB: no temporal loop helps
            assert T[1].prod() == 1
            with pytest.raises(SpecError, match="GLB holds"):
                evaluate(problem, levels, mapping)
            continue
        cost = evaluate(problem, levels, mapping, mac_pj=h.mac_energy_pj)  # raises if it overfills
        for i, share in enumerate(fill):
            bits = sum(cost.tiles[(levels[i].name, op)] * 16 for op in OPERANDS)
            # the budget holds unless even one-word tiles (no temporal loops) exceed it
            assert bits <= share * levels[i].capacity_bits or T[i].prod() == 1
        assert got["cycles"] == pytest.approx(cost.cycles)
        assert got["energy_pj"] == pytest.approx(cost.total_energy_pj)


def test_the_knob_space_holds_mappings_near_the_mappers_optimum():
    design = eyeriss()
    h = hierarchy_of(design)
    spatial = h.spatial(CONV2)
    _, best = search(CONV2, h.loopnest_levels(spatial), spatial, objective="energy",
                     samples=8192, mac_pj=h.mac_energy_pj)  # fmt: skip
    energies = [
        evaluate_layer({**design, "rf_stationary": a, "glb_stationary": b, "rf_fill": f,
                        "glb_fill": g}, CONV2)["energy_pj"]
        for a, b, f, g in itertools.product(OPERANDS, OPERANDS, (0.25, 0.5, 1.0), (0.25, 0.5, 1.0))
    ]  # fmt: skip
    # measured: the best knob mapping at 1.15x the random-pruned mapper's 8,192-sample optimum;
    # the worst at 4.8x: the mapping is worth searching
    assert min(energies) <= 1.25 * best.total_energy_pj
    assert max(energies) >= 2 * min(energies)


def test_the_env_steps_through_gymnasium_and_the_mapping_moves_the_metrics():
    env = gym.make("archgym/AcceleratorCoDesign-v0")
    _, info = env.reset(seed=0)
    assert info["design"]["rf_stationary"] == "W" and info["design"]["glb_fill"] == 0.5
    sim = env.unwrapped.simulator
    net = ACCELERATOR.load_workload("resnet18")
    ev = sim.evaluate({"rf_stationary": ["W", "I", "O"]}, net, details=True)
    assert np.all(np.isfinite(ev.metrics["energy_j"])) and ev.feasible.all()
    assert len(set(ev.metrics["energy_j"].round(12))) == 3
    # the network's energy is its layers' (each counted as often as it runs)
    assert ev.details["layer_energy_j"].sum(axis=1) == pytest.approx(ev.metrics["energy_j"])
    assert sum(c for _, c in layer_problems(net)) == sum(x.count * x.groups for x in net.layers)
    _, reward, *_ = env.step(env.action_space.sample())
    assert np.isfinite(reward)


def test_a_bad_mapping_knob_names_the_field_and_the_choices():
    sim = CODESIGN_DOMAIN.simulator(CODESIGN_DOMAIN.load_arch("eyeriss"))
    with pytest.raises(
        DesignError,
        match=r"design.rf_stationary: unknown value 'X'; expected one of \['I', 'O', 'W'\]",
    ):
        sim.evaluate({"rf_stationary": ["X"]}, ACCELERATOR.load_workload("alexnet"))
