"""LLM inference on GPUs: a transformer (``arch_specs/models``) decomposed into kernels per
tensor-parallel rank, costed with :mod:`.kernels`, batched over designs.

A **generation run** (:class:`Generation`) serves ``batch`` sequences together (a static batch):
a prefill of ``input_len`` tokens each, then ``output_len`` decode steps. Time to first token is
the prefill (its last position's LM head included); the time per output token is a decode step
at the mean context ``input_len + output_len / 2`` (attention is linear in the context, the
rest does not depend on it, so this is the mean step up to the max() of compute and memory).

One block, per rank of a tensor-parallel group of ``tp`` GPUs (Megatron-style: heads, FFN width
and experts' widths split ``tp`` ways; KV heads split, replicated when fewer than ``tp``)::

    add+norm -> QKV GEMM -> attention -> out GEMM -> all-reduce -> add+norm
             -> gate/up GEMM -> activation -> down GEMM -> all-reduce

An MoE block replaces the FFN by a router GEMM and grouped expert GEMMs: the routed tokens are
spread over ``min(experts, tokens x top-k)`` active experts, the busiest getting ``imbalance``
times the mean (the grouped GEMM waits for it). The run ends with a norm and the LM head; the
embedding gather starts it. An all-reduce moves ``tokens x hidden`` activations: a latency term
plus ``2 (tp - 1) / tp`` of the bytes at NCCL's measured bus bandwidth.

Each block is costed once and multiplied by the layer count (the blocks are identical).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._errors import WorkloadError
from ..workloads import (
    TransformerConfig,
    check_imbalance,
    check_positive,
    model_workload_from_dict,
    model_workload_to_dict,
)
from .kernels import (
    BINDINGS,
    Cost,
    Device,
    combine,
    decode_attention,
    flash_attention,
    gemm,
    memory_bound,
    unfused_attention,
)

#: The binding resources a kernel reports: the kernel model's, then the interconnect.
BINDING_NAMES = (*BINDINGS, "interconnect")


@dataclass(frozen=True)
class Generation:
    """An LLM inference workload: a model and the lengths of its prompts and outputs."""

    model: TransformerConfig
    input_len: int = 1024
    output_len: int = 128
    moe_imbalance: float = 1.0
    name: str = ""
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_positive(input_len=self.input_len, output_len=self.output_len)
        check_imbalance(self.moe_imbalance)
        if not self.model.decoder:
            raise WorkloadError(f"model {self.model.name!r} is an encoder: it generates no tokens")
        if not self.name:
            object.__setattr__(
                self, "name", f"{self.model.name}_in{self.input_len}_out{self.output_len}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The mapping :func:`generation_from_dict` reads back (the model in full)."""
        return model_workload_to_dict(self)

    def features(self) -> dict[str, float]:
        """The workload as surrogate features: the model's shape and the run's lengths (log2)."""
        return {
            "log2_input_len": float(np.log2(self.input_len)),
            **self.model.features(),
            "log2_output_len": float(np.log2(self.output_len)),
            "moe_imbalance": float(self.moe_imbalance),
        }

    def scalars(self) -> dict[str, Any]:
        """Numbers a design-space constraint may name."""
        return {"input_len": self.input_len, "output_len": self.output_len,
                "layers": self.model.layers, "heads": self.model.heads,
                "kv_heads": self.model.kv_heads}  # fmt: skip


def generation_from_dict(data: Mapping[str, Any], *, path: str = "workload") -> Generation:
    """``{model: llama3_8b, input_len: 1024, output_len: 128, moe_imbalance: 1.0}``."""
    return model_workload_from_dict(Generation, data, path=path)


#: Name prefixes of the kernels :func:`block_phase` runs once per pass, not once per layer.
ONCE_PER_PASS = ("embedding", "final_norm", "lm_head", "loss")

