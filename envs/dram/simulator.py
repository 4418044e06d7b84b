"""DramSimulator: the batched Simulator over (controller configurations x trace)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._errors import DesignError
from ..._simulator import Evaluation, MetricSpec
from ..._threads import WORKERS, thread_pool
from . import kernel as K
from .arch import (
    ARBITERS,
    BANK_ARBITRATIONS,
    PAGE_POLICIES,
    REFRESH_POLICIES,
    RESP_QUEUES,
    SCHEDULER_BUFFERS,
    SCHEDULERS,
    WRITE_DRAINS,
    DramArch,
)
from .mapping import compile_mapping, decode
from .power import PARTS, energy_breakdown
from .workload import Trace

METRICS = (
    MetricSpec("latency_s", "s", "minimize", "mean request latency, arrival to response"),
    MetricSpec("latency_p95_s", "s", "minimize", "95th-percentile request latency"),
    MetricSpec("latency_p99_s", "s", "minimize", "99th-percentile request latency"),
    MetricSpec("read_latency_s", "s", "minimize", "mean read latency, arrival to data returned"),
    MetricSpec("read_latency_p95_s", "s", "minimize", "95th-percentile read latency"),
    MetricSpec("read_latency_p99_s", "s", "minimize", "99th-percentile read latency"),
    MetricSpec("write_latency_s", "s", "minimize", "mean write latency, arrival to data written"),
    MetricSpec(
        "read_controller_latency_s",
        "s",
        "minimize",
        "mean read latency from acceptance into the controller (DRAMsim3's average_read_latency)",
    ),
    MetricSpec(
        "controller_latency_s", "s", "minimize", "mean request latency from acceptance to response"
    ),
    MetricSpec(
        "runtime_s", "s", "minimize", "time to serve the whole trace (ArchGym's DRAMSys 'latency')"
    ),
    MetricSpec("bandwidth_bps", "B/s", "maximize", "bytes moved / runtime"),
    MetricSpec("row_hit_rate", "1", "maximize", "column accesses that found their row open"),
    MetricSpec("energy_j", "J", "minimize", "DRAM core energy over the run (DRAMPower-style)"),
    MetricSpec("power_w", "W", "minimize", "energy / runtime"),
)

#: Categorical knobs and their levels, in the kernel's index order.
_CATEGORICAL = {
    "page_policy": (K.PAGE, PAGE_POLICIES),
    "scheduler": (K.SCHED, SCHEDULERS),
    "scheduler_buffer": (K.BUF, SCHEDULER_BUFFERS),
    "resp_queue": (K.RESPQ, RESP_QUEUES),
    "refresh_policy": (K.REFP, REFRESH_POLICIES),
    "arbiter": (K.ARB, ARBITERS),
    "write_drain": (K.WDRAIN, WRITE_DRAINS),
    "bank_arbitration": (K.BANK_ARB, BANK_ARBITRATIONS),
}
_INTEGER = {
    "request_buffer_size": K.RBS,
    "refresh_max_postponed": K.MAXPOST,
    "refresh_max_pulledin": K.MAXPULL,
    "max_active_transactions": K.MAT,
    "read_buffer_size": K.RBS_RD,
    "write_buffer_size": K.RBS_WR,
    "command_queue_depth": K.CMDQ,
    "max_row_hits": K.HITCAP,
    "close_after_hits": K.CLOSE_AFTER,
    "write_drain_idle_writes": K.WM_IDLE,
}

_TIMING_FIELDS = {
    K.CL: "cl_ck",
    K.CWL: "cwl_ck",
    K.RCD: "trcd_ck",
    K.RP: "trp_ck",
    K.RAS: "tras_ck",
    K.RC: "trc_ck",
    K.CCD_S: "tccd_s_ck",
    K.CCD_L: "tccd_l_ck",
    K.RRD_S: "trrd_s_ck",
    K.RRD_L: "trrd_l_ck",
    K.FAW: "tfaw_ck",
    K.WR: "twr_ck",
    K.WTR_S: "twtr_s_ck",
    K.WTR_L: "twtr_l_ck",
    K.RTP: "trtp_ck",
    K.RTRS: "trtrs_ck",
    K.RFC: "trfc_ck",
    K.REFI: "trefi_ck",
    K.RFCPB: "trfcpb_ck",
    K.REFIPB: "trefipb_ck",
    K.ARB_FW: "arbitration_delay_fw_ck",
    K.ARB_BW: "arbitration_delay_bw_ck",
    K.THINK_FW: "think_delay_fw_ck",
}

# Batches at least this large are split over threads (the compiled kernel releases the GIL).
_PARALLEL_MIN = 8
# Configurations per kernel call: ~0.1-0.3 s on a 20k-100k-request trace.
_SLICE = 32


class DramSimulator:
    """Trace-driven DRAM controller + device model (see :mod:`archgym_py.envs.dram.kernel`).

    Args:
        arch: the memory system; a design overrides any of its controller knobs
            (``page_policy, scheduler, scheduler_buffer, request_buffer_size, resp_queue,
            refresh_policy, refresh_max_postponed, refresh_max_pulledin, arbiter,
            max_active_transactions, address_mapping, read_buffer_size, write_buffer_size,
            command_queue_depth, write_drain_high, write_drain_low, write_drain_idle_writes,
            write_drain, bank_arbitration, max_row_hits, close_after_hits``) and keeps the rest.
    """

    metrics = METRICS
    # /3: max_row_hits arbitrated as DRAMsim3 does, the write_drain and bank_arbitration knobs.
    # Designs without a row-hit cap, with the scheduler's drain and Oldest arbitration (every DRAM
    # env's space) behave exactly as in /2.
    version = "dram-model/3"
    #: Designs an exhaustive search hands over per call: all of DRAM-v0 at once, so identical
    #: and twin configurations are found across the whole space, not within chunks.
    max_batch = 1 << 21

    def __init__(self, arch: DramArch):
        self.arch = arch
        self._timing = np.zeros(K.N_TIMING, np.int64)
        for index, name in _TIMING_FIELDS.items():
            self._timing[index] = int(getattr(arch, name))
        self._timing[K.BURST] = arch.burst_ck
        self._timing[K.RTW] = arch.trtw_ck
        self._org = np.array(
            [
                arch.channels,
                arch.banks_per_channel,
                arch.ranks,
                arch.bank_groups,
                arch.banks_per_rank,
            ],
            np.int64,
        )
        self._decoded: dict[tuple[int, str], tuple[Trace, dict[str, np.ndarray]]] = {}
        self.last_simulated = 0  # kernel runs of the last batch (after merging identical runs)

    # ------------------------------------------------------------------ inputs
    def _decode(self, trace: Trace, mapping: str) -> dict[str, np.ndarray]:
        key = (id(trace), mapping)
        hit = self._decoded.get(key)
        if hit is None or hit[0] is not trace:
            fields = decode(trace.address, self.arch, mapping)
            arrays = {
                "arr": self.arrival_cycles(trace),
                "wr": trace.is_write.astype(np.int64),
                "chn": fields["channel"],
                "bank": fields["bank"],
                "bgk": fields["rank"] * self.arch.bank_groups + fields["bank_group"],
                "rank": fields["rank"],
                "row": fields["row"],
                "col": fields["column"],
            }
            arrays["arr"] -= arrays["arr"][0]
            if len(self._decoded) > 16:
                self._decoded.clear()
            hit = (trace, arrays)
            self._decoded[key] = hit
        return hit[1]

    def arrival_cycles(self, trace: Trace) -> np.ndarray:
        """Arrival cycles of the device clock. A trace file counted in the device's own clock
        (within 0.1%: a spec's tCK is rounded, 0.833 ns for 1200 MHz) plays cycle for cycle, so
        a long trace does not drift; any other time base converts through nanoseconds."""
        clock = trace.source.get("clock_mhz") if "trace" in trace.source else None
        if clock and abs(1000.0 / clock - self.arch.tck_ns) <= 1e-3 * self.arch.tck_ns:
            return np.rint(trace.time_ns * (clock / 1000.0)).astype(np.int64)
        return np.ceil(trace.time_ns / self.arch.tck_ns - 1e-9).astype(np.int64)

    def configs(self, designs: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kernel's integer configuration rows, each design's address mapping, and feasibility."""
        designs = self.arch.fill(designs)  # every value checked against its knob's schema
        n = len(designs["page_policy"])
        cfg = np.zeros((n, K.N_CONFIG), np.int64)
        for name, (column, levels) in _CATEGORICAL.items():
            lookup = {level: i for i, level in enumerate(levels)}
            cfg[:, column] = [lookup[v] for v in designs[name].tolist()]
        for name, column in _INTEGER.items():
            cfg[:, column] = designs[name].astype(np.int64)
        for column in (K.RBS_RD, K.RBS_WR):  # 0: a direction gets request_buffer_size entries
            cfg[:, column] = np.where(cfg[:, column] > 0, cfg[:, column], cfg[:, K.RBS])
        cfg[:, K.WM_HI], cfg[:, K.WM_LO] = self._watermarks(designs, cfg)
        mappings = np.asarray(designs["address_mapping"], dtype=object)
        for m in set(mappings.tolist()):
            try:
                compile_mapping(m, self.arch)
            except Exception as exc:
                raise DesignError(f"address_mapping: {exc}") from None
        feasible = np.ones(n, bool)
        if not self.arch.supports_per_bank_refresh:
            per_bank = cfg[:, K.REFP] == REFRESH_POLICIES.index("PerBank")
            feasible &= ~per_bank  # the device has no per-bank refresh: simulated as all-bank
            cfg[per_bank, K.REFP] = REFRESH_POLICIES.index("AllBank")
        return _canonical(cfg), np.asarray(mappings), feasible

    def _watermarks(self, designs: Mapping[str, Any], cfg: np.ndarray):
        """Write-drain watermarks in buffered writes per channel: the shares times the writes a
        channel can buffer (its write buffer, its shared buffer, or every bank's buffer)."""
        high = np.asarray(designs["write_drain_high"], dtype=float)
        low = np.asarray(designs["write_drain_low"], dtype=float)
        if np.any(low > high):
            i = int(np.argmax(low > high))
            raise DesignError(
                f"write_drain_low: got {low[i]} with write_drain_high {high[i]}; expected "
                "write_drain_low <= write_drain_high"
            )
        buf = cfg[:, K.BUF]
        capacity = np.where(
            buf == SCHEDULER_BUFFERS.index("Bankwise"),
            cfg[:, K.RBS] * self.arch.banks_per_channel,
            np.where(buf == SCHEDULER_BUFFERS.index("ReadWrite"), cfg[:, K.RBS_WR], cfg[:, K.RBS]),
        )
        hi = np.maximum(1, np.ceil(high * capacity - 1e-9)).astype(np.int64)
        return hi, np.floor(low * capacity + 1e-9).astype(np.int64)

    # ------------------------------------------------------------------ simulation
    def run(self, designs: Mapping[str, Any], workload: Trace, *, keep_latency: bool = False):
        """Kernel statistics per design (and per-request latencies in cycles when asked)."""
        cfg, mappings, feasible = self.configs(designs)
        n = len(cfg)
        stats = np.zeros((n, K.N_STATS))
        latency = np.zeros((n if keep_latency else 1, len(workload)))
        for mapping in dict.fromkeys(mappings.tolist()):
            rows = np.flatnonzero(mappings == mapping)
            unique, inverse = np.unique(cfg[rows], axis=0, return_inverse=True)
            u_stats = np.zeros((len(unique), K.N_STATS))
            u_lat = np.zeros((len(unique) if keep_latency else 1, len(workload)))
            self._simulate_unique(
                self._decode(workload, mapping), unique, u_stats, u_lat, keep_latency
            )
            stats[rows] = u_stats[inverse.ravel()]
            if keep_latency:
                latency[rows] = u_lat[inverse.ravel()]
        return stats, latency, feasible

    def _simulate_unique(self, t: dict[str, np.ndarray], cfg, stats, lat, keep_latency) -> None:
        """Simulate distinct configurations, reusing a run wherever a larger limit cannot matter.

        Three knobs are limits that only bind when reached: the buffer capacity (a request waits
        only when its class is full), ``refresh_max_postponed`` (a refresh is forced only when
        more are owed) and ``refresh_max_pulledin`` (pull-in stops only at the limit). A run that
        never reached a limit is, event for event, the run of every larger value of it with the
        other knobs equal (the kernel counts when each limit bound). Configurations go in rounds
        by their position along the three limits, so each one's smaller neighbours are known
        before it: it copies one whose limit never bound, or is simulated. Exact, not an
        approximation (``tests/envs/dram/test_enumeration.py`` checks it against running all).
        """
        n = len(cfg)
        if n < _PARALLEL_MIN:
            self._simulate(t, cfg, stats, lat, keep_latency)
            self.last_simulated = n
            return
        # watermarks scale with the buffer capacity: no capacity twins under GrpFrFcfsWm
        drain = cfg[:, K.SCHED] == SCHEDULERS.index("GrpFrFcfsWm")
        limits = {
            "capacity": (K.RBS, K.RBS_RD, K.RBS_WR),
            "postponed": (K.MAXPOST,),
            "pulled_in": (K.MAXPULL,),
        }
        parent, position = {}, {}
        for name, cols in limits.items():
            parent[name], position[name] = _neighbours(cfg, cols)
        rounds = sum(position.values())
        source = np.arange(n)  # the configuration whose run each one reuses (itself: simulated)
        done = np.zeros(n, bool)
        for r in range(int(rounds.max()) + 1):
            members = np.flatnonzero(rounds == r)
            for name in limits:
                p = parent[name][members]
                ok = p >= 0
                ok[ok] = done[p[ok]]  # a neighbour not run yet (a sparse batch) cannot be reused
                idx, p = members[ok], p[ok]
                pst = stats[p]
                if name == "capacity":
                    free = (pst[:, K.S_BUF_FULL] == 0) & ~drain[idx]
                    free &= np.all(cfg[p][:, limits[name]] <= cfg[idx][:, limits[name]], axis=1)
                elif name == "postponed":
                    free = pst[:, K.S_MAX_OWED] <= cfg[p, K.MAXPOST]
                else:
                    free = pst[:, K.S_MIN_OWED] > -cfg[p, K.MAXPULL]
                take = idx[free & ~done[idx]]
                source[take] = source[p[free & ~done[idx]]]
                stats[take] = stats[source[take]]
                done[take] = True
            run = members[~done[members]]
            if len(run):
                r_stats = np.zeros((len(run), K.N_STATS))
                r_lat = np.zeros((len(run) if keep_latency else 1, lat.shape[1]))
                self._simulate(t, cfg[run], r_stats, r_lat, keep_latency)
                stats[run] = r_stats
                if keep_latency:
                    lat[run] = r_lat
                done[run] = True
        if keep_latency:
            lat[:] = lat[source]
        self.last_simulated = int(np.sum(source == np.arange(n)))

    def _simulate(self, t: dict[str, np.ndarray], cfg, stats, lat, keep_latency) -> None:
        args = (t["arr"], t["wr"], t["chn"], t["bank"], t["bgk"], t["rank"], t["row"], t["col"],
                self._timing, self._org, cfg, stats, lat, keep_latency)  # fmt: skip
        n = len(cfg)
        # Slices of at most _SLICE configurations: the compiled kernel cannot be interrupted, so
        # Ctrl-C takes effect between slices (a fraction of a second), never after a whole batch.
        slices = [(lo, min(lo + _SLICE, n)) for lo in range(0, n, _SLICE)]
        if n < _PARALLEL_MIN or WORKERS == 1:
            for lo, hi in slices:
                K.simulate_range(*args, lo, hi)
            return
        # the compiled kernel releases the GIL: the slices run on every core
        futures = [thread_pool().submit(K.simulate_range, *args, lo, hi) for lo, hi in slices]
        try:
            for future in futures:
                future.result()
        except BaseException:  # Ctrl-C (or a failure): drop the slices not yet started
            for future in futures:
                future.cancel()
            raise

    def evaluate(
        self, designs: Mapping[str, Any], workload: Trace, *, details: bool = False
    ) -> Evaluation:
        """Metrics for a batch of designs (struct of arrays) on one trace.

        With ``details``, ``Evaluation.details`` holds the energy per part (``energy_<part>_j``
        for act, pre, rd, wr, ref, background) and the command counts (``n_act, n_pre, n_rd,
        n_wr, n_ref_ab, n_ref_pb``), row conflicts and the refreshes that blocked traffic.
        """
        stats, _, feasible = self.run(designs, workload)
        return self._evaluation(stats, feasible, len(workload), details)

    def latencies_s(self, design: Mapping[str, Any], workload: Trace) -> np.ndarray:
        """Per-request latency (s) of one design, in trace order."""
        batch = {k: [v] for k, v in design.items()}
        _, latency, _ = self.run(batch, workload, keep_latency=True)
        return latency[0] * self.arch.tck_ns * 1e-9

    def _evaluation(self, stats, feasible, n_requests, details) -> Evaluation:
        tck = self.arch.tck_ns * 1e-9
        runtime = np.maximum(stats[:, K.S_END] - stats[:, K.S_START], 1.0) * tck
        parts = energy_breakdown(self.arch, stats)
        energy = sum(parts.values())
        metrics = {
            "latency_s": stats[:, K.S_LAT_MEAN] * tck,
            "latency_p95_s": stats[:, K.S_LAT_P95] * tck,
            "latency_p99_s": stats[:, K.S_LAT_P99] * tck,
            "read_latency_s": stats[:, K.S_RLAT_MEAN] * tck,
            "read_latency_p95_s": stats[:, K.S_RLAT_P95] * tck,
            "read_latency_p99_s": stats[:, K.S_RLAT_P99] * tck,
            "write_latency_s": stats[:, K.S_WLAT_MEAN] * tck,
            "read_controller_latency_s": stats[:, K.S_RCTL_MEAN] * tck,
            "controller_latency_s": stats[:, K.S_CTL_MEAN] * tck,
            "runtime_s": runtime,
            "bandwidth_bps": n_requests * self.arch.burst_bytes / runtime,
            "row_hit_rate": stats[:, K.S_HITS] / n_requests,
            "energy_j": energy,
            "power_w": energy / runtime,
        }
        extra: dict[str, Any] = {}
        if details:
            extra = {f"energy_{p}_j": parts[p] for p in PARTS}
            for name, column in (
                ("n_act", K.S_ACT),
                ("n_pre", K.S_PRE),
                ("n_rd", K.S_RD),
                ("n_wr", K.S_WR),
                ("n_ref_ab", K.S_REF_AB),
                ("n_ref_pb", K.S_REF_PB),
                ("row_conflicts", K.S_CONFLICTS),
                ("refresh_blocking", K.S_REF_BLOCKED),
                ("bus_turnarounds", K.S_TURNAROUNDS),
            ):
                extra[name] = stats[:, column].astype(np.int64)
            extra["latency_max_s"] = stats[:, K.S_LAT_MAX] * tck
        return Evaluation(metrics, feasible, extra)


def _neighbours(cfg: np.ndarray, cols: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per configuration: the index of the next smaller one along ``cols`` with every other
    column equal (-1: none), and its position along ``cols`` among those."""
    n = len(cfg)
    others = [c for c in range(cfg.shape[1]) if c not in cols]
    keys = [cfg[:, c] for c in reversed(cols)] + [cfg[:, c] for c in reversed(others)]
    order = np.lexsort(keys)  # grouped by the other columns, ascending along cols
    ordered = cfg[order]
    same = np.all(ordered[1:][:, others] == ordered[:-1][:, others], axis=1)
    parent = np.full(n, -1)
    parent[order[1:][same]] = order[:-1][same]
    # position within the group: a running count reset at each group start
    starts = np.concatenate([[True], ~same])
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    position = np.empty(n, np.int64)
    position[order] = np.arange(n) - group_start
    return parent, position


def _canonical(cfg: np.ndarray) -> np.ndarray:
    """Give knobs that cannot matter one value, so identical behaviours simulate once."""
    cfg = cfg.copy()
    bankwise = cfg[:, K.BUF] == SCHEDULER_BUFFERS.index("Bankwise")
    read_write = cfg[:, K.BUF] == SCHEDULER_BUFFERS.index("ReadWrite")
    cfg[~read_write, K.RBS_RD] = 0  # only a ReadWrite buffer has per-direction sizes
    cfg[~read_write, K.RBS_WR] = 0
    cfg[read_write, K.RBS] = 0
    cfg[bankwise, K.CMDQ] = 0  # per-bank buffers are the command queues already
    no_drain = cfg[:, K.SCHED] != SCHEDULERS.index("GrpFrFcfsWm")
    cfg[no_drain, K.WM_HI] = 0
    cfg[no_drain, K.WM_LO] = 0
    cfg[no_drain, K.WM_IDLE] = 1
    # a drain moves writes into command queues only behind a ReadWrite transaction queue
    cfg[no_drain | ~read_write | (cfg[:, K.CMDQ] == 0), K.WDRAIN] = 0
    no_refresh = cfg[:, K.REFP] == REFRESH_POLICIES.index("NoRefresh")
    cfg[no_refresh, K.MAXPOST] = 0
    cfg[no_refresh, K.MAXPULL] = 0
    simple = cfg[:, K.ARB] == ARBITERS.index("Simple")  # no outstanding-transaction limit
    cfg[simple, K.MAT] = 1
    closed = cfg[:, K.PAGE] == PAGE_POLICIES.index("Closed")  # no row is open at a decision
    cfg[closed, K.HITCAP] = 0
    cfg[closed, K.CLOSE_AFTER] = 0
    cfg[closed & no_drain, K.SCHED] = SCHEDULERS.index("Fifo")
    return cfg
