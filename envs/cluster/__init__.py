"""The distributed-training cluster domain (in progress): collectives on fabrics so far.

:mod:`.collectives` holds the alpha-beta collective models (ring, tree, NVLS, direct,
hierarchical) that the training-step model will use with the GPU domain's kernel costs.
"""

from __future__ import annotations

from .collectives import (
    ALGORITHMS,
    BUS_FACTOR,
    COLLECTIVES,
    Link,
    all_gather,
    all_reduce,
    all_to_all,
    broadcast,
    bus_bandwidth,
    hierarchical_all_reduce,
    reduce_scatter,
)

__all__ = [
    "ALGORITHMS",
    "BUS_FACTOR",
    "COLLECTIVES",
    "Link",
    "all_gather",
    "all_reduce",
    "all_to_all",
    "broadcast",
    "bus_bandwidth",
    "hierarchical_all_reduce",
    "reduce_scatter",
]
