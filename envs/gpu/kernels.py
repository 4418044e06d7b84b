"""Kernel costs on a GPU, numpy-vectorised over designs x kernels.

Every function takes a :class:`Device` (one value per design, shaped ``(D, 1)``) and kernel
shapes that broadcast against it (``(G,)`` or ``(D, G)``), and returns a :class:`Cost` whose
arrays are ``(D, G)``: the time of one kernel call, its FLOPs and HBM bytes, and the resource
that binds it.

**GEMM** (``C[m, n] = A[m, k] B[k, n]``, ``count`` independent instances): the output is cut into
tiles from a CUTLASS-like candidate set (with split-K for shapes that would leave SMs idle); a
tile needs two pipeline stages of its operands in shared memory. One thread block per SM: the
tiles run in ``ceil(tiles / SMs)`` waves, so one tile past a multiple of the SM count costs a
whole extra wave (the tail). A wave's tiles compute at the dtype's tensor rate times the GPU's
measured main-loop efficiency; the kernel's operands stream from HBM once when they fit in L2,
else once per step of a swizzled wave rectangle (:func:`_operand_traffic`), and every tile
reads its A and B panels through L2. The time is the larger of compute and memory, plus a fixed launch cost; the
candidate with the least time wins (what cuBLAS's heuristics aim for). The output's store is
added to the compute time: each wave's epilogue follows the main loop that feeds it (short-K
GEMMs with a large output are store-bound: DeepGEMM's 4096 x 32768 x 512 runs at 590 TFLOPS).

**Decode attention** reads the paged KV cache (see :func:`decode_attention`).

**Memory-bound kernels** (norms, activations, residual adds, embedding gathers) move their bytes at the measured achievable HBM bandwidth (STREAM triad), scaled down
when too few thread blocks run to keep HBM busy.

**Flash attention** (prefill) tiles queries in blocks of 128 per (batch, head) thread block and
runs at the GPU's measured flash-attention efficiency; causal masking halves the work but not
the time: its blocks are unequal, and the longest one ends the kernel (see
:func:`flash_attention`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Output tiles (rows, columns) a GEMM may use, as in CUTLASS's default configurations; K is
#: consumed in steps of ``TILE_K``.
TILES = ((256, 128), (128, 256), (128, 128), (128, 64), (64, 128), (64, 64))
TILE_K = 64
#: K-splits a GEMM may use to fill idle SMs (partial sums reduced in fp32 through HBM, after
#: the main loop).
SPLITS = (1, 2, 4, 8, 16)
#: Thread blocks needed per SM count to saturate HBM. Assumption: a memory-bound kernel needs
#: about half the SMs busy to reach its achievable bandwidth (Little's law with ~64 KB in
#: flight per SM); fewer blocks get a proportional share.
HBM_SATURATION_SHARE = 0.5
#: Queries per flash-attention thread block (FlashAttention-2's forward block size).
FLASH_BLOCK_Q = 128
#: Tokens per KV-cache page (vLLM's default block_size, 16).
KV_PAGE_TOKENS = 16

BINDINGS = ("compute", "hbm", "l2", "launch")


@dataclass(frozen=True)
class Device:
    """Per-design hardware numbers, each shaped ``(D, 1)``."""

    sms: np.ndarray
    clock_hz: np.ndarray
    tensor_flops_per_clk_sm: np.ndarray  # of the compute dtype
    tensor_efficiency: np.ndarray
    attention_efficiency: np.ndarray
    hbm_bytes_per_s: np.ndarray  # achievable (peak x measured efficiency)
    l2_bytes_per_s: np.ndarray
    l2_bytes: np.ndarray
    smem_bytes_per_sm: np.ndarray
    launch_s: np.ndarray
    decode_fixed_s: np.ndarray  # fixed cost of a paged decode-attention kernel
    decode_block_s: np.ndarray  # least time of one wave of its (sequence, KV head) blocks


@dataclass(frozen=True)
class Cost:
    """One kernel call per design: time (s), FLOPs, HBM bytes and the binding resource index
    into :data:`BINDINGS`."""

    time_s: np.ndarray
    flops: np.ndarray
    hbm_bytes: np.ndarray
    binding: np.ndarray


def _ceil_div(a, b):
    """``ceil(a / b)`` of non-negative whole numbers, as floats: true division and ``ceil`` are
    several times faster than numpy's floor division of floats, and exact here (quotients of
    whole numbers below 2**40 are far from the next representable float)."""
    return np.ceil(np.divide(a, b, dtype=np.float64))


def _hbm_rate(dev: Device, blocks) -> np.ndarray:
    """Achievable HBM bandwidth with ``blocks`` thread blocks in flight."""
    busy = np.minimum(blocks, dev.sms) / (HBM_SATURATION_SHARE * dev.sms)
    return dev.hbm_bytes_per_s * np.minimum(1.0, busy)


def _pick(times: list[np.ndarray], parts: list[tuple]) -> tuple[np.ndarray, ...]:
    """The candidate with the least time at each (design, kernel), and its parts."""
    stacked = np.stack(times)
    best = np.argmin(stacked, axis=0)
    pick = lambda arrays: np.take_along_axis(np.stack(arrays), best[None], 0)[0]  # noqa: E731
    return (pick(times), *(pick([p[i] for p in parts]) for i in range(len(parts[0]))))


def _operand_traffic(dev, m, n, k, count, tm, tn, a_bytes, b_bytes, operands):
    """HBM bytes of a GEMM's A and B. Operands that fit in L2 are read once. Otherwise the tiles
    run in swizzled rectangles of about ``r x c = SMs`` tiles (CUTLASS's threadblock swizzle)
    that sweep K together, so the tiles of a rectangle share each K-slice through L2: an A row
    panel is read once per rectangle column step, a B panel once per row step."""
    rows, cols = _ceil_div(m, tm), _ceil_div(n, tn)
    r = np.minimum(rows, np.ceil(np.sqrt(dev.sms)))
    c = np.minimum(cols, _ceil_div(dev.sms, r))
    swizzled = count * (m * k * a_bytes * _ceil_div(cols, c) + k * n * b_bytes * _ceil_div(rows, r))
    return np.where(operands <= dev.l2_bytes, operands, np.maximum(swizzled, operands))


def gemm(dev: Device, m, n, k, *, count=1, a_bytes=2.0, b_bytes=2.0, c_bytes=2.0) -> Cost:
    """``count`` GEMMs of ``m x n x k`` (A elements of ``a_bytes``, B of ``b_bytes``, C of
    ``c_bytes``); see the module docstring."""
    m, n, k, count = (np.asarray(x, dtype=np.int64) for x in (m, n, k, count))
    shape = np.broadcast_shapes(dev.sms.shape, m.shape, n.shape, k.shape, count.shape)
    flops = 2.0 * m * n * k * count
    operands = count * (m * k * a_bytes + k * n * b_bytes)
    in_bytes = np.maximum(a_bytes, b_bytes)
    times, parts = [], []
    for tm, tn in TILES:
        stage = (tm + tn) * TILE_K * in_bytes
        fits = 2 * stage <= dev.smem_bytes_per_sm
        grid = count * _ceil_div(m, tm) * _ceil_div(n, tn)
        for split in SPLITS:
            k_part = _ceil_div(k, split)
            tiles = grid * split
            waves = _ceil_div(tiles, dev.sms)
            t_tile = (2.0 * tm * tn * _ceil_div(k_part, TILE_K) * TILE_K
                      / (dev.tensor_flops_per_clk_sm * dev.tensor_efficiency * dev.clock_hz))  # fmt: skip
            compute = waves * t_tile
            panels = tiles * (tm * a_bytes + tn * b_bytes) * k_part
            reduce = (split > 1) * 2.0 * split * count * m * n * 4.0  # fp32 partials out and in
            operand_hbm = _operand_traffic(dev, m, n, k, count, tm, tn, a_bytes, b_bytes, operands)
            output = count * m * n * c_bytes
            hbm = operand_hbm + output + reduce
            rate = _hbm_rate(dev, tiles)
            # each wave stores its output tiles after its main loop (the epilogue does not
            # overlap the loop that feeds it), so the stores add to the waves' compute
            compute = compute + output / rate
            t_hbm = operand_hbm / rate
            t_l2 = panels / dev.l2_bytes_per_s
            # split-K's partial sums are reduced after the main loop, not under it
            t = np.maximum(np.maximum(compute, t_hbm), t_l2) + reduce / rate + dev.launch_s
            t = np.where(fits, t, np.inf)
            binding = np.where(compute >= np.maximum(t_hbm, t_l2), 0, np.where(t_hbm >= t_l2, 1, 2))
            binding = np.where(
                np.maximum(np.maximum(compute, t_hbm), t_l2) < dev.launch_s, 3, binding
            )
            times.append(np.broadcast_to(t, shape))
            parts.append((np.broadcast_to(hbm, shape), np.broadcast_to(binding, shape)))
    time, hbm, binding = _pick(times, parts)
    return Cost(time, np.broadcast_to(flops, shape).astype(float), hbm, binding)


def memory_bound(dev: Device, nbytes, *, blocks=None, flops=0.0) -> Cost:
    """A kernel that streams ``nbytes`` through HBM (``blocks`` thread blocks; default: enough)."""
    nbytes = np.asarray(nbytes, dtype=float)
    shape = np.broadcast_shapes(dev.sms.shape, nbytes.shape)
    rate = dev.hbm_bytes_per_s if blocks is None else _hbm_rate(dev, np.asarray(blocks))
    t_mem = nbytes / rate
    binding = np.where(t_mem < dev.launch_s, 3, 1)
    return Cost(np.broadcast_to(t_mem + dev.launch_s, shape),
                np.broadcast_to(np.asarray(flops, float), shape),
                np.broadcast_to(nbytes, shape), np.broadcast_to(binding, shape))  # fmt: skip


def flash_attention(dev: Device, batch, heads, kv_heads, q_len, kv_len, head_dim, *, causal=True,
                    act_bytes=2.0, backward=False) -> Cost:  # fmt: skip
    """Fused attention (scores, softmax, context) for ``batch`` sequences of ``q_len`` queries
    over ``kv_len`` keys; K and V are read once per query block through L2. ``backward``: the
    gradient pass, five matmuls for the forward's two (2.5x the FLOPs, Dao, FlashAttention-2,
    2023), reading Q, K, V, O and dO and writing dQ, dK and dV (twice the forward's bytes)."""
    work = 2.5 if backward else 1.0
    batch, heads, kv_heads, q_len, kv_len = (
        np.asarray(x, dtype=np.int64) for x in (batch, heads, kv_heads, q_len, kv_len)
    )
    # a causal block of queries sees on average half the keys (all of them when q_len < kv_len)
    triangle = causal & (q_len == kv_len)
    seen = np.where(triangle, (kv_len + 1) / 2.0, kv_len)
    flops = work * 4.0 * batch * heads * q_len * seen * head_dim
    blocks = batch * heads * _ceil_div(q_len, FLASH_BLOCK_Q)
    waves = _ceil_div(blocks, dev.sms)
    rows = np.minimum(q_len, FLASH_BLOCK_Q)
    per_key = (work * 4.0 * rows * head_dim
               / (dev.tensor_flops_per_clk_sm * dev.attention_efficiency * dev.clock_hz))  # fmt: skip
    full = waves * per_key * kv_len
    # causal blocks are unequal (block i sees i x 128 keys) and the SMs take the next block as
    # they free up: greedy list scheduling ends within the average load plus the longest block
    # (Graham, SIAM J. Appl. Math. 1969), never later than the full mask's waves. Measured on an
    # H200 (benchmarks/measure_gpu.py), causal FlashAttention-2 takes 0.51-1.01 of the full
    # mask's time, least saved on short sequences: not the half the FLOPs say.
    causal_s = np.minimum(full, blocks * per_key * seen / dev.sms + per_key * kv_len)
    compute = np.where(triangle, causal_s, full)
    hbm = (
        (2.0 if backward else 1.0)
        * act_bytes
        * batch
        * head_dim
        * (2 * heads * q_len + 2 * kv_heads * kv_len)
    )
    t_hbm = hbm / _hbm_rate(dev, blocks)
    t_l2 = act_bytes * blocks * 2.0 * seen * head_dim / dev.l2_bytes_per_s
    t = np.maximum(np.maximum(compute, t_hbm), t_l2) + dev.launch_s
    binding = np.where(compute >= np.maximum(t_hbm, t_l2), 0, np.where(t_hbm >= t_l2, 1, 2))
    shape = t.shape
    return Cost(t, np.broadcast_to(flops, shape).astype(float), np.broadcast_to(hbm, shape),
                binding)  # fmt: skip


def decode_attention(dev: Device, batch, heads, kv_heads, kv_len, head_dim, *, kv_bytes=2.0,
                     act_bytes=2.0, value_dim=None, latent=False) -> Cost:  # fmt: skip
    """One query per sequence over a paged KV cache of ``kv_len`` tokens. The cache is read in
    pages of :data:`KV_PAGE_TOKENS`; one thread block per (sequence, KV head) gathers its pages
    and reduces, taking at least the GPU's measured ``decode_block_s`` per wave of blocks; the
    kernel costs the larger of that and the cache's bytes at the achievable bandwidth, after a
    measured fixed cost (``decode_fixed_s``: launch, page-table and metadata set-up). With
    ``latent`` (MLA, absorbed as in FlashMLA) the cache holds one vector of ``head_dim`` per
    token that every head scores against and reads its ``value_dim`` values from."""
    batch, heads, kv_heads, kv_len = (
        np.asarray(x, dtype=np.int64) for x in (batch, heads, kv_heads, kv_len)
    )
    value_dim = head_dim if value_dim is None else value_dim
    paged = _ceil_div(kv_len, KV_PAGE_TOKENS) * KV_PAGE_TOKENS
    vectors = 1.0 if latent else 2.0  # a latent, or a key and a value
    nbytes = batch * (vectors * kv_heads * paged * head_dim * kv_bytes
                      + heads * (head_dim + value_dim) * act_bytes)  # fmt: skip
    flops = 2.0 * batch * heads * kv_len * (head_dim + value_dim)
    blocks = batch * kv_heads
    t_blocks = _ceil_div(blocks, dev.sms) * dev.decode_block_s
    t_mem = nbytes / dev.hbm_bytes_per_s
    t = dev.decode_fixed_s + np.maximum(t_blocks, t_mem)
    binding = np.where(t_mem >= t_blocks, BINDINGS.index("hbm"), BINDINGS.index("launch"))
    shape = t.shape
    return Cost(t, np.broadcast_to(flops, shape).astype(float), np.broadcast_to(nbytes, shape),
                binding)  # fmt: skip


def combine(costs: tuple[Cost, ...]) -> Cost:
    """Kernels run back to back as one entry: times, FLOPs and bytes add; the longest binds."""
    time = sum(c.time_s for c in costs)
    longest = np.argmax(np.stack([np.broadcast_to(c.time_s, time.shape) for c in costs]), axis=0)
    binding = np.take_along_axis(np.stack([np.broadcast_to(c.binding, time.shape) for c in costs]),
                                 longest[None], 0)[0]  # fmt: skip
    return Cost(time, sum(c.flops for c in costs), sum(c.hbm_bytes for c in costs), binding)


def unfused_attention(dev: Device, batch, heads, q_len, kv_len, head_dim, *, causal=True,
                      act_bytes=2.0, backward=False) -> tuple[Cost, ...]:  # fmt: skip
    """Attention as separate kernels (PyTorch's reference path): the score GEMM, a masked
    softmax that reads and writes the whole score matrix, the context GEMM; ``backward`` adds
    the two GEMMs of the value and probability gradients, the softmax backward (reads P and dP,
    writes dS) and the two GEMMs of the query and key gradients. The mask saves no work."""
    count = np.asarray(batch, dtype=np.int64) * np.asarray(heads, dtype=np.int64)
    io = {"count": count, "a_bytes": act_bytes, "b_bytes": act_bytes, "c_bytes": act_bytes}
    scores = np.asarray(q_len, dtype=np.float64) * np.asarray(kv_len) * count * act_bytes
    kernels = [
        gemm(dev, q_len, kv_len, head_dim, **io),  # S = Q K^T
        memory_bound(dev, 2.0 * scores),  # P = softmax(mask(S))
        gemm(dev, q_len, head_dim, kv_len, **io),  # O = P V
    ]
    if backward:
        kernels += [
            gemm(dev, q_len, kv_len, head_dim, **io),  # dP = dO V^T
            gemm(dev, kv_len, head_dim, q_len, **io),  # dV = P^T dO
            memory_bound(dev, 3.0 * scores),  # dS = P * (dP - rowsum(dP * P))
            gemm(dev, q_len, head_dim, kv_len, **io),  # dQ = dS K
            gemm(dev, kv_len, head_dim, q_len, **io),  # dK = dS^T Q
        ]
    return tuple(kernels)
