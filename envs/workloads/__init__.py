"""Workloads shared by every domain that runs neural networks: layers, networks and transformer
models (``arch_specs/models/*.yaml``) decomposed into GEMMs.

A domain may import these; they import nothing domain-specific.
"""

from __future__ import annotations

from .layers import (
    LAYER_KINDS,
    Layer,
    Network,
    batched_gemm,
    conv2d,
    gemm,
    load_network,
    network_from_dict,
)
from .transformer import (
    MODEL_FIELDS,
    TransformerConfig,
    block,
    decode_step,
    load_model,
    model_names,
    prefill,
)

__all__ = [
    "LAYER_KINDS",
    "Layer",
    "MODEL_FIELDS",
    "Network",
    "TransformerConfig",
    "batched_gemm",
    "block",
    "conv2d",
    "decode_step",
    "gemm",
    "load_model",
    "load_network",
    "model_names",
    "network_from_dict",
    "prefill",
]
