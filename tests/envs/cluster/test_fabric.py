"""Golden tests of the rail-optimised fat tree: which traffic the spine's oversubscription slows,
by how much, and what it does to a training step (pipeline transfers, contention, energy)."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.cluster import BREAKDOWN, DOMAIN, TrainingJob
from archgym_py.envs.cluster.fabric import (
    group_crossing,
    neighbour_crossing,
    ring_crossing,
    uplink_limited_rate,
)

from ..knob_sweep import evaluate_every_knob

SIM = DOMAIN.simulator(DOMAIN.load_arch("dgx_h100_1024"))
JOB = DOMAIN.load_workload("gpt3_175b")


def run(**design):
    return SIM.evaluate({k: list(v) for k, v in design.items()}, JOB, details=True)


def test_uplinks_limit_only_what_leaves_beyond_their_share():
    # half the traffic leaves: a 2:1 spine carries it at full rate, a 4:1 spine at half
    assert uplink_limited_rate(100.0, 0.5, [1.0, 2.0, 4.0]).tolist() == [100.0, 100.0, 50.0]
    assert uplink_limited_rate(100.0, 0.0, 64.0) == 100.0


def test_crossing_shares_of_the_three_patterns():
    # a partner 64 ranks away leaves a 256-GPU leaf group for 64 of its 256 GPUs
    assert neighbour_crossing([64, 256, 512], 256).tolist() == [0.25, 1.0, 1.0]
    # an all-to-all over 1024 consecutive ranks: 3/4 of each GPU's peers are in other groups
    assert group_crossing([128, 1024], 256).tolist() == [0.0, 0.75]
    # a 128-member ring over 1024 ranks crosses 4 group boundaries: 4 of its 128 hops
    assert ring_crossing([256, 1024], [32, 128], 256).tolist() == [0.0, 4 / 128]


def test_an_oversubscribed_spine_slows_pipeline_transfers_that_cross_it_and_not_rings():
    # pp 8 on 1024 GPUs: stage neighbours are 128 ranks apart, so half the GPUs of a 256-GPU
    # group send across the spine; 4:1 serves them at half the NIC rate, 2:1 at the full rate
    ev = run(tp=[8] * 3, pp=[8] * 3, oversubscription=[1.0, 2.0, 4.0])
    d = ev.details
    assert d["pp_transfer_s"][1] == d["pp_transfer_s"][0]
    a = SIM.arch
    boundary = 2048 * 12288 * 2.0 / 8  # one sequence's activations, scattered over 8 TP ranks
    rate = 400e9 / 8 * a.nic_efficiency
    extra = 2 * 7 * boundary / rate  # 2 (pp - 1) transfers, each taking twice as long
    assert d["pp_transfer_s"][2] - d["pp_transfer_s"][0] == pytest.approx(extra, rel=1e-9)
    # the data-parallel rings cross the spine four times in 128 hops: unaffected
    np.testing.assert_array_equal(d["dp_exposed_s"], d["dp_exposed_s"][0])


def test_a_step_lasts_at_least_its_fabric_traffic_at_the_nic_rate():
    # Llama-3-8B's 8192-token activations between pipeline stages over slow NICs: the steady-state
    # transfers, hidden under compute in the schedule, outlast it and the NIC bound takes over
    rng = np.random.default_rng(0)
    n = 64
    design = {
        "tp": rng.choice([1, 2, 4, 8], n),
        "pp": rng.choice([1, 2, 4, 8], n),
        "microbatch": rng.choice([1, 2, 4], n),
        "zero_stage": rng.choice([0, 1, 2, 3], n),
        "nic_gbps": rng.choice([1.0, 10.0, 400.0], n),
    }
    ev = SIM.evaluate(design, DOMAIN.load_workload("llama3_8b"), details=True)
    d = ev.details
    step = ev.metrics["step_time_s"]
    assert (step >= d["fabric_busy_s"] * (1 - 1e-12)).all()
    contended = d["fabric_contention_s"] > 0
    assert contended.any() and (~contended).any()
    np.testing.assert_allclose(step[contended], d["fabric_busy_s"][contended], rtol=1e-12)


def test_energy_lies_between_idle_and_full_power_and_hosts_add_their_share():
    ev = run(tp=[8, 4], pp=[8, 16])
    g, a = SIM.gpu.arch, SIM.arch
    step = ev.metrics["step_time_s"]
    low = a.gpus * (g.idle_power_w + a.host_power_w) * step
    high = a.gpus * (g.tdp_w + a.host_power_w) * step
    assert (low < ev.metrics["energy_j"]).all() and (ev.metrics["energy_j"] < high).all()


def test_goodput_pays_checkpoint_writes_and_half_an_interval_per_failure():
    a = SIM.arch
    ev = run(checkpoint_interval_min=[10.0, 60.0, 600.0])
    write = JOB.model.params * 14 / (a.checkpoint_gbs * 1e9)
    rate = a.gpus * a.gpu_failures_per_hour / 3600
    for i, minutes in enumerate((10.0, 60.0, 600.0)):
        tau = minutes * 60
        expected = 1 - write / tau - rate * (tau / 2 + a.restart_s)
        assert ev.metrics["goodput"][i] == pytest.approx(expected, rel=1e-12)
    # Young's interval sqrt(2 x write / rate) beats a much shorter and a much longer one
    young = np.sqrt(2 * write / rate) / 60
    best = run(checkpoint_interval_min=[young / 4, young, young * 4]).metrics["goodput"]
    assert best[1] > best[0] and best[1] > best[2]
    np.testing.assert_allclose(
        ev.metrics["goodput_tokens_per_s"], ev.metrics["goodput"] * ev.metrics["tokens_per_s"]
    )


@pytest.mark.parametrize("name", DOMAIN.arch_names())
def test_every_shipped_cluster_spec_runs_a_feasible_layout(name):
    from archgym_py.envs.cluster import TrainingJob
    from archgym_py.envs.workloads import load_model

    sim = DOMAIN.simulator(DOMAIN.load_arch(name))
    job = TrainingJob(load_model("llama3_8b"), seq_len=4096, global_batch=sim.arch.gpus)
    ev = sim.evaluate({"tp": [8], "pp": [1], "cp": [1], "microbatch": [1]}, job, details=True)
    assert ev.feasible[0], ev.details["infeasible_reason"][0]
    assert all(np.isfinite(v).all() and (v > 0).all() for v in ev.metrics.values())
    assert 0.2 < ev.metrics["mfu"][0] < 0.7


def test_torus_shapes_shifts_and_bisection():
    from archgym_py.envs.cluster.fabric import (
        torus_all_to_all_rate,
        torus_shape,
        torus_shift_rate,
    )

    assert torus_shape(128, 3) == (4, 4, 8) and torus_shape(128, 2) == (8, 16)
    # a shift of 32 domains on 4 x 4 x 8 is two hops along the 8-ring: each of its links carries
    # two flows, and a GPU owns 1/6 of its domain's six links
    assert torus_shift_rate(60.0, [1, 32, 64], (4, 4, 8)).tolist() == [10.0, 5.0, 2.5]
    # all-to-all over the whole 4 x 4 x 8 grid: two cuts of 16 links through the 8-long dimension
    # carry half of everyone's traffic: 4 rate / (3 x 8); over a 4 x 2 box: one wrapped cut of 4
    assert torus_all_to_all_rate(60.0, [1, 8, 128], (4, 4, 8)).tolist() == [60.0, 20.0, 10.0]


def test_on_a_torus_pipeline_transfers_pay_their_hops_and_rings_do_not():
    ev = run(tp=[8] * 2, pp=[4] * 2, topology=["fat_tree", "torus3d"])
    d = ev.details
    a = SIM.arch
    rate = 400e9 / 8 * a.nic_efficiency
    boundary = 2048 * 12288 * 2.0 / 8
    # stages 256 GPUs = 32 domains apart: two hops on the 8-ring, 1/6 of a link: rate / 12
    extra = 2 * 3 * boundary * (12 / rate - 1 / rate)
    assert d["pp_transfer_s"][1] - d["pp_transfer_s"][0] == pytest.approx(extra, rel=1e-9)
    assert d["dp_exposed_s"][1] == d["dp_exposed_s"][0]


def test_on_a_ring_of_domains_and_on_one_switch():
    # pp 4 on 1024 GPUs: stages 256 GPUs = 32 DGX domains apart. On a ring of the 128 domains that
    # is 32 hops, each link carrying 32 flows, and a domain's rate splits over its 2 links:
    # rate / 64. On one non-blocking switch nothing crosses a spine, even when the fat tree's is
    # oversubscribed 4:1 (where every stage partner sits in another 256-GPU leaf group)
    ev = run(tp=[8] * 3, pp=[4] * 3, topology=["switch", "ring", "fat_tree"],
             oversubscription=[4.0] * 3)  # fmt: skip
    d = ev.details
    rate = 400e9 / 8 * SIM.arch.nic_efficiency
    boundary = 2048 * 12288 * 2.0 / 8
    assert d["pp_transfer_s"][1] - d["pp_transfer_s"][0] == pytest.approx(
        2 * 3 * boundary * (64 / rate - 1 / rate), rel=1e-9
    )
    assert d["pp_transfer_s"][2] > d["pp_transfer_s"][0]  # the spine slows the fat tree
    # data-parallel rings run at the full rate on all three
    assert d["dp_exposed_s"][0] == d["dp_exposed_s"][1]
    from archgym_py.envs.cluster.fabric import torus_all_to_all_rate, torus_shape

    # an all-to-all over a whole 128-ring: two cuts of one link each carry half of everything
    assert torus_shape(128, 1) == (128,)
    assert torus_all_to_all_rate(64.0, [1, 128], (128,)).tolist() == [64.0, 2.0]


@pytest.mark.parametrize("job", ["gpt3_175b", "mixtral_8x7b"])
def test_every_knob_combination_runs_or_says_why_and_the_breakdown_sums(job):
    # all tunables at once, at valid values: finite metrics, an exact breakdown, and a reason
    # exactly where a design is infeasible (the cluster model must never crash or go NaN)
    options = {
        "tp": [1, 2, 4, 8], "pp": [1, 2, 4, 8, 16], "pp_interleave": [1, 2],
        "pp_schedule": ["1f1b", "gpipe", "zb_h1", "zb_h2", "zb_v"], "pp_split": ["layers", "embedding_loss"], "cp": [1, 2], "ep": [1, 2, 8], "etp": [0, 1, 2],
        "microbatch": [1, 2], "zero_stage": [0, 1, 2, 3], "zero_scope": ["global", "domain"],
        "offload": ["none", "cpu"], "recompute": ["none", "selective", "full"], "dtype": ["bf16", "fp8"],
        "tp_overlap": ["none", "overlap"], "attention": ["flash", "cudnn", "unfused"], "dp_overlap": ["grad", "grad_param"], "dp_algorithm": ["ring", "tree", "rhd"], "nvlink_domain": [8, 16],
        "nic_gbps": [50.0, 400.0], "topology": ["fat_tree", "switch", "ring", "torus2d", "torus3d"],
        "oversubscription": [1.0, 3.0], "checkpoint_interval_min": [5.0, 120.0],
    }  # fmt: skip
    ev = evaluate_every_knob(SIM, options, DOMAIN.load_workload(job), n=512, seed=7)
    total = sum(ev.details[k] for k in BREAKDOWN)
    np.testing.assert_allclose(total, ev.metrics["step_time_s"], rtol=1e-12)
    assert ev.feasible.any() and (~ev.feasible).any()
    assert (ev.metrics["step_time_s"][ev.feasible] > 0).all()


def test_metas_roce_cluster_tapers_pipeline_transfers_between_its_pods():
    # the Llama 3 paper's RoCE cluster: pods of 3,072 GPUs at full bisection, 1:7 above them.
    # Pipeline stages 24,576 / 4 = 6,144 ranks apart sit in different pods: their transfers
    # cross the aggregation layer at a seventh of the NIC rate
    roce = DOMAIN.load_arch("meta_h100_roce_24576")
    assert (roce.gpus, roce.leaf_gpus, roce.oversubscription) == (24576, 3072, 7.0)
    job = TrainingJob(DOMAIN.load_workload("llama2_70b").model, 4096, 3072)
    design = {"tp": [8], "pp": [4], "microbatch": [1]}
    tapered = DOMAIN.simulator(roce).evaluate(design, job, details=True)
    flat = DOMAIN.simulator(roce.replace(oversubscription=1.0)).evaluate(design, job, details=True)
    assert tapered.feasible[0]
    ratio = tapered.details["pp_transfer_s"][0] / flat.details["pp_transfer_s"][0]
    assert ratio == pytest.approx(7.0, rel=0.05)
