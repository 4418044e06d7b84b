"""Hardware and mapping as one design (issue 12's co-design env, ``archgym/AcceleratorCoDesign-v0``):
Accelerator-v0's compact knobs built into a three-level hierarchy and evaluated on the exact
loop-nest model (:mod:`.loopnest`), with each level's stationarity as a knob of the design.

**Hardware.** A design's knobs (``pe_rows, pe_cols, rf_bytes, glb_kib, glb_bw_bytes_per_cycle,
dram_bw_gbps, dataflow, clock_mhz``) and its base architecture's technology constants make a
:class:`~.hierarchy.Hierarchy`: a register file per PE (``rf_bytes``, shared by the three
operands, unbounded bandwidth: a word per MAC and cycle), a global buffer (``glb_kib``, its
bandwidth ``glb_bw_bytes_per_cycle``; each of its accesses also crosses the NoC, so its energy per
bit is the SRAM's plus ``noc_energy_pj_per_bit``) and DRAM (``dram_bw_gbps`` at the clock). SRAM
energy per bit scales with capacity as in the compact model (``sram_energy_pj_per_bit x
(KiB / sram_ref_kib) ^ sram_energy_exponent``); weights and inputs are ``data_bits`` wide, partial
sums ``accum_bits``. The dataflow names the loops each array dimension serves, as the compact
model's table does (WS: rows C, R, S / columns K; OS: K / Q, P, N; IS: C, R, S / Q, P, N; RS: R, C
/ P, K, Eyeriss's row-stationary), unrolled greedily (:meth:`~.hierarchy.Hierarchy.spatial`).

**Mapping.** ``rf_stationary`` and ``glb_stationary`` (W, I or O) choose the operand each on-chip
level keeps while the level above iterates, ``rf_fill`` and ``glb_fill`` the share of its capacity
its tiles may take (a level with room for a second copy refills under use instead of stalling;
:func:`knob_mapping`): a level is filled with the loops that index its stationary operand first
(the largest factor of each whose tiles still fit the share, then the other loops the same way),
and the loops of the level above are ordered with that operand's irrelevant loops innermost, so
its tile stays (Chen et al., ISCA 2016's taxonomy of weight-,
input- and output-stationary dataflows, applied per level as in Timeloop's loop-nest mappings).
Area and its constants are the compact model's (:func:`.model.area_mm2`).

Example (AlexNet's CONV layers on Eyeriss's knobs, two mappings of the same hardware):
    >>> from archgym_py.envs.accelerator import DOMAIN as ACC
    >>> from archgym_py.envs.accelerator.codesign import CODESIGN_DOMAIN as D
    >>> sim = D.simulator(D.load_arch("eyeriss"))
    >>> ev = sim.evaluate({"rf_stationary": ["W", "O"]}, ACC.load_workload("alexnet"))
    >>> bool(ev.metrics["energy_j"][0] != ev.metrics["energy_j"][1]), bool(ev.feasible.all())
    (True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._domain import Domain
from ..._simulator import Evaluation
from ..._space import Batch
from ..._spec import Field
from ..workloads import Layer, Network, network_from_dict
from .arch import TUNABLE, AcceleratorArch
from .hierarchy import Hierarchy, StorageLevel
from .loopnest import DIMS, OPERANDS, RELEVANT, STATIONARY_ORDERS, Problem, evaluate_batch
from .model import area_mm2, sram_energy_pj_per_bit
from .networks import BUILTIN_NETWORKS
from .simulator import METRICS

#: The mapping's knobs: the operand each on-chip level keeps while the level above iterates.
MAPPING_KNOBS: dict[str, Field] = {
    "rf_stationary": Field(
        str, "operand the RF keeps across the GLB's loops: W, I or O", choices=OPERANDS
    ),  # fmt: skip
    "glb_stationary": Field(
        str, "operand the GLB keeps across DRAM's loops: W, I or O", choices=OPERANDS
    ),  # fmt: skip
    "rf_fill": Field(
        float, "share of the RF the tiles may fill (the rest: double-buffering)", low=0.01, high=1.0
    ),  # fmt: skip
    "glb_fill": Field(
        float,
        "share of the GLB the tiles may fill (the rest: double-buffering)",
        low=0.01,
        high=1.0,
    ),  # fmt: skip
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


def hierarchy_of(design: Mapping[str, Any]) -> Hierarchy:
    """The three-level hierarchy of one design's values (knobs and constants; module docstring)."""
    d = design

    def sram(kib: float) -> float:
        return float(sram_energy_pj_per_bit(np.float64(kib), d))

    def level(name, per_pe, cap_bits, pj, bandwidth):
        energy = dict.fromkeys(OPERANDS, pj)
        return StorageLevel(name, frozenset(OPERANDS), per_pe, cap_bits, energy, dict(energy),
                            bandwidth)  # fmt: skip

    dram_bits_per_cycle = d["dram_bw_gbps"] * 8e9 / (d["clock_mhz"] * 1e6)
    levels = (
        level("RF", True, d["rf_bytes"] * 8, sram(d["rf_bytes"] / 1024), None),
        level("GLB", False, d["glb_kib"] * 8192,
              sram(d["glb_kib"]) + d["noc_energy_pj_per_bit"], d["glb_bw_bytes_per_cycle"] * 8),
        level("DRAM", False, None, d["dram_energy_pj_per_bit"], dram_bits_per_cycle),
    )  # fmt: skip
    bits = {"W": int(d["data_bits"]), "I": int(d["data_bits"]), "O": int(d["accum_bits"])}
    return Hierarchy("codesign", "", float(d["clock_mhz"]), float(d["mac_energy_pj"]), bits,
                     {"rows": int(d["pe_rows"]), "cols": int(d["pe_cols"])},
                     SERVED[str(d["dataflow"])], levels)  # fmt: skip


