"""The DRAM memory-controller domain: memory systems, traces, and the trace-driven simulator.

``DOMAIN`` is the table the engine reaches through the env spec's string entry point
(``archgym_py.envs.dram:DOMAIN``).
"""

from __future__ import annotations

from typing import Any

from ..._errors import SpecError, unknown_name
from ..._space import DesignSpace
from ..._spec import shipped_names
from .arch import TUNABLE, DramArch, load_arch
from .mapping import COMMON_MAPPINGS, decode, encode, parse_mapping
from .simulator import METRICS, DramSimulator
from .workload import (
    BUILTIN_WORKLOADS,
    GENERATORS,
    Trace,
    hotspot,
    load_workload,
    mixed,
    read_dramsim3,
    read_ramulator,
    read_stl,
    read_trace,
    sequential,
    strided,
    uniform_random,
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
    "decode",
    "encode",
    "hotspot",
    "load_arch",
    "load_workload",
    "mixed",
    "read_dramsim3",
    "read_ramulator",
    "read_stl",
    "read_trace",
    "sequential",
    "strided",
    "uniform_random",
]


class DramDomain:
    """The engine's view of this family (see :class:`archgym_py.Domain`)."""

    name = "dram"
    metrics = METRICS

    def load_arch(self, arch: Any) -> DramArch:
        return load_arch(arch)

    def arch_names(self) -> list[str]:
        return shipped_names("dram", "arch")

    def load_workload(self, workload: Any) -> Trace:
        return load_workload(workload)

    def workload_names(self) -> list[str]:
        return list(BUILTIN_WORKLOADS)

    def simulator(self, arch: DramArch) -> DramSimulator:
        return DramSimulator(arch)

    def arch_defaults(self, arch: DramArch) -> dict[str, Any]:
        return arch.tunable_values()

    def check_space(self, space: DesignSpace, arch: DramArch) -> None:
        for param in space:
            if param.name not in TUNABLE:
                raise SpecError(
                    unknown_name("DRAM controller knob", param.name, TUNABLE, "design_space")
                )
            for choice in param.choices:
                value = choice.item() if hasattr(choice, "item") else choice
                try:
                    TUNABLE[param.name].check_value(value, f"design_space.{param.name}")
                    if param.name == "address_mapping":
                        parse_mapping(value)
                except SpecError as exc:
                    raise SpecError(
                        f"design_space.{param.name}: level {value!r} is invalid: {exc}"
                    ) from exc
        if "refresh_policy" in space and "PerBank" in space["refresh_policy"].choices:
            if not arch.supports_per_bank_refresh:
                raise SpecError(
                    f"design_space.refresh_policy: level 'PerBank' needs per-bank refresh timings "
                    f"(trfcpb_ck, trefipb_ck); memory system {arch.name!r} ({arch.standard}) has none. "
                    f"Use a device with per-bank refresh, e.g. {[n for n in self.arch_names() if n != arch.name]}"
                )


DOMAIN = DramDomain()
