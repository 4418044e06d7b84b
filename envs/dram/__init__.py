"""The DRAM memory-controller domain: memory systems, traces, and the trace-driven simulator.

``DOMAIN`` is the table the engine reaches through the env spec's string entry point
(``archgym_py.envs.dram:DOMAIN``). Its envs (``archgym/DRAM-v0``, ``archgym/DRAMLPDDR4-v0``)
report, per design, over the whole trace:

* ``latency_s``, ``latency_p95_s``, ``latency_p99_s``: every request, from its arrival in the
  trace to its response (a read's data returned, a write's data written);
* ``read_latency_s``, ``read_latency_p95_s``, ``read_latency_p99_s``: reads only, from arrival;
  ``write_latency_s``: writes only, from arrival (0 for a trace without reads, or writes);
* ``read_controller_latency_s`` and ``controller_latency_s``: from *acceptance* into the
  controller's buffer (arrival plus any back-pressure wait) to the response, reads only and every
  request: what DRAMsim3 reports as ``average_read_latency``;
* ``runtime_s``: first arrival to last response; ``bandwidth_bps``: bytes moved / runtime;
  ``row_hit_rate``: column accesses that found their row open;
* ``energy_j`` (DRAMPower's IDD model over the run) and ``power_w`` = energy / runtime.

``evaluate(..., details=True)`` adds the energy per part, command counts, row conflicts, the
refreshes that blocked traffic and the data-bus read/write turnarounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from ..._domain import Domain
from ..._errors import SpecError
from ..._space import DesignSpace
from .arch import DramArch, load_arch
from .mapping import COMMON_MAPPINGS, compile_mapping, decode, encode, parse_mapping
from .simulator import METRICS, DramSimulator
from .workload import (
    BUILTIN_WORKLOADS,
    GENERATORS,
    Trace,
    builtin_trace,
    hotspot,
    load_workload,
    mixed,
    read_dramsim3,
    read_plain,
    read_ramulator,
    read_stl,
    read_trace,
    sequential,
    strided,
    uniform_random,
    workload_from_dict,
)

__all__ = [
    "BUILTIN_WORKLOADS",
    "COMMON_MAPPINGS",
    "DOMAIN",
    "DramArch",
    "DramDomain",
    "DramSimulator",
    "GENERATORS",
    "METRICS",
    "Trace",
    "compile_mapping",
    "decode",
    "encode",
    "hotspot",
    "load_arch",
    "load_workload",
    "mixed",
    "parse_mapping",
    "read_dramsim3",
    "read_plain",
    "read_ramulator",
    "read_stl",
    "read_trace",
    "sequential",
    "strided",
    "uniform_random",
]


class DramDomain(Domain):
    """The engine's view of this family (see :class:`archgym_py.Domain`)."""

    name = "dram"
    metrics = METRICS
    arch_type = DramArch
    workload_type = Trace

    builtin_workloads = {name: partial(builtin_trace, name) for name in BUILTIN_WORKLOADS}
    workload_what = "DRAM workload"
    workload_forms = ", a workload .yaml, or a trace file (.stl, DRAMSim3, Ramulator)"

    def workload_from_dict(self, data: Mapping[str, Any], *, path: str = "workload") -> Trace:
        """A trace from ``{generator: ...}``, ``{trace: FILE, ...}`` or inline requests."""
        return workload_from_dict(data, path=path)

    def workload_from_file(self, path: Path) -> Trace:
        """A trace file (DRAMSys .stl, DRAMSim3, plain or Ramulator, gzip or not; the format is
        sniffed)."""
        return read_trace(path)

    def simulator(self, arch: DramArch) -> DramSimulator:
        """The trace-driven controller model on the memory system ``arch``."""
        return DramSimulator(arch)

    def check_level(self, knob: str, value: Any, arch: DramArch) -> None:
        """An address-mapping level must fit the memory system (e.g. ``RoBaRaCoCh``, or bit
        lists such as ``Ro[32:17] Ba[16:13] Co[12:6] Ba0^17``)."""
        if knob == "address_mapping":
            compile_mapping(value, arch)

    def check_space(self, space: DesignSpace, arch: DramArch) -> None:
        """The generic knob checks, then: per-bank refresh only on devices that have it."""
        super().check_space(space, arch)
        if "refresh_policy" in space and "PerBank" in space["refresh_policy"].choices:
            if not arch.supports_per_bank_refresh:
                raise SpecError(
                    f"design_space.refresh_policy: level 'PerBank' needs per-bank refresh timings "
                    f"(trfcpb_ck, trefipb_ck); memory system {arch.name!r} ({arch.standard}) has none. "
                    f"Use a device with per-bank refresh, e.g. {[n for n in self.arch_names() if n != arch.name]}"
                )


DOMAIN = DramDomain()
