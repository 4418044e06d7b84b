"""Hardware and mapping as one design (issue 12's co-design env, ``archgym/AcceleratorCoDesign-v0``):
Accelerator-v0's compact knobs built into a three-level hierarchy and evaluated on the exact
loop-nest model (:mod:`.loopnest`), with each level's stationarity as a knob of the design.

**Hardware.** A design's knobs (``pe_rows, pe_cols, rf_bytes, glb_kib, glb_bw_bytes_per_cycle,
dram_bw_gbps, dataflow, clock_mhz``) and its base architecture's technology constants make three
loop-nest levels (:func:`levels_of`): a register file per PE (``rf_bytes``, shared by the three
operands, unbounded bandwidth: a word per MAC and cycle), a global buffer (``glb_kib``, its
bandwidth ``glb_bw_bytes_per_cycle``; each of its accesses also crosses the NoC, so its energy per
bit is the SRAM's plus ``noc_energy_pj_per_bit``) and DRAM (``dram_bw_gbps`` at the clock). SRAM
energy per bit scales with capacity as in the compact model (``sram_energy_pj_per_bit x
(KiB / sram_ref_kib) ^ sram_energy_exponent``); weights and inputs are ``data_bits`` wide, partial
sums ``accum_bits``. The dataflow names the loops each array dimension serves, as the compact
model's table does (WS: rows C, R, S / columns K; OS: K / Q, P, N; IS: C, R, S / Q, P, N; RS: R, C
/ P, K, Eyeriss's row-stationary), unrolled greedily as :meth:`.hierarchy.Hierarchy.spatial` does.

**Mapping.** ``rf_stationary`` and ``glb_stationary`` (W, I or O) choose the operand each on-chip
level keeps while the level above iterates, ``rf_fill`` and ``glb_fill`` the share of its capacity
its tiles may take (a level with room for a second copy refills under use instead of stalling;
:func:`knob_mappings`): a level is filled with the loops that index its stationary operand first
(the largest factor of each whose tiles still fit the share, then the other loops the same way),
and the loops of the level above are ordered with that operand's irrelevant loops innermost, so
its tile stays (Chen et al., ISCA 2016's taxonomy of weight-, input- and output-stationary
dataflows, applied per level as in Timeloop's loop-nest mappings). :func:`map_pairs` searches the
knob mappings instead, per layer, for an objective. Area and its constants are the compact
model's (:func:`.model.area_mm2`). Everything runs over (design, layer) pairs at once, by
default in a compiled kernel (:mod:`.codesign_kernel`) that gives the numpy code's numbers bit
for bit (``engine="numpy"`` runs the numpy code, the reference).

Example (AlexNet's CONV layers on Eyeriss's knobs, two mappings of the same hardware):
    >>> from archgym_py.envs.accelerator import DOMAIN as ACC
    >>> from archgym_py.envs.accelerator.codesign import CODESIGN_DOMAIN as D
    >>> sim = D.simulator(D.load_arch("eyeriss"))
    >>> ev = sim.evaluate({"rf_stationary": ["W", "O"]}, ACC.load_workload("alexnet"))
    >>> bool(ev.metrics["energy_j"][0] != ev.metrics["energy_j"][1]), bool(ev.feasible.all())
    (True, True)
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._errors import SpecError
from ..._simulator import Evaluation
from ..._space import Batch
from ..._spec import Field
from ..._threads import WORKERS, thread_pool
from ..workloads import Network
from . import AcceleratorDomain
from .arch import TUNABLE, AcceleratorArch
from .loopnest import (
    DIMS,
    OBJECTIVES,
    OPERANDS,
    RELEVANT,
    STATIONARY_ORDERS,
    Level,
    Problem,
    evaluate_many,
    footprints,
)
from .model import area_mm2, sram_energy_pj_per_bit
from .simulator import METRICS, network_metrics

#: The mapping's knobs: the operand each on-chip level keeps while the level above iterates.
MAPPING_KNOBS: dict[str, Field] = {
    "rf_stationary": Field(str, "operand the RF keeps across the GLB's loops", choices=OPERANDS),
    "glb_stationary": Field(str, "operand the GLB keeps across DRAM's loops", choices=OPERANDS),
    "rf_fill": Field(float, "share of the RF the tiles may fill", low=0.01, high=1.0),
    "glb_fill": Field(float, "share of the GLB the tiles may fill", low=0.01, high=1.0),
}

#: Loops each array dimension serves, per dataflow (the compact model's table; RS: Chen et al.,
#: ISCA 2016, filter rows on the array's rows and output rows on its columns).
SERVED: dict[str, dict[str, tuple[str, ...]]] = {
    "WS": {"rows": ("C", "R", "S"), "cols": ("K",)},
    "OS": {"rows": ("K",), "cols": ("Q", "P", "N")},
    "IS": {"rows": ("C", "R", "S"), "cols": ("Q", "P", "N")},
    "RS": {"rows": ("R", "C"), "cols": ("P", "K")},
}


class CoDesignArch(AcceleratorArch):
    """Accelerator-v0's architecture plus the mapping knobs (``arch_specs/accelerator/codesign``)."""

    subdir = "codesign"
    what = "accelerator co-design architecture"
    tunable = {**TUNABLE, **MAPPING_KNOBS}