#: HBM bytes per logit of Megatron-Core's vocab-parallel cross-entropy, forward and backward
#: (megatron/core/tensor_parallel/cross_entropy.py, the default: ``--cross-entropy-loss-fusion``
#: off), each a separate memory-bound pass over the rank's logits: the bf16 logits cast to fp32
#: (read 2, write 4), the row max (read 4), the max subtracted in place (8), ``exp`` in place
#: (8), the row sum (4), the division by it in place (8: the saved softmax); backward, the
#: softmax scaled by the loss gradient in place (8) and autograd's cast of that fp32 gradient to
#: the bf16 logits' dtype (read 4, write 2). 38 + 14 = 52 bytes where one read and one write of
#: fp32 logits would be 8: at the Megatron README's vocabulary of 131,072 the difference is 8 ms
#: a 4,096-token micro-batch on one H100. (Eager ``F.cross_entropy`` over fp32 logits timed on an
#: H200, benchmarks/data/h200_kernels_*.csv, took 6.2 ms for 4,096 x 131,072: 48 bytes a logit
#: at the model's streaming rate before the two casts.)
LOSS_BYTES_PER_LOGIT = 52.0


@dataclass
class Phase:
    """Kernels of one phase (a prefill, or one decode step) per design: names, the calls per
    run, and each call's cost (arrays ``(D, kernels)``)."""

    names: list[str]
    calls: np.ndarray
    time_s: np.ndarray
    flops: np.ndarray
    hbm_bytes: np.ndarray
    binding: np.ndarray

    @property
    def total_s(self) -> np.ndarray:
        """Time of the phase per design: the sum over kernels of time x calls."""
        return self.time_s @ self.calls

    def compute_split(self, layers: int) -> tuple[np.ndarray, np.ndarray]:
        """(compute time of one transformer layer, of the kernels that run once per pass:
        embedding, final norm, LM head and loss) per design; communication left out."""
        once = np.array([n.startswith(ONCE_PER_PASS) for n in self.names])
        comm = np.array(["allreduce" in n for n in self.names])
        spent = self.time_s * self.calls
        return spent[:, ~once & ~comm].sum(axis=1) / layers, spent[:, once].sum(axis=1)


class _Builder:
    """Collects a phase's kernels; in a training step each forward kernel brings its backward."""

    def __init__(self, dev: Device, net: Mapping[str, np.ndarray], training: bool):
        self.dev, self.net, self.training = dev, net, training
        self.n = dev.sms.shape[0]
        self.names: list[str] = []
        self.calls: list[float] = []
        self.costs: list[Cost] = []

    def add(self, name: str, cost: Cost, calls: float) -> None:
        self.names.append(name)
        self.calls.append(float(calls))
        self.costs.append(cost)

    def gemm(self, name: str, m, n, k, calls: float, *, count=1, c_bytes=None) -> None:
        """``Y[m, n] = X[m, k] W[k, n]`` (W as stored: quantised weights stream at their own
        width); training adds ``dX = dY W^T`` and ``dW = X^T dY`` (weight gradients in fp32)."""
        act = self.net["act_bytes"]
        io = {"a_bytes": self.net["operand_bytes"], "b_bytes": self.net["weight_bytes"]}
        c = act if c_bytes is None else c_bytes
        self.add(name, gemm(self.dev, m, n, k, count=count, c_bytes=c, **io), calls)
        if self.training:
            self.add(
                f"{name}_dgrad", gemm(self.dev, m, k, n, count=count, c_bytes=act, **io), calls
            )
            self.add(
                f"{name}_wgrad", gemm(self.dev, k, n, m, count=count, c_bytes=4.0, **io), calls
            )
            self._casts(name, m, n, k, count, calls)

    def _casts(self, name: str, m, n, k, count, calls: float) -> None:
        """Training with GEMM operands narrower than the activations (FP8, FP4): Hopper's and
        Blackwell's low-precision GEMMs take both operands K-major (the TN layout), so each
        tensor a backward GEMM reads must exist transposed too, and Transformer Engine makes
        both copies in one fused cast-transpose kernel (NVIDIA Transformer Engine
        documentation, "Using FP8 with Transformer Engine"; ``fp8_cast_transpose_fused``): the
        input ``X[m, k]`` in the forward pass and the output gradient ``dY[m, n]`` in the
        backward, each read at the activation width and written twice at the operand width.
        Weights are kept in the low precision (as Megatron's and NeMo's FP8 recipes keep them)
        and cost nothing here. Added only to a batch that has such designs; zero for the
        others."""
        narrow = self.net["operand_bytes"] < self.net["act_bytes"]
        if not np.any(narrow):
            return
        per = self.net["act_bytes"] + 2.0 * self.net["operand_bytes"]
        for suffix, elements in (("cast", m * k), ("cast_bwd", m * n)):
            cost = memory_bound(self.dev, np.asarray(elements, float) * count * per)
            self.add(f"{name}_{suffix}", Cost(np.where(narrow, cost.time_s, 0.0), cost.flops,
                                              np.where(narrow, cost.hbm_bytes, 0.0),
                                              cost.binding), calls)  # fmt: skip

    def memory(self, name: str, nbytes, calls: float) -> None:
        """A memory-bound kernel; its backward reads the saved input and the incoming gradient
        and writes the outgoing one (twice the bytes)."""
        self.add(name, memory_bound(self.dev, nbytes), calls)
        if self.training:
            self.add(f"{name}_bwd", memory_bound(self.dev, 2.0 * nbytes), calls)

    def allreduce(self, name: str, nbytes, calls: float, *, group=None) -> None:
        """A tensor-parallel all-reduce (over ``group`` ranks, default the TP degree);
        Megatron's conjugate operator adds one in backward."""
        net = self.net
        ranks = net["tp"] if group is None else group
        self.add(name, _allreduce(ranks, nbytes, net), calls * (2 if self.training else 1))

    def phase(self) -> Phase:
        col = lambda attr: np.column_stack(  # noqa: E731
            [np.broadcast_to(getattr(c, attr), (self.n, 1)).reshape(self.n) for c in self.costs]
        )
        return Phase(self.names, np.array(self.calls), col("time_s"), col("flops"),
                     col("hbm_bytes"), col("binding").astype(np.int64))  # fmt: skip


