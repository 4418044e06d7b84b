"""Golden tests of the DRAM controller model, derived from the JEDEC timing parameters themselves."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.dram import (
    DOMAIN,
    Trace,
    encode,
    load_workload,
    sequential,
    strided,
    uniform_random,
)

ARCH = DOMAIN.load_arch("ddr4_2400")
SIM = DOMAIN.simulator(ARCH)
CK = ARCH.tck_ns * 1e-9
THINK = ARCH.think_delay_fw_ck  # the controller's front-end delay (1 cycle, DRAMSys default)


def evaluate(trace, **design):
    return SIM.evaluate({k: [v] for k, v in design.items()}, trace, details=True)


def metric(trace, name, **design):
    return float(evaluate(trace, **design).metrics[name][0])


def isolated(*accesses, gap_ns=2000.0):
    """Requests far apart in time, each ``(bank, row, column, is_write)``, so none waits for another."""
    addrs = [
        encode(ARCH, ARCH.address_mapping, bank_group=b % 4, bank=b // 4, row=r, column=c)
        for b, r, c, _ in accesses
    ]
    return Trace(
        "isolated",
        np.arange(len(accesses)) * gap_ns,
        np.array(addrs, dtype=np.uint64),
        [w for *_, w in accesses],
    )


def cycles(latency_s):
    return np.round(np.asarray(latency_s) / CK).astype(int)


def test_isolated_read_on_a_closed_bank_costs_trcd_cl_burst():
    lat = cycles(SIM.latencies_s({}, isolated((0, 5, 0, False))))
    assert lat.tolist() == [THINK + ARCH.trcd_ck + ARCH.cl_ck + ARCH.burst_ck]  # 1 + 16 + 16 + 4


def test_row_hit_costs_cl_burst_and_conflict_adds_trp():
    trace = isolated((0, 5, 0, False), (0, 5, 1, False), (0, 9, 0, False))
    lat = cycles(SIM.latencies_s({"refresh_policy": "NoRefresh"}, trace))
    assert lat[1] == THINK + ARCH.cl_ck + ARCH.burst_ck
    assert lat[2] == THINK + ARCH.trp_ck + ARCH.trcd_ck + ARCH.cl_ck + ARCH.burst_ck


def test_isolated_write_costs_trcd_cwl_burst():
    lat = cycles(SIM.latencies_s({}, isolated((3, 1, 0, True))))
    assert lat.tolist() == [THINK + ARCH.trcd_ck + ARCH.cwl_ck + ARCH.burst_ck]


def test_closed_page_reactivates_every_access():
    trace = isolated((0, 5, 0, False), (0, 5, 1, False))
    lat = cycles(SIM.latencies_s({"page_policy": "Closed", "refresh_policy": "NoRefresh"}, trace))
    assert lat[1] == lat[0] == THINK + ARCH.trcd_ck + ARCH.cl_ck + ARCH.burst_ck


def test_streaming_approaches_the_bus_peak_when_bank_groups_interleave():
    stream = sequential(50000, rate_gbps=0)
    # bank bits lowest: consecutive lines rotate over bank groups, so tCCD_S = burst binds
    bw = metric(stream, "bandwidth_bps", address_mapping="RoCoRaBaCh", refresh_policy="NoRefresh")
    assert 0.97 * ARCH.peak_bandwidth_bps <= bw <= ARCH.peak_bandwidth_bps
    # column bits lowest: the stream stays in one bank group and tCCD_L (6) paces the 4-cycle bursts
    bw_same_group = metric(stream, "bandwidth_bps", refresh_policy="NoRefresh")
    expected = ARCH.peak_bandwidth_bps * ARCH.burst_ck / ARCH.tccd_l_ck
    assert bw_same_group == pytest.approx(expected, rel=0.04)


def test_random_closed_page_traffic_is_bounded_by_tfaw():
    trace = uniform_random(30000, rate_gbps=0, read_fraction=1.0)
    bw = metric(trace, "bandwidth_bps", page_policy="Closed", refresh_policy="NoRefresh")
    faw_bound = 4 * ARCH.burst_bytes / (ARCH.tfaw_ck * CK)  # four activations per tFAW
    assert 0.97 * faw_bound <= bw <= faw_bound * 1.0001


def test_same_bank_conflicts_are_bounded_by_trc():
    trace = strided(3000, rate_gbps=0)  # 128 KiB stride: one bank, a new row every access
    ev = evaluate(trace, refresh_policy="NoRefresh")
    assert ev.metrics["row_hit_rate"][0] == 0
    assert ev.metrics["bandwidth_bps"][0] == pytest.approx(
        ARCH.burst_bytes / (ARCH.trc_ck * CK), rel=0.01
    )


def test_refresh_costs_about_trfc_over_trefi_and_happens_every_trefi():
    stream = sequential(50000, rate_gbps=0)
    design = {"address_mapping": "RoCoRaBaCh"}
    without = evaluate(stream, refresh_policy="NoRefresh", **design)
    with_ref = evaluate(stream, refresh_policy="AllBank", **design)
    loss = 1 - with_ref.metrics["bandwidth_bps"][0] / without.metrics["bandwidth_bps"][0]
    share = ARCH.trfc_ck / ARCH.trefi_ck  # 4.5 %
    assert 0.8 * share <= loss <= 1.5 * share
    runtime_ck = with_ref.metrics["runtime_s"][0] / CK
    assert with_ref.details["n_ref_ab"][0] == int(runtime_ck // ARCH.trefi_ck)
    assert without.details["n_ref_ab"][0] == 0
    ref_energy = (
        with_ref.details["n_ref_ab"][0] * (ARCH.idd5b_ma - ARCH.idd3n_ma) * 1e-3 * ARCH.trfc_ck * CK
    )
    assert with_ref.details["energy_ref_j"][0] == pytest.approx(
        ref_energy * ARCH.vdd_v * ARCH.devices_per_rank
    )


def test_postponing_refresh_takes_it_off_the_critical_path():
    trace = load_workload("mixed")
    forced = metric(trace, "latency_p99_s", refresh_max_postponed=0)
    postponed = metric(trace, "latency_p99_s", refresh_max_postponed=8)
    assert postponed < forced


@pytest.mark.parametrize("workload", ["mixed", "stream", "random", "hotspot", "write_stream"])
def test_closed_page_never_hits_and_fr_fcfs_hits_at_least_as_often_as_fifo(workload):
    trace = load_workload(workload)
    assert metric(trace, "row_hit_rate", page_policy="Closed") == 0
    fifo = metric(trace, "row_hit_rate", scheduler="Fifo")
    assert metric(trace, "row_hit_rate", scheduler="FrFcfs") >= fifo
    assert metric(trace, "row_hit_rate", scheduler="FrFcfs", request_buffer_size=64) >= metric(
        trace, "row_hit_rate", scheduler="Fifo", request_buffer_size=64
    )


def test_open_page_streams_hit_the_open_row():
    # one activation per 8 KiB row: 127 of every 128 lines hit
    assert metric(load_workload("stream"), "row_hit_rate") == pytest.approx(127 / 128, abs=2e-3)


def test_reorder_response_queue_returns_in_request_order():
    trace = load_workload("mixed").head(4000)
    fifo = SIM.latencies_s({"resp_queue": "Fifo"}, trace)
    reorder = SIM.latencies_s({"resp_queue": "Reorder"}, trace)
    assert np.all(reorder >= fifo - 1e-15)  # same schedule (Simple arbiter), later release
    arrival_ck = np.ceil(trace.time_ns / ARCH.tck_ns - 1e-9)  # requests arrive on clock edges
    release_ck = arrival_ck + cycles(reorder)
    assert np.all(np.diff(release_ck) >= 0)  # one channel: responses leave in request order


def test_one_active_transaction_serialises_requests():
    trace = uniform_random(2000, rate_gbps=0, read_fraction=1.0)
    runtime = metric(trace, "runtime_s", arbiter="Fifo", max_active_transactions=1)
    floor = len(trace) * (ARCH.cl_ck + ARCH.burst_ck) * CK  # at least a row-hit latency each
    assert runtime >= floor
    assert metric(trace, "runtime_s", arbiter="Simple", max_active_transactions=1) < runtime / 3


def test_energy_parts_follow_the_idd_model():
    trace = load_workload("mixed").head(5000)
    ev = evaluate(trace)
    scale = ARCH.vdd_v * 1e-3 * CK * ARCH.devices_per_rank
    d = ev.details
    assert d["energy_rd_j"][0] == pytest.approx(
        d["n_rd"][0] * (ARCH.idd4r_ma - ARCH.idd3n_ma) * ARCH.burst_ck * scale
    )
    assert d["energy_wr_j"][0] == pytest.approx(
        d["n_wr"][0] * (ARCH.idd4w_ma - ARCH.idd3n_ma) * ARCH.burst_ck * scale
    )
    assert d["energy_act_j"][0] == pytest.approx(
        d["n_act"][0] * (ARCH.idd0_ma - ARCH.idd3n_ma) * ARCH.tras_ck * scale
    )
    runtime_ck = ev.metrics["runtime_s"][0] / CK
    bg = d["energy_background_j"][0] / scale
    assert (
        ARCH.idd2n_ma * runtime_ck <= bg <= ARCH.idd3n_ma * runtime_ck
    )  # between all-closed and all-open
    parts = sum(d[f"energy_{p}_j"][0] for p in ("act", "pre", "rd", "wr", "ref", "background"))
    assert ev.metrics["energy_j"][0] == pytest.approx(parts)
    assert ev.metrics["power_w"][0] == pytest.approx(parts / ev.metrics["runtime_s"][0])


def test_batch_equals_one_by_one_and_duplicates_simulate_once():
    trace = load_workload("hotspot").head(3000)
    designs = {
        "page_policy": ["Open", "Closed", "OpenAdaptive", "Open"],
        "scheduler": ["Fifo", "FrFcfs", "FrFcfsGrp", "Fifo"],
        "arbiter": ["Fifo", "Reorder", "Simple", "Fifo"],
        "max_active_transactions": [4, 16, 2, 4],
    }
    batch = SIM.evaluate(designs, trace)
    for i in range(4):
        one = SIM.evaluate({k: [v[i]] for k, v in designs.items()}, trace)
        for m in batch.metrics:
            assert batch.metrics[m][i] == one.metrics[m][0]
    assert all(batch.metrics[m][0] == batch.metrics[m][3] for m in batch.metrics)


def test_per_bank_refresh_on_ddr4_is_infeasible_but_finite():
    ev = SIM.evaluate({"refresh_policy": ["PerBank", "AllBank"]}, load_workload("mixed").head(2000))
    assert ev.feasible.tolist() == [False, True]
    assert all(np.isfinite(v).all() for v in ev.metrics.values())


def test_per_bank_refresh_blocks_one_bank_for_trfcpb():
    lp = DOMAIN.load_arch("lpddr4_3200")
    sim = DOMAIN.simulator(lp)
    trace = sequential(40000, rate_gbps=0)
    ab = sim.evaluate({"refresh_policy": ["AllBank"]}, trace, details=True)
    pb = sim.evaluate({"refresh_policy": ["PerBank"]}, trace, details=True)
    runtime_ck = pb.metrics["runtime_s"][0] / (lp.tck_ns * 1e-9)
    per_channel = pb.details["n_ref_pb"][0] / lp.channels
    assert per_channel == pytest.approx(runtime_ck / lp.trefipb_ck, abs=1)

    # the whole device is refreshed once per tREFI either way: the same refresh power
    def refresh_power(ev):
        return ev.details["energy_ref_j"][0] / ev.metrics["runtime_s"][0]

    assert refresh_power(pb) == pytest.approx(refresh_power(ab), rel=0.03)


def test_all_shipped_systems_simulate_every_policy():
    trace = load_workload("mixed").head(2000)
    for name in DOMAIN.arch_names():
        sim = DOMAIN.simulator(DOMAIN.load_arch(name))
        ev = sim.evaluate(
            {"page_policy": ["Open", "OpenAdaptive", "Closed", "ClosedAdaptive"]}, trace
        )
        arch = DOMAIN.load_arch(name)
        assert np.all(ev.metrics["bandwidth_bps"] < arch.peak_bandwidth_bps)  # below the bus peak
        hits = dict(
            zip(
                ["Open", "OpenAdaptive", "Closed", "ClosedAdaptive"],
                ev.metrics["row_hit_rate"],
                strict=True,
            )
        )
        assert (
            hits["Closed"] == 0.0 and hits["Open"] > 0.4
        )  # a closed row never hits; the trace streams
        assert np.all(ev.metrics["latency_p99_s"] >= ev.metrics["latency_p95_s"])


def test_batches_still_run_in_a_forked_child():
    # sweep workers are forked: the batch thread pool must not be inherited half-alive
    import multiprocessing as mp

    trace = load_workload("mixed").head(1000)
    designs = {"request_buffer_size": [1, 2, 4, 8, 16, 32, 64, 128] * 2}
    expected = SIM.evaluate(designs, trace).metrics["latency_s"]
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_child_latency, (designs, trace.to_dict())).get(timeout=120)
    assert np.array_equal(got, expected)


def _child_latency(designs, workload):
    return SIM.evaluate(designs, load_workload(workload)).metrics["latency_s"]


@pytest.mark.parametrize("key, value", [("trfc_ck", 9364), ("trfc_ck", 50_000)])
def test_a_refresh_longer_than_its_interval_is_refused(key, value):
    # Issue 15: trfc_ck 50,000 > trefi_ck 9,364 was accepted and the simulation never ended.
    from archgym_py import SpecError
    from archgym_py.envs.dram import load_arch

    with pytest.raises(SpecError, match=rf"{key}: got {value}; expected < trefi_ck \(9364\)"):
        load_arch("ddr4_2400").replace(**{key: value})