def levels_of(design: Mapping[str, Any], pes_used) -> list[Level]:
    """The loop-nest levels (RF per PE, GLB, DRAM) of designs' values (knobs and constants,
    scalars or arrays over designs; see the module docstring), the RF instanced ``pes_used``
    times."""
    d = design
    bits = {"W": int(np.ravel(d["data_bits"])[0]), "I": int(np.ravel(d["data_bits"])[0]),
            "O": int(np.ravel(d["accum_bits"])[0])}  # fmt: skip

    def level(name, pj_per_bit, **kw):
        energy = {op: pj_per_bit * b for op, b in bits.items()}
        return Level(name, frozenset(OPERANDS), read_pj=energy, write_pj=dict(energy),
                     word_bits=bits, **kw)  # fmt: skip

    rf_bytes, glb_kib = np.asarray(d["rf_bytes"], np.float64), np.asarray(d["glb_kib"], np.float64)
    return [
        level("RF", sram_energy_pj_per_bit(rf_bytes / 1024, d), instances=pes_used,
              capacity_bits=rf_bytes * 8),
        level("GLB", sram_energy_pj_per_bit(glb_kib, d) + d["noc_energy_pj_per_bit"],
              capacity_bits=glb_kib * 8192,
              bandwidth_bits=np.asarray(d["glb_bw_bytes_per_cycle"], np.float64) * 8),
        level("DRAM", d["dram_energy_pj_per_bit"],
              bandwidth_bits=np.asarray(d["dram_bw_gbps"], np.float64) * 8e9
              / (np.asarray(d["clock_mhz"], np.float64) * 1e6)),
    ]  # fmt: skip


def _largest_divisor(n: np.ndarray, ok) -> np.ndarray:
    """Per element, the largest divisor ``f`` of ``n`` with ``ok(f)`` true, where ``ok`` holds
    for 1 and, for each element, for every divisor below one that it holds for (a binary search
    over each value's sorted divisors)."""
    if not len(n):
        return np.ones(0, np.int64)
    values, index = np.unique(n, return_inverse=True)
    divisors = [[f for f in range(1, int(v) + 1) if v % f == 0] for v in values]
    table = np.ones((len(values), max(map(len, divisors))), np.int64)
    for i, row in enumerate(divisors):
        table[i, : len(row)] = row
    lo = np.zeros(len(n), np.int64)  # table[., 0] == 1 always holds
    hi = np.array([len(r) - 1 for r in divisors])[index]
    while np.any(lo < hi):
        mid = (lo + hi + 1) // 2
        good = ok(table[index, mid]) & (lo < hi)
        lo = np.where(good, mid, lo)
        hi = np.where(good | (lo >= hi), hi, mid - 1)
    return table[index, lo]


