"""An accelerator described as a memory hierarchy (issue 12's architecture language), evaluated
with the loop-nest model of :mod:`~archgym_py.envs.accelerator.loopnest`.

A spec (``arch_specs/accelerator/hierarchy/*.yaml``) gives every number with its source::

    spec_version: 1
    name: eyeriss
    clock_mhz: {value: 200, source: "..."}
    mac_energy_pj: {value: 0.85, source: "..."}
    precision_bits: {W: {value: 16, source: "..."}, I: ..., O: ...}   # O: partial sums
    array: {rows: {value: 12, source: "..."}, cols: {value: 14, source: "..."}}
    dataflow: {rows: [R, C], cols: [P, K]}        # loops each array dimension serves, in order
    mac_operand_reuse: {value: true, source: ...} # optional: MACs hold weight and input words
    levels:                                        # innermost first
      - name: RF
        per_pe: true                               # one instance per PE (else one per chip)
        keeps: [W, I, O]                           # the others bypass it
        capacity_bits: {W: {value: 3584, source: ...}, ...}   # per operand, or one shared value
        read_energy_pj_per_bit: {value: 0.053, source: "..."} # or per operand
        write_energy_pj_per_bit: {value: 0.053, source: "..."}
        bandwidth_bits_per_cycle: {value: 128, source: "..."} # optional: unbounded
        fanout: {lanes: {value: 8, source: ...}}   # optional: units below each instance
        serves: {lanes: [K]}                       # (a per-PE level's vector MACs, as Simba)
      - ...
      - name: DRAM                                 # the outermost keeps W, I and O; no capacity

The array (any number of dimensions) sits between the per-PE levels and the first chip level:
a layer's loops are unrolled on it greedily in the ``dataflow`` order (each array dimension takes,
loop by loop, the largest factor of the loop that still fits), as ZigZag's served dimensions do.
Errors name the path of the offending entry (``levels[1].capacity_bits.I``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

from ..._errors import SpecError
from ..._spec import Field, check_keys, check_spec_version, load_named_spec, shipped_spec_dir
from .loopnest import DIMS, OPERANDS, Cost, Level, LevelMapping, Problem, evaluate, search

_POSITIVE_INT = Field(int, "", low=1)
_NONNEGATIVE = Field(float, "", low=0)
_POSITIVE = Field(float, "", low=1e-12)
_FLAG = Field(bool, "")
_LEVEL_KEYS = {"name", "keeps", "per_pe", "capacity_bits", "read_energy_pj_per_bit",
               "write_energy_pj_per_bit", "bandwidth_bits_per_cycle", "fanout", "serves"}  # fmt: skip


@dataclass(frozen=True)
class StorageLevel:
    """One level of a :class:`Hierarchy`, in bits (converted to words per operand on use)."""

    name: str
    keeps: frozenset[str]
    per_pe: bool
    capacity_bits: float | dict[str, float] | None
    read_pj_per_bit: dict[str, float]
    write_pj_per_bit: dict[str, float]
    bandwidth_bits: float | None
    #: Units below one instance of this level (the MACs under a PE's buffers: lanes x vector),
    #: and the loops each of their dimensions serves. The PE array is the chip level's fanout.
    fanout: dict[str, int] = field(default_factory=dict)
    serves: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hierarchy:
    """A validated accelerator described level by level (see the module docstring)."""

    name: str
    description: str
    clock_mhz: float
    mac_energy_pj: float
    precision_bits: dict[str, int]
    array: dict[str, int]
    dataflow: dict[str, tuple[str, ...]]
    levels: tuple[StorageLevel, ...]
    sources: dict[str, str] = field(default_factory=dict)
    #: Whether each MAC holds its weight and input across consecutive cycles on the same word
    #: (``mac_reuse`` of :mod:`.loopnest`; ZigZag's convention, off as in Timeloop).
    mac_operand_reuse: bool = False

    @property
    def pes(self) -> int:
        """Processing elements: the product of the array's dimensions."""
        return prod(self.array.values())

    @property
    def array_level(self) -> int:
        """Index of the first chip-wide level: the array fans out below it."""
        return next(i for i, lv in enumerate(self.levels) if not lv.per_pe)

    def fanouts(self) -> list[tuple[dict[str, int], dict[str, tuple[str, ...]]]]:
        """Per level: the units below one instance and the loops each dimension serves (the PE
        array below :attr:`array_level`, a level's own ``fanout`` elsewhere)."""
        return [(self.array, self.dataflow) if i == self.array_level else (lv.fanout, lv.serves)
                for i, lv in enumerate(self.levels)]  # fmt: skip

    def unrolling(self, problem: Problem) -> dict[str, int]:
        """The loop factors the PE array takes for ``problem``."""
        return self.spatial(problem)[self.array_level]

    def unrolled_dims(self, problem: Problem) -> list[dict[str, dict[str, int]]]:
        """Per level, per fanout dimension, the loop factors it takes for ``problem``: greedy,
        innermost level first, each dimension taking loop by loop (in its served order) the
        largest factor of what is left of the loop that still fits."""
        left = dict(problem.bounds)
        out = []
        for dims, serves in self.fanouts():
            per_dim: dict[str, dict[str, int]] = {}
            for dim, size in dims.items():
                room, taken = size, {}
                for loop in serves.get(dim, ()):
                    f = max(d for d in range(1, min(room, left[loop]) + 1) if left[loop] % d == 0)
                    if f > 1:
                        taken[loop] = f
                        left[loop] //= f
                        room //= f
                per_dim[dim] = taken
            out.append(per_dim)
        return out

    def spatial(self, problem: Problem) -> list[dict[str, int]]:
        """Per level, the loop factors its fanout takes for ``problem`` (all its dimensions)."""
        out = []
        for per_dim in self.unrolled_dims(problem):
            factors: dict[str, int] = {}
            for taken in per_dim.values():
                for loop, f in taken.items():
                    factors[loop] = factors.get(loop, 1) * f
            out.append(factors)
        return out

    def loopnest_levels(self, spatial: Sequence[Mapping[str, int]]) -> list[Level]:
        """The loop-nest model's levels for per-level unrollings (:meth:`spatial`): words of
        each operand's precision, per-PE levels instanced once per PE the array uses."""
        used = prod(spatial[self.array_level].values())
        bits = self.precision_bits
        out = []
        for lv in self.levels:
            cap = lv.capacity_bits
            shared_bits = None
            if isinstance(cap, dict):
                cap = {op: c // bits[op] for op, c in cap.items()}
            elif cap is not None:  # shared by operands of their own widths: checked in bits
                shared_bits, cap = cap, None
            out.append(
                Level(
                    lv.name,
                    lv.keeps,
                    instances=used if lv.per_pe else 1,
                    capacity_words=cap,
                    capacity_bits=shared_bits,
                    read_pj={op: e * bits[op] for op, e in lv.read_pj_per_bit.items()},
                    write_pj={op: e * bits[op] for op, e in lv.write_pj_per_bit.items()},
                    word_bits=dict(bits),
                    bandwidth_bits=lv.bandwidth_bits,
                )
            )
        return out

    def evaluate(
        self, problem: Problem, mapping: Sequence[LevelMapping], *, loading: str = "overlapped"
    ) -> Cost:
        """The cost of one given mapping (its spatial loops must fit the fanouts); ``loading``
        ``"serial"`` adds the first fills and last drains (see :mod:`.loopnest`)."""
        spatial = [m.spatial for m in mapping]
        return evaluate(problem, self.loopnest_levels(spatial), mapping, mac_pj=self.mac_energy_pj,
                        loading=loading, mac_reuse=self.mac_operand_reuse)  # fmt: skip

    def map(
        self,
        problem: Problem,
        *,
        objective: str = "edp",
        samples: int = 4096,
        seed: int = 0,
        loading: str = "overlapped",
    ):
        """The best mapping found for ``problem`` with the dataflow's unrolling, and its cost."""
        spatial = self.spatial(problem)
        levels = self.loopnest_levels(spatial)
        return search(problem, levels, spatial, objective=objective, samples=samples, seed=seed,
                      mac_pj=self.mac_energy_pj, loading=loading,
                      mac_reuse=self.mac_operand_reuse)  # fmt: skip


# ----------------------------------------------------------------------------- loading
def _cited(raw: Any, kind: Field, path: str, sources: dict[str, str]) -> Any:
    value, source = kind.parse(raw, path)
    sources[path] = source or ""
    return value


def _per_operand(raw, kind, path, sources, keeps) -> dict[str, float] | float:
    """One cited value, or a mapping of operand -> cited value (for the operands kept)."""
    if isinstance(raw, Mapping) and "value" not in raw:
        check_keys(raw, required=set(keeps), path=path)
        return {op: _cited(raw[op], kind, f"{path}.{op}", sources) for op in sorted(keeps)}
    return _cited(raw, kind, path, sources)


def _level(raw: Any, path: str, sources: dict[str, str], outermost: bool) -> StorageLevel:
    check_keys(raw, required={"name", "keeps", "read_energy_pj_per_bit", "write_energy_pj_per_bit"}
               | ({"capacity_bits"} if not outermost else set()),
               optional=_LEVEL_KEYS, path=path)  # fmt: skip
    keeps = raw["keeps"]
    if not isinstance(keeps, list) or not keeps or not set(keeps) <= set(OPERANDS):
        raise SpecError(f"{path}.keeps: got {keeps!r}; expected a non-empty list of {OPERANDS}")
    keeps = frozenset(keeps)
    if outermost and keeps != frozenset(OPERANDS):
        raise SpecError(
            f"{path}.keeps: the outermost level must keep W, I and O, got {sorted(keeps)}"
        )
    energy = {}
    for key in ("read_energy_pj_per_bit", "write_energy_pj_per_bit"):
        e = _per_operand(raw[key], _NONNEGATIVE, f"{path}.{key}", sources, keeps)
        energy[key] = e if isinstance(e, dict) else dict.fromkeys(keeps, e)
    cap = None
    if "capacity_bits" in raw:
        cap = _per_operand(raw["capacity_bits"], _POSITIVE, f"{path}.capacity_bits", sources, keeps)
    bandwidth = None
    if "bandwidth_bits_per_cycle" in raw:
        bandwidth = _cited(raw["bandwidth_bits_per_cycle"], _POSITIVE,
                           f"{path}.bandwidth_bits_per_cycle", sources)  # fmt: skip
    per_pe = raw.get("per_pe", False)
    if not isinstance(per_pe, bool):
        raise SpecError(f"{path}.per_pe: got {per_pe!r}; expected true or false")
    fanout, serves = {}, {}
    if "fanout" in raw:
        if not isinstance(raw["fanout"], Mapping) or not raw["fanout"]:
            raise SpecError(f"{path}.fanout: expected a mapping of dimension name -> size")
        fanout = {str(k): _cited(v, _POSITIVE_INT, f"{path}.fanout.{k}", sources)
                  for k, v in raw["fanout"].items()}  # fmt: skip
        serves = _dataflow(raw.get("serves", {}), fanout, f"{path}.serves")
    elif "serves" in raw:
        raise SpecError(f"{path}.serves: a level serves loops only with a fanout")
    return StorageLevel(str(raw["name"]), keeps, per_pe, cap, energy["read_energy_pj_per_bit"],
                        energy["write_energy_pj_per_bit"], bandwidth, fanout, serves)  # fmt: skip


def hierarchy_from_dict(data: Mapping[str, Any], *, path: str = "hierarchy") -> Hierarchy:
    """Validate a hierarchy spec (the module docstring's form) and build it."""
    check_spec_version(data, path)
    check_keys(data, required={"spec_version", "name", "clock_mhz", "mac_energy_pj",
                               "precision_bits", "array", "dataflow", "levels"},
               optional={"description", "mac_operand_reuse"}, path=path)  # fmt: skip
    sources: dict[str, str] = {}
    clock = _cited(data["clock_mhz"], _POSITIVE, f"{path}.clock_mhz", sources)
    mac = _cited(data["mac_energy_pj"], _NONNEGATIVE, f"{path}.mac_energy_pj", sources)
    check_keys(data["precision_bits"], required=set(OPERANDS), path=f"{path}.precision_bits")
    bits = {op: _cited(data["precision_bits"][op], _POSITIVE_INT, f"{path}.precision_bits.{op}",
                       sources) for op in OPERANDS}  # fmt: skip
    if not isinstance(data["array"], Mapping) or not data["array"]:
        raise SpecError(f"{path}.array: expected a mapping of dimension name -> size")
    array = {str(k): _cited(v, _POSITIVE_INT, f"{path}.array.{k}", sources)
             for k, v in data["array"].items()}  # fmt: skip
    dataflow = _dataflow(data["dataflow"], array, f"{path}.dataflow")
    raw_levels = data["levels"]
    if not isinstance(raw_levels, list) or not raw_levels:
        raise SpecError(f"{path}.levels: expected a list of levels, innermost first")
    levels = tuple(
        _level(lv, f"{path}.levels[{i}]", sources, i == len(raw_levels) - 1)
        for i, lv in enumerate(raw_levels)
    )
    _check_levels(levels, f"{path}.levels")
    reuse = False
    if "mac_operand_reuse" in data:
        reuse = _cited(data["mac_operand_reuse"], _FLAG, f"{path}.mac_operand_reuse", sources)
    sources = {key[len(path) + 1 :]: src for key, src in sources.items()}  # keyed in the document
    return Hierarchy(str(data["name"]), str(data.get("description", "")), clock, mac, bits,
                     array, dataflow, levels, sources, reuse)  # fmt: skip


def _dataflow(raw: Any, array: Mapping[str, int], path: str) -> dict[str, tuple[str, ...]]:
    check_keys(raw, required=set(), optional=set(array), path=path)
    out = {}
    for dim, loops in raw.items():
        if not isinstance(loops, list) or not set(loops) <= set(DIMS):
            raise SpecError(f"{path}.{dim}: got {loops!r}; expected a list of loops from {DIMS}")
        out[dim] = tuple(loops)
    return out


def _check_levels(levels: Sequence[StorageLevel], path: str) -> None:
    names = [lv.name for lv in levels]
    if len(set(names)) != len(names):
        raise SpecError(f"{path}: level names must differ, got {names}")
    flags = [lv.per_pe for lv in levels]
    if any(flags[i] and not flags[i - 1] for i in range(1, len(flags))):
        raise SpecError(f"{path}: per-PE levels come first (innermost), then the chip levels")
    if flags[-1]:
        raise SpecError(f"{path}[{len(levels) - 1}]: the outermost level cannot be per PE")
    array_level = flags.index(False)
    if levels[array_level].fanout:
        raise SpecError(
            f"{path}[{array_level}].fanout: the first chip level fans out to the PE array "
            "(the top-level 'array')"
        )


def load_hierarchy(spec: str | Path | Mapping[str, Any] | Hierarchy) -> Hierarchy:
    """A hierarchy from a shipped name (``"eyeriss"``), a YAML path, a mapping or itself."""
    return load_named_spec(spec, Hierarchy, hierarchy_from_dict,
                           folder=shipped_spec_dir("accelerator") / "hierarchy",
                           what="accelerator hierarchy")  # fmt: skip
