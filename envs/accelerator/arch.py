"""Base architecture of a DNN accelerator: schema, cross-field rules and loading from YAML.

A spec (``arch_specs/accelerator/arch/*.yaml``) gives every constant with its source::

    spec_version: 1
    name: eyeriss
    description: ...
    architecture:
      pe_rows: {value: 12, source: "Chen et al., ISSCC 2016"}
      ...

The *tunable* fields are the knobs a design space may vary; the rest are technology constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._arch import Arch
from ..._errors import SpecError
from ..._spec import Field

DATAFLOWS = ("WS", "OS", "IS", "RS")

#: Knobs that a design space may override, with their schema.
TUNABLE: dict[str, Field] = {
    "pe_rows": Field(int, "rows of the PE array", low=1, high=4096),
    "pe_cols": Field(int, "columns of the PE array", low=1, high=4096),
    "rf_bytes": Field(int, "register file (scratchpad) per PE, bytes", low=1, high=1 << 20),
    "glb_kib": Field(float, "shared global buffer, KiB", low=1 / 1024, high=1 << 20),
    "glb_bw_bytes_per_cycle": Field(float, "global buffer bandwidth, bytes/cycle", low=1e-3),
    "dram_bw_gbps": Field(float, "off-chip DRAM bandwidth, GB/s (1e9 bytes/s)", low=1e-3),
    "dataflow": Field(str, "WS, OS, IS or RS", choices=DATAFLOWS),
    "clock_mhz": Field(float, "clock frequency, MHz", low=1e-3, high=1e5),
}

#: Technology constants (fixed per base architecture).
CONSTANTS: dict[str, Field] = {
    "data_bits": Field(int, "width of weights and activations, bits", low=1, high=64),
    "accum_bits": Field(int, "width of partial sums, bits", low=1, high=128),
    "mac_energy_pj": Field(float, "energy of one multiply-accumulate at data_bits, pJ", low=0),
    "sram_energy_pj_per_bit": Field(
        float, "SRAM read/write energy per bit at sram_ref_kib, pJ", low=0
    ),
    "sram_ref_kib": Field(
        float, "capacity at which sram_energy_pj_per_bit is given, KiB", low=1e-6
    ),
    "sram_energy_exponent": Field(
        float, "energy per bit grows as (capacity/ref)^exponent", low=0, high=2
    ),
    "noc_energy_pj_per_bit": Field(
        float, "energy to deliver one bit from the GLB to a PE, pJ", low=0
    ),
    "dram_energy_pj_per_bit": Field(float, "DRAM access energy per bit, pJ", low=0),
    "mac_area_um2": Field(float, "area of one MAC unit, um^2", low=0),
    "sram_area_mm2_per_kib": Field(float, "SRAM area per KiB incl. periphery, mm^2", low=0),
    "technology_nm": Field(float, "process node the constants refer to, nm", low=1),
}


class AcceleratorArch(Arch):
    """A validated base architecture of a DNN accelerator (see the module docstring)."""

    family = "accelerator"
    what = "accelerator architecture"
    tunable = TUNABLE
    constants = CONSTANTS
    derived = ("pes",)
    knob = "accelerator knob"

    @property
    def pes(self) -> int:
        """Processing elements of the array."""
        return self.pe_rows * self.pe_cols

    def check(self, *, path: str = "arch.architecture") -> None:
        """Cross-field rules the schema cannot express."""
        if self.accum_bits < self.data_bits:
            raise SpecError(
                f"{path}.accum_bits: got {self.accum_bits}; expected >= data_bits "
                f"({self.data_bits}): partial sums are at least as wide as the data"
            )
        if self.rf_bytes * 8 < 2 * self.data_bits + self.accum_bits:
            raise SpecError(
                f"{path}.rf_bytes: got {self.rf_bytes}; a PE must hold at least one weight, one "
                f"input and one partial sum ({(2 * self.data_bits + self.accum_bits + 7) // 8} bytes)"
            )


def arch_from_dict(data: Mapping[str, Any], *, path: str = "arch") -> AcceleratorArch:
    """Validate the schema, then the cross-field rules, and build the architecture."""
    return AcceleratorArch.from_dict(data, path=path)


def load_arch(arch: str | Path | Mapping[str, Any] | AcceleratorArch) -> AcceleratorArch:
    """A base architecture from a shipped name (``"eyeriss"``), a YAML path, a mapping or itself."""
    return AcceleratorArch.load(arch)