def knob_mappings(design: Mapping[str, Any], bounds: np.ndarray, stride):
    """The mappings the knobs make (see the module docstring), for ``m`` (design, layer) pairs:
    ``design`` maps each knob and constant to a scalar or an ``(m,)`` array, ``bounds[m]`` holds
    the layers' seven loop bounds (``DIMS`` order), ``stride`` their strides. Returns the temporal
    factors, loop orders (outermost first) and spatial factors, each ``(m, 3, 7)`` (levels RF,
    GLB, DRAM; the array fans out below the GLB), and the loop-nest levels.

    Eyeriss's knobs on ResNet-18's conv2_x, the RF at half its capacity:

    >>> from archgym_py.envs.accelerator.codesign import CODESIGN_DOMAIN
    >>> arch = CODESIGN_DOMAIN.load_arch("eyeriss")
    >>> eyeriss = {**arch.constant_values(), **arch.tunable_values(), "rf_fill": 0.5}
    >>> T, orders, S, _ = knob_mappings(eyeriss, np.array([[1, 64, 64, 56, 56, 3, 3]]), 1)
    >>> dict(zip(DIMS, S[0, 1].tolist())), dict(zip(DIMS, T[0, 0].tolist()))
    ({'N': 1, 'K': 1, 'C': 4, 'P': 14, 'Q': 1, 'R': 3, 'S': 1}, {'N': 1, 'K': 1, 'C': 16, 'P': 1, 'Q': 2, 'R': 1, 'S': 3})

    The array takes R = 3 and C = 4 on its 12 rows, P = 14 on its 14 columns; the RF the
    weights' loops first (S, C), then Q: 48 weights, 16 x 4 inputs and 2 partial sums, 114 words,
    under half of its 256 (K = 2 would take 148).
    """
    bounds = np.asarray(bounds, np.int64)
    m = len(bounds)
    d = {k: np.broadcast_to(v, m) for k, v in design.items()}
    left = bounds.copy()
    S = np.ones((m, 3, 7), np.int64)
    for flow, served in SERVED.items():  # the array's greedy unrolling, per dataflow
        rows = np.flatnonzero(d["dataflow"] == flow)
        for dim, loops in (("pe_rows", served["rows"]), ("pe_cols", served["cols"])):
            room = d[dim][rows].astype(np.int64)
            for loop in loops:
                j = DIMS.index(loop)
                f = _largest_divisor(left[rows, j], lambda f, room=room: f <= room)
                S[rows, 1, j] *= f
                left[rows, j] //= f
                room = room // f
    levels = levels_of(d, np.prod(S[:, 1], axis=1))
    T = np.ones((m, 3, 7), np.int64)
    below = S[:, 0].copy()  # extents at or below the level being filled
    stationary = (d["rf_stationary"], d["glb_stationary"])
    fill = (d["rf_fill"], d["glb_fill"])
    for i in range(2):
        below *= S[:, i]
        budget = fill[i].astype(np.float64) * levels[i].capacity_bits
        width = np.array([levels[i].word_bits[op] for op in OPERANDS])
        for op in OPERANDS:  # each stationary operand's loops first, then the others
            rows = np.flatnonzero(stationary[i] == op)
            first = [x for x in reversed(STATIONARY_ORDERS[op]) if x in RELEVANT[op]]
            for x in first + [x for x in DIMS if x not in first]:
                j = DIMS.index(x)

                def fits(f, rows=rows, j=j, below=below, width=width, budget=budget):
                    trial = below[rows].copy()
                    trial[:, j] *= f
                    return footprints(_stride_of(stride, rows), trial) @ width <= budget[rows]

                f = _largest_divisor(left[rows, j], fits)
                T[rows, i, j] = f
                below[rows, j] *= f
                left[rows, j] //= f
    T[:, 2] = left
    # each level's loops ordered so that the stationary operand of the level below stays
    table = np.array([[DIMS.index(x) for x in STATIONARY_ORDERS[op]] for op in OPERANDS])
    pick = [stationary[0], stationary[0], stationary[1]]
    orders = np.stack([table[_operand_codes(p)] for p in pick], axis=1)
    return T, orders, S, levels


def _operand_codes(names: np.ndarray) -> np.ndarray:
    """Each operand name's index in ``OPERANDS`` (same shape)."""
    values, inverse = np.unique(names, return_inverse=True)
    for v in values:
        if str(v) not in OPERANDS:
            raise SpecError(f"stationary operand: got {str(v)!r}; expected one of {OPERANDS}")
    return np.array([OPERANDS.index(str(v)) for v in values])[inverse].reshape(np.shape(names))


def _stride_of(stride, rows):
    """The strides of the selected pairs (a scalar stride serves them all)."""
    return stride[rows] if np.ndim(stride) else stride


