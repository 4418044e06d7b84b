"""DNN layers (conv2d, GEMM, batched GEMM) and networks: the workload description every domain
that runs neural networks shares (the accelerator today, the GPU and cluster domains next).

Every layer is held in one canonical 7-D convolution form, per group::

    out[n, g, k, p, q] += w[g, k, c, r, s] * in[n, g, c, p*stride + r - pad, q*stride + s - pad]

A GEMM ``(m x k) @ (k x n)`` is the 1x1 convolution with ``C = k`` (reduction), ``K = n`` and
``P = m``; a batched GEMM of ``b`` independent products is the same with ``groups = b``;
a depthwise convolution has ``groups = channels`` and ``C = K = 1`` per group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..._errors import WorkloadError
from ..._spec import check_keys, check_spec_version, load_yaml

LAYER_KINDS = ("conv2d", "gemm", "batched_gemm")


@dataclass(frozen=True)
class Layer:
    """One layer in canonical form; build it with :func:`conv2d`, :func:`gemm` or :func:`batched_gemm`.

    Attributes:
        name: label.
        kind: ``"conv2d"``, ``"gemm"`` or ``"batched_gemm"`` (for reports; the maths is shared).
        n: batch. k: output channels per group. c: input channels per group.
        r, s: filter height, width. p, q: output height, width. h, w: input height, width.
        stride: convolution stride. pad: zero padding. groups: independent groups.
        count: how many times the layer repeats in the network (e.g. 32 decoder blocks).
    """

    name: str
    kind: str
    n: int
    k: int
    c: int
    r: int
    s: int
    p: int
    q: int
    h: int
    w: int
    stride: int = 1
    pad: int = 0
    groups: int = 1
    count: int = 1

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one instance of the layer."""
        return self.groups * self.n * self.k * self.c * self.r * self.s * self.p * self.q

    @property
    def weight_words(self) -> int:
        """Weights of one instance of the layer."""
        return self.groups * self.k * self.c * self.r * self.s

    @property
    def input_words(self) -> int:
        """Input activations of one instance (padding excluded)."""
        return self.groups * self.n * self.c * self.h * self.w

    @property
    def output_words(self) -> int:
        """Output activations of one instance."""
        return self.groups * self.n * self.k * self.p * self.q

    def to_dict(self) -> dict[str, Any]:
        """Every field of the canonical form."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _pair(value: Any, label: str, where: str) -> tuple[Any, Any]:
    """``n`` or ``(h, w)`` as a pair (each checked as a positive integer by the caller)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    raise WorkloadError(
        f"{where}: {label} must be a positive integer or a pair [h, w], got {value!r}"
    )


def conv2d(
    name: str,
    in_channels: int,
    out_channels: int,
    in_size: int | tuple[int, int],
    kernel: int | tuple[int, int],
    stride: int = 1,
    padding: int = 0,
    groups: int = 1,
    batch: int = 1,
    count: int = 1,
) -> Layer:
    """A 2-D convolution (``groups = in_channels = out_channels`` for depthwise)."""
    where = f"layer {name!r}"
    h, w = _pair(in_size, "in_size", where)
    r, s = _pair(kernel, "kernel", where)
    for label, value in (("in_channels", in_channels), ("out_channels", out_channels), ("in_size", h), ("in_size", w),
                         ("kernel", r), ("kernel", s), ("stride", stride), ("groups", groups), ("batch", batch),
                         ("count", count)):  # fmt: skip
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise WorkloadError(f"{where}: {label} must be a positive integer, got {value!r}")
    if padding < 0:
        raise WorkloadError(f"{where}: padding must be >= 0, got {padding}")
    if in_channels % groups or out_channels % groups:
        raise WorkloadError(
            f"{where}: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
        )
    p = (h + 2 * padding - r) // stride + 1
    q = (w + 2 * padding - s) // stride + 1
    if p < 1 or q < 1:
        raise WorkloadError(
            f"{where}: kernel {r}x{s} does not fit input {h}x{w} with padding {padding}"
        )
    return Layer(name, "conv2d", batch, out_channels // groups, in_channels // groups, r, s, p, q, h, w,
                 stride, padding, groups, count)  # fmt: skip


def gemm(name: str, m: int, n: int, k: int, count: int = 1) -> Layer:
    """``(m x k) @ (k x n)``: ``m`` rows of activations, ``n`` outputs, ``k`` reduction (weights k x n)."""
    return batched_gemm(name, 1, m, n, k, count=count, kind="gemm")


