"""The co-design env (hardware and mapping knobs on the loop-nest model): the hierarchy a design
builds, the knob mappings (within their budget, exact on the loop-nest model, close to the
mapper's optimum), and the env through gymnasium."""

from __future__ import annotations

import dataclasses
import itertools
import re

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archgym_py  # noqa: F401  (registers the envs)
from archgym_py import DesignError, SpecError
from archgym_py.envs.accelerator import DOMAIN as ACCELERATOR
from archgym_py.envs.accelerator.codesign import (
    CODESIGN_DOMAIN,
    KNOB_CANDIDATES,
    KNOB_CANDIDATES_ARRAYS,
    SERVED,
    evaluate_layer,
    evaluate_pairs,
    knob_costs,
    knob_costs_numpy,
    knob_mappings,
    layer_problems,
    levels_of,
    map_pairs,
)
from archgym_py.envs.accelerator.hierarchy import load_hierarchy
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
    rf, glb, dram = levels_of(eyeriss(), 156)
    assert (rf.capacity_bits, glb.capacity_bits, dram.capacity_bits) == (4096, 108 * 8192, None)
    assert (rf.instances, glb.instances, dram.instances) == (156, 1, 1)
    # 0.15625 pJ/bit at 8 KiB x (0.5 KiB / 8 KiB) ^ 0.5; the GLB adds the NoC's 0.106 pJ/bit
    assert rf.read_pj["W"] == pytest.approx(16 * 0.15625 * 0.25)
    assert glb.read_pj["I"] == pytest.approx(16 * (0.15625 * (108 / 8) ** 0.5 + 0.106))
    assert dram.read_pj["O"] == pytest.approx(16 * 20.0)
    assert dram.bandwidth_bits == pytest.approx(64.0)  # 1.6 GB/s at 200 MHz: 8 B a cycle
    assert glb.bandwidth_bits == 128 and rf.bandwidth_bits is None
    assert rf.word_bits == {"W": 16, "I": 16, "O": 16}


@pytest.mark.parametrize("flow", sorted(SERVED))
def test_the_array_unrolls_as_a_hierarchy_with_the_same_served_loops_does(flow):
    rng = np.random.default_rng(len(flow))
    problems = [Problem(N=int(rng.choice([1, 4])), K=int(rng.choice([6, 64, 96, 384])),
                        C=int(rng.choice([3, 48, 256])), P=int(rng.choice([7, 13, 56])),
                        Q=int(rng.choice([7, 13, 56])), R=3, S=3) for _ in range(20)]  # fmt: skip
    rows, cols = rng.choice([4, 12, 16, 64], 20), rng.choice([4, 14, 32], 20)
    _, _, S, _ = knob_mappings(
        {**eyeriss(dataflow=flow), "pe_rows": rows, "pe_cols": cols},
        np.array([list(p.bounds.values()) for p in problems]), 1,
    )  # fmt: skip
    ref = load_hierarchy("eyeriss")
    for i, p in enumerate(problems):
        h = dataclasses.replace(ref, array={"rows": int(rows[i]), "cols": int(cols[i])},
                                dataflow=SERVED[flow])  # fmt: skip
        want = h.unrolling(p)
        assert {d: int(f) for d, f in zip(DIMS, S[i, 1], strict=True) if f > 1} == want


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
        knobs = {**design, "rf_stationary": stationary[0], "glb_stationary": stationary[1],
                 "rf_fill": fill[0], "glb_fill": fill[1]}  # fmt: skip
        T, orders, S, _ = knob_mappings(knobs, np.array([list(problem.bounds.values())]), 1)
        T, orders, S = T[0], orders[0], S[0]
        levels = levels_of(knobs, int(S[1].prod()))  # scalar levels for the one-mapping model
        assert (T.prod(axis=0) * S.prod(axis=0) == list(problem.bounds.values())).all()
        mapping = [LevelMapping([(DIMS[d], int(T[lv, d])) for d in orders[lv] if T[lv, d] > 1],
                                {x: int(f) for x, f in zip(DIMS, S[lv], strict=True) if f > 1})
                   for lv in range(3)]  # fmt: skip
        got = evaluate_layer(knobs, problem)
        if not got["fits"]:  # the array's tiles alone overfill the GLB: no temporal loop helps
            assert T[1].prod() == 1
            with pytest.raises(SpecError, match="GLB holds"):
                evaluate(problem, levels, mapping)
            continue
        cost = evaluate(problem, levels, mapping, mac_pj=0.85)  # raises if it overfills
        for i, share in enumerate(fill):
            bits = sum(cost.tiles[(levels[i].name, op)] * 16 for op in OPERANDS)
            # the budget holds unless even one-word tiles (no temporal loops) exceed it
            assert bits <= share * levels[i].capacity_bits or T[i].prod() == 1
        assert got["cycles"] == pytest.approx(cost.cycles)
        assert got["energy_pj"] == pytest.approx(cost.total_energy_pj)