def evaluate_pairs(
    design: Mapping[str, Any], bounds: np.ndarray, stride, *, engine: str = "compiled"
) -> dict[str, np.ndarray]:
    """Cycles, energy (pJ) and fit of one instance of each (design, layer) pair's layer under
    its knob mapping (:func:`knob_mappings`'s arguments; :func:`~.loopnest.evaluate_many`'s
    results), by the compiled kernel or in numpy (``engine``; the same numbers)."""
    if engine not in ENGINES:
        raise SpecError(f"engine: got {engine!r}; expected one of {ENGINES}")
    bounds = np.asarray(bounds, np.int64)
    m = len(bounds)
    if engine == "compiled" and m:
        # each pair's own knobs as its one candidate: the objective picks nothing
        result = _map_pairs_compiled(design, bounds, stride, "latency", own=True)
        del result["choice"]
        return result
    if m > CHUNK:  # smaller numpy temporaries: 1.35x the throughput of one 124,000-pair pass
        parts = [evaluate_pairs({k: np.broadcast_to(v, m)[i : i + CHUNK] for k, v in design.items()},
                                bounds[i : i + CHUNK], np.broadcast_to(stride, m)[i : i + CHUNK],
                                engine="numpy")
                 for i in range(0, m, CHUNK)]  # fmt: skip
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    T, orders, S, levels = knob_mappings(design, bounds, stride)
    return evaluate_many(bounds, stride, levels, T, orders, S, mac_pj=design["mac_energy_pj"])


#: Pairs evaluated per numpy pass (of 2,048-32,768 the fastest on the 2-core machine: 145,000
#: mappings/s, 107,000 in one pass of 124,000, under load 2).
CHUNK = 16384


#: How :func:`map_pairs` costs the candidates: the compiled kernel or numpy.
ENGINES = ("compiled", "numpy")

#: The mapping knobs' values the mapper tries: every stationary operand and tile budget per level.
KNOB_CANDIDATES = tuple(itertools.product(OPERANDS, OPERANDS, (0.25, 0.5, 1.0), (0.25, 0.5, 1.0)))


def map_pairs(
    design: Mapping[str, Any],
    bounds: np.ndarray,
    stride,
    objective: str = "edp",
    *,
    engine: str = "compiled",
) -> dict[str, np.ndarray]:
    """The best of the knob mappings (:data:`KNOB_CANDIDATES`, 81) for each (design, layer)
    pair, by ``objective`` (``latency``, ``energy`` or ``edp``; ties broken by the other metric,
    mappings that do not fit last): a pruned mapper over designs x layers at once, the hardware
    knobs as given and the mapping knobs ignored. Returns :func:`evaluate_pairs`'s arrays for the
    chosen mappings and ``choice``, the index of each pair's candidate. ``engine`` costs the
    candidates with the compiled kernel (:func:`knob_costs`) or in numpy
    (:func:`knob_costs_numpy`, 12x slower): the same numbers, so the same choices.

    >>> from archgym_py.envs.accelerator.codesign import CODESIGN_DOMAIN
    >>> arch = CODESIGN_DOMAIN.load_arch("eyeriss")
    >>> eyeriss = {**arch.constant_values(), **arch.tunable_values()}
    >>> conv2 = np.array([[1, 64, 64, 56, 56, 3, 3]])  # ResNet-18's conv2_x
    >>> best = map_pairs(eyeriss, conv2, 1, "energy")
    >>> own = evaluate_pairs(eyeriss, conv2, 1)  # Eyeriss's own knobs: W, I, 1.0, 0.5
    >>> KNOB_CANDIDATES[best["choice"][0]], round(float(own["energy_pj"][0] / best["energy_pj"][0]), 2)
    (('W', 'I', 1.0, 1.0), 1.14)
    >>> KNOB_CANDIDATES[map_pairs(eyeriss, conv2, 1, "latency")["choice"][0]]
    ('W', 'W', 0.5, 0.25)
    """
    if objective not in OBJECTIVES:
        raise SpecError(f"objective: got {objective!r}; expected one of {OBJECTIVES}")
    if engine not in ENGINES:
        raise SpecError(f"engine: got {engine!r}; expected one of {ENGINES}")
    bounds = np.asarray(bounds, np.int64)
    m = len(bounds)
    if m == 0:
        return {"choice": np.zeros(0, np.int64), **evaluate_pairs(design, bounds, stride)}
    if engine == "compiled":
        return _map_pairs_compiled(design, bounds, stride, objective)
    cycles, energy, fits = knob_costs_numpy(design, bounds, stride)
    primary, secondary = {"latency": (cycles, energy), "energy": (energy, cycles),
                          "edp": (cycles * energy, cycles)}[objective]  # fmt: skip
    primary = np.where(fits, primary, np.inf)
    choice = np.lexsort((secondary, primary), axis=1)[:, 0]
    picked = {key: np.asarray(KNOB_CANDIDATES_ARRAYS[key])[choice] for key in MAPPING_KNOBS}
    chosen = {key: np.broadcast_to(v, m) for key, v in design.items()}
    return {
        "choice": choice,
        **evaluate_pairs({**chosen, **picked}, bounds, stride, engine="numpy"),
    }


