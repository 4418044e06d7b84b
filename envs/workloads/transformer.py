"""Transformer models as cited data, and their decomposition into GEMM layers.

A model config (``arch_specs/models/<name>.yaml``) gives the published shape of a model: hidden
size, layers, query and key/value heads, FFN width (gated or not), vocabulary, and for a mixture
of experts the number of routed experts, the experts per token, the expert FFN width, shared
experts and leading dense layers. :func:`prefill`, :func:`decode_step` and :func:`block` turn a
config into a :class:`~archgym_py.envs.workloads.layers.Network` of GEMMs that any domain costs
(accelerator layers today; GPU kernels and cluster steps next).

Routing is taken as balanced: each of ``min(experts, tokens * experts_per_token)`` active experts
gets ``ceil(tokens * experts_per_token / active)`` tokens. Attention is costed as its two batched
GEMMs (scores and context); softmax, normalisation and activations carry no MACs.

Example:
    >>> from archgym_py.envs.workloads import load_model, decode_step
    >>> cfg = load_model("llama3_8b")
    >>> cfg.hidden, cfg.kv_heads, cfg.head_dim
    (4096, 8, 128)
    >>> net = decode_step(cfg, batch=1, context=1024)
    >>> round(net.macs / 1e9, 2)  # one MAC per weight but the embedding's, plus attention
    7.77
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..._arch import Arch
from ..._errors import SpecError, WorkloadError
from ..._spec import Field, shipped_names
from .layers import Layer, Network, batched_gemm, gemm

_POSITIVE = {"low": 1}
MODEL_FIELDS: dict[str, Field] = {
    "hidden": Field(int, "model (embedding) width", **_POSITIVE),
    "layers": Field(int, "transformer blocks", **_POSITIVE),
    "heads": Field(int, "query heads", **_POSITIVE),
    "kv_heads": Field(
        int, "key/value heads (= heads for MHA, fewer for GQA, 1 for MQA)", **_POSITIVE
    ),
    "head_dim": Field(int, "width of one head", **_POSITIVE),
    "ffn_hidden": Field(int, "FFN inner width of a dense block", **_POSITIVE),
    "ffn_gated": Field(bool, "gated FFN (SwiGLU/GeGLU: gate and up projections)"),
    "vocab": Field(int, "vocabulary size", **_POSITIVE),
    "max_seq_len": Field(int, "context length the model was trained for", **_POSITIVE),
    "decoder": Field(bool, "causal decoder (false: encoder such as BERT)"),
    "tied_embeddings": Field(bool, "the output head shares the input embedding's weights"),
    "experts": Field(int, "routed experts per MoE block (0: dense model)", low=0),
    "experts_per_token": Field(int, "routed experts each token visits (top-k)", low=0),
    "moe_ffn_hidden": Field(int, "FFN inner width of one expert", low=0),
    "shared_experts": Field(int, "experts every token visits", low=0),
    "dense_layers": Field(int, "leading blocks with a dense FFN in an MoE model", low=0),
    "kv_lora_rank": Field(
        int, "multi-head latent attention: width of the cached KV latent (0: none)", low=0
    ),  # fmt: skip
    "q_lora_rank": Field(
        int, "MLA: width of the query latent (0: a direct query projection)", low=0
    ),
    "qk_rope_head_dim": Field(int, "MLA: the decoupled rotary part of each query/key head", low=0),
    "v_head_dim": Field(int, "MLA: width of each value head (0: head_dim)", low=0),
}
_MOE = ("experts", "experts_per_token", "moe_ffn_hidden", "shared_experts", "dense_layers")
_MLA = ("kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "v_head_dim")


class TransformerConfig(Arch):
    """A transformer's published shape, each number with its source (see the module docstring)."""

    family = "models"
    subdir = ""
    what = "transformer model"
    constants = MODEL_FIELDS
    optional = frozenset(_MOE + _MLA)
    derived = ("params", "active_params", "kv_bytes_per_token_fp16")

    def check(self, *, path: str = "model.architecture") -> None:
        """Heads divide into KV groups; an MoE gives all of its numbers."""
        if self.heads % self.kv_heads:
            raise SpecError(
                f"{path}.kv_heads: got {self.kv_heads}; expected a divisor of heads ({self.heads})"
            )
        moe = [k for k in _MOE[:3] if getattr(self, k)]
        if moe and len(moe) != 3:
            raise SpecError(f"{path}: an MoE model gives all of {list(_MOE[:3])}, got only {moe}")
        if self.experts and not 1 <= self.experts_per_token <= self.experts:
            raise SpecError(
                f"{path}.experts_per_token: got {self.experts_per_token}; expected 1..{self.experts}"
            )
        if self.dense_layers > self.layers:
            raise SpecError(f"{path}.dense_layers: got {self.dense_layers}; expected <= layers")
        if self.kv_lora_rank and not (self.qk_rope_head_dim and self.v_head_dim):
            raise SpecError(
                f"{path}: an MLA model gives qk_rope_head_dim and v_head_dim with kv_lora_rank"
            )
        if self.kv_lora_rank and self.qk_rope_head_dim >= self.head_dim:
            raise SpecError(
                f"{path}.qk_rope_head_dim: got {self.qk_rope_head_dim}; expected < head_dim "
                f"({self.head_dim}, the query/key head: its non-rotary part plus the rotary part)"
            )

    def features(self) -> dict[str, float]:
        """The model's shape as surrogate features (log2 of sizes, so that models of different
        scales sit on one axis): parameters, active parameters, width, depth, heads, KV heads,
        FFN width, cached KV bytes per token and the MoE top-k."""
        lg = lambda x: float(np.log2(max(float(x), 1.0)))  # noqa: E731
        return {"log2_params": lg(self.params), "log2_active_params": lg(self.active_params),
                "log2_hidden": lg(self.hidden), "log2_layers": lg(self.layers),
                "log2_heads": lg(self.heads), "log2_kv_heads": lg(self.kv_heads),
                "log2_ffn": lg(self.moe_ffn_hidden if self.is_moe else self.ffn_hidden),
                "log2_kv_bytes_per_token": lg(self.kv_bytes_per_token_fp16),
                "experts_per_token": float(self.experts_per_token)}  # fmt: skip

    @property
    def is_moe(self) -> bool:
        """Whether the model routes tokens to experts."""
        return self.experts > 0

    @property
    def is_mla(self) -> bool:
        """Whether attention caches a compressed KV latent (DeepSeek's multi-head latent attention)."""
        return self.kv_lora_rank > 0

    @property
    def value_dim(self) -> int:
        """Width of one value head."""
        return self.v_head_dim if self.is_mla else self.head_dim

    @property
    def latent_width(self) -> int:
        """MLA: cached values per token per layer (the KV latent and the shared rotary key)."""
        return self.kv_lora_rank + self.qk_rope_head_dim

    @property
    def q_width(self) -> int:
        """Width of the query projection (heads x head_dim)."""
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        """Width of the key (or value) projection (kv_heads x head_dim)."""
        return self.kv_heads * self.head_dim

    def _ffn_params(self, inner: int) -> int:
        return (3 if self.ffn_gated else 2) * self.hidden * inner

    @property
    def attention_params(self) -> int:
        """Weights of one block's attention projections."""
        d = self.hidden
        if not self.is_mla:
            return d * (2 * self.q_width + 2 * self.kv_width)
        query = (
            d * self.q_lora_rank + self.q_lora_rank * self.q_width
            if self.q_lora_rank
            else d * self.q_width
        )
        nope = self.head_dim - self.qk_rope_head_dim
        kv = d * self.latent_width + self.kv_lora_rank * self.heads * (nope + self.v_head_dim)
        return query + kv + self.heads * self.v_head_dim * d

    @property
    def params(self) -> int:
        """Weights (the output head counted unless tied to the embedding; norms and biases left out)."""
        attention = self.attention_params
        dense = self.layers - (self.layers - self.dense_layers if self.is_moe else 0)
        moe_layers = self.layers - dense
        expert = self._ffn_params(self.moe_ffn_hidden) if self.is_moe else 0
        per_moe = (self.experts + self.shared_experts) * expert + self.hidden * self.experts
        return (self.layers * attention + dense * self._ffn_params(self.ffn_hidden)
                + moe_layers * per_moe + (1 if self.tied_embeddings else 2) * self.vocab * self.hidden)  # fmt: skip

    @property
    def active_params(self) -> int:
        """Weights one token reads (routed experts counted ``experts_per_token`` times)."""
        if not self.is_moe:
            return self.params
        idle = (self.experts - self.experts_per_token) * self._ffn_params(self.moe_ffn_hidden)
        return self.params - (self.layers - self.dense_layers) * idle

    @property
    def kv_bytes_per_token_fp16(self) -> int:
        """KV-cache bytes one token adds at 16 bits (keys and values of every layer; MLA: the
        latent and the rotary key)."""
        if self.is_mla:
            return 2 * self.layers * self.latent_width
        return 2 * 2 * self.layers * self.kv_width