def _divisors_desc(n: int) -> list[int]:
    return [f for f in range(n, 0, -1) if n % f == 0]


def knob_mapping(
    h: Hierarchy, problem: Problem, stationary: tuple[str, str], fill: tuple[float, float]
):
    """The temporal factors ``(levels, 7)`` and loop orders ``(levels, 7)`` (outermost first) of
    ``problem`` on the three-level ``h`` for the per-level stationary operands and tile budgets
    (shares of capacity) of ``(RF, GLB)``, the spatial unrolling and the loop-nest levels (see the
    module docstring).

    Eyeriss's knobs on ResNet-18's conv2_x, the RF at half its capacity:

    >>> from archgym_py.envs.accelerator.codesign import CODESIGN_DOMAIN
    >>> arch = CODESIGN_DOMAIN.load_arch("eyeriss")
    >>> h = hierarchy_of({**arch.constant_values(), **arch.tunable_values()})
    >>> T, orders, spatial, _ = knob_mapping(h, Problem(K=64, C=64, P=56, Q=56, R=3, S=3),
    ...                                      ("W", "I"), (0.5, 1.0))
    >>> spatial[1], dict(zip(DIMS, T[0].tolist()))  # RF: the weights' loops first (S, C), then Q
    ({'R': 3, 'C': 4, 'P': 14}, {'N': 1, 'K': 1, 'C': 16, 'P': 1, 'Q': 2, 'R': 1, 'S': 3})

    48 weights, 16 x 4 inputs and 2 partial sums: 114 words, under half of the RF's 256 (K = 2
    would take 148)."""
    spatial = h.spatial(problem)
    levels = h.loopnest_levels(spatial)
    left = {d: problem.bounds[d] // np.prod([sp.get(d, 1) for sp in spatial]) for d in DIMS}
    temporal = np.ones((3, 7), np.int64)
    below = {d: 1 for d in DIMS}  # extents at or below the level being filled
    for i, op in enumerate(stationary):
        for d, f in spatial[i].items():
            below[d] *= f
        first = [d for d in reversed(STATIONARY_ORDERS[op]) if d in RELEVANT[op]]
        for d in first + [d for d in DIMS if d not in first]:
            for f in _divisors_desc(int(left[d])):
                trial = {**below, d: below[d] * f}
                if f == 1 or _fits(problem, levels[i], trial, fill[i]):
                    break
            temporal[i, DIMS.index(d)] = f
            below[d] *= f
            left[d] //= f
    for d in DIMS:
        temporal[2, DIMS.index(d)] = left[d]
    # each level's loops ordered so that the stationary operand of the level below stays
    order_of = [stationary[0], stationary[0], stationary[1]]
    orders = np.array([[DIMS.index(x) for x in STATIONARY_ORDERS[op]] for op in order_of])
    return temporal, orders, spatial, levels


def _fits(problem: Problem, level, extents: Mapping[str, int], share: float = 1.0) -> bool:
    """Whether tiles over ``extents`` fit ``share`` of ``level``'s shared capacity (in bits)."""
    bits = sum(problem.footprint(op, extents) * level.word_bits[op] for op in OPERANDS)
    return bits <= share * level.capacity_bits


def layer_problems(network: Network) -> list[tuple[Problem, int]]:
    """Each layer as a loop-nest problem and how many times it runs (its count x groups)."""
    return [(Problem(N=x.n, K=x.k, C=x.c, P=x.p, Q=x.q, R=x.r, S=x.s, stride=x.stride),
             x.count * x.groups) for x in network.layers]  # fmt: skip


def evaluate_layer(design: Mapping[str, Any], layer: Layer | Problem) -> dict[str, float]:
    """Cycles, energy (pJ) and whether it fits, of one instance of ``layer`` on one design."""
    problem = layer if isinstance(layer, Problem) else layer_problems(Network("x", (layer,)))[0][0]
    h = hierarchy_of(design)
    stationary = (str(design["rf_stationary"]), str(design["glb_stationary"]))
    fill = (float(design["rf_fill"]), float(design["glb_fill"]))
    temporal, orders, spatial, levels = knob_mapping(h, problem, stationary, fill)
    r = evaluate_batch(
        problem, levels, temporal[None], orders[None], spatial, mac_pj=h.mac_energy_pj
    )
    return {"cycles": float(r["cycles"][0]), "energy_pj": float(r["energy_pj"][0]),
            "fits": bool(r["fits"][0]), "macs": problem.macs,
            "pes_used": int(np.prod(list(spatial[h.array_level].values()) or [1]))}  # fmt: skip


class CoDesignSimulator:
    """The co-design env's simulator: designs (knobs and mapping knobs) x a network's layers on the
    loop-nest model (see the module docstring); metrics as Accelerator-v0's."""

    metrics = METRICS
    version = "accelerator-codesign/1"

    def __init__(self, arch: CoDesignArch):
        self.arch = arch
        self._constants = arch.constant_values()

    def evaluate(self, designs: Batch, workload: Network, *, details: bool = False) -> Evaluation:
        """Network-level metrics for a batch of designs; with ``details``, per-layer latency,
        energy and feasibility (``layer_latency_s``, ``layer_energy_j``, ``layer_feasible``)."""
        full = self.arch.fill(designs)
        n = len(np.atleast_1d(full["pe_rows"]))
        problems = layer_problems(workload)
        cycles = np.zeros((n, len(problems)))
        energy = np.zeros_like(cycles)
        fits = np.ones_like(cycles, dtype=bool)
        macs = np.array([p.macs * count for p, count in problems], dtype=np.float64)
        count = np.array([c for _, c in problems], dtype=np.float64)
        for i in range(n):
            design = {**self._constants, **{k: np.atleast_1d(v)[i] for k, v in full.items()}}
            for j, (problem, _) in enumerate(problems):
                r = evaluate_layer(design, problem)
                cycles[i, j], energy[i, j], fits[i, j] = r["cycles"], r["energy_pj"], r["fits"]
        clock_hz = np.asarray(full["clock_mhz"], dtype=np.float64) * 1e6
        latency = cycles @ count / clock_hz
        energy_j = energy @ count * 1e-12
        area = sum(area_mm2(full, self._constants).values())
        pes = np.asarray(full["pe_rows"], np.float64) * np.asarray(full["pe_cols"], np.float64)
        metrics = {
            "latency_s": latency,
            "energy_j": energy_j,
            "area_mm2": np.broadcast_to(area, latency.shape).astype(np.float64),
            "power_w": energy_j / latency,
            "edp_js": energy_j * latency,
            "utilization": macs.sum() / (cycles @ count * pes),
        }
        extra: dict[str, Any] = {}
        if details:
            extra = {
                "layer_names": [layer.name for layer in workload.layers],
                "layer_latency_s": cycles * count / clock_hz[:, None],
                "layer_energy_j": energy * count * 1e-12,
                "layer_feasible": fits,
            }
        return Evaluation(metrics=metrics, feasible=fits.all(axis=1), details=extra)


class CoDesignDomain(Domain):
    """The co-design family: Accelerator-v0's workloads, the :class:`CoDesignArch` knobs."""

    name = "accelerator_codesign"
    metrics = METRICS
    arch_type = CoDesignArch
    workload_type = Network
    builtin_workloads = BUILTIN_NETWORKS

    def workload_from_dict(self, data: Mapping[str, Any], *, path: str = "workload") -> Network:
        """A network from its YAML form (layers)."""
        return network_from_dict(data, path=path)

    def simulator(self, arch: CoDesignArch) -> CoDesignSimulator:
        """The loop-nest model on ``arch``'s hierarchy with knob mappings."""
        return CoDesignSimulator(arch)


CODESIGN_DOMAIN = CoDesignDomain()