#: :data:`KNOB_CANDIDATES` as one array per mapping knob.
KNOB_CANDIDATES_ARRAYS = dict(
    zip(MAPPING_KNOBS, (np.array(c) for c in zip(*KNOB_CANDIDATES, strict=True)), strict=True)
)


def knob_costs_numpy(design: Mapping[str, Any], bounds: np.ndarray, stride):
    """Cycles, energy (pJ) and fit of every knob mapping (:data:`KNOB_CANDIDATES`) of each
    (design, layer) pair, ``(m, 81)`` each, in numpy (:func:`evaluate_pairs` on every
    candidate; :func:`knob_costs` is the same compiled)."""
    m, k = len(bounds), len(KNOB_CANDIDATES)
    tried = {key: np.repeat(np.broadcast_to(v, m), k) for key, v in design.items()}
    tried.update({key: np.tile(v, m) for key, v in KNOB_CANDIDATES_ARRAYS.items()})
    r = evaluate_pairs(tried, np.repeat(bounds, k, axis=0),
                       np.repeat(np.broadcast_to(stride, m), k), engine="numpy")  # fmt: skip
    return r["cycles"].reshape(m, k), r["energy_pj"].reshape(m, k), r["fits"].reshape(m, k)


def knob_costs(design: Mapping[str, Any], bounds: np.ndarray, stride):
    """:func:`knob_costs_numpy` computed by the compiled kernel
    (:func:`.codesign_kernel.knob_costs`): the same numbers, bit for bit (tested)."""
    from . import codesign_kernel as kernel

    return kernel.knob_costs(*_kernel_args(design, bounds, stride))


def _map_pairs_compiled(design, bounds, stride, objective: str, own: bool = False) -> dict:
    """:func:`map_pairs` in the compiled kernel (:func:`.codesign_kernel.knob_best`): the
    choice and its counts, cycles and energy, as :func:`evaluate_pairs` gives them (with
    ``own``, of each pair's own knob mapping). The pairs go to the kernel in slices of
    :data:`KERNEL_SLICE`, on every core when there are several (the kernel releases the GIL),
    so that Ctrl-C takes effect between slices."""
    from . import codesign_kernel as kernel

    args = _kernel_args(design, bounds, stride, own)
    code = OBJECTIVES.index(objective)
    m = len(bounds)
    per_pair = _PER_PAIR_ARGS + (_CANDIDATE_ARGS if own else ())

    def run(lo, hi):
        part = [a[lo:hi] if i in per_pair else a for i, a in enumerate(args)]
        return kernel.knob_best(*part, code)

    size = KERNEL_SLICE[own]
    slices = [(lo, min(lo + size, m)) for lo in range(0, m, size)]
    if len(slices) == 1 or THREADS == 1:
        parts = [run(lo, hi) for lo, hi in slices]
    else:
        futures = [thread_pool().submit(run, lo, hi) for lo, hi in slices]
        try:
            parts = [future.result() for future in futures]
        except BaseException:  # Ctrl-C (or a failure): drop the slices not yet started
            for future in futures:
                future.cancel()
            raise
    choice, counts, compute, floats = (np.concatenate(x) for x in zip(*parts, strict=True))
    return {"choice": choice, "reads": counts[:, 1], "writes": counts[:, 2],
            "tiles": counts[:, 0], "fits": floats[:, 2] != 0.0, "compute_cycles": compute,
            "cycles": floats[:, 0], "stall_cycles": floats[:, 3],
            "loading_cycles": np.zeros(len(choice)), "energy_pj": floats[:, 1]}  # fmt: skip


