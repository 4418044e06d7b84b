"""A memory system for the DRAM domain: device (JEDEC timings, organisation, IDD currents) and
memory-controller policy, loaded and validated from YAML.

A spec (``arch_specs/dram/arch/*.yaml``) gives every constant with its source::

    spec_version: 1
    name: ddr4_2400
    description: ...
    architecture:
      standard: {value: DDR4, source: "JESD79-4"}
      tck_ns: {value: 0.833, source: "JESD79-4, DDR4-2400"}
      ...

Timings are in clock cycles (nCK) of ``tck_ns``, as DRAMSys memspecs and DRAMSim3 configs write
them; currents are per device in mA. The *tunable* fields are the controller knobs a design space
may vary (ArchGym's DRAMSys set plus the address mapping); the rest are device constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._arch import Arch
from ..._errors import SpecError
from ..._spec import Field
from .mapping import compile_mapping

PAGE_POLICIES = ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive")
SCHEDULERS = ("Fifo", "FrFcfs", "FrFcfsGrp", "GrpFrFcfsWm")
SCHEDULER_BUFFERS = ("Bankwise", "ReadWrite", "Shared")
RESP_QUEUES = ("Fifo", "Reorder")
REFRESH_POLICIES = ("NoRefresh", "AllBank", "PerBank")
ARBITERS = ("Simple", "Fifo", "Reorder")
#: How a GrpFrFcfsWm drain serves writes: the scheduler serves only writes until the low
#: watermark (DRAMSys, Ramulator), or the drain moves the buffered writes into the per-bank
#: command queues, where they issue among reads, and ends once they have moved (DRAMsim3).
WRITE_DRAINS = ("Scheduler", "CommandQueues")
#: Which bank wins when several banks' column commands can issue at the same cycle.
BANK_ARBITRATIONS = ("Oldest", "RoundRobin")

#: Controller knobs a design space may override (names follow DRAMSys's McConfig keys).
TUNABLE: dict[str, Field] = {
    "page_policy": Field(str, "row-buffer policy", choices=PAGE_POLICIES),
    "scheduler": Field(str, "per-bank request scheduler", choices=SCHEDULERS),
    "scheduler_buffer": Field(
        str, "how the request buffer is partitioned", choices=SCHEDULER_BUFFERS
    ),
    "request_buffer_size": Field(
        int, "request buffer entries (per bank, per direction or shared)", low=1, high=4096
    ),
    "resp_queue": Field(
        str, "response order: completion (Fifo) or request order (Reorder)", choices=RESP_QUEUES
    ),
    "refresh_policy": Field(str, "refresh granularity", choices=REFRESH_POLICIES),
    "refresh_max_postponed": Field(
        int, "refreshes that may be postponed while busy", low=0, high=8
    ),
    "refresh_max_pulledin": Field(int, "refreshes that may be pulled in while idle", low=0, high=8),
    "arbiter": Field(str, "front-end arbiter", choices=ARBITERS),
    "max_active_transactions": Field(
        int, "outstanding requests per initiator (Fifo/Reorder arbiter)", low=1, high=1 << 16
    ),
    "address_mapping": Field(
        str, "address mapping: field order MSB to LSB (e.g. RoBaRaCoCh) or explicit bit lists"
    ),
    "read_buffer_size": Field(
        int, "read entries of a ReadWrite buffer (0: request_buffer_size)", low=0, high=4096
    ),
    "write_buffer_size": Field(
        int, "write entries of a ReadWrite buffer (0: request_buffer_size)", low=0, high=4096
    ),
    "command_queue_depth": Field(
        int,
        "per-bank command-queue entries behind a ReadWrite/Shared transaction queue (0: one level)",
        low=0,
        high=256,
    ),
    "write_drain_high": Field(
        float, "GrpFrFcfsWm: share of the write buffer that starts a write drain", low=0, high=1
    ),
    "write_drain_low": Field(
        float, "GrpFrFcfsWm: share of the write buffer that ends a write drain", low=0, high=1
    ),
    "write_drain_idle_writes": Field(
        int,
        "GrpFrFcfsWm: buffered writes that start a drain while no read waits",
        low=1,
        high=4096,
    ),
    "write_drain": Field(
        str,
        "GrpFrFcfsWm: a drain is served by the scheduler, or moves writes into the command "
        "queues (ReadWrite buffer with command_queue_depth > 0)",
        choices=WRITE_DRAINS,
    ),
    "bank_arbitration": Field(
        str,
        "ties between banks ready at the same cycle: the oldest request, or round-robin",
        choices=BANK_ARBITRATIONS,
    ),
    "max_row_hits": Field(
        int,
        "accesses an open row serves before an older miss to its bank wins (0: no cap)",
        low=0,
        high=1 << 16,
    ),  # fmt: skip
    "close_after_hits": Field(
        int,
        "capped page policy: close a row after this many accesses (0: never)",
        low=0,
        high=1 << 16,
    ),
}

#: Device and controller constants (fixed per memory system).
CONSTANTS: dict[str, Field] = {
    "standard": Field(
        str, "JEDEC standard", choices=("DDR3", "DDR4", "DDR5", "LPDDR4", "LPDDR5", "HBM2", "HBM3")
    ),
    "tck_ns": Field(float, "clock period, ns", low=1e-3, high=100),
    "burst_length": Field(int, "burst length (data beats per column access)", low=1, high=64),
    "channels": Field(int, "independent channels", low=1, high=64),
    "ranks": Field(int, "ranks per channel", low=1, high=16),
    "bank_groups": Field(int, "bank groups per rank", low=1, high=16),
    "banks_per_group": Field(int, "banks per bank group", low=1, high=64),
    "rows": Field(int, "rows per bank", low=1, high=1 << 24),
    "columns": Field(
        int, "columns per row (device columns of device_width_bits)", low=1, high=1 << 16
    ),
    "device_width_bits": Field(int, "data width of one device", low=1, high=1024),
    "devices_per_rank": Field(int, "devices operated in lockstep on one channel", low=1, high=64),
    "cl_ck": Field(int, "read latency CL (RL), nCK", low=1),
    "cwl_ck": Field(int, "write latency CWL (WL), nCK", low=0),
    "trcd_ck": Field(int, "ACT to column command, nCK", low=1),
    "trp_ck": Field(int, "precharge period, nCK", low=1),
    "tras_ck": Field(int, "ACT to PRE, nCK", low=1),
    "trc_ck": Field(int, "ACT to ACT same bank, nCK", low=1),
    "tccd_s_ck": Field(int, "column to column, different bank group, nCK", low=1),
    "tccd_l_ck": Field(int, "column to column, same bank group, nCK", low=1),
    "trrd_s_ck": Field(int, "ACT to ACT, different bank group, nCK", low=1),
    "trrd_l_ck": Field(int, "ACT to ACT, same bank group, nCK", low=1),
    "tfaw_ck": Field(int, "four-activate window, nCK", low=1),
    "twr_ck": Field(int, "write recovery (end of write data to PRE), nCK", low=1),
    "twtr_s_ck": Field(int, "end of write data to READ, different bank group, nCK", low=1),
    "twtr_l_ck": Field(int, "end of write data to READ, same bank group, nCK", low=1),
    "trtp_ck": Field(int, "READ to PRE, nCK", low=1),
    "trtrs_ck": Field(int, "rank-to-rank data-bus switch, nCK", low=0),
    "rtw_bubble_ck": Field(
        int, "read-to-write bus bubble: tRTW = CL + BL/2 - CWL + this, nCK", low=0, high=64
    ),
    "trfc_ck": Field(int, "all-bank refresh cycle time, nCK", low=1),
    "trefi_ck": Field(int, "average all-bank refresh interval, nCK", low=1),
    "trfcpb_ck": Field(
        int, "per-bank refresh cycle time, nCK (absent: no per-bank refresh)", low=1
    ),
    "trefipb_ck": Field(int, "average per-bank refresh interval, nCK", low=1),
    "vdd_v": Field(float, "core supply, V", low=0, high=5),
    "idd0_ma": Field(float, "IDD0: one-bank ACT-PRE current, mA per device", low=0),
    "idd2n_ma": Field(float, "IDD2N: precharged standby current, mA per device", low=0),
    "idd3n_ma": Field(float, "IDD3N: active standby current, mA per device", low=0),
    "idd4r_ma": Field(float, "IDD4R: burst read current, mA per device", low=0),
    "idd4w_ma": Field(float, "IDD4W: burst write current, mA per device", low=0),
    "idd5b_ma": Field(float, "IDD5B: burst refresh current, mA per device", low=0),
    "vpp_v": Field(float, "second supply (DDR4 VPP, LPDDR4 VDD1), V", low=0, high=5),
    "ipp0_ma": Field(float, "second-supply IDD0, mA per device", low=0),
    "ipp2n_ma": Field(float, "second-supply IDD2N, mA per device", low=0),
    "ipp3n_ma": Field(float, "second-supply IDD3N, mA per device", low=0),
    "ipp4r_ma": Field(float, "second-supply IDD4R, mA per device", low=0),
    "ipp4w_ma": Field(float, "second-supply IDD4W, mA per device", low=0),
    "ipp5b_ma": Field(float, "second-supply IDD5B, mA per device", low=0),
    "arbitration_delay_fw_ck": Field(int, "arbiter forward delay, nCK", low=0),
    "arbitration_delay_bw_ck": Field(int, "arbiter backward delay, nCK", low=0),
    "think_delay_fw_ck": Field(int, "controller front-end delay, nCK", low=0),
}

#: Constants a spec may leave out: per-bank refresh (not in DDR4) and the second supply.
OPTIONAL = frozenset(
    {
        "trfcpb_ck",
        "trefipb_ck",
        "vpp_v",
        "ipp0_ma",
        "ipp2n_ma",
        "ipp3n_ma",
        "ipp4r_ma",
        "ipp4w_ma",
        "ipp5b_ma",
    }
)
_SECOND_SUPPLY = ("ipp0_ma", "ipp2n_ma", "ipp3n_ma", "ipp4r_ma", "ipp4w_ma", "ipp5b_ma")


class DramArch(Arch):
    """A validated memory system: device constants, controller defaults, and their sources."""

    family = "dram"
    what = "DRAM memory system"
    knob = "DRAM controller knob"
    tunable = TUNABLE
    constants = CONSTANTS
    optional = OPTIONAL
    absent_values = {"vpp_v": 0.0}
    derived = ("banks_per_rank", "banks_per_channel", "bus_bits", "burst_bytes", "burst_ck",
               "peak_bandwidth_bps", "capacity_bytes", "trtw_ck")  # fmt: skip

    # ---------------------------------------------------------------- derived quantities
    @property
    def banks_per_rank(self) -> int:
        """Banks in one rank (bank groups x banks per group)."""
        return self.bank_groups * self.banks_per_group

    @property
    def banks_per_channel(self) -> int:
        """Banks in one channel (ranks x banks per rank)."""
        return self.ranks * self.banks_per_rank

    @property
    def bus_bits(self) -> int:
        """Width of the data bus of one channel, bits."""
        return self.device_width_bits * self.devices_per_rank

    @property
    def burst_bytes(self) -> int:
        """Bytes moved by one column access: the granularity of one request."""
        return self.bus_bits * self.burst_length // 8

    @property
    def burst_ck(self) -> int:
        """Data-bus cycles of one burst (double data rate)."""
        return max(1, self.burst_length // 2)

    @property
    def peak_bandwidth_bps(self) -> float:
        """Bus peak over all channels, bytes/s."""
        return self.channels * self.burst_bytes / (self.burst_ck * self.tck_ns * 1e-9)

    @property
    def capacity_bytes(self) -> int:
        """Bytes of the whole memory system."""
        return (
            self.channels
            * self.ranks
            * self.banks_per_rank
            * self.rows
            * self.columns
            * self.bus_bits
            // 8
        )

    @property
    def trtw_ck(self) -> int:
        """Read-to-write command spacing on one rank, nCK: the read's data (CL + BL/2) must leave
        the bus before the write's (CWL later) plus the bubble (JESD79-4 tRTW)."""
        return self.cl_ck + self.burst_ck - self.cwl_ck + self.rtw_bubble_ck

    @property
    def supports_per_bank_refresh(self) -> bool:
        """Whether the device gives per-bank refresh timings (tRFCpb, tREFIpb)."""
        return bool(self.values.get("trfcpb_ck")) and bool(self.values.get("trefipb_ck"))

    def check(self, *, path: str = "arch.architecture") -> None:
        """Cross-field rules the schema cannot express."""
        check_arch(self, path=path)


