"""Collective communication times, numpy-vectorised over designs.

Every function takes the participant count ``n``, the bytes ``size`` each rank contributes (the
buffer size as nccl-tests counts it) and a :class:`Link` (per-direction bandwidth and per-step
latency, arrays over designs) and returns seconds. The models are the alpha-beta costs of the
algorithms NCCL implements:

* **ring**: a reduce-scatter or all-gather takes ``n - 1`` steps, each moving ``size / n`` over
  every link at once; an all-reduce is both: ``2 (n - 1) / n x size / B + 2 (n - 1) alpha``.
* **tree** (NCCL's double binary tree): the same bandwidth term as the ring for an all-reduce,
  but ``2 log2(n)`` latency steps instead of ``2 (n - 1)`` (so it wins on small messages).
* **nvls** (in-switch reduction, NVLink SHARP): each rank sends its buffer to the switch once and
  receives the result once: ``size / B + 2 alpha``; its *bus* bandwidth, as nccl-tests defines
  it, can exceed the link's.
* **rhd** (recursive halving-doubling, Thakur, Rabenseifner and Gropp, IJHPCA 2005): a
  reduce-scatter by recursive halving and an all-gather by recursive doubling, ``log2(n)`` steps
  each: the ring's bandwidth term with ``2 log2(n)`` latencies; a rank count that is not a power
  of two first folds its extra ranks into partners and unfolds them at the end (two more steps
  moving the whole buffer).
* **direct** (all-to-all as pairwise exchanges, all in flight): ``(n - 1) / n x size / B + alpha``.
* **send/recv** (a pipeline-stage boundary): ``size / B + alpha``. A **broadcast** is a pipelined
  ring; cut into ``c`` chunks it takes ``(n - 2 + c)`` chunk steps of ``alpha + size / (c B)``,
  least at ``c = sqrt((n - 2) size / (alpha B))``: ``(sqrt((n - 2) alpha) + sqrt(size / B))^2``.
  Without ``chunks`` it is the bound ``size / B + (n - 1) alpha`` (chunks whose latency is
  negligible next to their transfer).

**Message-size efficiency.** NCCL runs each collective with one of its protocols and picks, per
size, the one its tuning model says is fastest (``src/graph/tuning.cc``: a latency plus the size
over a bandwidth, per algorithm and protocol): the low-latency protocols (LL, LL128) start fast
but move data at a fraction of the link rate (flags ride in every line), the bulk protocol
(Simple) streams at the full rate after a longer start. A :class:`Link` carries both lines: a
transfer of ``b`` bytes per link costs ``min(b / (B x ll_fraction), simple_s + b / B)`` after the
per-step latencies, so the achieved bandwidth ramps with the message size in the two steps the
measured tables show, not as one fixed fraction. Three more terms make NCCL's NVLink curves
(fitted on measured tables; :func:`archgym_py.envs.gpu.llm.nvlink_nccl`): a ``start_s`` every
collective pays once (launch and synchronisation), a ring's pipeline fill (a ring of ``s``
steps moves its bytes at ``s / (s + fill_steps)`` of the bulk rate: fewer ranks, less of the
link; an all-to-all counts as one step), and ``reduce_bytes_per_s``, the bus rate a switch that
reduces (NVLS) gives an all-reduce over a whole domain of 8 or more GPUs, past the link's,
after its own start ``reduce_start_s`` (NCCL runs it with the bulk protocol only). The
defaults (``ll_fraction`` 1, ``simple_s``, ``start_s`` and ``fill_steps`` 0, no switch
reduction) are the plain alpha-beta model.

Bus bandwidth (``bus_bandwidth``) follows nccl-tests' ``doc/PERFORMANCE.md``: the algorithm
bandwidth ``size / time`` times 2(n-1)/n for all-reduce, (n-1)/n for all-gather, reduce-scatter
and all-to-all, 1 for broadcast. With one participant every collective takes no time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gpu.llm import nccl_all_reduce_s, nccl_ring_s, nccl_transfer_s

COLLECTIVES = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv")
ALGORITHMS = ("ring", "tree", "rhd", "nvls", "direct")

#: nccl-tests doc/PERFORMANCE.md: bus bandwidth = algorithm bandwidth x this factor of n.
BUS_FACTOR = {
    "all_reduce": lambda n: 2.0 * (n - 1) / n,
    "all_gather": lambda n: (n - 1) / n,
    "reduce_scatter": lambda n: (n - 1) / n,
    "all_to_all": lambda n: (n - 1) / n,
    "broadcast": lambda n: np.ones_like(np.asarray(n, dtype=float)),
    "send_recv": lambda n: np.ones_like(np.asarray(n, dtype=float)),
}


@dataclass(frozen=True)
class Link:
    """One level of a fabric, per design: the bulk protocol's bandwidth per GPU per direction
    for ring and direct transfers (B/s), the latency of one algorithm step (s), the bulk
    protocol's extra start-up latency (s), the low-latency protocol's share of the bulk
    bandwidth, the start every collective pays once (s), the ring's pipeline fill (steps) and,
    for a switch that reduces (NVLS), the all-reduce bus bandwidth of a whole domain (B/s) and
    that path's own start (s; see the module docstring). The defaults are the plain alpha-beta
    link."""

    bytes_per_s: np.ndarray
    latency_s: np.ndarray
    simple_s: np.ndarray | float = 0.0
    ll_fraction: np.ndarray | float = 1.0
    start_s: np.ndarray | float = 0.0
    fill_steps: float = 0.0
    reduce_bytes_per_s: np.ndarray | None = None
    reduce_start_s: float = 0.0

    def transfer_s(self, nbytes) -> np.ndarray:
        """Seconds to move ``nbytes`` over each link, after the step latencies: the faster of
        the low-latency and the bulk protocol (:func:`archgym_py.envs.gpu.llm.nccl_transfer_s`)."""
        return nccl_transfer_s(nbytes, self.bytes_per_s, self.simple_s, self.ll_fraction)

    def ring_s(self, steps, nbytes) -> np.ndarray:
        """A ring of ``steps`` steps moving ``nbytes`` per link: the start, the step latencies
        and the transfer slowed by the pipeline fill (:func:`~archgym_py.envs.gpu.llm.nccl_ring_s`)."""
        return nccl_ring_s(steps, nbytes, self.bytes_per_s, self.latency_s, self.start_s,
                           self.simple_s, self.ll_fraction, self.fill_steps)  # fmt: skip


def _steps(n):
    return np.maximum(np.asarray(n, dtype=float), 1.0)


def all_reduce(n, size, link: Link, algorithm: str = "ring") -> np.ndarray:
    """Seconds of an all-reduce of ``size`` bytes over ``n`` ranks."""
    n = _steps(n)
    size = np.asarray(size, dtype=float)
    if algorithm == "ring":
        t = nccl_all_reduce_s(n, size, link.bytes_per_s, link.latency_s, link.start_s,
                              link.simple_s, link.ll_fraction, link.fill_steps,
                              link.reduce_bytes_per_s, link.reduce_start_s)  # fmt: skip
    elif algorithm == "tree":
        t = (link.start_s + link.transfer_s(2 * (n - 1) / n * size)
             + 2 * np.log2(n) * link.latency_s)  # fmt: skip
    elif algorithm == "rhd":
        power = 2.0 ** np.floor(np.log2(n))
        folded = n != power  # extra ranks hand their buffer in, and get the result back
        t = (link.start_s + link.transfer_s(2 * (power - 1) / power * size)
             + 2 * np.log2(power) * link.latency_s
             + np.where(folded, 2 * (link.transfer_s(size) + link.latency_s), 0.0))  # fmt: skip
    elif algorithm == "nvls":
        t = link.start_s + link.transfer_s(size) + 2 * link.latency_s
    else:
        raise ValueError(
            f"all_reduce algorithm: got {algorithm!r}; expected ring, tree, rhd or nvls"
        )
    return np.where(n > 1, t, 0.0)


def all_gather(n, size, link: Link) -> np.ndarray:
    """Seconds of a ring all-gather whose result is ``size`` bytes per rank."""
    n = _steps(n)
    t = link.ring_s(n - 1, (n - 1) / n * np.asarray(size, dtype=float))
    return np.where(n > 1, t, 0.0)


def reduce_scatter(n, size, link: Link) -> np.ndarray:
    """Seconds of a ring reduce-scatter of a ``size``-byte buffer per rank."""
    return all_gather(n, size, link)


def all_to_all(n, size, link: Link) -> np.ndarray:
    """Seconds of an all-to-all where each rank holds ``size`` bytes, ``size / n`` per peer:
    every pair exchanges at once, one step (and the ring's fill, fitted with the rings)."""
    n = _steps(n)
    t = link.ring_s(1.0, (n - 1) / n * np.asarray(size, dtype=float))
    return np.where(n > 1, t, 0.0)


def broadcast(n, size, link: Link, chunks=None) -> np.ndarray:
    """Seconds of a pipelined ring broadcast of ``size`` bytes: ideally pipelined, or in
    ``chunks`` pieces that each take ``n - 1`` hops, one behind the other."""
    n = _steps(n)
    size = np.asarray(size, dtype=float)
    if chunks is None:
        t = link.transfer_s(size) + (n - 1) * link.latency_s
    else:
        c = np.asarray(chunks, dtype=float)
        t = (n - 2 + c) * (link.transfer_s(size / c) + link.latency_s)
    return np.where(n > 1, link.start_s + t, 0.0)


def send_recv(size, link: Link) -> np.ndarray:
    """Seconds of one point-to-point transfer of ``size`` bytes."""
    return link.start_s + link.transfer_s(size) + link.latency_s


def hierarchical_all_reduce(local, groups, size, inner: Link, outer: Link,
                            inner_algorithm: str = "ring", outer_algorithm="ring") -> np.ndarray:  # fmt: skip
    """An all-reduce over ``groups`` domains of ``local`` ranks each (NCCL's 2-level scheme):
    reduce-scatter inside each domain, all-reduce of each rank's shard across the domains (one
    per rail, by ``outer_algorithm``: a name, or an array of names per design), all-gather
    inside each domain. With one domain it is the inner all-reduce."""
    local = _steps(local)
    size = np.asarray(size, dtype=float)
    names = np.asarray(outer_algorithm)
    across = sum(np.where(names == name, all_reduce(groups, size / local, outer, name), 0.0)
                 for name in np.unique(names))  # fmt: skip
    if inner_algorithm == "nvls":
        inside = all_reduce(local, size, inner, "nvls")
        return np.where(np.asarray(groups) > 1, inside + across, inside)
    inside = reduce_scatter(local, size, inner) + all_gather(local, size, inner)
    single = all_reduce(local, size, inner, inner_algorithm)
    return np.where(np.asarray(groups) > 1, inside + across, single)


def bus_bandwidth(collective: str, n, size, seconds) -> np.ndarray:
    """nccl-tests' bus bandwidth of a collective that took ``seconds``, B/s."""
    n = np.asarray(n, dtype=float)
    return BUS_FACTOR[collective](n) * np.asarray(size, dtype=float) / np.asarray(seconds)