def batched_gemm(
    name: str, batch: int, m: int, n: int, k: int, count: int = 1, *, kind: str = "batched_gemm"
) -> Layer:
    """``batch`` independent ``(m x k) @ (k x n)`` products (e.g. attention heads)."""
    for label, value in (("batch", batch), ("m", m), ("n", n), ("k", k), ("count", count)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise WorkloadError(
                f"layer {name!r}: {label} must be a positive integer, got {value!r}"
            )
    return Layer(name, kind, 1, n, k, 1, 1, m, 1, m, 1, 1, 0, batch, count)


@dataclass(frozen=True)
class Network:
    """A named list of layers, with the paper it comes from."""

    name: str
    layers: tuple[Layer, ...]
    source: str = ""
    doc: str = ""
    #: Named numbers of the model the network comes from (e.g. a transformer's ``hidden``),
    #: which design-space constraints may use.
    model_constants: Mapping[str, float] = field(default_factory=dict, compare=False)

    def features(self) -> dict[str, float]:
        """The network as surrogate features (sizes in log2, shares in [0, 1]): MACs, weights,
        input and output activations, layer instances, arithmetic intensity (MACs per word
        touched), the MAC-weighted filter size and the MAC shares of grouped (depthwise) and
        GEMM layers: what a cost model needs to tell networks apart without having seen them."""
        macs = np.array([layer.macs * layer.count for layer in self.layers], dtype=float)
        words = lambda attr: float(sum(getattr(x, attr) * x.count for x in self.layers))  # noqa: E731
        total = max(float(macs.sum()), 1.0)
        share = lambda mask: float(macs[np.asarray(mask, dtype=bool)].sum() / total)  # noqa: E731
        touched = words("weight_words") + words("input_words") + words("output_words")
        lg = lambda x: float(np.log2(max(x, 1.0)))  # noqa: E731
        return {
            "log2_macs": lg(total), "log2_weights": lg(words("weight_words")),
            "log2_inputs": lg(words("input_words")), "log2_outputs": lg(words("output_words")),
            "log2_layers": lg(sum(x.count for x in self.layers)),
            "log2_macs_per_word": lg(total / max(touched, 1.0)),
            "log2_filter": float(sum(m * np.log2(x.r * x.s) for m, x in zip(macs, self.layers,
                                                                               strict=True)) / total),
            "grouped_share": share([x.groups > 1 for x in self.layers]),
            "gemm_share": share([x.kind != "conv2d" for x in self.layers]),
        }  # fmt: skip

    def scalars(self) -> dict[str, float]:
        """Numbers a design-space constraint may name: ``macs``, ``weight_words`` and the model's."""
        return {"macs": float(self.macs), "weight_words": float(self.weight_words),
                **self.model_constants}  # fmt: skip

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole network (layer counts included)."""
        return sum(layer.macs * layer.count for layer in self.layers)

    @property
    def weight_words(self) -> int:
        """Weights of the whole network (layer counts included)."""
        return sum(layer.weight_words * layer.count for layer in self.layers)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Struct of arrays over layers (float64, shape ``(1, n_layers)``) for the cost model."""
        names = ("n", "k", "c", "r", "s", "p", "q", "h", "w", "stride", "groups", "count")
        return {
            key: np.array([getattr(layer, key) for layer in self.layers], dtype=np.float64)[None, :]
            for key in names
        }

    def to_dict(self) -> dict[str, Any]:
        """The YAML form :func:`network_from_dict` reads back."""
        layers = []
        for layer in self.layers:
            if layer.kind == "conv2d":
                layers.append({
                    "name": layer.name, "kind": "conv2d", "in_channels": layer.c * layer.groups,
                    "out_channels": layer.k * layer.groups, "in_size": [layer.h, layer.w],
                    "kernel": [layer.r, layer.s], "stride": layer.stride, "padding": layer.pad,
                    "groups": layer.groups, "batch": layer.n, "count": layer.count,
                })  # fmt: skip
            else:
                entry = {"name": layer.name, "kind": layer.kind, "m": layer.p, "n": layer.k, "k": layer.c,
                         "count": layer.count}  # fmt: skip
                if layer.kind == "batched_gemm":
                    entry["batch"] = layer.groups
                layers.append(entry)
        return {"spec_version": 1, "name": self.name, "source": self.source, "layers": layers}


_LAYER_KEYS = {
    "conv2d": ({"kind", "in_channels", "out_channels", "in_size", "kernel"},
               {"name", "stride", "padding", "groups", "batch", "count"}),
    "gemm": ({"kind", "m", "n", "k"}, {"name", "count"}),
    "batched_gemm": ({"kind", "batch", "m", "n", "k"}, {"name", "count"}),
}  # fmt: skip


def network_from_dict(data: Mapping[str, Any], *, path: str = "workload") -> Network:
    """Build a network from its YAML form (see :meth:`Network.to_dict`), validating every key."""
    check_spec_version(data, path)
    check_keys(
        data, required={"spec_version", "name", "layers"}, optional={"source", "doc"}, path=path
    )
    if not isinstance(data["layers"], Sequence) or not data["layers"]:
        raise WorkloadError(f"{path}.layers: expected a non-empty list of layers")
    layers = []
    for i, raw in enumerate(data["layers"]):
        where = f"{path}.layers[{i}]"
        if not isinstance(raw, Mapping) or raw.get("kind") not in LAYER_KINDS:
            kind = raw.get("kind") if isinstance(raw, Mapping) else raw
            raise WorkloadError(f"{where}.kind: got {kind!r}; expected one of {list(LAYER_KINDS)}")
        required, optional = _LAYER_KEYS[raw["kind"]]
        check_keys(raw, required=required, optional=optional, path=where)
        args = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k != "kind"}
        args.setdefault("name", f"layer{i}")
        builder = {"conv2d": conv2d, "gemm": gemm, "batched_gemm": batched_gemm}[raw["kind"]]
        try:
            layers.append(builder(**args))
        except TypeError as exc:
            raise WorkloadError(f"{where}: {exc}") from exc
        except WorkloadError as exc:
            raise WorkloadError(f"{where}: {exc}") from exc
    return Network(
        str(data["name"]), tuple(layers), str(data.get("source", "")), str(data.get("doc", ""))
    )


def load_network(path: str | Path) -> Network:
    """A network from a YAML file of layers."""
    return network_from_dict(load_yaml(path), path=str(path))