def load_model(model: str | Path | Mapping[str, Any] | TransformerConfig) -> TransformerConfig:
    """A model config from a shipped name (``"llama3_8b"``), a YAML path, a mapping or itself."""
    return TransformerConfig.load(model)


def model_names() -> list[str]:
    """Names of the shipped model configs (``arch_specs/models/*.yaml``)."""
    return shipped_names("models")


def check_positive(**values: int) -> None:
    """WorkloadError naming the first value that is not a positive integer."""
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise WorkloadError(f"{key}: got {value!r}; expected a positive integer")


def check_imbalance(value: float) -> None:
    """WorkloadError unless an MoE routing imbalance (busiest expert / mean) is at least 1."""
    if not value >= 1.0:
        raise WorkloadError(f"moe_imbalance: got {value!r}; expected >= 1 (busiest expert / mean)")


def model_workload_to_dict(workload: Any) -> dict[str, Any]:
    """The mapping form of a workload dataclass built on a transformer: its ``model`` in full
    and its other init fields (what :func:`model_workload_from_dict` reads back)."""
    out = {"model": workload.model.to_dict()}
    for f in dataclasses.fields(workload):
        if f.init and f.name not in ("model", "source"):
            out[f.name] = getattr(workload, f.name)
    return out


def model_workload_factories(
    kind: type, table: Mapping[str, tuple[str, Mapping[str, Any]]]
) -> dict:
    """Built-in workloads of a dataclass built on a transformer: ``{name: (model, fields)}`` to
    ``{name: a function of no arguments that builds it}`` (through
    :func:`model_workload_from_dict`, so each is checked when built)."""
    return {name: functools.partial(model_workload_from_dict, kind,
                                    {"model": model, "name": name, **fields})
            for name, (model, fields) in table.items()}  # fmt: skip


