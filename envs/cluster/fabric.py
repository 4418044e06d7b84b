"""The scale-out fabric: what leaving a leaf group costs on a rail-optimised fat tree.

NVIDIA's DGX SuperPOD layout: GPU ``i`` of every node in a leaf group (a scalable unit of
``leaf_gpus`` GPUs) is cabled to rail ``i``'s leaf switch, so same-rail traffic inside the group
crosses one switch at the full NIC rate. Traffic that leaves the group goes up to the spine,
whose uplinks carry ``1 / oversubscription`` of what the leaf's downlinks carry.

A traffic pattern in which every GPU sends at once, with a share ``crossing`` of each GPU's bytes
leaving its leaf group, is served at ``rate / max(1, crossing x oversubscription)``: the uplinks
limit it only when more of the traffic leaves than they can carry. The patterns of a training
step, with Megatron-LM's rank order (tensor fastest, then context, data, pipeline slowest):

* a **pipeline** transfer pairs each GPU with the one ``gpus / pp`` ranks away;
* an **all-to-all** (expert parallelism) spreads a GPU's bytes evenly over its group's peers;
* a **ring** (data-parallel gradient reduction, context parallelism) crosses a leaf boundary
  once per leaf group it spans, whatever its length, which is why ring collectives shrug off
  oversubscription that halves an all-to-all.

A dragonfly under minimal routing is the same model: its groups play the leaf groups' part and
the taper of its global links is the oversubscription.

**Switch** (``switch``): every NVLink domain on one non-blocking crossbar (a single switch, or a
full-bisection network): no traffic leaves a leaf group, so every pattern runs at the NIC rate.

**Torus** (``ring``, ``torus2d``, ``torus3d``; a ring of domains, TPU pods, some HPC fabrics):
the NVLink domains sit on a
``k_1 x ... x k_D`` wrap-around grid (the most cubic factorisation of their count, rank order
filling dimension 1 first), and a domain's fabric bandwidth is split over its ``2 D`` neighbour
links, so one GPU's share of one link is ``rate / (2 D)``:

* a **ring** runs as a multi-dimensional ring (one bidirectional ring per dimension, as TPU and
  ASTRA-sim's multi-dimensional collectives do): every link busy, the full per-GPU rate;
* a **shift** (every GPU sending to the one a fixed number of domains away, as pipeline stages
  do) routes dimension by dimension the short way round: ``h`` hops in a dimension put ``h``
  flows on each of its links, so the rate is ``rate / (2 D max_d h_d)``;
* an **all-to-all** over a box of the grid is bisection-bound: half of every domain's traffic
  crosses the cut through the longest extent ``e`` (two cuts of ``n / e`` links each when the box
  wraps, one when it does not): ``min(rate, 4 rate / (D e))`` wrapped, half that unwrapped.

This is a steady-state bandwidth model: it leaves out congestion-control dynamics, adaptive
routing and hash collisions on the spine (ASTRA-sim's congestion-aware backend and SimAI
simulate those).

Example:
    >>> import numpy as np
    >>> from archgym_py.envs.cluster.fabric import group_crossing, uplink_limited_rate
    >>> share = group_crossing(np.array([256, 512, 1024]), 256)  # all-to-all over 1-4 leaf groups
    >>> share.tolist(), (uplink_limited_rate(50e9, share, 2.0) / 1e9).round(2).tolist()
    ([0.0, 0.5, 0.75], [50.0, 50.0, 33.33])
"""

from __future__ import annotations

import numpy as np


def uplink_limited_rate(rate, crossing, oversubscription) -> np.ndarray:
    """Per-GPU rate (B/s) of a pattern that sends ``crossing`` (0-1) of every GPU's bytes out of
    its leaf group, all GPUs at once, when the uplinks carry ``1 / oversubscription`` of the
    downlinks."""
    load = np.asarray(crossing, dtype=float) * np.asarray(oversubscription, dtype=float)
    return np.asarray(rate, dtype=float) / np.maximum(1.0, load)