def nccl_transfer_s(nbytes, bytes_per_s, simple_s=0.0, ll_fraction=1.0) -> np.ndarray:
    """Seconds NCCL takes to move ``nbytes`` at ``bytes_per_s`` after its step latencies: the
    faster of its low-latency protocols (LL/LL128, ``ll_fraction`` of the bandwidth) and its
    bulk one (Simple, the whole bandwidth after ``simple_s``), as its tuner picks per size
    (NVIDIA/nccl ``src/graph/tuning.cc``). The defaults are the one-protocol alpha-beta model."""
    nbytes = np.asarray(nbytes, dtype=float)
    return np.minimum(nbytes / (bytes_per_s * ll_fraction), simple_s + nbytes / bytes_per_s)


#: Ring steps of the 8-GPU all-reduce the GPU specs' ``allreduce_latency_us`` is measured on.
MEASURED_STEPS = 2 * (8 - 1)
#: NCCL 2.29 on NVLink, fitted with the specs' shape fields on AIConfigurator's H200 nccl-tests
#: tables (all-reduce, all-gather, reduce-scatter, all-to-all on 2, 4 and 8 GPUs, 4 KiB-512 MiB;
#: ``benchmarks/fidelity_cluster.py --calibrate``): the share of a small 8-GPU all-reduce's time
#: that every collective pays once (launch and synchronisation), the rest being its 14 steps;
#: and the ring's pipeline fill, in steps (a ring of s steps streams at s / (s + fill) of its
#: bulk rate: a 2-GPU all-gather, one step, at 1 / 1.25 of it, an 8-GPU one at 7 / 7.25; at 512
#: MiB H200's measured all-gathers reach 0.55 and 0.75 of a direction).
NCCL_START_SHARE = 0.415
RING_FILL_STEPS = 0.252
#: Smallest group whose all-reduce may run at the spec's measured whole-domain rate
#: (``nccl_busbw_efficiency``: NVLink SHARP on Hopper and Blackwell): on 2 and 4 H200s
#: AIConfigurator's tables show ring speed (0.70 and 0.77 of a direction at 512 MiB), on 8 NVLS.
NVLS_MIN_RANKS = 8
#: The whole-domain all-reduce's start, us: NCCL runs NVLS with its bulk (Simple) protocol only
#: (``src/graph/tuning.cc`` skips NVLS for LL and LL128; its tuner charges NVLink NVLS 25 us),
#: fitted with the shape above on the same tables (H200's 8-GPU all-reduce reaches half its
#: peak bus bandwidth only at 16 MiB).
NVLS_START_US = 59.1