def model_workload_from_dict(kind: type, data: Mapping[str, Any], *, path: str = "workload") -> Any:
    """A workload dataclass whose first field ``model`` is a transformer config (a shipped name, a
    path or a mapping) and whose other fields come from ``data``; an unknown key or a missing
    model is a WorkloadError naming it."""
    names = [
        f.name for f in dataclasses.fields(kind) if f.init and f.name not in ("model", "source")
    ]
    unknown = set(data) - {"model", *names}
    if unknown:
        raise WorkloadError(
            f"{path}: unknown keys {sorted(unknown)}; expected some of {sorted({'model', *names})}"
        )
    if "model" not in data:
        raise WorkloadError(f"{path}.model: missing; expected a model name such as 'llama3_8b'")
    return kind(load_model(data["model"]), **{k: data[k] for k in names if k in data})


def _attention(cfg: TransformerConfig, batch: int, queries: int, keys: int, n: int) -> list[Layer]:
    """Projections and attention of ``n`` blocks for ``batch`` sequences of ``queries`` new tokens
    attending to ``keys`` tokens."""
    m, d = batch * queries, cfg.hidden
    dh, bh = cfg.head_dim, batch * cfg.heads
    if cfg.is_mla:  # expanded (not absorbed) form: queries and keys of head_dim, values v_head_dim
        nope, dv = dh - cfg.qk_rope_head_dim, cfg.v_head_dim
        if cfg.q_lora_rank:
            query = [gemm("q_down", m, cfg.q_lora_rank, d, count=n),
                     gemm("q_up", m, cfg.q_width, cfg.q_lora_rank, count=n)]  # fmt: skip
        else:
            query = [gemm("q_proj", m, cfg.q_width, d, count=n)]
        return [
            *query,
            gemm("kv_down", m, cfg.latent_width, d, count=n),
            gemm("kv_up", m, cfg.heads * (nope + dv), cfg.kv_lora_rank, count=n),
            batched_gemm("attn_scores", bh, queries, keys, dh, count=n),
            batched_gemm("attn_context", bh, queries, dv, keys, count=n),
            gemm("out_proj", m, d, cfg.heads * dv, count=n),
        ]
    if cfg.kv_heads == cfg.heads and cfg.q_width == d:
        projections = [gemm("qkv_proj", m, d, d, count=3 * n)]
    else:
        projections = [gemm("q_proj", m, cfg.q_width, d, count=n),
                       gemm("kv_proj", m, cfg.kv_width, d, count=2 * n)]  # fmt: skip
    return [
        *projections,
        batched_gemm("attn_scores", bh, queries, keys, dh, count=n),
        batched_gemm("attn_context", bh, queries, dh, keys, count=n),
        gemm("out_proj", m, d, cfg.q_width, count=n),
    ]