#: Pairs per call of the compiled kernel, by whether each pair has one candidate (its own knobs)
#: or the 81: 10-40 ms of work on one core, enough slices to keep every core busy.
KERNEL_SLICE = {False: 1024, True: 8192}
#: Threads the kernel's slices run on (the process's cores; 1: all in the calling thread, as
#: ``benchmarks/bench_accelerator.py`` sets it for its per-core figures).
THREADS = WORKERS
#: Positions in :func:`_kernel_args`'s tuple of the arrays with a row per pair, and of the
#: candidates' (a row per pair when each pair has its own knobs).
_PER_PAIR_ARGS = (0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11)
_CANDIDATE_ARGS = (13, 14, 15, 16)


def _kernel_args(design: Mapping[str, Any], bounds: np.ndarray, stride, own: bool = False) -> tuple:
    """The compiled kernel's arrays for (design, layer) pairs (see :mod:`.codesign_kernel`):
    the 81 knob mappings as candidates of every pair, or with ``own`` each pair's own knobs.
    Every array C-contiguous, writable, int64 or float64 (a read-only view would make numba
    compile the kernel again for that signature); values given once are spread over the pairs
    here, the design's other values (~50) are not touched."""
    bounds = np.ascontiguousarray(bounds, np.int64)
    m = len(bounds)
    # the levels' figures from the same broadcast arrays knob_mappings uses (numpy's power and
    # sqrt take other paths on scalars: the same inputs, the same last bit)
    spread = {key: np.broadcast_to(design[key], m) for key in LEVEL_INPUTS}
    levels = levels_of(spread, 1)  # instances aside, as knob_mappings builds them
    pj = np.empty((m, 3, 3))
    for i, lv in enumerate(levels):
        for o, op in enumerate(OPERANDS):
            pj[:, i, o] = lv.read_pj[op]
    names, flow = np.unique(np.asarray(design["dataflow"]).astype(str), return_inverse=True)
    for name in names:
        if name not in SERVED:
            raise SpecError(f"dataflow: got {str(name)!r}; expected one of {tuple(SERVED)}")
    flow = np.array([FLOWS.index(x) for x in names], np.int64)[flow.reshape(-1)]
    if own:
        stat = [_per_pair(_operand_codes(np.asarray(design[k])), m, np.int64).reshape(-1, 1)
                for k in ("rf_stationary", "glb_stationary")]  # fmt: skip
        fill = [_per_pair(design[k], m, np.float64).reshape(-1, 1) for k in ("rf_fill", "glb_fill")]
    else:
        stat, fill = CANDIDATE_CODES, CANDIDATE_FILLS
    return (
        bounds, _per_pair(stride, m, np.int64), _per_pair(design["pe_rows"], m, np.int64),
        _per_pair(design["pe_cols"], m, np.int64), _per_pair(flow, m, np.int64), SERVED_TABLE,
        _per_pair(levels[0].capacity_bits, m, np.float64),
        _per_pair(levels[1].capacity_bits, m, np.float64),
        _per_pair(levels[1].bandwidth_bits, m, np.float64),
        _per_pair(levels[2].bandwidth_bits, m, np.float64), pj,
        _per_pair(design["mac_energy_pj"], m, np.float64),
        np.array([levels[0].word_bits[op] for op in OPERANDS], np.int64), *stat, *fill,
        FILL_ORDER, LOOP_ORDER, max(1, *(_divisor_count(int(v)) for v in np.unique(bounds))),
    )  # fmt: skip


def _per_pair(value, m: int, dtype) -> np.ndarray:
    """``value`` (a number, or an array over the pairs) as a fresh ``(m,)`` array."""
    value = np.asarray(value, dtype)
    if value.ndim == 0:
        return np.full(m, value)
    return np.array(value if value.shape == (m,) else np.broadcast_to(value, m))


@functools.lru_cache(maxsize=4096)
def _divisor_count(n: int) -> int:
    """How many divisors ``n`` has (every loop's tiles are divisors of its bound)."""
    return sum(1 if f * f == n else 2 for f in range(1, math.isqrt(n) + 1) if n % f == 0)