def nvlink_nccl(nvlink_gbps, spec) -> dict[str, Any]:
    """NCCL's figures on a GPU's NVLink (``nvlink_gbps`` both directions, scalar or per design;
    ``spec`` a GPU spec with the ``nccl_*`` and ``allreduce_latency_us`` fields): the ring's
    bulk rate, the whole-domain all-reduce's bus rate, the latency of one step and the start
    every collective pays, the protocol constants (see :func:`nccl_all_reduce_s`)."""
    one_way = np.asarray(nvlink_gbps, dtype=float) * 1e9 / 2
    small = spec.allreduce_latency_us * 1e-6
    return {"ring_bps": one_way * spec.nccl_ring_efficiency,
            "reduce_bps": one_way * spec.nccl_busbw_efficiency,
            "step_s": small * (1 - NCCL_START_SHARE) / MEASURED_STEPS,
            "start_s": small * NCCL_START_SHARE, "simple_s": spec.nccl_simple_us * 1e-6,
            "ll_fraction": spec.nccl_ll_fraction, "fill_steps": RING_FILL_STEPS,
            "reduce_start_s": NVLS_START_US * 1e-6}  # fmt: skip


def nccl_ring_s(steps, nbytes, ring_bps, step_s, start_s=0.0, simple_s=0.0, ll_fraction=1.0,
                fill_steps=0.0) -> np.ndarray:  # fmt: skip
    """Seconds of a ring of ``steps`` steps moving ``nbytes`` per link: the start, the step
    latencies and the transfer at ``ring_bps``, slowed by the pipeline fill (``fill_steps``) and
    sped by NCCL's protocol choice (:func:`nccl_transfer_s`)."""
    steps = np.asarray(steps, dtype=float)
    moved = np.asarray(nbytes, dtype=float) * (steps + fill_steps) / np.maximum(steps, 1.0)
    return start_s + steps * step_s + nccl_transfer_s(moved, ring_bps, simple_s, ll_fraction)


def nccl_all_reduce_s(n, nbytes, ring_bps, step_s, start_s=0.0, simple_s=0.0, ll_fraction=1.0,
                      fill_steps=0.0, reduce_bps=None, reduce_start_s=0.0) -> np.ndarray:  # fmt: skip
    """Seconds of an all-reduce of ``nbytes`` per rank over ``n`` ranks (zero for one): a ring
    of ``2 (n - 1)`` steps, paying ``start_s`` once and ``step_s`` per step, moving its
    ``2 (n - 1) / n`` bus bytes at ``ring_bps`` slowed by its pipeline fill (``fill_steps``);
    where ``reduce_bps`` is given and ``n >= NVLS_MIN_RANKS``, the faster of that and the
    whole-domain path (NVLS where the switch reduces): the same start and steps, its own start
    ``reduce_start_s`` (bulk protocol only), the bus bytes at ``reduce_bps``. With the defaults
    it is the plain ring: ``2 (n - 1) / n x size / B + 2 (n - 1) x alpha``."""
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    steps = 2 * (n - 1)
    bus = steps / n * np.asarray(nbytes, dtype=float)
    t = nccl_ring_s(steps, bus, ring_bps, step_s, start_s, simple_s, ll_fraction, fill_steps)
    if reduce_bps is not None:
        domain = start_s + steps * step_s + reduce_start_s + bus / reduce_bps
        t = np.where(n >= NVLS_MIN_RANKS, np.minimum(t, domain), t)
    return np.where(n > 1, t, 0.0)


def _allreduce(tp, nbytes, net) -> Cost:
    """A tensor-parallel all-reduce of ``nbytes`` over ``tp`` GPUs of one NVLink domain
    (:func:`nccl_all_reduce_s` on the spec's :func:`nvlink_nccl` figures)."""
    t = nccl_all_reduce_s(tp, nbytes, net["ring_bps"], net["step_s"], net["start_s"],
                          net["simple_s"], net["ll_fraction"], net["fill_steps"],
                          net["reduce_bps"], net["reduce_start_s"])  # fmt: skip
    binding = np.full(t.shape, BINDING_NAMES.index("interconnect"))
    return Cost(t, np.zeros_like(t), np.zeros_like(t), binding)


def _prefill_attention(dev, net, batch, heads, kv_heads, q_len, kv_len, dh, backward) -> Cost:
    """Flash or unfused attention, per the design's ``attention`` knob."""
    act = net["act_bytes"]
    fused = flash_attention(dev, batch, heads, kv_heads, q_len, kv_len, dh, act_bytes=act,
                            backward=backward)  # fmt: skip
    if not net["unfused"].any():
        return fused
    split = combine(unfused_attention(dev, batch, heads, q_len, kv_len, dh, act_bytes=act,
                                      backward=backward))  # fmt: skip
    pick = lambda f, u: np.where(net["unfused"], u, f)  # noqa: E731
    return Cost(pick(fused.time_s, split.time_s), pick(fused.flops, split.flops),
                pick(fused.hbm_bytes, split.hbm_bytes), pick(fused.binding, split.binding))  # fmt: skip