def test_the_knob_space_holds_mappings_near_the_mappers_optimum():
    design = eyeriss()
    _, _, S, _ = knob_mappings(design, np.array([list(CONV2.bounds.values())]), 1)
    spatial = [{x: int(f) for x, f in zip(DIMS, S[0, lv], strict=True) if f > 1} for lv in range(3)]
    levels = levels_of(design, int(S[0, 1].prod()))
    _, best = search(CONV2, levels, spatial, objective="energy", samples=8192, mac_pj=0.85)
    energies = [
        evaluate_layer({**design, "rf_stationary": a, "glb_stationary": b, "rf_fill": f,
                        "glb_fill": g}, CONV2)["energy_pj"]
        for a, b, f, g in KNOB_CANDIDATES
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


def test_many_pairs_at_once_equal_each_pair_alone():
    core = archgym_py.make_core("archgym/AcceleratorCoDesign-v0")
    designs = core.space.sample(40, seed=3)
    problems = [p for p, _ in layer_problems(ACCELERATOR.load_workload("mobilenet_v2"))][:6]
    n, L = 40, len(problems)
    arch = CODESIGN_DOMAIN.load_arch("eyeriss")
    constants = arch.constant_values()
    pairs = {k: np.repeat(np.asarray(v), L) for k, v in arch.fill(designs).items()}
    bounds = np.tile([list(p.bounds.values()) for p in problems], (n, 1))
    together = evaluate_pairs(
        {**constants, **pairs}, bounds, np.tile([p.stride for p in problems], n)
    )
    for i in range(0, n * L, 7):
        design = {**constants, **{k: v[i] for k, v in pairs.items()}}
        alone = evaluate_layer(design, problems[i % L])
        assert together["cycles"][i] == pytest.approx(alone["cycles"])
        assert together["energy_pj"][i] == pytest.approx(alone["energy_pj"])
        assert together["fits"][i] == alone["fits"]


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_the_mapper_keeps_each_pairs_best_knob_mapping_by_its_objective(objective):
    design = eyeriss(glb_kib=32, rf_bytes=128)
    problems = [Problem(K=64, C=64, P=56, Q=56, R=3, S=3), Problem(K=512, C=256, P=7, Q=7),
                Problem(K=32, C=3, P=112, Q=112, R=7, S=7, stride=2)]  # fmt: skip
    bounds = np.array([list(p.bounds.values()) for p in problems])
    strides = np.array([p.stride for p in problems])
    best = map_pairs(design, bounds, strides, objective)
    for i, p in enumerate(problems):
        scores = []
        for rs, gs, rf, gf in KNOB_CANDIDATES:
            r = evaluate_layer({**design, "rf_stationary": rs, "glb_stationary": gs,
                                "rf_fill": rf, "glb_fill": gf}, p)  # fmt: skip
            value = {"latency": r["cycles"], "energy": r["energy_pj"],
                     "edp": r["cycles"] * r["energy_pj"]}[objective]  # fmt: skip
            scores.append(value if r["fits"] else np.inf)
        assert KNOB_CANDIDATES[best["choice"][i]] == KNOB_CANDIDATES[int(np.argmin(scores))] or min(
            scores
        ) == pytest.approx(scores[best["choice"][i]])  # a tie, broken otherwise
        chosen = {"latency": best["cycles"][i], "energy": best["energy_pj"][i],
                  "edp": best["cycles"][i] * best["energy_pj"][i]}[objective]  # fmt: skip
        assert chosen == pytest.approx(min(scores))


def test_the_mapper_refuses_an_unknown_objective():
    with pytest.raises(SpecError, match=r"objective: got 'speed'; expected one of"):
        map_pairs(eyeriss(), np.array([list(CONV2.bounds.values())]), 1, "speed")
    with pytest.raises(SpecError, match=r"engine: got 'gpu'; expected one of"):
        map_pairs(eyeriss(), np.array([list(CONV2.bounds.values())]), 1, engine="gpu")
    with pytest.raises(SpecError, match=r"dataflow: got 'XY'; expected one of"):
        map_pairs(eyeriss(dataflow="XY"), np.array([list(CONV2.bounds.values())]), 1)


def _random_pairs(n, workloads, seed):
    """``n`` random designs of the mapped env's space (all four dataflows, every knob) paired
    with every layer of ``workloads``: the design dict, bounds and strides of the pairs."""
    from archgym_py import make_core

    core = make_core("archgym/AcceleratorMapped-v0")
    full = core.simulator.arch.fill(core.space.sample(n, seed=seed))
    problems = [p for w in workloads for p, _ in layer_problems(ACCELERATOR.load_workload(w))]
    L = len(problems)
    design = {**core.simulator._constants,
              **{k: np.repeat(np.broadcast_to(v, n), L) for k, v in full.items()}}  # fmt: skip
    bounds = np.tile([list(p.bounds.values()) for p in problems], (n, 1))
    return design, bounds, np.tile([p.stride for p in problems], n)


def test_the_compiled_mapper_costs_every_candidate_as_numpy_does_bit_for_bit():
    # strided, depthwise, 1x1 and GEMM layers on 16 random designs: 81 candidates each
    design, bounds, stride = _random_pairs(16, ["resnet18", "mobilenet_v2", "bert_base_layer"], 3)
    compiled = knob_costs(design, bounds, stride)
    reference = knob_costs_numpy(design, bounds, stride)
    for name, a, b in zip(("cycles", "energy", "fits"), compiled, reference, strict=True):
        assert a.shape == (len(bounds), len(KNOB_CANDIDATES)), name
        assert np.array_equal(a, b), (name, np.flatnonzero(a != b)[:5])
    # a 4-byte RF holds no 16-bit weight, input and partial sum at once: nothing fits
    tiny = eyeriss(rf_bytes=4)
    conv2 = np.array([list(CONV2.bounds.values())])
    for a, b in zip(knob_costs(tiny, conv2, 1), knob_costs_numpy(tiny, conv2, 1), strict=True):
        assert np.array_equal(a, b)
    assert not knob_costs(tiny, conv2, 1)[2].any()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    bounds=st.lists(st.integers(1, 60), min_size=7, max_size=7),
    stride=st.integers(1, 4),
    hardware=st.fixed_dictionaries({
        "pe_rows": st.integers(1, 40), "pe_cols": st.integers(1, 40),
        "rf_bytes": st.sampled_from([4, 16, 64, 200, 512]),
        "glb_kib": st.sampled_from([1, 8, 108, 300]),
        "glb_bw_bytes_per_cycle": st.sampled_from([1, 16, 64]),
        "dram_bw_gbps": st.sampled_from([0.5, 4, 64]),
        "dataflow": st.sampled_from(sorted(SERVED)),
    }),
)  # fmt: skip
def test_any_layer_on_any_array_is_costed_as_in_numpy_bit_for_bit(bounds, stride, hardware):
    # odd shapes (primes, ones, strides past the filter) on odd arrays: every candidate's numbers
    design, layer = eyeriss(**hardware), np.array([bounds])
    for a, b in zip(knob_costs(design, layer, stride), knob_costs_numpy(design, layer, stride),
                    strict=True):  # fmt: skip
        assert np.array_equal(a, b)
    compiled = map_pairs(design, layer, stride, "edp")
    reference = map_pairs(design, layer, stride, "edp", engine="numpy")
    for key in compiled:
        assert np.array_equal(compiled[key], reference[key]), key


