"""Golden values of the accelerator cost model, hand-computed, and properties that must hold."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.accelerator import DOMAIN, AcceleratorSimulator, Network, conv2d, load_arch
from archgym_py.envs.accelerator.model import LEVELS, layer_arrays, layer_costs

EYERISS = load_arch("eyeriss")
CONST = EYERISS.constant_values()  # 16-bit data, 16-bit partial sums (a = 1)

# A tiny layer: K=4 filters, C=2 channels, 1x1 kernel, 2x2 output; Cr=2, X=4, 32 MACs.
TINY = Network("tiny", (conv2d("tiny", in_channels=2, out_channels=4, in_size=2, kernel=1),))


def tiny_design(dataflow, rf_bytes=8, glb_kib=64.0):
    # 2 x 2 array, rf 8 B = 4 words; huge bandwidths so the layer is compute-bound.
    return {"pe_rows": np.array([2]), "pe_cols": np.array([2]), "rf_bytes": np.array([rf_bytes]),
            "glb_kib": np.array([glb_kib]), "glb_bw_bytes_per_cycle": np.array([1e6]),
            "dram_bw_gbps": np.array([1e6]), "dataflow": np.array([dataflow]), "clock_mhz": np.array([100.0])}  # fmt: skip


def costs(dataflow, **kw):
    return layer_costs(tiny_design(dataflow, **kw), CONST, layer_arrays(TINY.arrays))


# Hand derivations (rows = cols = 2, rf_words = 4, a = 1):
#  WS: uC=2, uK=2; t_max = 4-1-1 = 2, t = 2; nK = ceil(4/4) = 1, nC = 1 -> cycles = 1*(X*t + uC + uK) = 12.
#      GLB reads: weights 8 once, inputs Cr*X*nK = 8; NoC deliveries 8 + 8*uK(2) = 24.
#  OS: uK=2, uX=2; t_max = (4-2)/1 = 2, t = ceil(X/uX)=2 -> nX = 1, nK = 2 -> cycles = 2*(Cr*t + 2 + 2) = 16.
#      weights 8*nX = 8 (fan-out 2), inputs 8*nK = 16 (fan-out 2) -> deliveries 48.
#  IS: uC=2, uX=2; t = 2 -> nX = 1, nC = 1 -> cycles = K*t + uC + uX = 12; weights 8, inputs 8 -> deliveries 8*2 + 8 = 24.
#  RS: uR=1, uC=2, uP=2, uK=1; t_max = (4-1)/(1+1) = 1 -> nK = 4 -> cycles = 4*(Q*S*t + uR + uP) = 20;
#      weights 8 (fan-out uP=2), input rows per pass 1*((2-1)*1 + 1) = 2 -> inputs 2*2*2*4 = 32 (fan-out uR*uK = 1).
GOLDEN = {
    "WS": dict(cycles=12, deliveries=24, glb_array_words=8 + 8),
    "OS": dict(cycles=16, deliveries=48, glb_array_words=8 + 16),
    "IS": dict(cycles=12, deliveries=24, glb_array_words=8 + 8),
    "RS": dict(cycles=20, deliveries=8 * 2 + 32, glb_array_words=8 + 32),
}


@pytest.mark.parametrize("dataflow", sorted(GOLDEN))
def test_tiny_layer_golden(dataflow):
    c = costs(dataflow)
    g = GOLDEN[dataflow]
    assert c.macs[0, 0] == 32
    assert c.compute_cycles[0, 0] == g["cycles"]
    assert c.cycles[0, 0] == g["cycles"] and c.binding[0, 0] == 0  # compute-bound
    assert c.noc_deliveries[0, 0] == g["deliveries"]
    # Everything fits in a 64 KiB GLB: DRAM moves each weight, input and output once (8 + 8 + 16).
    assert c.dram_words[0, 0] == 32
    # GLB bits: array-side reads + outputs written (16) + DRAM fills/drains (32), all 16-bit.
    assert c.glb_bits[0, 0] == (g["glb_array_words"] + 16 + 32) * 16
    assert c.feasible[0, 0]
    e = dict(zip(LEVELS, c.energy_pj[:, 0, 0], strict=True))
    assert e["mac"] == pytest.approx(32 * 0.85)
    assert e["dram"] == pytest.approx(32 * 16 * 20.0)
    assert e["noc"] == pytest.approx(g["deliveries"] * 16 * 0.106)
    rf_pj_per_bit = 0.15625 * ((8 / 1024) / 8) ** 0.5
    assert e["rf"] == pytest.approx((2 * 32 * 32 + g["deliveries"] * 16) * rf_pj_per_bit)


def test_memory_bound_layer_names_dram_and_uses_bandwidth():
    d = tiny_design("WS")
    d["dram_bw_gbps"] = np.array(
        [0.0016]
    )  # 16 bytes per 10 ns cycle -> 0.016 bytes/cycle at 100 MHz
    c = layer_costs(d, CONST, layer_arrays(TINY.arrays))
    assert c.binding[0, 0] == 2
    assert c.cycles[0, 0] == pytest.approx(
        32 * 2 / 0.016
    )  # 64 bytes at 0.016 B/cycle = 4000 cycles


def test_rf_too_small_for_row_stationary_is_infeasible_not_nan():
    layer = Network("k7", (conv2d("k7", 3, 8, 16, 7),))
    d = tiny_design("RS", rf_bytes=8)  # 4 words < S=7 weights + 7 inputs
    c = layer_costs(d, CONST, layer_arrays(layer.arrays))
    assert not c.feasible[0, 0]
    assert all(np.isfinite(v).all() for v in (c.cycles, c.dram_words, c.energy_pj))


def test_glb_too_small_is_infeasible_with_finite_metrics():
    sim = AcceleratorSimulator(EYERISS)
    net = DOMAIN.load_workload("vgg16")
    ev = sim.evaluate(
        {"glb_kib": np.array([1 / 1024]), "pe_rows": np.array([256]), "pe_cols": np.array([256])},
        net,
    )
    assert not ev.feasible[0]
    assert all(np.isfinite(v).all() for v in ev.metrics.values())


@pytest.fixture(scope="module")
def resnet_designs():
    env_space = __import__("gymnasium").make("archgym/Accelerator-v0").unwrapped.space
    return env_space.sample(300, seed=11), DOMAIN.load_workload("resnet18")


def _with(batch, **override):
    out = {k: v.copy() for k, v in batch.items()}
    out.update(
        {k: np.full(len(out["pe_rows"]), v) if np.ndim(v) == 0 else v for k, v in override.items()}
    )
    return out


def test_more_glb_never_increases_dram_traffic(resnet_designs):
    batch, net = resnet_designs
    L = layer_arrays(net.arrays)
    previous = None
    for kib in (8, 32, 128, 512, 2048, 8192):
        c = layer_costs(_with(batch, glb_kib=float(kib)), CONST, L)
        if previous is not None:
            assert (c.dram_words <= previous + 1e-9).all()
        previous = c.dram_words


def test_more_dram_bandwidth_never_increases_latency(resnet_designs):
    batch, net = resnet_designs
    sim = AcceleratorSimulator(EYERISS)
    lat = [
        sim.evaluate(_with(batch, dram_bw_gbps=bw), net).metrics["latency_s"]
        for bw in (0.5, 4.0, 64.0)
    ]
    assert (lat[1] <= lat[0] * (1 + 1e-12)).all() and (lat[2] <= lat[1] * (1 + 1e-12)).all()
    assert (lat[2] < lat[0]).any()


def test_higher_clock_never_increases_latency(resnet_designs):
    batch, net = resnet_designs
    sim = AcceleratorSimulator(EYERISS)
    slow = sim.evaluate(_with(batch, clock_mhz=200.0), net).metrics["latency_s"]
    fast = sim.evaluate(_with(batch, clock_mhz=800.0), net).metrics["latency_s"]
    assert (fast <= slow * (1 + 1e-12)).all()


def test_larger_rf_never_increases_glb_reads_or_compute(resnet_designs):
    batch, net = resnet_designs
    L = layer_arrays(net.arrays)
    small = layer_costs(_with(batch, rf_bytes=64), CONST, L)
    large = layer_costs(_with(batch, rf_bytes=1024), CONST, L)
    assert (large.noc_deliveries <= small.noc_deliveries + 1e-9).all()
    assert (large.compute_cycles <= small.compute_cycles + 1e-9).all()


def test_energy_accounts_every_mac_and_network_sums_layers(resnet_designs):
    batch, net = resnet_designs
    sim = AcceleratorSimulator(EYERISS)
    ev = sim.evaluate(batch, net, details=True)
    assert ev.details["energy_mac_j"] == pytest.approx(net.macs * 0.85e-12)
    total = sum(ev.details[f"energy_{lvl}_j"] for lvl in ("mac", "rf", "noc", "glb", "dram"))
    assert np.allclose(total, ev.metrics["energy_j"])
    assert np.allclose(ev.details["layer_latency_s"].sum(axis=1), ev.metrics["latency_s"])
    assert ((ev.metrics["utilization"] > 0) & (ev.metrics["utilization"] <= 1)).all()


def test_batched_equals_one_at_a_time(resnet_designs):
    batch, net = resnet_designs
    sim = AcceleratorSimulator(EYERISS)
    together = sim.evaluate(batch, net)
    for i in (0, 7, 123):
        alone = sim.evaluate({k: v[i : i + 1] for k, v in batch.items()}, net)
        for name, values in together.metrics.items():
            assert alone.metrics[name][0] == pytest.approx(values[i], rel=1e-12)


def test_area_hand_computed():
    sim = AcceleratorSimulator(EYERISS)
    ev = sim.evaluate({}, TINY)
    # 168 PEs x (1060 um^2 MAC + 0.5 KiB RF x 0.00405 mm^2/KiB) + 108 KiB x 0.00405 mm^2/KiB
    expected = 168 * (1060e-6 + 0.5 * 0.00405) + 108 * 0.00405
    assert ev.metrics["area_mm2"][0] == pytest.approx(expected)


@pytest.mark.parametrize(
    "design, message",
    [
        (
            {"clock_mhz": [-100.0]},
            r"design.clock_mhz: got -100.0; expected a finite number, 0.001 <= value",
        ),
        ({"pe_rows": [0]}, r"design.pe_rows: got 0; expected an integer, 1 <= value <= 4096"),
        ({"pe_rows": [float("nan")]}, r"design.pe_rows: got nan; expected an integer"),
        ({"pe_rows": [2.5]}, r"design.pe_rows: got 2.5; expected an integer"),
        ({"pe_rows": ["a"]}, r"design.pe_rows: got 'a'; expected a number"),
        ({"glb_kib": [float("inf")]}, r"design.glb_kib: got inf; expected a finite number"),
        ({"dataflow": ["XS"]}, r"design.dataflow: unknown value 'XS'"),
        ({"pe_rows": [16] * 40 + [-1]}, r"design.pe_rows: got -1;"),  # the vectorised path
        ({"pe_rows": [16, 16], "pe_cols": [16]}, r"all of one length; got lengths \[1, 2\]"),
    ],
)
def test_the_batched_simulator_rejects_bad_designs_with_a_typed_error(design, message):
    # Issue 15: a negative clock gave a negative latency, pe_rows=0 a NaN, all marked feasible.
    from archgym_py import DesignError

    sim = DOMAIN.simulator(load_arch("eyeriss"))
    with pytest.raises(DesignError, match=message):
        sim.evaluate(design, DOMAIN.load_workload("alexnet"))