def _mla_attention(b, cfg, dev, net, batch, heads, tokens, q_len, kv_len, decode, training):
    """Multi-head latent attention (DeepSeek-V2/V3) up to the output projection, per rank. The
    down-projections to the query and KV latents are replicated on every rank; the per-head
    up-projections split with the heads. A prefill (or training step) expands the latent into
    per-head keys and values and runs flash attention (query/key heads of ``head_dim``, value
    heads of ``v_head_dim``: costed at their mean width); a decode step absorbs the key and value
    up-projections into the query and output sides (as FlashMLA does) and reads only the cached
    latent, shared by all heads."""
    layers, d, dh = cfg.layers, cfg.hidden, cfg.head_dim
    nope, dv, rank = dh - cfg.qk_rope_head_dim, cfg.v_head_dim, cfg.kv_lora_rank
    if cfg.q_lora_rank:
        b.gemm("q_down", tokens, cfg.q_lora_rank, d, layers)
        b.gemm("q_up", tokens, heads * dh, cfg.q_lora_rank, layers)
    else:
        b.gemm("q_proj", tokens, heads * dh, d, layers)
    b.gemm("kv_down", tokens, cfg.latent_width, d, layers)
    act = net["act_bytes"]
    if decode:
        b.gemm("q_absorb", tokens, rank, nope, layers, count=heads)  # q_nope W_UK per head
        attn = decode_attention(dev, batch, heads, 1, kv_len, cfg.latent_width,
                                kv_bytes=net["kv_bytes"], act_bytes=act, value_dim=rank,
                                latent=True)  # fmt: skip
        b.add("attention", attn, layers)
        b.gemm("v_absorb", tokens, dv, rank, layers, count=heads)  # latent context W_UV per head
        return
    b.gemm("kv_up", tokens, heads * (nope + dv), rank, layers)
    width = (dh + dv) // 2
    attn = _prefill_attention(dev, net, batch, heads, heads, q_len, kv_len, width, False)
    b.add("attention", attn, layers)
    if training:
        bwd = _prefill_attention(dev, net, batch, heads, heads, q_len, kv_len, width, True)
        b.add("attention_bwd", bwd, layers)