def arch_from_dict(data: Mapping[str, Any], *, path: str = "arch") -> DramArch:
    """Validate the schema, then the cross-field rules, and build the memory system."""
    return DramArch.from_dict(data, path=path)


def _pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def check_arch(arch: DramArch, *, path: str = "arch.architecture") -> None:
    """Cross-field rules the schema cannot express."""
    _check_organisation(arch, path)
    _check_timings(arch, path)
    _check_currents(arch, path)
    try:
        compile_mapping(arch.address_mapping, arch)
    except SpecError as exc:
        raise SpecError(f"{path}.address_mapping: {exc}") from None
    if arch.write_drain_low > arch.write_drain_high:
        raise SpecError(
            f"{path}.write_drain_low: got {arch.write_drain_low}; expected <= write_drain_high "
            f"({arch.write_drain_high}): a drain ends below the level that starts it"
        )
    if arch.refresh_policy == "PerBank" and not arch.supports_per_bank_refresh:
        raise SpecError(
            f"{path}.refresh_policy: got 'PerBank'; this {arch.standard} device has no "
            "per-bank refresh timings (trfcpb_ck, trefipb_ck)"
        )


def _check_organisation(arch: DramArch, path: str) -> None:
    """Address fields are powers of two."""
    for key in ("channels", "ranks", "bank_groups", "banks_per_group", "rows"):
        if not _pow2(arch.values[key]):
            raise SpecError(
                f"{path}.{key}: got {arch.values[key]}; expected a power of two (address bits)"
            )
    if not _pow2(arch.columns // arch.burst_length) or arch.columns % arch.burst_length:
        raise SpecError(
            f"{path}.columns: got {arch.columns}; expected a power-of-two multiple of burst_length "
            f"({arch.burst_length})"
        )


def _check_timings(arch: DramArch, path: str) -> None:
    """JEDEC orderings between timings."""
    if arch.trc_ck < arch.tras_ck + arch.trp_ck - 1:
        raise SpecError(
            f"{path}.trc_ck: got {arch.trc_ck}; expected >= tras_ck + trp_ck ({arch.tras_ck + arch.trp_ck}): "
            "a bank activates again only after its row was restored and precharged"
        )
    if (
        arch.tccd_l_ck < arch.tccd_s_ck
        or arch.trrd_l_ck < arch.trrd_s_ck
        or arch.twtr_l_ck < arch.twtr_s_ck
    ):
        raise SpecError(
            f"{path}: same-bank-group timings (_l_ck) must be >= different-group ones (_s_ck)"
        )
    if arch.tfaw_ck < arch.trrd_s_ck:
        raise SpecError(
            f"{path}.tfaw_ck: got {arch.tfaw_ck}; expected >= trrd_s_ck ({arch.trrd_s_ck})"
        )
    if ("trfcpb_ck" in arch.values) != ("trefipb_ck" in arch.values):
        raise SpecError(f"{path}: give both trfcpb_ck and trefipb_ck (per-bank refresh) or neither")
    # A refresh that lasts its whole interval leaves no time for traffic: the controller would
    # refresh forever (JEDEC tRFC is 2-7% of tREFI: JESD79-4, JESD209-4, JESD235).
    for cycle, interval in (("trfc_ck", "trefi_ck"), ("trfcpb_ck", "trefipb_ck")):
        if cycle in arch.values and arch.values[cycle] >= arch.values[interval]:
            raise SpecError(
                f"{path}.{cycle}: got {arch.values[cycle]}; expected < {interval} "
                f"({arch.values[interval]}): a refresh must end before the next one is due"
            )


def _check_currents(arch: DramArch, path: str) -> None:
    """A second supply is given whole; active currents are at least the standby one."""
    present = [k for k in _SECOND_SUPPLY if k in arch.values]
    if ("vpp_v" in arch.values) != bool(present) or (
        present and len(present) != len(_SECOND_SUPPLY)
    ):
        raise SpecError(f"{path}: a second supply needs vpp_v and all of {list(_SECOND_SUPPLY)}")
    for key in ("idd0_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma", "idd5b_ma"):
        if arch.values[key] < arch.idd2n_ma:
            raise SpecError(
                f"{path}.{key}: got {arch.values[key]}; expected >= idd2n_ma ({arch.idd2n_ma})"
            )


def load_arch(arch: str | Path | Mapping[str, Any] | DramArch) -> DramArch:
    """A memory system from a shipped name (``"ddr4_2400"``), a YAML path, a mapping or itself."""
    return DramArch.load(arch)
