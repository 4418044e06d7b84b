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
