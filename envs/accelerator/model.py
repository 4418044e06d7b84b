"""Analytical cost model of a DNN accelerator, vectorised over designs x layers.

The model is of the Timeloop/MAESTRO/ZigZag class: a layer is mapped on the hardware by a
mapper, and every level of the memory hierarchy is charged for the accesses the mapping implies.

Hardware: a ``pe_rows x pe_cols`` array of PEs, each with a MAC and a register file (RF) of
``rf_bytes``; a global buffer (GLB) of ``glb_kib`` feeding the array over a NoC with multicast;
DRAM behind it. Every array below has shape ``(designs, layers)``.

**Array level (spatial mapping and RF reuse).** Each dataflow unrolls two loops on the array and
keeps one operand in the RF; the RF capacity sets how many stationary values a PE holds (``t``),
which is the temporal reuse of the operand that streams past it. In GEMM form a layer per group
is ``O[K, X] += W[K, Cr] I[Cr, X]`` with ``Cr = C*R*S`` and ``X = N*P*Q``:

====  ===============  =====================  =========================================
flow  rows x cols      stationary in RF       RF capacity (words, a = accum/data bits)
====  ===============  =====================  =========================================
WS    Cr x K           t weights (of t k)     t + 1 + a
OS    K  x X           t psums   (of t x)     t*a + 2
IS    Cr x X           t inputs  (of t x)     t + 1 + a
RS    R*C x P*K        t filter rows (t k)    t*S + S + t*a  (Eyeriss row-stationary)
====  ===============  =====================  =========================================

Leftover rows/columns replicate independent groups (depthwise layers). WS/OS/IS stream the
layer as an im2col GEMM (as SCALE-Sim does); RS exploits the convolution's sliding window.
Compute cycles are ``folds * (work per fold + pipeline fill)``, the fill being the rows and
columns a value crosses (systolic skew).

**GLB level (tiling).** A small vectorised search over three loop orders, each with a closed-form
largest tile that fits the GLB: output-resident tiles ``tk x tx`` of partial sums (15 candidate
``tk``), weight-resident tiles ``tk x Cr``, input-resident tiles ``Cr x tx``. The mapper keeps
the candidate with the least DRAM traffic; a layer with no candidate that fits is infeasible
(and keeps the finite cost of the smallest tile).

**Latency** per layer is ``max(compute, GLB, DRAM) cycles`` (double-buffered levels overlap) and
names the binding level. **Energy** is accesses times per-access energy at each level (MAC, RF,
NoC, GLB, DRAM); SRAM energy per bit scales as ``(capacity/ref)^exponent``. **Area** counts the
MACs, RFs and GLB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

LEVELS = ("mac", "rf", "noc", "glb", "dram")
BINDING = ("compute", "glb", "dram")
GLB_SCHEDULES = ("output_resident", "weight_resident", "input_resident")

# Candidate tk for the output-resident GLB tile: powers of two up to 8192, plus K itself.
_TK_CANDIDATES = np.array([2.0**j for j in range(14)])[None, None, :]


def _ceil_div(a, b):
    return np.ceil(a / b)


def _balanced_tile(extent, t_max):
    """Largest-reuse tile of at most ``t_max`` that splits ``extent`` into equal passes.

    Taking ``t_max`` itself can waste slots (extent 3, t_max 2 -> 2 passes x 2 = 4); the mapper
    uses the fewest passes ``n = ceil(extent / t_max)`` and the smallest tile ``ceil(extent / n)``.
    """
    passes = np.ceil(extent / np.maximum(t_max, 1.0))
    return np.ceil(extent / passes)


@dataclass
class LayerCosts:
    """Per design x layer results of :func:`layer_costs` (one instance of each layer)."""

    macs: np.ndarray
    cycles: np.ndarray
    compute_cycles: np.ndarray
    glb_cycles: np.ndarray
    dram_cycles: np.ndarray
    binding: np.ndarray  # index into BINDING
    energy_pj: np.ndarray  # (levels, designs, layers), levels in LEVELS order
    dram_words: np.ndarray
    glb_bits: np.ndarray
    noc_deliveries: np.ndarray
    rf_accesses: np.ndarray
    rf_tile: np.ndarray
    glb_schedule: np.ndarray  # index into GLB_SCHEDULES
    spatial_utilization: np.ndarray
    feasible: np.ndarray


# --------------------------------------------------------------------------- array level
def _map_ws(hw, L):
    rows, cols, rf_words, a = hw["pe_rows"], hw["pe_cols"], hw["rf_words"], hw["a"]
    G, K, X, Cr = L["groups"], L["k"], L["X"], L["Cr"]
    uC = np.minimum(Cr, rows)
    uK = np.minimum(K, cols)
    uG = np.minimum(G, np.maximum(1.0, np.floor(cols / uK)))
    t_max = np.floor(rf_words - 1 - a)
    t = _balanced_tile(_ceil_div(K, uK), t_max)
    nK, nC, nG = _ceil_div(K, uK * t), _ceil_div(Cr, uC), _ceil_div(G, uG)
    i_reads = G * Cr * X * nK
    return dict(
        cycles=nG * nK * nC * (X * t + uC + uK),
        spatial=(uC * uK * uG) / (rows * cols),
        w_reads=G * K * Cr + 0 * X,
        i_reads=i_reads,
        psum_passes=nC,
        deliveries=G * K * Cr + i_reads * uK,
        t=t + 0 * X,
        rf_ok=(t_max >= 1) & (X > 0),
    )


def _map_os(hw, L):
    rows, cols, rf_words, a = hw["pe_rows"], hw["pe_cols"], hw["rf_words"], hw["a"]
    G, K, X, Cr = L["groups"], L["k"], L["X"], L["Cr"]
    uK = np.minimum(K, rows)
    uX = np.minimum(X, cols)
    uG = np.minimum(G, np.maximum(1.0, np.floor(rows / uK)))
    t_max = np.floor((rf_words - 2) / a)
    t = _balanced_tile(_ceil_div(X, uX), t_max)
    nX, nK, nG = _ceil_div(X, uX * t), _ceil_div(K, uK), _ceil_div(G, uG)
    w_reads = G * K * Cr * nX
    i_reads = G * Cr * X * nK
    return dict(
        cycles=nG * nK * nX * (Cr * t + uK + uX),
        spatial=(uK * uX * uG) / (rows * cols),
        w_reads=w_reads,
        i_reads=i_reads,
        psum_passes=1.0 + 0 * X,
        deliveries=w_reads * uX + i_reads * uK,
        t=t,
        rf_ok=(t_max >= 1) & (X > 0),
    )


def _map_is(hw, L):
    rows, cols, rf_words, a = hw["pe_rows"], hw["pe_cols"], hw["rf_words"], hw["a"]
    G, K, X, Cr = L["groups"], L["k"], L["X"], L["Cr"]
    uC = np.minimum(Cr, rows)
    uX = np.minimum(X, cols)
    uG = np.minimum(G, np.maximum(1.0, np.floor(rows / uC)))
    t_max = np.floor(rf_words - 1 - a)
    t = _balanced_tile(_ceil_div(X, uX), t_max)
    nX, nC, nG = _ceil_div(X, uX * t), _ceil_div(Cr, uC), _ceil_div(G, uG)
    w_reads = G * K * Cr * nX
    i_reads = G * Cr * X + 0 * t
    return dict(
        cycles=nG * nC * nX * (K * t + uC + uX),
        spatial=(uC * uX * uG) / (rows * cols),
        w_reads=w_reads,
        i_reads=i_reads,
        psum_passes=nC,
        deliveries=w_reads * uX + i_reads,
        t=t,
        rf_ok=(t_max >= 1) & (X > 0),
    )


def _map_rs(hw, L):
    rows, cols, rf_words, a = hw["pe_rows"], hw["pe_cols"], hw["rf_words"], hw["a"]
    G, K, C, R, S, N, P, Q = (L[k] for k in ("groups", "k", "c", "r", "s", "n", "p", "q"))
    uR = np.minimum(R, rows)
    uC = np.minimum(C, np.maximum(1.0, np.floor(rows / uR)))
    uG = np.minimum(G, np.maximum(1.0, np.floor(rows / (uR * uC))))
    uP = np.minimum(P, cols)
    uK = np.minimum(K, np.maximum(1.0, np.floor(cols / uP)))
    t_max = np.floor((rf_words - S) / (S + a))
    t = _balanced_tile(_ceil_div(K, uK), t_max)
    nR, nC, nG = _ceil_div(R, uR), _ceil_div(C, uC), _ceil_div(G, uG)
    nP, nK = _ceil_div(P, uP), _ceil_div(K, uK * t)
    w_reads = G * K * C * R * S * nP * N
    in_rows = nP * ((uP - 1) * L["stride"] + R)  # input rows read per pass, halos included
    i_reads = G * N * C * L["w"] * in_rows * nK
    return dict(
        cycles=nG * nR * nC * nP * nK * N * (Q * S * t + uR + uP),
        spatial=(uR * uC * uG * uP * uK) / (rows * cols),
        w_reads=w_reads,
        i_reads=i_reads,
        psum_passes=nR * nC,
        deliveries=w_reads * uP + i_reads * uR * uK,
        t=t,
        rf_ok=(t_max >= 1) & (P > 0),
    )


_MAPPERS = {"WS": _map_ws, "OS": _map_os, "IS": _map_is, "RS": _map_rs}
_MAP_KEYS = ("cycles", "spatial", "w_reads", "i_reads", "psum_passes", "deliveries", "t", "rf_ok")


def _map_array(hw: Mapping[str, np.ndarray], L: Mapping[str, np.ndarray], dataflow: np.ndarray):
    """Run each dataflow's mapper on the designs that use it (a loop over 4 dataflows, not designs)."""
    present = (
        [str(dataflow[0])]
        if len(dataflow) == 1
        else [df for df in _MAPPERS if np.any(dataflow == df)]
    )
    if len(present) == 1:
        return _MAPPERS[present[0]](hw, L)
    shape = (len(dataflow), L["k"].shape[1])
    out = {k: np.empty(shape, dtype=bool if k == "rf_ok" else np.float64) for k in _MAP_KEYS}
    for df in present:
        idx = np.flatnonzero(dataflow == df)
        res = _MAPPERS[df]({k: v[idx] for k, v in hw.items()}, L)
        for k in _MAP_KEYS:
            out[k][idx] = res[k]
    return out