#: The design values :func:`levels_of` reads.
LEVEL_INPUTS = ("data_bits", "accum_bits", "rf_bytes", "glb_kib", "sram_energy_pj_per_bit",
                "sram_ref_kib", "sram_energy_exponent", "noc_energy_pj_per_bit",
                "dram_energy_pj_per_bit", "glb_bw_bytes_per_cycle", "dram_bw_gbps", "clock_mhz")  # fmt: skip
#: The dataflows in the order of :data:`SERVED_TABLE`'s rows, and that table: the loops each
#: array dimension (rows, columns) serves, as ``DIMS`` indices padded with -1.
FLOWS = list(SERVED)
SERVED_TABLE = np.array(
    [[[DIMS.index(x) for x in SERVED[f][side]] + [-1] * (3 - len(SERVED[f][side]))
      for side in ("rows", "cols")] for f in FLOWS], np.int64)  # fmt: skip
#: The 81 candidates' stationary operands (as ``OPERANDS`` indices) and fills, ``(1, 81)`` each.
CANDIDATE_CODES = [_operand_codes(KNOB_CANDIDATES_ARRAYS[k]).reshape(1, -1)
                   for k in ("rf_stationary", "glb_stationary")]  # fmt: skip
CANDIDATE_FILLS = [KNOB_CANDIDATES_ARRAYS[k].astype(np.float64).reshape(1, -1)
                   for k in ("rf_fill", "glb_fill")]  # fmt: skip


#: The order a level fills its loops in, per stationary operand (rows: ``OPERANDS``): the
#: operand's own loops first, then the others (:func:`knob_mappings`).
FILL_ORDER = np.array(
    [
        [DIMS.index(x) for x in first + [x for x in DIMS if x not in first]]
        for first in (
            [x for x in reversed(STATIONARY_ORDERS[op]) if x in RELEVANT[op]] for op in OPERANDS
        )  # fmt: skip
    ],
    np.int64,
)
#: A level's loop order (outermost first) that keeps each operand stationary.
LOOP_ORDER = np.array([[DIMS.index(x) for x in STATIONARY_ORDERS[op]] for op in OPERANDS])


def layer_problems(network: Network) -> list[tuple[Problem, int]]:
    """Each layer as a loop-nest problem and how many times it runs (its count x groups)."""
    return [(Problem(N=x.n, K=x.k, C=x.c, P=x.p, Q=x.q, R=x.r, S=x.s, stride=x.stride),
             x.count * x.groups) for x in network.layers]  # fmt: skip


def evaluate_layer(design: Mapping[str, Any], problem: Problem) -> dict[str, float]:
    """Cycles, energy (pJ) and whether it fits, of one instance of ``problem`` on one design."""
    r = evaluate_pairs(design, np.array([list(problem.bounds.values())]), problem.stride)
    return {"cycles": float(r["cycles"][0]), "energy_pj": float(r["energy_pj"][0]),
            "fits": bool(r["fits"][0])}  # fmt: skip


class CoDesignSimulator:
    """The co-design env's simulator: designs (knobs and mapping knobs) x a network's layers on the
    loop-nest model (see the module docstring); metrics as Accelerator-v0's."""

    metrics = METRICS
    version = "accelerator-codesign/1"

    def __init__(self, arch: AcceleratorArch):
        self.arch = arch
        self._constants = arch.constant_values()

    def _pairs(self, design: Mapping[str, Any], bounds: np.ndarray, stride) -> dict:
        """Each (design, layer) pair's cost: the knobs' own mapping."""
        return evaluate_pairs(design, bounds, stride)

    def evaluate(self, designs: Batch, workload: Network, *, details: bool = False) -> Evaluation:
        """Network-level metrics for a batch of designs; with ``details``, per-layer latency,
        energy and feasibility (``layer_latency_s``, ``layer_energy_j``, ``layer_feasible``)."""
        full = self.arch.fill(designs)
        n = len(np.atleast_1d(full["pe_rows"]))
        problems = layer_problems(workload)
        L = len(problems)
        count = np.array([c for _, c in problems], dtype=np.float64)
        macs = np.array([p.macs for p, _ in problems], dtype=np.float64) @ count
        bounds = np.array([list(p.bounds.values()) for p, _ in problems], np.int64)
        pairs = {k: np.repeat(v if np.shape(v) == (n,) else np.broadcast_to(v, n), L)
                 for k, v in full.items()}  # design-major  # fmt: skip
        r = self._pairs({**self._constants, **pairs}, np.tile(bounds, (n, 1)),
                        np.tile([p.stride for p, _ in problems], n))  # fmt: skip
        cycles = r["cycles"].reshape(n, L)
        energy = r["energy_pj"].reshape(n, L)
        fits = r["fits"].reshape(n, L)
        clock_hz = np.asarray(full["clock_mhz"], dtype=np.float64) * 1e6
        area = sum(area_mm2(full, self._constants).values())
        metrics = network_metrics(full, cycles @ count, energy @ count * 1e-12, area, macs)
        extra: dict[str, Any] = {}
        if details:
            extra = {
                "layer_names": [layer.name for layer in workload.layers],
                "layer_count": count,
                "layer_latency_s": cycles * count / clock_hz[:, None],
                "layer_energy_j": energy * count * 1e-12,
                "layer_feasible": fits,
            }
            if "choice" in r:  # the mapper's pick per layer: stationary operands and fills
                picked = np.array([_mapping_label(*KNOB_CANDIDATES[int(c)]) for c in r["choice"]])
                extra["layer_mapping"] = picked.reshape(n, L)
        return Evaluation(metrics=metrics, feasible=fits.all(axis=1), details=extra)