def test_a_loop_bound_with_hundreds_of_divisors_is_mapped_as_in_numpy():
    # 1,441,440 has 288 divisors, 720,720 has 240: the kernel's divisor tables grow to fit
    bounds = np.array([[1, 1441440, 4, 7, 7, 1, 1], [2, 720720, 3, 1, 1, 1, 1]])
    for a, b in zip(knob_costs(eyeriss(), bounds, 1), knob_costs_numpy(eyeriss(), bounds, 1),
                    strict=True):  # fmt: skip
        assert np.array_equal(a, b)


def test_the_co_design_env_costs_each_designs_own_mapping_in_the_kernel_as_in_numpy():
    core = __import__("archgym_py").make_core("archgym/AcceleratorCoDesign-v0")
    n, problems = 24, layer_problems(ACCELERATOR.load_workload("mobilenet_v2"))
    full = core.simulator.arch.fill(core.space.sample(n, seed=7))  # random mapping knobs too
    design = {**core.simulator._constants,
              **{k: np.repeat(np.broadcast_to(v, n), len(problems)) for k, v in full.items()}}  # fmt: skip
    bounds = np.tile([list(p.bounds.values()) for p, _ in problems], (n, 1))
    stride = np.tile([p.stride for p, _ in problems], n)
    compiled = evaluate_pairs(design, bounds, stride)
    reference = evaluate_pairs(design, bounds, stride, engine="numpy")
    assert compiled.keys() == reference.keys()
    for key in compiled:
        assert np.array_equal(compiled[key], reference[key]), key
    with pytest.raises(SpecError, match=r"stationary operand: got 'X'; expected one of"):
        evaluate_pairs({**design, "rf_stationary": "X"}, bounds, stride)