# --------------------------------------------------------------------------- GLB level
def _input_pass(tx, L, e=lambda v: v):  # noqa: B008
    """Input words read from DRAM per pass over all X output pixels, in tiles of ``tx`` pixels.

    A large tile reads ``phi = min(stride^2, R*S)`` words per output pixel and channel; each tile
    of ``tx / Q`` output rows re-reads a halo of ``R - stride`` input rows. Never more than im2col.
    ``e`` adds the candidate axis to the per-layer arrays when ``tx`` has one.
    """
    rows_out = np.maximum(1.0, tx / e(L["q"]))
    return np.minimum(e(L["in_unique"]) * (1.0 + e(L["halo_rows"]) / rows_out), e(L["in_im2col"]))


def _glb_tiling(hw, L):
    """DRAM traffic (words per group) of the best GLB tile, its loop order, and whether any fits.

    Every loop order is a tile of ``tk`` filters x ``tx`` output pixels costed by one formula,
    ``W * ceil(X / tx) + I(tx) * ceil(K / tk) + O``; they differ in what must fit in the GLB:

    * output-resident (15 candidates ``tk``): ``tk x tx`` partial sums stay while chunks of
      ``cc = min(Cr, rows)`` reduction elements stream in; ``tx`` is the largest that fits;
    * weight-resident: ``tk x Cr`` weights stay and all ``X`` pixels stream past (``tx = X``);
    * input-resident: ``Cr x tx`` inputs stay and all ``K`` filters stream past (``tk = K``).

    Double buffering doubles the streaming chunks. A trailing axis holds the 17 candidates.
    """
    cap, a = hw["glb_words"][..., None], hw["a"][..., None]
    rows, cols = hw["pe_rows"][..., None], hw["pe_cols"][..., None]
    K, X, Cr = L["k"][..., None], L["X"][..., None], L["Cr"][..., None]
    shape = (cap.shape[0], K.shape[1])

    tk_out = L["tk_candidates"]
    cc = np.minimum(Cr, rows)
    tx_out = np.minimum(np.floor((cap - 2 * tk_out * cc) / (a * tk_out + 2 * cc)), X)
    xc = np.minimum(X, cols)
    tk_w = np.minimum(np.floor((cap - 2 * Cr * xc) / (Cr + 2 * a * xc)), K)
    kc = np.minimum(K, np.maximum(rows, cols))
    tx_in = np.minimum(np.floor((cap - 2 * kc * Cr) / (Cr + 2 * a * kc)), X)

    def join(*parts):
        if any(p.shape[:-1] != shape for p in parts):
            parts = [np.broadcast_to(p, shape + p.shape[-1:]) for p in parts]
        return np.concatenate(parts, axis=-1)

    tk = join(tk_out, tk_w, K)
    tx = join(tx_out, X, tx_in)
    fits = (tk >= 1) & (tx >= 1)
    tk, tx = np.maximum(tk, 1.0), np.maximum(tx, 1.0)
    traffic = L["w_words_g"][..., None] * np.ceil(X / tx) + _input_pass(tx, L, _last) * np.ceil(
        K / tk
    )
    traffic = np.where(fits, traffic, np.inf)
    best = np.argmin(traffic, axis=-1)
    best_traffic = traffic.min(axis=-1) + L["o_words_g"]
    feasible = np.isfinite(best_traffic)
    schedule = np.clip(
        best - (tk_out.shape[-1] - 1), 0, 2
    )  # 0 output-, 1 weight-, 2 input-resident
    # Infeasible: keep the finite traffic of the smallest tile (1 x 1 outputs) for reporting.
    fallback = (
        L["w_words_g"] * L["X"] + _input_pass(np.ones_like(L["X"]), L) * L["k"] + L["o_words_g"]
    )
    return np.where(feasible, best_traffic, fallback), schedule, feasible