def _mapping_label(rf_stationary, glb_stationary, rf_fill, glb_fill) -> str:
    """A knob mapping in words: each level's stationary operand and tile budget."""
    return f"RF {rf_stationary} {rf_fill:g}, GLB {glb_stationary} {glb_fill:g}"


class MappedSimulator(CoDesignSimulator):
    """The same loop-nest model with the mapping searched instead of given: every layer of
    every design takes the best of the knob mappings for energy x delay (:func:`map_pairs`), so
    the design is the hardware alone (``archgym/AcceleratorMapped-v0``; Accelerator-v0's
    knobs and base architectures)."""

    version = "accelerator-mapped/1"
    #: What the mapper minimises per layer.
    objective = "edp"
    #: How the mapper costs its candidates (:data:`ENGINES`; the same numbers either way).
    engine = "compiled"

    def _pairs(self, design: Mapping[str, Any], bounds: np.ndarray, stride) -> dict:
        return map_pairs(design, bounds, stride, self.objective, engine=self.engine)


class CoDesignDomain(AcceleratorDomain):
    """The co-design family: Accelerator-v0's workloads, metrics and dataflow check, the
    :class:`CoDesignArch` knobs, the loop-nest model."""

    name = "accelerator_codesign"
    arch_type = CoDesignArch

    def simulator(self, arch: CoDesignArch) -> CoDesignSimulator:
        """The loop-nest model on ``arch``'s hierarchy with knob mappings."""
        return CoDesignSimulator(arch)

    def describe_details(self, details: Mapping[str, Any]) -> list[str]:
        """One line per layer of design 0: runs, latency, energy, and the mapping the mapper
        chose (the mapped env) or that the layer does not fit."""
        if "layer_names" not in details:  # e.g. a surrogate's intervals
            return super().describe_details(details)
        lines = [f"  {'layer':<28} {'count':>5} {'latency_s':>11} {'energy_j':>11}  mapping"]
        for i, name in enumerate(details["layer_names"]):
            mapping = details["layer_mapping"][0, i] if "layer_mapping" in details else "knobs"
            lines.append(f"  {name:<28} {int(details['layer_count'][i]):>5} "
                         f"{details['layer_latency_s'][0, i]:>11.4g} "
                         f"{details['layer_energy_j'][0, i]:>11.4g}  {mapping}"
                         + ("" if details["layer_feasible"][0, i] else " (does not fit)"))  # fmt: skip
        return lines

    def json_details(self, details: Mapping[str, Any]) -> dict[str, Any]:
        """Per-layer arrays stay out of the JSON (as the compact accelerator's)."""
        return {}


class MappedDomain(CoDesignDomain):
    """The loop-nest model with its mapper on Accelerator-v0's architectures and knobs."""

    name = "accelerator_mapped"
    arch_type = AcceleratorArch

    def simulator(self, arch: AcceleratorArch) -> MappedSimulator:
        """The loop-nest model on ``arch``'s hierarchy, each layer mapped for EDP."""
        return MappedSimulator(arch)


CODESIGN_DOMAIN = CoDesignDomain()
MAPPED_DOMAIN = MappedDomain()