def _ffn(
    name: str, m: int, d: int, inner: int, gated: bool, n: int, experts: int = 1
) -> list[Layer]:
    if n == 0:
        return []
    up = f"{name}_gate_up" if gated else f"{name}_up"
    if experts == 1:
        return [gemm(up, m, inner, d, count=(2 if gated else 1) * n),
                gemm(f"{name}_down", m, d, inner, count=n)]  # fmt: skip
    return [batched_gemm(up, experts, m, inner, d, count=(2 if gated else 1) * n),
            batched_gemm(f"{name}_down", experts, m, d, inner, count=n)]  # fmt: skip


def _feed_forward(cfg: TransformerConfig, tokens: int, n: int) -> list[Layer]:
    """FFNs of ``n`` blocks (the first ``dense_layers`` of an MoE model are dense)."""
    d = cfg.hidden
    if not cfg.is_moe:
        return _ffn("ffn", tokens, d, cfg.ffn_hidden, cfg.ffn_gated, n)
    dense = min(n, cfg.dense_layers)
    moe = n - dense
    routed = tokens * cfg.experts_per_token
    active = min(cfg.experts, routed)
    layers = _ffn("ffn", tokens, d, cfg.ffn_hidden, cfg.ffn_gated, dense)
    if moe:
        layers.append(gemm("router", tokens, cfg.experts, d, count=moe))
        layers += _ffn("expert", math.ceil(routed / active), d, cfg.moe_ffn_hidden, cfg.ffn_gated,
                       moe, experts=active)  # fmt: skip
        if cfg.shared_experts:
            layers += _ffn("shared_expert", tokens, d, cfg.shared_experts * cfg.moe_ffn_hidden,
                           cfg.ffn_gated, moe)  # fmt: skip
    return layers


def _network(cfg: TransformerConfig, name: str, layers: list[Layer]) -> Network:
    return Network(name, tuple(layers), cfg.sources.get("hidden", ""), cfg.description,
                   model_constants=cfg.scalars())  # fmt: skip


def block(cfg: TransformerConfig, *, batch: int = 1, seq_len: int = 128) -> Network:
    """One transformer block over ``batch`` sequences of ``seq_len`` tokens (encoder or prefill)."""
    check_positive(batch=batch, seq_len=seq_len)
    layers = _attention(cfg, batch, seq_len, seq_len, 1) + _feed_forward(cfg, batch * seq_len, 1)
    return _network(cfg, f"{cfg.name}_block", layers)


def prefill(cfg: TransformerConfig, *, batch: int = 1, seq_len: int = 2048) -> Network:
    """Every block over a prompt of ``seq_len`` tokens, then the LM head for the last token."""
    check_positive(batch=batch, seq_len=seq_len)
    layers = _attention(cfg, batch, seq_len, seq_len, cfg.layers)
    layers += _feed_forward(cfg, batch * seq_len, cfg.layers)
    if cfg.decoder:
        layers.append(gemm("lm_head", batch, cfg.vocab, cfg.hidden))
    return _network(cfg, f"{cfg.name}_prefill", layers)


def decode_step(cfg: TransformerConfig, *, batch: int = 1, context: int = 2048) -> Network:
    """One new token per sequence, attending to a KV cache of ``context`` tokens."""
    check_positive(batch=batch, context=context)
    if not cfg.decoder:
        raise WorkloadError(f"model {cfg.name!r} is an encoder: it has no decode step")
    layers = _attention(cfg, batch, 1, context, cfg.layers) + _feed_forward(cfg, batch, cfg.layers)
    layers.append(gemm("lm_head", batch, cfg.vocab, cfg.hidden))
    return _network(cfg, f"{cfg.name}_decode", layers)