def _last(v):
    return v[..., None]


# --------------------------------------------------------------------------- public
def layer_arrays(layers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Derived per-layer quantities the model needs (computed once per workload)."""
    L = dict(layers)
    L["Cr"] = L["c"] * L["r"] * L["s"]
    L["X"] = L["n"] * L["p"] * L["q"]
    L["macs"] = L["groups"] * L["k"] * L["Cr"] * L["X"]
    L["w_words_g"] = L["k"] * L["Cr"]
    L["o_words_g"] = L["k"] * L["X"]
    phi = np.minimum(L["stride"] ** 2, L["r"] * L["s"])
    L["in_unique"] = L["c"] * phi * L["X"]  # inputs of one pass with whole-layer tiles
    L["in_im2col"] = L["Cr"] * L["X"]
    L["halo_rows"] = np.maximum(L["r"] - L["stride"], 0.0) / L["stride"]
    tk = np.minimum(_TK_CANDIDATES, L["k"][..., None])
    L["tk_candidates"] = np.concatenate([tk, L["k"][..., None]], axis=-1)
    return L


def hardware_arrays(design: Mapping[str, np.ndarray], constants: Mapping[str, float]) -> dict:
    """Column arrays ``(designs, 1)`` of every hardware quantity the model reads."""
    n = len(next(iter(design.values())))
    hw = {}
    for key in (
        "pe_rows",
        "pe_cols",
        "rf_bytes",
        "glb_kib",
        "glb_bw_bytes_per_cycle",
        "dram_bw_gbps",
        "clock_mhz",
    ):
        hw[key] = np.asarray(design[key], dtype=np.float64).reshape(n, 1)
    bits, accum = float(constants["data_bits"]), float(constants["accum_bits"])
    hw["a"] = np.full((n, 1), accum / bits)
    hw["rf_words"] = np.floor(hw["rf_bytes"] * 8 / bits)
    hw["glb_words"] = np.floor(hw["glb_kib"] * 1024 * 8 / bits)
    return hw


def sram_energy_pj_per_bit(kib: np.ndarray, constants: Mapping[str, float]) -> np.ndarray:
    """Per-bit access energy of an SRAM of ``kib`` KiB: ``e_ref * (kib / ref) ** exponent``."""
    return (
        constants["sram_energy_pj_per_bit"]
        * (kib / constants["sram_ref_kib"]) ** constants["sram_energy_exponent"]
    )


def layer_costs(
    design: Mapping[str, np.ndarray], constants: Mapping[str, float], L: Mapping[str, np.ndarray]
) -> LayerCosts:
    """Map every layer on every design and charge each level. Shapes ``(designs, layers)``."""
    hw = hardware_arrays(design, constants)
    dataflow = np.asarray(design["dataflow"]).reshape(-1)
    m = _map_array(hw, L, dataflow)
    dram_g, schedule, glb_ok = _glb_tiling(hw, L)

    bits, accum = float(constants["data_bits"]), float(constants["accum_bits"])
    G, macs = L["groups"], L["macs"]
    o_words = G * L["o_words_g"]
    dram_words = G * dram_g
    # GLB traffic: array-side reads and partial-sum round trips, plus DRAM fills and drains.
    psum_rw = o_words * (m["psum_passes"] - 1.0)  # intermediate writes == re-reads
    glb_bits = (m["w_reads"] + m["i_reads"] + o_words + dram_words) * bits + 2.0 * psum_rw * accum
    deliveries = m["deliveries"] + psum_rw * 2.0
    rf_accesses = 4.0 * macs + m["deliveries"]
    rf_bits = 2.0 * macs * (bits + accum) + m["deliveries"] * bits

    compute = m["cycles"]
    glb_cycles = glb_bits / (8.0 * hw["glb_bw_bytes_per_cycle"])
    bytes_per_cycle = hw["dram_bw_gbps"] * 1e3 / hw["clock_mhz"]  # GB/s / MHz = 1e3 bytes/cycle
    dram_cycles = dram_words * bits / 8.0 / bytes_per_cycle
    cycles = np.maximum(np.maximum(compute, glb_cycles), dram_cycles)
    binding = np.where(compute >= cycles, 0, np.where(glb_cycles >= cycles, 1, 2))

    energy = np.stack(  # in LEVELS order
        np.broadcast_arrays(
            macs * constants["mac_energy_pj"],
            rf_bits * sram_energy_pj_per_bit(hw["rf_bytes"] / 1024.0, constants),
            deliveries * bits * constants["noc_energy_pj_per_bit"],
            glb_bits * sram_energy_pj_per_bit(hw["glb_kib"], constants),
            dram_words * bits * constants["dram_energy_pj_per_bit"],
        )
    )
    return LayerCosts(
        macs=macs + 0.0 * compute,
        cycles=cycles,
        compute_cycles=compute,
        glb_cycles=glb_cycles,
        dram_cycles=dram_cycles,
        binding=binding,
        energy_pj=energy,
        dram_words=dram_words,
        glb_bits=glb_bits,
        noc_deliveries=deliveries,
        rf_accesses=rf_accesses,
        rf_tile=m["t"],
        glb_schedule=schedule,
        spatial_utilization=m["spatial"],
        feasible=m["rf_ok"] & glb_ok,
    )


def area_mm2(
    design: Mapping[str, np.ndarray], constants: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """Area breakdown (mm^2): MAC units, register files, global buffer."""
    pes = np.asarray(design["pe_rows"], dtype=np.float64) * np.asarray(
        design["pe_cols"], dtype=np.float64
    )
    sram = constants["sram_area_mm2_per_kib"]
    return {
        "mac": pes * constants["mac_area_um2"] * 1e-6,
        "rf": pes * np.asarray(design["rf_bytes"], dtype=np.float64) / 1024.0 * sram,
        "glb": np.asarray(design["glb_kib"], dtype=np.float64) * sram,
    }
