"""Golden tests of the controller under load: admission, row commands overlapping transfers,
write batching, the row-hit cap and the derived read-to-write turnaround (hand-computed from the
DDR4-2400 timing set)."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py import DesignError
from archgym_py.envs.dram import DOMAIN, Trace, encode

ARCH = DOMAIN.load_arch("ddr4_2400")
SIM = DOMAIN.simulator(ARCH)
CK = ARCH.tck_ns * 1e-9
THINK = ARCH.think_delay_fw_ck
QUIET = {"refresh_policy": "NoRefresh"}


def addr(bank_group=0, bank=0, row=0, column=0):
    return int(
        encode(ARCH, ARCH.address_mapping, bank_group=bank_group, bank=bank, row=row, column=column)
    )


def trace(requests, name="golden"):
    """``requests``: ``(time_ns, address, is_write)`` tuples."""
    t, a, w = zip(*requests, strict=True)
    return Trace(name, np.array(t, float), np.array(a, dtype=np.uint64), np.array(w, bool))


def evaluate(tr, **design):
    return SIM.evaluate({k: [v] for k, v in {**QUIET, **design}.items()}, tr, details=True)


def value(ev, name):
    source = ev.metrics if name in ev.metrics else ev.details
    return float(source[name][0])


def cycles(seconds):
    return int(round(seconds / CK))


def test_derived_read_to_write_turnaround_comes_from_the_timing_set():
    # JESD79-4: tRTW = RL + BL/2 - WL + 2 nCK = 16 + 4 - 12 + 2
    assert ARCH.trtw_ck == ARCH.cl_ck + ARCH.burst_ck - ARCH.cwl_ck + ARCH.rtw_bubble_ck == 10


def test_a_write_after_a_read_waits_trtw():
    # rows 5 of bank groups 0 and 1 opened long before; then a read and a write arrive together
    tr = trace(
        [
            (0.0, addr(0, 0, 5), False),
            (0.0, addr(1, 0, 5), False),
            (1000.0, addr(0, 0, 5, 1), False),
            (1000.0, addr(1, 0, 5, 1), True),
        ]
    )
    lat = np.round(SIM.latencies_s(QUIET, tr) / CK).astype(int)
    assert lat[2] == THINK + ARCH.cl_ck + ARCH.burst_ck  # a row hit
    assert lat[3] == THINK + ARCH.trtw_ck + ARCH.cwl_ck + ARCH.burst_ck


def test_a_shared_buffer_with_free_entries_admits_each_request_the_cycle_it_arrives():
    # four reads to four closed banks at once: each is accepted on arrival (+ the think delay),
    # none waits for an earlier one's column command
    tr = trace([(0.0, addr(g, 0, 3), False) for g in range(4)])
    ev = evaluate(tr, scheduler_buffer="Shared", request_buffer_size=8)
    gap = value(ev, "latency_s") - value(ev, "controller_latency_s")
    assert cycles(gap) == THINK


def test_a_full_shared_buffer_admits_the_next_request_when_a_slot_frees():
    # one entry: the second read is accepted when the first one's RD issues (ACT at THINK, RD
    # tRCD later), so the mean wait before acceptance is (THINK + (THINK + tRCD)) / 2
    tr = trace([(0.0, addr(0, 0, 3), False), (0.0, addr(1, 0, 3), False)])
    ev = evaluate(tr, scheduler_buffer="Shared", request_buffer_size=1)
    gap = value(ev, "latency_s") - value(ev, "controller_latency_s")
    assert gap / CK == pytest.approx((THINK + THINK + ARCH.trcd_ck) / 2)


def test_two_banks_interleaving_row_misses_sustain_one_access_per_trc_each():
    # every request opens a new row of bank A or bank B (different bank groups), alternating, all
    # there at t = 0. With PRE/ACT prepared while the other bank transfers, each bank turns a
    # row every tRC (tRAS + tRP, as tRCD + tRTP < tRAS): 2 bursts per tRC. Serialising a bank's
    # PRE/ACT behind the other's decision would give less.
    n = 400
    tr = trace([(0.0, addr(i % 2, 0, 10 + i), False) for i in range(n)])
    ev = evaluate(tr, scheduler="FrFcfs", page_policy="Open")
    expected = 2 * ARCH.burst_bytes / (ARCH.trc_ck * CK)
    assert value(ev, "bandwidth_bps") == pytest.approx(expected, rel=0.02)
    assert value(ev, "row_conflicts") == n - 2


def stream_rw(n):
    """Alternating reads and writes walking rows of one bank (row hits), all at t = 0."""
    cols = ARCH.columns // ARCH.burst_length
    return trace(
        [(0.0, addr(0, 0, 1 + i // cols, i % cols), bool(i % 2)) for i in range(n)], "stream_rw"
    )


def test_watermark_draining_pays_one_turnaround_pair_per_batch():
    n = 640  # 320 writes
    tr = stream_rw(n)
    batched = evaluate(
        tr,
        scheduler="GrpFrFcfsWm",
        scheduler_buffer="ReadWrite",
        read_buffer_size=32,
        write_buffer_size=32,
        write_drain_high=1.0,
        write_drain_low=0.0,
    )
    plain = evaluate(tr, scheduler="FrFcfs", scheduler_buffer="ReadWrite", request_buffer_size=32)
    # the write buffer fills at 32 writes and each drain empties it: 320 / 32 = 10 batches, each
    # one switch to writes and one back (the last one ends the trace: no switch back)
    assert value(batched, "bus_turnarounds") == 2 * 10 - 1
    # FR-FCFS without batching follows the alternating trace: a switch per request
    assert value(plain, "bus_turnarounds") >= n // 2
    assert value(batched, "bandwidth_bps") > 1.3 * value(plain, "bandwidth_bps")


def test_idle_writes_wait_for_the_idle_drain_threshold():
    # four writes to four idle banks, 100 ns apart, no reads. Draining any write while no read
    # waits (Ramulator, DRAMSys) each goes at once: ACT on arrival + think, WR tRCD later. Holding
    # them until 4 are buffered (DRAMsim3 holds until more than 8) the first waits for the last.
    gap_ns = 100.0
    tr = trace([(i * gap_ns, addr(i, 0, 3), True) for i in range(4)])
    design = {**QUIET, "scheduler": "GrpFrFcfsWm", "scheduler_buffer": "ReadWrite"}
    eager = np.round(SIM.latencies_s(design, tr) / CK).astype(int)
    held = np.round(SIM.latencies_s({**design, "write_drain_idle_writes": 4}, tr) / CK)
    write = ARCH.trcd_ck + ARCH.cwl_ck + ARCH.burst_ck
    assert eager.tolist() == [THINK + write] * 4
    last = int(np.ceil(3 * gap_ns / ARCH.tck_ns - 1e-9))  # the 4th write's arrival cycle
    assert held[0] == last + THINK + write  # ACTs tRRD apart; the first is served first
    assert held[3] < held[0]
    # fewer than the threshold ever buffered: they drain when the trace has no more requests
    few = np.round(SIM.latencies_s({**design, "write_drain_idle_writes": 9}, tr) / CK)
    assert few.tolist() == held.tolist()


def test_watermarks_are_checked():
    with pytest.raises(DesignError, match="write_drain_low"):
        evaluate(stream_rw(8), scheduler="GrpFrFcfsWm", write_drain_high=0.2, write_drain_low=0.5)


def test_the_row_hit_cap_lets_an_older_miss_in_once_its_precharge_could_issue():
    # row 5 of bank 0 is opened by a read; a miss to row 9 queues behind it, then ten hits to
    # row 5. Capped at 4 accesses the miss precharges once the row has served 4 and its PRE can
    # issue (DRAMsim3 arbitrates a precharge only when it is ready; a ready hit goes until then).
    # Alone, back-to-back hits tCCD_L (6) apart always beat the PRE (tRTP = 9 after the last
    # RD): all ten go first, the PRE tRTP after the last. Sharing the bus with two other bank
    # groups, bank 0 reads every 12 cycles and the PRE is ready 9 after its 4th access: 3 hits
    # go first. Both orders are DRAMsim3's on these traces (command traces, CMD_TRACE build).
    alone = [(0.0, addr(0, 0, 5, 0), False), (0.0, addr(0, 0, 9, 0), False)]
    alone += [(0.0, addr(0, 0, 5, 1 + i), False) for i in range(10)]
    lat = np.round(SIM.latencies_s({**QUIET, "max_row_hits": 4}, trace(alone)) / CK).astype(int)
    assert int(np.sum(lat[2:] < lat[1])) == 10
    last_rd = lat[2:].max() - ARCH.cl_ck - ARCH.burst_ck
    miss_rd = lat[1] - ARCH.cl_ck - ARCH.burst_ck
    assert miss_rd == last_rd + ARCH.trtp_ck + ARCH.trp_ck + ARCH.trcd_ck
    shared = [(0.0, addr(0, 0, 5, 0), False), (0.0, addr(0, 0, 9, 0), False)]
    for i in range(10):
        shared += [(0.0, addr(g, 0, 5, i + (g == 0)), False) for g in range(3)]
    tr = trace(shared)
    capped = np.round(SIM.latencies_s({**QUIET, "max_row_hits": 4}, tr) / CK).astype(int)
    bank0_hits = capped[2::3]
    assert int(np.sum(bank0_hits < capped[1])) == 3
    uncapped = np.round(SIM.latencies_s(QUIET, tr) / CK).astype(int)
    assert int(np.sum(uncapped[2::3] < uncapped[1])) == 10  # no cap: every hit first
    ev = evaluate(tr, max_row_hits=4)
    assert value(ev, "row_conflicts") == 2  # to row 9, then back to row 5


def test_read_and_write_latencies_split_the_mean():
    rng = np.random.default_rng(3)
    n = 300
    writes = rng.random(n) < 0.4
    tr = trace(
        [(i * 20.0, int(rng.integers(0, 1 << 24)) * 64, bool(w)) for i, w in enumerate(writes)]
    )
    ev = evaluate(tr)
    reads = (~writes).sum()
    mean = (reads * value(ev, "read_latency_s") + writes.sum() * value(ev, "write_latency_s")) / n
    assert mean == pytest.approx(value(ev, "latency_s"), rel=1e-9)
    assert value(ev, "read_latency_p99_s") >= value(ev, "read_latency_p95_s") >= 0
    assert value(ev, "read_controller_latency_s") <= value(ev, "read_latency_s")


def test_a_trace_without_reads_reports_zero_read_latency_and_finite_observations():
    tr = trace([(0.0, addr(0, 0, 1), True), (10.0, addr(1, 0, 1), True)])
    ev = evaluate(tr)
    assert value(ev, "read_latency_s") == value(ev, "read_latency_p99_s") == 0.0
    assert value(ev, "write_latency_s") > 0
    import gymnasium as gym

    env = gym.make("archgym/DRAM-v0", workload="write_stream")
    obs, _ = env.reset(seed=0)
    obs, reward, *_ = env.step(env.action_space.sample())
    assert np.all(np.isfinite(obs)) and np.isfinite(reward)


@pytest.mark.parametrize("buffer", ["ReadWrite", "Shared"])
def test_a_transaction_queue_in_front_of_command_queues_serves_every_request(buffer):
    rng = np.random.default_rng(5)
    n = 2000
    tr = trace(
        [(0.0, int(rng.integers(0, 1 << 24)) * 64, bool(rng.random() < 0.3)) for _ in range(n)]
    )
    for depth in (0, 1, 8):
        ev = evaluate(
            tr, scheduler="GrpFrFcfsWm", scheduler_buffer=buffer, command_queue_depth=depth
        )
        assert value(ev, "n_rd") + value(ev, "n_wr") == n
        assert 0 < value(ev, "bandwidth_bps") <= ARCH.peak_bandwidth_bps


def test_a_capped_page_closes_a_row_after_n_accesses():
    # eight reads to one row of one bank, far apart: open page hits 7 of them; capped at 3
    # accesses, the row is reopened after every third (hits: 2 of each 3)
    tr = trace([(i * 1000.0, addr(0, 0, 5, i), False) for i in range(8)])
    assert value(evaluate(tr), "row_hit_rate") == 7 / 8
    capped = evaluate(tr, close_after_hits=3)
    assert value(capped, "n_act") == 3  # accesses 1, 4, 7 open the row
    assert value(capped, "row_hit_rate") == 5 / 8
    assert value(capped, "row_conflicts") == 0  # closed in time: no precharge on demand


MOVING = {
    "scheduler": "GrpFrFcfsWm",
    "scheduler_buffer": "ReadWrite",
    "write_drain_high": 1.0,
    "write_drain_low": 0.0,
    "write_drain": "CommandQueues",
}


def test_a_moving_drain_frees_write_buffer_entries_as_its_writes_move():
    # four writes at once into a 2-entry write buffer in front of 4-entry command queues. The
    # full buffer starts a drain that moves both writes into their bank's command queue, so the
    # next two are accepted on arrival too (DRAMsim3); a drain served by the scheduler holds an
    # entry until the write's column command, so the third waits for the first WR (tRCD later)
    tr = trace([(0.0, addr(0, 0, 3, i), True) for i in range(4)])
    sizes = {"read_buffer_size": 2, "write_buffer_size": 2, "command_queue_depth": 4}
    moving = evaluate(tr, **MOVING, **sizes)
    gap = value(moving, "latency_s") - value(moving, "controller_latency_s")
    assert cycles(gap) == THINK
    served = evaluate(tr, **{**MOVING, "write_drain": "Scheduler"}, **sizes)
    gap = value(served, "latency_s") - value(served, "controller_latency_s")
    assert gap / CK >= THINK + ARCH.trcd_ck / 2  # writes 3 and 4 wait at least tRCD


def test_a_moving_drain_ends_when_its_writes_have_moved_and_reads_queue_behind_them():
    # alternating reads and writes to one row, all at t = 0, 32-entry read queue and write
    # buffer, 8-entry command queues: each full write buffer is one drain, its 32 writes issue
    # back to back behind the reads already queued, and reads moved in afterwards follow them:
    # one switch to writes and one back per batch (the last reads end the trace). DRAMsim3 runs
    # this trace in 21 runs, every write run 32 long: 20 switches
    n = 640  # 320 writes: 10 batches
    design = {**MOVING, "read_buffer_size": 32, "write_buffer_size": 32, "command_queue_depth": 8}
    ev = evaluate(stream_rw(n), **design)
    assert value(ev, "n_rd") + value(ev, "n_wr") == n
    assert value(ev, "bus_turnarounds") == 2 * 10
    lat = SIM.latencies_s({**QUIET, **design}, stream_rw(n))
    is_write = stream_rw(n).is_write[np.argsort(lat, kind="stable")]
    runs = np.diff(np.flatnonzero(np.diff(np.r_[-1, is_write.astype(int), -1]) != 0))
    assert runs[1::2].tolist() == [32] * 10  # every write run is one whole batch


def test_the_moving_drain_needs_a_transaction_queue_to_matter():
    # without command queues (depth 0) there is nothing to move into: the scheduler's drain
    tr = stream_rw(64)
    a = evaluate(tr, **MOVING, command_queue_depth=0)
    b = evaluate(tr, **{**MOVING, "write_drain": "Scheduler"}, command_queue_depth=0)
    assert value(a, "latency_s") == value(b, "latency_s")


def test_banks_ready_at_the_same_cycle_go_oldest_first_or_in_turn():
    # rows 1 of banks in bank groups 0, 1, 2 open with one read each (in that order); then two
    # hits to group 2, two to group 1, two to group 0. After group 2's read, a group-1 hit and a
    # group-0 hit can both issue tCCD_S later (group 2's own next hit waits tCCD_L): Oldest takes
    # the group-1 hit (admitted first), RoundRobin the group-0 hit (the next bank after group 2's
    # in turn, wrapping round: DRAMsim3's GetNextQueue)
    reqs = [(0.0, addr(g, 0, 1, 0), False) for g in (0, 1, 2)]
    for g in (2, 1, 0):
        reqs += [(0.0, addr(g, 0, 1, col), False) for col in (1, 2)]
    tr = trace(reqs)
    first_g1, first_g0 = 5, 7  # positions of the first group-1 and group-0 hits

    def latencies(mode):
        design = {**QUIET, "scheduler": "FrFcfs", "bank_arbitration": mode}
        return np.round(SIM.latencies_s(design, tr) / CK).astype(int)

    oldest, in_turn = latencies("Oldest"), latencies("RoundRobin")
    assert oldest[:3].tolist() == in_turn[:3].tolist()  # the three opening reads
    assert oldest[first_g1] == oldest[2] + ARCH.tccd_s_ck < oldest[first_g0]
    assert in_turn[first_g0] == in_turn[2] + ARCH.tccd_s_ck < in_turn[first_g1]