def neighbour_crossing(stride, leaf_gpus) -> np.ndarray:
    """Share of GPUs whose partner ``stride`` ranks away sits in another leaf group."""
    return np.clip(np.asarray(stride, dtype=float) / leaf_gpus, 0.0, 1.0)


def group_crossing(span, leaf_gpus) -> np.ndarray:
    """Share of a GPU's peers outside its leaf group, for a group spread over ``span``
    consecutive ranks (even traffic to every peer, as in an all-to-all)."""
    return np.clip(1.0 - leaf_gpus / np.maximum(np.asarray(span, dtype=float), 1.0), 0.0, 1.0)


def ring_crossing(span, members, leaf_gpus) -> np.ndarray:
    """Share of a ring's hops that leave a leaf group: a ring of ``members`` ranks over
    ``span`` consecutive ranks crosses once per leaf group it spans (none inside one group)."""
    leaves = np.ceil(np.asarray(span, dtype=float) / leaf_gpus)
    members = np.maximum(np.asarray(members, dtype=float), 1.0)
    return np.where(leaves > 1, np.minimum(1.0, leaves / members), 0.0)


TOPOLOGIES = ("fat_tree", "switch", "ring", "torus2d", "torus3d")
#: Dimensions of the wrap-around grid of each torus-like topology (a ring is a 1-D torus).
TORUS_DIMS = {"ring": 1, "torus2d": 2, "torus3d": 3}


def torus_shape(domains: int, dims: int) -> tuple[int, ...]:
    """The most cubic ``dims``-dimensional grid of ``domains`` nodes, largest extent last.

    Example:
        >>> torus_shape(128, 3), torus_shape(128, 2), torus_shape(7, 2)
        ((4, 4, 8), (8, 16), (1, 7))
    """
    best: tuple[int, ...] = ()
    best_spread = None

    def grow(left: int, prefix: tuple[int, ...]) -> None:
        nonlocal best, best_spread
        if len(prefix) == dims - 1:
            shape = tuple(sorted((*prefix, left)))
            spread = shape[-1] / shape[0]
            if best_spread is None or spread < best_spread:
                best, best_spread = shape, spread
            return
        for f in range(1, left + 1):
            if left % f == 0:
                grow(left // f, (*prefix, f))

    grow(int(domains), ())
    return best


def _extents(shape: tuple[int, ...], nodes) -> np.ndarray:
    """Per-dimension extent of a block of ``nodes`` consecutive ranks (dimension 1 fills first)."""
    nodes = np.maximum(np.asarray(nodes, dtype=float), 1.0)
    out, span = [], nodes
    for k in shape:
        out.append(np.minimum(span, k))
        span = np.ceil(span / k)
    return np.stack(out, axis=-1)


def torus_shift_rate(rate, offset, shape: tuple[int, ...]) -> np.ndarray:
    """Per-GPU rate when every GPU sends to the one ``offset`` domains away, all at once."""
    offset = np.asarray(offset, dtype=np.int64)
    hops, rest = [], offset
    for k in shape:
        step = rest % k
        hops.append(np.minimum(step, k - step))
        rest = rest // k
    worst = np.maximum(np.max(np.stack(hops, axis=-1), axis=-1), 1)
    return np.asarray(rate, dtype=float) / (2 * len(shape) * worst)


def torus_all_to_all_rate(rate, nodes, shape: tuple[int, ...]) -> np.ndarray:
    """Per-GPU rate of an all-to-all over ``nodes`` consecutive domains (see the docstring)."""
    extents = _extents(shape, nodes)
    which = np.argmax(extents, axis=-1)  # the cut goes through the longest extent
    longest = np.take_along_axis(extents, which[..., None], axis=-1)[..., 0]
    wraps = longest == np.asarray(shape)[which]
    bound = np.where(wraps, 4.0, 2.0) * np.asarray(rate, dtype=float) / (len(shape) * longest)
    return np.where(np.asarray(nodes) > 1, np.minimum(rate, bound), rate)
