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
    check_imbalance,
    check_positive,
    decode_step,
    load_model,
    model_names,
    model_workload_factories,
    model_workload_from_dict,
    model_workload_to_dict,
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
    "check_imbalance",
    "check_positive",
    "conv2d",
    "decode_step",
    "gemm",
    "load_model",
    "load_network",
    "model_names",
    "model_workload_factories",
    "model_workload_from_dict",
    "model_workload_to_dict",
    "network_from_dict",
    "prefill",
]