def test_the_kernel_in_slices_on_threads_gives_what_one_call_gives(monkeypatch):
    from archgym_py.envs.accelerator import codesign

    design, bounds, stride = _random_pairs(4, ["alexnet"], 11)  # 32 pairs
    knobs = KNOB_CANDIDATES_ARRAYS  # each pair its own knob mapping for evaluate_pairs
    design.update({key: np.resize(v, len(bounds)) for key, v in knobs.items()})
    whole = map_pairs(design, bounds, stride), evaluate_pairs(design, bounds, stride)
    monkeypatch.setattr(codesign, "KERNEL_SLICE", {False: 5, True: 3})  # 7 and 11 slices
    monkeypatch.setattr(codesign, "THREADS", 2)
    sliced = map_pairs(design, bounds, stride), evaluate_pairs(design, bounds, stride)
    for a, b in zip(whole, sliced, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_both_engines_choose_the_same_mapping_and_report_the_same_cost(objective):
    design, bounds, stride = _random_pairs(8, ["alexnet", "llama7b_decode"], 5)
    compiled = map_pairs(design, bounds, stride, objective)
    reference = map_pairs(design, bounds, stride, objective, engine="numpy")
    assert compiled.keys() == reference.keys()
    for key in compiled:
        assert np.array_equal(compiled[key], reference[key]), key


def test_the_mapped_env_maps_every_layer_for_edp_at_least_as_well_as_any_one_knob_setting():
    from archgym_py.envs.accelerator.codesign import MAPPED_DOMAIN

    sim = MAPPED_DOMAIN.simulator(MAPPED_DOMAIN.load_arch("eyeriss"))  # the compact specs
    codesign = CODESIGN_DOMAIN.simulator(CODESIGN_DOMAIN.load_arch("eyeriss"))
    net = ACCELERATOR.load_workload("alexnet")
    designs = {"pe_rows": [8, 16, 32], "glb_kib": [32, 108, 512], "dataflow": ["RS", "WS", "OS"]}
    mapped = sim.evaluate(designs, net, details=True).details
    edp = mapped["layer_latency_s"] * mapped["layer_energy_j"]
    for rs, gs, rf, gf in KNOB_CANDIDATES[::8]:
        knobs = {**designs, "rf_stationary": [rs] * 3, "glb_stationary": [gs] * 3,
                 "rf_fill": [rf] * 3, "glb_fill": [gf] * 3}  # fmt: skip
        fixed = codesign.evaluate(knobs, net, details=True).details
        fixed_edp = fixed["layer_latency_s"] * fixed["layer_energy_j"]
        ok = fixed["layer_feasible"]
        assert np.all(edp[ok] <= fixed_edp[ok] * (1 + 1e-9))
    env = gym.make("archgym/AcceleratorMapped-v0")
    _, info = env.reset(seed=0)
    assert "rf_stationary" not in info["design"] and info["feasible"]


def test_details_print_each_layer_and_the_mapping_the_mapper_chose(capsys):
    from archgym_py.cli import main

    assert main(["eval", "archgym/AcceleratorMapped-v0", "--details"]) == 0
    out = capsys.readouterr().out
    lines = [x for x in out.splitlines() if x.strip().startswith(("conv1 ", "fc "))]
    assert len(lines) == 2 and all(re.search(r"RF [WIO] [0-9.]+, GLB [WIO] [0-9.]+$", x)
                                   for x in lines)  # fmt: skip