def block_phase(cfg: TransformerConfig, dev: Device, net: Mapping[str, np.ndarray], *,
                batch, q_len, kv_len, decode: bool, moe_imbalance: float,
                training: bool = False) -> Phase:  # fmt: skip
    """Every kernel of one run of ``cfg`` over ``batch`` sequences of ``q_len`` new tokens with
    ``kv_len`` keys, per rank (``net``: per-design ``tp``, dtype bytes, interconnect). With
    ``training``, the forward pass over every position (logits and loss for all of them) and its
    backward; the optimizer is the caller's."""
    tp, act, kvb = net["tp"], net["act_bytes"], net["kv_bytes"]
    d, dh = cfg.hidden, cfg.head_dim
    # at least one head a rank: a TP degree past the heads is infeasible (the simulator's
    # checks say why), but its best-effort metrics stay finite
    heads = np.maximum(1, cfg.heads // tp)
    kv_heads = np.maximum(1, cfg.kv_heads // tp)
    tokens = batch * q_len
    b = _Builder(dev, net, training)
    layers = cfg.layers
    b.memory("embedding", 2.0 * tokens * d * act, 1)
    b.memory("add_norm", 4.0 * tokens * d * act, 2 * layers)  # fused residual add + norm
    if cfg.is_mla:
        _mla_attention(b, cfg, dev, net, batch, heads, tokens, q_len, kv_len, decode, training)
    else:
        b.gemm("qkv_proj", tokens, (heads + 2 * kv_heads) * dh, d, layers)
        if decode:
            attn = decode_attention(dev, batch, heads, kv_heads, kv_len, dh, kv_bytes=kvb,
                                    act_bytes=act)  # fmt: skip
        else:
            attn = _prefill_attention(dev, net, batch, heads, kv_heads, q_len, kv_len, dh, False)
        b.add("attention", attn, layers)
        if training:
            bwd = _prefill_attention(dev, net, batch, heads, kv_heads, q_len, kv_len, dh, True)
            b.add("attention_bwd", bwd, layers)
    b.gemm("out_proj", tokens, d, heads * cfg.value_dim, layers)
    b.allreduce("attn_allreduce", tokens * d * act, layers)
    moe_layers = layers - cfg.dense_layers if cfg.is_moe else 0
    dense_layers = layers - moe_layers
    gated = 2 if cfg.ffn_gated else 1
    if dense_layers:
        inner = cfg.ffn_hidden // tp
        b.gemm("ffn_up", tokens, gated * inner, d, dense_layers)
        b.memory("ffn_act", (gated + 1) * tokens * inner * act, dense_layers)
        b.gemm("ffn_down", tokens, d, inner, dense_layers)
    if moe_layers:
        # with expert parallelism over ``ep`` ranks each rank holds experts / ep experts and
        # serves the tokens that ep ranks route to them (the same routed tokens per rank); with
        # expert tensor parallelism ``etp`` below ``tp`` (Megatron-Core's
        # --expert-tensor-parallel-size) each expert splits over etp ranks only, and each group
        # of etp ranks serves its etp / tp share of the TP group's tokens
        ep = net.get("ep", 1)
        etp = net.get("etp", tp)
        inner = cfg.moe_ffn_hidden // etp
        routed = np.maximum(tokens * cfg.experts_per_token * etp // tp, 1)
        active = np.minimum(cfg.experts // ep, routed)
        per_expert = np.ceil(moe_imbalance * routed / active).astype(np.int64)
        b.gemm("router", tokens, cfg.experts, d, moe_layers, c_bytes=4.0)
        b.gemm("expert_up", per_expert, gated * inner, d, moe_layers, count=active)
        b.memory("expert_act", (gated + 1) * routed * inner * act, moe_layers)
        b.gemm("expert_down", per_expert, d, inner, moe_layers, count=active)
        if cfg.shared_experts:
            shared = cfg.shared_experts * cfg.moe_ffn_hidden // tp
            b.gemm("shared_up", tokens, gated * shared, d, moe_layers)
            b.gemm("shared_down", tokens, d, shared, moe_layers)
    b.allreduce("ffn_allreduce", tokens * d * act, dense_layers)
    if moe_layers:
        # an MoE layer's output reduces over the ranks that split its experts (tp for shared
        # experts, which split like a dense MLP); with etp 1 the all-to-all alone combines it
        group = tp if cfg.shared_experts else net.get("etp", tp)
        b.allreduce("moe_allreduce", tokens * d * act, moe_layers, group=group)
    head_rows = tokens if training else batch  # training scores every position
    b.memory("final_norm", 2.0 * head_rows * d * act, 1)
    b.gemm("lm_head", head_rows, cfg.vocab // tp, d, 1)
    if training:  # Megatron's vocab-parallel cross-entropy, pass by pass (LOSS_BYTES_PER_LOGIT)
        b.add("loss", memory_bound(dev, LOSS_BYTES_PER_LOGIT * head_rows * cfg.vocab / tp), 1)
    return b.phase()


def memory_bytes(cfg: TransformerConfig, gen: Generation, net: Mapping[str, np.ndarray],
                 batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Per-GPU bytes of the weights, the KV cache of the whole run and the prefill's peak
    activations (its widest intermediate, input and output, plus the last positions' logits)."""
    tp = net["tp"]
    weights = cfg.params * net["weight_bytes"] / tp
    kv_heads = np.maximum(1, cfg.kv_heads // tp)
    context = gen.input_len + gen.output_len
    # per token and layer: a key and a value per KV head, or MLA's latent (on every rank)
    per_token = cfg.latent_width if cfg.is_mla else 2.0 * kv_heads * cfg.head_dim
    kv = batch * context * cfg.layers * per_token * net["kv_bytes"]
    inner = cfg.moe_ffn_hidden * cfg.experts_per_token if cfg.is_moe else cfg.ffn_hidden
    widest = np.maximum((2 if cfg.ffn_gated else 1) * inner / tp, 3 * cfg.hidden)
    activations = (2.0 * batch * gen.input_len * widest * net["act_bytes"]
                   + batch * cfg.vocab / tp * 4.0)  # fmt: skip
    return weights, kv, activations
