"""Exact cost of one mapping of one layer on an N-level memory hierarchy (Timeloop's analytical
model, as ``timeloop-model`` evaluates a given mapping): :func:`evaluate` for one mapping,
:func:`evaluate_batch` for many in numpy, :func:`search` a random-pruned mapper over them.
:mod:`~archgym_py.envs.accelerator.hierarchy` builds the levels from a cited YAML description.

**Problem.** A convolution layer's seven loops ``N K C P Q R S`` (stride ``stride``) over three
operands: weights ``W[K, C, R, S]``, inputs ``I[N, C, p*stride + r, q*stride + s]`` and outputs
``O[N, K, P, Q]``. A GEMM is the case ``P = Q = R = S = 1``.

**Architecture.** Storage levels from the innermost (0, next to the MACs) to the outermost (the
last, usually DRAM), each with the operands it keeps (the others bypass it), a capacity in words
per operand or shared (or in bits, for operands of different widths), per-word read and write
energies, a bandwidth in words (or bits) per cycle per instance, and its number of instances (a
level's instances fan out to the level below through its spatial loops).

**Mapping.** Per level, its temporal loops (outermost first, ``(dim, factor)``) and its spatial
loops (``{dim: factor}``: the fanout from this level's instances to the level below, or to the
MACs below level 0). For every dimension the factors over all levels multiply to its size. Or,
as ZigZag writes one, a :class:`LoopOrder`: one temporal loop order that each operand's levels
cut at their own places (:func:`evaluate_order`; the per-level form is its special case).

**Counting**, per operand ``X`` and level ``l`` that keeps it (``p`` = the next level above that
keeps ``X``):

* *tile*: ``X``'s footprint over every loop at or below ``l`` (the temporal and spatial loops of
  levels ``0..l``; ``l``'s spatial loops fan out below it, so their data passes through it): the
  words one instance of ``l`` holds, which must fit its capacity.
* *stays*: how often a tile is brought into ``l``: the iterations of the temporal loops above
  ``l``, except the innermost run of loops that do not index ``X`` (the tile stays across them:
  stationarity). ``arrivals = tile x stays x instances(l)``.
* inputs and weights: each arrival is a write into ``l``; the reads at ``p`` are the distinct
  words the instances below need at once (one read multicast to all that need it): the
  footprint over ``l``'s loops and the spatial loops between, per stay. That is ``arrivals /
  multicast`` for spatial loops that do not index ``X``, and less for inputs whose unrolled
  output and filter positions overlap (Eyeriss's diagonal reuse). The MACs read ``X`` from the
  innermost keeper the same way: per temporal step, the footprint over the spatial loops below.
* outputs: a stay ends by draining its tile up (reads at ``l``, writes at ``p``: ``arrivals /
  reduction``, spatial loops not indexing ``O`` being summed on the way). A stay that continues a
  partial sum starts by reading it back from ``p`` into ``l``; the others start from zero. At
  the outermost level each output word starts from zero once; a level's zero starts are its
  arrivals minus its read-backs. The MACs update the innermost keeper (``MACs / reduction``),
  reading the partial sum first except on a zero start.
* ``mac_reuse=True``: each MAC holds its weight and input in registers (ZigZag's convention,
  which the ZigZag cost model applies to read-only operands only; Timeloop's, the default here,
  is that such a register is a level of its own): it reads a weight or input from the innermost
  keeper once per run of consecutive cycles on the same word (the innermost temporal loops that
  do not index the operand). Partial sums still update the innermost keeper every cycle.

Halo reuse of overlapping input windows between iterations is not credited (Timeloop's uniform
model neither), nor is the rarer case of two iterations of loops above a level that need the same
input window (``P`` and ``R`` both split above it with matching strides): each is a refill.
``tests/envs/accelerator/test_loopnest.py`` replays random loop nests element by element and
checks every fill count against this model where those cases are absent.

**Time**: compute is the temporal iterations (one MAC per unit per cycle); a level's transfer is
its words in and out per instance over its bandwidth. A tile is refilled (inputs) or drained and
read back (outputs) once per stay, over the link to the next keeper above, at the slower of the
two levels' bandwidths. A level double-buffers an operand when its capacity holds a second copy
of that operand's tile beside the other operands' tiles; the refill then overlaps the use of
the previous tile and stalls only for what exceeds the time between refills. A level that cannot
double-buffer stalls for every refill after the first (the capacity-aware part of ZigZag's
uniform latency model: Mei et al., DATE 2022). A refill occupies the port of each of its two
levels, each for its own words over its own bandwidth; the stalls at one level's port add, and
different levels stall in parallel, so the layer takes
``max(compute + the largest level's stalls, the largest transfer)`` cycles. Not modelled: the
first fill before computing starts and the last drain after it (ZigZag's on- and off-loading,
under 0.5% of the layers in ``benchmarks/fidelity_zigzag.py``) unless ``loading="serial"``: then
the innermost keeper's first weight and input tiles are carried down every link before the
first MAC (the operands in parallel, the links of one operand in turn, the innermost link's
words over each) and its last output tile up every link after the last MAC, and the layer takes
that much longer (``Cost.loading_cycles``); larger tiles of the outer levels stream meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import prod

import numpy as np

from ..._errors import SpecError

DIMS = ("N", "K", "C", "P", "Q", "R", "S")
#: Whether the first fills and last drains overlap other work or add to the layer's cycles.
LOADINGS = ("overlapped", "serial")
OPERANDS = ("W", "I", "O")
#: Dimensions that index each operand.
RELEVANT = {
    "W": frozenset("KCRS"),
    "I": frozenset("NCPQRS"),
    "O": frozenset("NKPQ"),
}


@dataclass(frozen=True)
class Problem:
    """The seven loop bounds of a layer and its stride."""

    N: int = 1
    K: int = 1
    C: int = 1
    P: int = 1
    Q: int = 1
    R: int = 1
    S: int = 1
    stride: int = 1

    @property
    def bounds(self) -> dict[str, int]:
        """Each loop's bound, in ``DIMS`` order."""
        return {d: getattr(self, d) for d in DIMS}

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the layer."""
        return prod(self.bounds.values())

    def footprint(self, operand: str, f: Mapping[str, int]) -> int:
        """Words of ``operand`` touched by loops of extents ``f`` (missing dims: 1)."""
        g = {d: f.get(d, 1) for d in DIMS}
        if operand == "W":
            return g["K"] * g["C"] * g["R"] * g["S"]
        if operand == "O":
            return g["N"] * g["K"] * g["P"] * g["Q"]
        # distinct rows p * stride + r: a span where windows overlap, disjoint windows otherwise
        h = min(g["P"] * g["R"], (g["P"] - 1) * self.stride + g["R"])
        w = min(g["Q"] * g["S"], (g["Q"] - 1) * self.stride + g["S"])
        return g["N"] * g["C"] * h * w


@dataclass(frozen=True)
class Level:
    """One storage level of the hierarchy (see the module docstring)."""

    name: str
    keeps: frozenset[str]
    instances: int = 1
    capacity_words: float | Mapping[str, float] | None = None  # None: unbounded (DRAM)
    read_pj: Mapping[str, float] = field(default_factory=dict)  # per word, per operand
    write_pj: Mapping[str, float] = field(default_factory=dict)
    bandwidth_words: float | None = None  # per cycle per instance; None: unbounded
    #: With operands of different widths: bits per word of each operand, and the bandwidth in
    #: bits per cycle per instance (used instead of ``bandwidth_words``).
    word_bits: Mapping[str, int] | None = None
    bandwidth_bits: float | None = None
    #: A capacity shared by operands of different widths, in bits (with ``word_bits``; used
    #: instead of ``capacity_words``).
    capacity_bits: float | None = None

    def transfer_cycles(self, words: Mapping[str, float]) -> float:
        """Cycles one instance needs to move ``words`` (per operand, over all instances)."""
        if self.bandwidth_bits is not None and self.word_bits is not None:
            bits = sum(n * self.word_bits[op] for op, n in words.items())
            return bits / self.instances / self.bandwidth_bits
        if self.bandwidth_words is None:
            return 0.0
        return sum(words.values()) / self.instances / self.bandwidth_words


@dataclass(frozen=True)
class LevelMapping:
    """A level's temporal loops (outermost first) and its spatial fanout to the level below."""

    temporal: Sequence[tuple[str, int]] = ()
    spatial: Mapping[str, int] = field(default_factory=dict)


@dataclass
class Cost:
    """Access counts per ``(level, operand)`` (totals over all instances), cycles and energy."""

    macs: int
    compute_cycles: int
    cycles: float
    reads: dict[tuple[str, str], int]
    writes: dict[tuple[str, str], int]  # fills from above and output updates
    tiles: dict[tuple[str, str], int]  # words one instance holds
    transfer_cycles: dict[str, float]
    energy_pj: dict[str, float]  # per level, plus "mac"
    mac_pj: float = 0.0
    stall_cycles: float = 0.0  # refills that could not hide under compute (see the docstring)
    loading_cycles: float = 0.0  # first fills and last drains, with loading="serial"

    @property
    def total_energy_pj(self) -> float:
        """MACs plus every level."""
        return sum(self.energy_pj.values())


def _check(problem: Problem, levels: Sequence[Level], mapping: Sequence[LevelMapping]) -> None:
    if len(levels) != len(mapping):
        raise SpecError(
            f"mapping: got {len(mapping)} level(s) for an architecture of {len(levels)}"
        )
    for op in OPERANDS:
        if not any(op in lv.keeps for lv in levels):
            raise SpecError(f"architecture: no level keeps operand {op}")
    if not set(OPERANDS) <= set(levels[-1].keeps):
        raise SpecError(f"architecture: the outermost level ({levels[-1].name}) must keep W, I, O")
    _check_factors(problem, mapping)
    _check_fanout(levels, [m.spatial for m in mapping])


def _check_fanout(levels: Sequence[Level], spatial: Sequence[Mapping[str, int]]) -> None:
    """Each level's spatial loops fan its instances out to exactly the instances below."""
    for i in range(len(levels) - 1):
        fanned = levels[i + 1].instances * prod(spatial[i + 1].values())
        if levels[i].instances != fanned:
            raise SpecError(
                f"spatial[{i + 1}]: fans {levels[i + 1].name}'s {levels[i + 1].instances} "
                f"instance(s) out to {fanned}; {levels[i].name} has {levels[i].instances}"
            )


def _check_factors(problem: Problem, mapping: Sequence[LevelMapping]) -> None:
    """Known dimensions, positive integer factors, multiplying to each bound."""
    totals = dict.fromkeys(DIMS, 1)
    for i, m in enumerate(mapping):
        for d, f in [*m.temporal, *m.spatial.items()]:
            if d not in DIMS:
                raise SpecError(f"mapping[{i}]: unknown dimension {d!r}; expected one of {DIMS}")
            if int(f) != f or f < 1:
                raise SpecError(f"mapping[{i}].{d}: got factor {f}; expected a positive integer")
            totals[d] *= int(f)
    for d, bound in problem.bounds.items():
        if totals[d] != bound:
            raise SpecError(
                f"mapping: the factors of {d} multiply to {totals[d]}; the layer's {d} is {bound}"
            )


def _check_capacity(levels: Sequence[Level], tiles: dict[tuple[str, str], int]) -> None:
    """Every tile fits its level (per operand, or together in a shared capacity)."""
    for i, lv in enumerate(levels):
        cap = lv.capacity_words
        held = {op: tiles[(lv.name, op)] for op in OPERANDS if op in lv.keeps}
        if lv.capacity_bits is not None and lv.word_bits is not None:
            bits = sum(words * lv.word_bits[op] for op, words in held.items())
            if bits > lv.capacity_bits:
                raise SpecError(
                    f"mapping[{i}]: {lv.name} holds {bits} bits ({held} words); capacity "
                    f"{lv.capacity_bits} bits"
                )
            continue
        if cap is None:
            continue
        if isinstance(cap, Mapping):
            for op, words in held.items():
                if words > cap.get(op, 0):
                    raise SpecError(
                        f"mapping[{i}]: {lv.name} holds a {words}-word {op} tile; capacity "
                        f"{cap.get(op, 0)} words"
                    )
        elif sum(held.values()) > cap:
            raise SpecError(
                f"mapping[{i}]: {lv.name} holds {sum(held.values())} words ({held}); capacity "
                f"{cap} words"
            )


def _product(factors: Sequence[tuple[str, int]] | Mapping[str, int], dims) -> int:
    items = factors.items() if isinstance(factors, Mapping) else factors
    return prod(f for d, f in items if d in dims)


def evaluate(
    problem: Problem,
    levels: Sequence[Level],
    mapping: Sequence[LevelMapping],
    *,
    mac_pj=0.0,
    loading: str = "overlapped",
    mac_reuse: bool = False,
) -> Cost:
    """Access counts, cycles and energy of ``mapping`` (see the module docstring).

    >>> p = Problem(K=4, C=3)
    >>> dram = Level("DRAM", frozenset("WIO"))
    >>> c = evaluate(p, [dram], [LevelMapping(temporal=[("K", 4), ("C", 3)])])
    >>> c.reads[("DRAM", "W")], c.writes[("DRAM", "O")], c.reads[("DRAM", "O")]
    (12, 12, 8)
    """
    _check(problem, levels, mapping)
    _check_loading(loading)
    return _evaluate_order(problem, levels, as_loop_order(levels, mapping), mac_pj, loading,
                           mac_reuse)  # fmt: skip


def _check_loading(loading: str) -> None:
    if loading not in LOADINGS:
        raise SpecError(f"loading: got {loading!r}; expected one of {LOADINGS}")


@dataclass(frozen=True)
class LoopOrder:
    """A mapping as ZigZag's LOMA writes one: a single temporal loop order (innermost first)
    that each operand's memories cut at their own places. ``cuts[op][k]`` is how many of the
    innermost loops sit at or below the ``k``-th level keeping ``op`` (the last: all of them);
    ``spatial`` is per level, as in :class:`LevelMapping`. Level-aligned cuts are the special
    case :func:`as_loop_order` makes of a :class:`LevelMapping` list."""

    loops: Sequence[tuple[str, int]]
    cuts: Mapping[str, Sequence[int]]
    spatial: Sequence[Mapping[str, int]]


def as_loop_order(levels: Sequence[Level], mapping: Sequence[LevelMapping]) -> LoopOrder:
    """The loop order of a per-level mapping: every operand cut at the level boundaries."""
    loops = [loop for m in mapping for loop in reversed(list(m.temporal))]
    bounds = [sum(len(m.temporal) for m in mapping[: i + 1]) for i in range(len(mapping))]
    cuts = {op: [bounds[i] for i, lv in enumerate(levels) if op in lv.keeps] for op in OPERANDS}
    return LoopOrder(loops, cuts, [m.spatial for m in mapping])


def _check_order(problem: Problem, levels: Sequence[Level], order: LoopOrder) -> None:
    n_loops = len(order.loops)
    for op in OPERANDS:
        keepers = [i for i, lv in enumerate(levels) if op in lv.keeps]
        cuts = list(order.cuts.get(op, ()))
        if len(cuts) != len(keepers) or not keepers:
            raise SpecError(
                f"cuts.{op}: got {cuts}; expected one cut per level keeping {op} ({len(keepers)})"
            )
        if any(b < a for a, b in zip(cuts, cuts[1:], strict=False)) or cuts[-1] != n_loops:
            raise SpecError(
                f"cuts.{op}: got {cuts}; expected nondecreasing cuts ending at {n_loops} loops"
            )
    # every temporal and spatial factor, as one pseudo-level each, must multiply to the bounds
    _check_factors(
        problem, [LevelMapping(order.loops), *(LevelMapping((), s) for s in order.spatial)]
    )
    _check_fanout(levels, order.spatial)


def evaluate_order(
    problem: Problem,
    levels: Sequence[Level],
    order: LoopOrder,
    *,
    mac_pj: float = 0.0,
    loading: str = "overlapped",
    mac_reuse: bool = False,
) -> Cost:
    """:func:`evaluate` for a :class:`LoopOrder` (each operand's memories cut the loop order at
    their own places, as ZigZag's temporal mappings do)."""
    _check_order(problem, levels, order)
    _check_loading(loading)
    return _evaluate_order(problem, levels, order, mac_pj, loading, mac_reuse)


def _evaluate_order(problem, levels, order: LoopOrder, mac_pj: float, loading: str = "overlapped",
                    mac_reuse: bool = False):  # fmt: skip
    """:func:`evaluate_order` on a checked order (a per-level mapping is checked in its form)."""
    n = len(levels)
    spatial_below = []  # spatial loop extents at or below each level
    ext = dict.fromkeys(DIMS, 1)
    for i in range(n):
        for d, f in order.spatial[i].items():
            ext[d] *= f
        spatial_below.append(dict(ext))
    reads = {(lv.name, op): 0 for lv in levels for op in OPERANDS}
    writes = dict(reads)
    tiles, stays, inner = {}, {}, {}
    for op in OPERANDS:
        keepers = [i for i in range(n) if op in levels[i].keeps]
        for i, cut in zip(keepers, order.cuts[op], strict=True):
            key = (levels[i].name, op)
            inner[key] = dict(spatial_below[i])
            for d, f in order.loops[:cut]:
                inner[key][d] *= f
            tiles[key] = problem.footprint(op, inner[key])
            stays[key] = _stays(order.loops[cut:], RELEVANT[op])
    links: dict[tuple[int, str], tuple[int, ...]] = {}
    compute = prod(f for _, f in order.loops)  # one MAC per unit per cycle
    for op in "WI":
        held = compute // _stays(order.loops, RELEVANT[op]) if mac_reuse else 1
        _count_input(problem, op, levels, order.spatial, reads, writes, tiles, stays, inner, links,
                     held)  # fmt: skip
    _count_outputs(problem, levels, order.spatial, reads, writes, tiles, stays, links)
    _check_capacity(levels, tiles)
    windows = _refill_windows(levels, order)
    stall = _stalls(levels, tiles, stays, links, compute, windows)
    load = _loading(levels, stays, links) if loading == "serial" else 0.0
    transfer = {}
    energy = {"mac": problem.macs * mac_pj}
    for lv in levels:
        moved = {op: reads[(lv.name, op)] + writes[(lv.name, op)] for op in OPERANDS}
        transfer[lv.name] = lv.transfer_cycles(moved)
        energy[lv.name] = sum(
            reads[(lv.name, op)] * lv.read_pj.get(op, 0.0)
            + writes[(lv.name, op)] * lv.write_pj.get(op, 0.0)
            for op in OPERANDS
        )
    return Cost(
        macs=problem.macs,
        compute_cycles=compute,
        cycles=max([float(compute) + stall, *transfer.values()]) + load,
        reads=reads,
        writes=writes,
        tiles=tiles,
        transfer_cycles=transfer,
        energy_pj=energy,
        mac_pj=mac_pj,
        stall_cycles=stall,
        loading_cycles=load,
    )


def _loading(levels, stays, links) -> float:
    """Serial on- and off-loading (see the module docstring): the first tile of the innermost
    keeper of each input, carried down its links in turn (the innermost link's words at each
    end, the same words over every link above it), the slowest input; plus the last output tile
    of the innermost keeper carried up the same way."""
    chains = {}
    for op in OPERANDS:
        keepers = [i for i, lv in enumerate(levels) if op in lv.keeps]
        if len(keepers) < 2:
            continue
        words = links[(keepers[0], op)]
        at_a, at_b = (words[2], words[3]) if op == "O" else (words[0], words[1])
        n_stays = stays[(levels[keepers[0]].name, op)]
        chains[op] = float(_chain(levels, keepers, op, at_a / n_stays, at_b / n_stays))
    return max(chains.get("W", 0.0), chains.get("I", 0.0)) + chains.get("O", 0.0)


def _chain(levels, keepers, op, at_a, at_b):
    """Cycles to carry one stay of the innermost link's words (``at_a`` at its lower end,
    ``at_b`` at its upper end; floats or arrays over mappings) through every link of ``op``, in
    turn, each at its slower end."""
    t = np.maximum(levels[keepers[0]].transfer_cycles({op: at_a}),
                   levels[keepers[1]].transfer_cycles({op: at_b}))  # fmt: skip
    for lo, hi in zip(keepers[1:], keepers[2:], strict=False):
        t = t + np.maximum(levels[lo].transfer_cycles({op: at_b}),
                           levels[hi].transfer_cycles({op: at_b}))  # fmt: skip
    return t


def _double_buffers(level: Level, tiles: Mapping[str, float], op: str) -> bool:
    """Whether ``level`` holds a second copy of ``op``'s tile beside every kept operand's tile."""
    if level.capacity_bits is not None and level.word_bits is not None:
        bits = sum(tiles[o] * level.word_bits[o] for o in tiles)
        return bits + tiles[op] * level.word_bits[op] <= level.capacity_bits
    cap = level.capacity_words
    if cap is None:
        return True
    if isinstance(cap, Mapping):
        return 2 * tiles[op] <= cap.get(op, 0)
    return sum(tiles.values()) + tiles[op] <= cap


def _refill_windows(levels, order: LoopOrder) -> dict[tuple[int, str], float]:
    """Per keeper ``(level, operand)``, the cycles in which a tile that cannot be held twice can
    still be refilled: the loops at or below the level's cut, divided by the outermost run of its
    own loops (those above the previous keeper's cut) that do not index the operand. Over such a
    run every word is used again until its last pass, in which words are freed one by one
    (ZigZag's instantaneous updating window: period / top irrelevant loops)."""
    out = {}
    for op in OPERANDS:
        keepers = [i for i, lv in enumerate(levels) if op in lv.keeps]
        previous = 0
        for i, cut in zip(keepers, order.cuts[op], strict=True):
            period = prod(f for _, f in order.loops[:cut])
            top_irrelevant = 1
            for d, f in reversed(order.loops[previous:cut]):  # outermost first
                if f == 1:
                    continue
                if d in RELEVANT[op]:
                    break
                top_irrelevant *= f
            out[(i, op)] = period / top_irrelevant
            previous = cut
    return out


def _stalls(levels, tiles, stays, links, compute, windows) -> float:
    """Cycles the layer waits for refills (see the module docstring): per link, the refill
    time of one stay beyond what hides under the previous tile's use (double-buffered) or in the
    refill window (not), for every stay after the first, at each end's port; summed per level,
    the largest level's sum."""
    per_level = [0.0] * len(levels)
    for (a, op), (words_a, words_b, *_) in links.items():
        key = (levels[a].name, op)
        n_stays = stays[key]
        if n_stays <= 1:
            continue
        b = next(i for i in range(a + 1, len(levels)) if op in levels[i].keeps)
        held = {o: tiles[(levels[a].name, o)] for o in levels[a].keeps}
        hidden = compute / n_stays if _double_buffers(levels[a], held, op) else windows[(a, op)]
        for side, words in ((a, words_a), (b, words_b)):  # each end's port
            fill = levels[side].transfer_cycles({op: words}) / n_stays
            per_level[side] += max(0.0, fill - hidden) * (n_stays - 1)
    return max(per_level)


def _count_input(
    problem, op, levels, spatial, reads, writes, tiles, stays, inner, links, held=1
) -> None:
    """MAC reads of a read-only operand at its innermost keeper, and every keeper's fills.

    One read at a level feeds every instance below that needs the word: the reads are the
    distinct words over the spatial loops in between (``footprint``), which is the multicast of
    loops that do not index the operand and, for inputs, the sliding-window overlap of
    unrolled output and filter positions (Eyeriss's diagonal reuse). A MAC that holds its operand
    (``mac_reuse``) reads it once per ``held`` consecutive cycles that use the same word."""
    keepers = [i for i in range(len(levels)) if op in levels[i].keeps]
    first = keepers[0]
    below = _extents(spatial[: first + 1])
    reads[(levels[first].name, op)] += (
        problem.macs // prod(below.values()) // held * problem.footprint(op, below)
    )
    for a, b in zip(keepers, keepers[1:], strict=False):
        key = (levels[a].name, op)
        filled = tiles[key] * stays[key] * levels[a].instances
        union = _extents([inner[key], *spatial[a + 1 : b + 1]])
        fetched = stays[key] * levels[b].instances * problem.footprint(op, union)
        writes[key] += filled
        reads[(levels[b].name, op)] += fetched
        links[(a, op)] = (filled, fetched)  # words over the link: at a, at b


def _extents(parts) -> dict[str, int]:
    """The product, per dimension, of several loop-extent mappings."""
    out = dict.fromkeys(DIMS, 1)
    for part in parts:
        for d, f in part.items():
            out[d] *= f
    return out


def _count_outputs(problem, levels, spatial, reads, writes, tiles, stays, links) -> None:
    """Drains, read-backs and MAC updates of the outputs (see the module docstring)."""
    others = set(DIMS) - RELEVANT["O"]
    keepers = [i for i in range(len(levels)) if "O" in levels[i].keeps]
    zero_starts = problem.footprint("O", problem.bounds)  # at the outermost keeper
    for a, b in reversed(list(zip(keepers, keepers[1:], strict=False))):  # top down
        child, parent = levels[a], levels[b]
        key = (child.name, "O")
        arrivals = tiles[key] * stays[key] * child.instances
        fan = prod(_product(spatial[j], others) for j in range(a + 1, b + 1))
        drained = arrivals // fan
        read_back = drained - zero_starts  # a reduced stay continuing a partial sum
        reads[key] += arrivals  # drain
        writes[(parent.name, "O")] += drained
        reads[(parent.name, "O")] += read_back
        writes[key] += read_back
        # words at each end: drains and read-backs, then the drains alone (the last stay's)
        links[(a, "O")] = (arrivals + read_back, drained + read_back, arrivals, drained)
        zero_starts = arrivals - read_back
    first = levels[keepers[0]].name
    fan = prod(_product(spatial[j], others) for j in range(keepers[0] + 1))
    updates = problem.macs // fan
    writes[(first, "O")] += updates
    reads[(first, "O")] += updates - zero_starts


def _stays(above: Sequence[tuple[str, int]], relevant: frozenset[str]) -> int:
    """How many times a tile of an operand indexed by ``relevant`` is brought in, given the
    loops above it (innermost first): their iterations, minus the innermost run of loops that
    do not index it."""
    k = 0
    while k < len(above) and (above[k][0] not in relevant or above[k][1] == 1):
        k += 1
    return prod(f for _, f in above[k:])


# ----------------------------------------------------------------------------- batched
def evaluate_batch(
    problem: Problem,
    levels: Sequence[Level],
    temporal,
    orders,
    spatial: Sequence[Mapping[str, int]],
    *,
    mac_pj: float = 0.0,
    loading: str = "overlapped",
    mac_reuse: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`evaluate` for many mappings at once (same problem, hierarchy and spatial loops).

    ``temporal[m, l, d]``: the temporal factor of dimension ``DIMS[d]`` at level ``l`` in mapping
    ``m``; ``orders[m, l]``: a permutation of ``range(7)``, the level's loops outermost first (a
    factor of 1 is no loop). Returns arrays over mappings: ``reads`` and ``writes`` of shape
    ``(m, levels, 3)`` (operands in ``OPERANDS`` order), ``tiles`` (same shape, 0 where a level
    does not keep the operand), ``fits`` (every tile within capacity), ``compute_cycles``,
    ``cycles`` (of which ``stall_cycles`` and ``loading_cycles``) and ``energy_pj``. Equal to
    :func:`evaluate` on each mapping (tested). :func:`evaluate_many` is the same over mappings of
    different problems on different hierarchies.
    """
    T = np.asarray(temporal, dtype=np.int64)
    _check_fanout(levels, spatial)
    S = np.array([[sp.get(d, 1) for d in DIMS] for sp in spatial], dtype=np.int64)
    bounds = np.array([problem.bounds[d] for d in DIMS], dtype=np.int64)
    return evaluate_many(np.broadcast_to(bounds, (len(T), 7)), problem.stride, levels, T, orders,
                         np.broadcast_to(S, (len(T), *S.shape)), mac_pj=mac_pj, loading=loading,
                         mac_reuse=mac_reuse)  # fmt: skip


def evaluate_many(
    bounds,
    stride,
    levels: Sequence[Level],
    temporal,
    orders,
    spatial,
    *,
    mac_pj=0.0,
    loading: str = "overlapped",
    mac_reuse: bool = False,
) -> dict[str, np.ndarray]:
    """:func:`evaluate_batch` where each mapping has its own problem and hierarchy: ``bounds[m]``
    the seven loop bounds (``DIMS`` order), ``stride`` a scalar or per mapping, ``spatial[m, l,
    d]`` the spatial factors, and the levels' numbers (``instances``, capacities, energies,
    bandwidths, ``mac_pj``) scalars or arrays over mappings; the levels' structure (what each
    keeps, their number) is shared. Fanout is not checked here (the caller builds ``spatial``)."""
    _check_loading(loading)
    T = np.asarray(temporal, dtype=np.int64)
    order = np.asarray(orders, dtype=np.int64)
    S = np.asarray(spatial, dtype=np.int64)  # (m, l, d)
    bounds = np.asarray(bounds, dtype=np.int64)
    n_map, n = T.shape[0], len(levels)
    ext = np.cumprod(T * S, axis=1)  # (m, l, d): loops at or below each level
    wrong = np.flatnonzero(np.any(ext[:, -1] != bounds, axis=1))
    if len(wrong):
        raise SpecError(f"mappings[{wrong[0]}]: the factors multiply to {ext[wrong[0], -1].tolist()}, "
                        f"not the layer's bounds {bounds[wrong[0]].tolist()} ({DIMS})")  # fmt: skip
    keeps = np.array([[op in lv.keeps for op in OPERANDS] for lv in levels])  # (l, op)
    tiles = np.stack([footprints(stride, ext[:, i]) for i in range(n)], axis=1) * keeps[None]
    # loops above each level, innermost first: (m, l, slots) factors and dims
    flat_f, flat_d = _above_loops(T, order)
    reads = np.zeros((n_map, n, 3), np.int64)
    writes = np.zeros((n_map, n, 3), np.int64)
    macs = np.prod(bounds, axis=1)
    inst = np.stack([np.broadcast_to(lv.instances, n_map) for lv in levels], axis=1)  # (m, l)
    compute = np.prod(T, axis=(1, 2))
    every_f, every_d = _all_loops(T, order)  # (m, 7n): every temporal loop, innermost first
    stall = np.zeros((n_map, n))  # per level: the stalls at its port
    onload = np.zeros((n_map, 2))  # serial loading: per input operand, its first fills
    offload = np.zeros(n_map)
    for o, op in enumerate(OPERANDS):
        keepers = [i for i in range(n) if keeps[i, o]]
        windows = _refill_windows_batch(T, order, keepers, o)
        others = np.array([d not in RELEVANT[op] for d in DIMS])
        fan_at = np.prod(np.where(others[None, None], S, 1), axis=2)  # (m, l) irrelevant fanout
        relevant = ~others[flat_d]  # (m, l, slots)
        stays = _stays_batch(flat_f, relevant)  # (m, l)
        arrivals = tiles[:, :, o] * stays * inst
        first = keepers[0]
        fan_first = np.prod(fan_at[:, : first + 1], axis=1)
        pairs = list(zip(keepers, keepers[1:], strict=False))
        if op != "O":
            # consecutive cycles on one word of op: the MAC holds it (mac_reuse)
            held = compute // _stays_batch(every_f, ~others[every_d]) if mac_reuse else 1
            below = np.prod(S[:, : first + 1], axis=1)  # (m, d) spatial extents below the first
            per_step = footprints(stride, below)[:, o]
            reads[:, first, o] += macs // np.prod(below, axis=1) // held * per_step
            for a, b in pairs:
                union = ext[:, a] * np.prod(S[:, a + 1 : b + 1], axis=1)
                fetched = stays[:, a] * inst[:, b] * footprints(stride, union)[:, o]
                writes[:, a, o] += arrivals[:, a]
                reads[:, b, o] += fetched
                at_a, at_b = _stalls_batch(levels, tiles, keeps, stays, compute, windows[a],
                                           a, b, o, arrivals[:, a], fetched)  # fmt: skip
                stall[:, a] += at_a
                stall[:, b] += at_b
                if a == first:
                    onload[:, o] = _chain_batch(levels, keepers, stays, o, arrivals[:, a], fetched)
            continue
        zero = np.prod(bounds[:, [DIMS.index(d) for d in "NKPQ"]], axis=1)
        for a, b in reversed(pairs):
            fan = np.prod(fan_at[:, a + 1 : b + 1], axis=1)
            drained = arrivals[:, a] // fan
            back = drained - zero
            reads[:, a, o] += arrivals[:, a]
            writes[:, b, o] += drained
            reads[:, b, o] += back
            writes[:, a, o] += back
            at_a, at_b = _stalls_batch(levels, tiles, keeps, stays, compute, windows[a],
                                       a, b, o, arrivals[:, a] + back, drained + back)  # fmt: skip
            stall[:, a] += at_a
            stall[:, b] += at_b
            if a == first:
                offload = _chain_batch(levels, keepers, stays, o, arrivals[:, a], drained)
            zero = arrivals[:, a] - back
        updates = macs // fan_first
        writes[:, first, o] += updates
        reads[:, first, o] += updates - zero
    fits = _fits_batch(levels, tiles, keeps)
    load = onload.max(axis=1) + offload if loading == "serial" else np.zeros(n_map)
    moved = reads + writes  # (m, l, op)
    transfer = np.zeros((n_map, n))
    for i, lv in enumerate(levels):
        transfer[:, i] = lv.transfer_cycles({op: moved[:, i, o] for o, op in enumerate(OPERANDS)})
    energy = macs * mac_pj
    for i, lv in enumerate(levels):
        for o, op in enumerate(OPERANDS):
            energy = (energy + reads[:, i, o] * lv.read_pj.get(op, 0.0)
                      + writes[:, i, o] * lv.write_pj.get(op, 0.0))  # fmt: skip
    return {
        "reads": reads,
        "writes": writes,
        "tiles": tiles,
        "fits": fits,
        "compute_cycles": compute,
        "cycles": np.maximum(compute + stall.max(axis=1), transfer.max(axis=1)) + load,
        "stall_cycles": stall.max(axis=1),
        "loading_cycles": load,
        "energy_pj": energy,
    }


def _chain_batch(levels, keepers, stays, o, words_a, words_b) -> np.ndarray:
    """:func:`_chain` of one operand for every mapping: ``words_a``/``words_b`` are its
    innermost link's words at each end over all stays."""
    n_stays = stays[:, keepers[0]]
    return _chain(levels, keepers, OPERANDS[o], words_a / n_stays, words_b / n_stays)


def _refill_windows_batch(
    T: np.ndarray, order: np.ndarray, keepers, o: int
) -> dict[int, np.ndarray]:
    """:func:`_refill_windows` of operand ``OPERANDS[o]`` for every mapping, per keeper level."""
    relevant = np.array([d in RELEVANT[OPERANDS[o]] for d in DIMS])
    rows = np.arange(T.shape[0])[:, None]
    out = {}
    previous = -1
    for i in keepers:
        period = np.prod(T[:, : i + 1], axis=(1, 2)).astype(float)
        # the keeper's own loops, outermost first: level i's, then down to the previous keeper
        dims = np.concatenate([order[:, lv] for lv in range(i, previous, -1)], axis=1)
        factors = np.concatenate(
            [T[rows, lv, order[:, lv]] for lv in range(i, previous, -1)], axis=1
        )
        stopped = np.cumsum(relevant[dims] & (factors > 1), axis=1) > 0
        out[i] = period / np.prod(np.where(stopped, 1, factors), axis=1)
        previous = i
    return out


def _stalls_batch(
    levels, tiles, keeps, stays, compute, window, a, b, o, words_a, words_b
) -> np.ndarray:
    """:func:`_stalls` of one link (operand ``OPERANDS[o]`` from level ``b`` down to ``a``) for
    every mapping: ``stays`` is the operand's stays per level, ``words_a``/``words_b`` the words
    the link moves at each end."""
    op = OPERANDS[o]
    n_stays = stays[:, a].astype(float)
    hidden = np.where(_double_buffers_batch(levels[a], tiles[:, a], keeps[a], o),
                      compute / n_stays, window)  # fmt: skip
    return tuple(
        np.maximum(0.0, levels[side].transfer_cycles({op: words}) / n_stays - hidden)
        * np.maximum(n_stays - 1, 0)
        for side, words in ((a, words_a), (b, words_b))
    )


def _double_buffers_batch(level: Level, tiles: np.ndarray, keeps: np.ndarray, o: int) -> np.ndarray:
    """:func:`_double_buffers` for every mapping (``tiles[m, op]`` at the level, 0 where not kept)."""
    if level.capacity_bits is not None and level.word_bits is not None:
        width = np.array([level.word_bits[op] if keeps[i] else 0 for i, op in enumerate(OPERANDS)])
        return (tiles * width[None]).sum(axis=1) + tiles[:, o] * width[o] <= level.capacity_bits
    cap = level.capacity_words
    if cap is None:
        return np.ones(len(tiles), bool)
    if isinstance(cap, Mapping):
        return 2 * tiles[:, o] <= cap.get(OPERANDS[o], 0)
    return tiles.sum(axis=1) + tiles[:, o] <= cap


def _fits_batch(levels: Sequence[Level], tiles: np.ndarray, keeps: np.ndarray) -> np.ndarray:
    """Whether every tile of each mapping fits its level."""
    fits = np.ones(tiles.shape[0], bool)
    for i, lv in enumerate(levels):
        cap = lv.capacity_words
        if lv.capacity_bits is not None and lv.word_bits is not None:
            width = np.array(
                [lv.word_bits[op] if keeps[i, o] else 0 for o, op in enumerate(OPERANDS)]
            )
            fits &= (tiles[:, i] * width[None]).sum(axis=1) <= lv.capacity_bits
            continue
        if cap is None:
            continue
        if isinstance(cap, Mapping):
            for o, op in enumerate(OPERANDS):
                if keeps[i, o]:
                    fits &= tiles[:, i, o] <= cap.get(op, 0)
        else:
            fits &= tiles[:, i].sum(axis=1) <= cap
    return fits


def footprints(stride, ext: np.ndarray) -> np.ndarray:
    """Footprints of W, I, O over loop extents ``ext[m, d]`` (columns in ``DIMS`` order), with
    the convolution's ``stride`` (scalar or per row)."""
    n, k, c, p, q, r, s = (ext[:, i] for i in range(7))
    h = np.minimum(p * r, (p - 1) * stride + r)
    w = np.minimum(q * s, (q - 1) * stride + s)
    return np.stack([k * c * r * s, n * c * h * w, n * k * p * q], axis=1)


def _above_loops(T: np.ndarray, order: np.ndarray):
    """Per level, the loops above it innermost first: factors and dimension indices, padded with
    factor 1, shape ``(m, levels, slots)``."""
    n_map, n, _ = T.shape
    slots = 7 * n
    f = np.ones((n_map, n, slots), np.int64)
    d = np.zeros((n_map, n, slots), np.int64)
    rows = np.arange(n_map)[:, None]
    for lv in range(n):
        pos = 0
        for above in range(lv + 1, n):
            dims_inner_first = order[:, above, ::-1]  # (m, 7)
            f[:, lv, pos : pos + 7] = T[rows, above, dims_inner_first]
            d[:, lv, pos : pos + 7] = dims_inner_first
            pos += 7
    return f, d


def _all_loops(T: np.ndarray, order: np.ndarray):
    """Every temporal loop of each mapping, innermost first: factors and dimension indices,
    shape ``(m, 7 * levels)``."""
    dims = order[:, :, ::-1].reshape(T.shape[0], -1)  # level 0's innermost loop first
    levels = np.repeat(np.arange(T.shape[1]), 7)[None]
    return T[np.arange(T.shape[0])[:, None], levels, dims], dims


def _stays_batch(f: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Product of the loop factors from the innermost relevant loop (factor > 1) outwards,
    along the last axis."""
    real = relevant & (f > 1)
    started = np.cumsum(real, axis=-1) > 0
    return np.prod(np.where(started, f, 1), axis=-1)


# ----------------------------------------------------------------------------- mapper
OBJECTIVES = ("latency", "energy", "edp")

#: Loop orders, outermost first, that keep one operand stationary inside a level: its
#: irrelevant loops innermost (weight-, input- and output-stationary).
STATIONARY_ORDERS = {
    "W": ("K", "C", "R", "S", "N", "P", "Q"),
    "I": ("N", "C", "P", "Q", "R", "S", "K"),
    "O": ("N", "K", "P", "Q", "C", "R", "S"),
}


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out + ([n] if n > 1 else [])


def search(
    problem: Problem,
    levels: Sequence[Level],
    spatial: Sequence[Mapping[str, int]],
    *,
    objective: str = "edp",
    samples: int = 4096,
    seed: int = 0,
    mac_pj: float = 0.0,
    loading: str = "overlapped",
    mac_reuse: bool = False,
) -> tuple[list[LevelMapping], Cost]:
    """The best mapping found for a given spatial unrolling, by ``objective`` (``latency``,
    ``energy`` or ``edp``): ``samples`` random mappings (each prime factor of each loop's
    temporal extent sent to a random level; each level's loops in one of the three stationary
    orders), evaluated in one batch, the best that fits kept, ties broken by the other metric
    (Timeloop's random-pruned search, in numpy). Reproducible for a seed. Raises SpecError when
    no sample fits.
    """
    if objective not in OBJECTIVES:
        raise SpecError(f"objective: got {objective!r}; expected one of {OBJECTIVES}")
    n = len(levels)
    rng = np.random.default_rng(seed)
    temporal = np.ones((samples, n, 7), np.int64)
    for d, dim in enumerate(DIMS):
        fan = prod(sp.get(dim, 1) for sp in spatial)
        if problem.bounds[dim] % fan:
            raise SpecError(
                f"spatial: {dim} unrolled {fan}x does not divide the layer's {dim} "
                f"({problem.bounds[dim]})"
            )
        for p in _prime_factors(problem.bounds[dim] // fan):
            where = rng.integers(0, n, samples)
            temporal[np.arange(samples), where, d] *= p
    names = list(STATIONARY_ORDERS)
    table = np.array([[DIMS.index(x) for x in STATIONARY_ORDERS[k]] for k in names])
    orders = table[rng.integers(0, len(names), (samples, n))]
    result = evaluate_batch(problem, levels, temporal, orders, spatial, mac_pj=mac_pj,
                            loading=loading, mac_reuse=mac_reuse)  # fmt: skip
    cycles, energy = result["cycles"], result["energy_pj"]
    # the objective, ties broken by the other metric (as ZigZag's reduce stages break them)
    primary, secondary = {
        "latency": (cycles, energy),
        "energy": (energy, cycles),
        "edp": (cycles * energy, cycles),
    }[objective]
    primary = np.where(result["fits"], primary, np.inf)
    best = int(np.lexsort((secondary, primary))[0])
    if not np.isfinite(primary[best]):
        raise SpecError(f"search: none of {samples} sampled mappings fits the hierarchy")
    mapping = [
        LevelMapping(
            temporal=[
                (DIMS[d], int(temporal[best, lv, d]))
                for d in orders[best, lv]
                if temporal[best, lv, d] > 1
            ],
            spatial=dict(spatial[lv]),
        )
        for lv in range(n)
    ]
    return mapping, evaluate(problem, levels, mapping, mac_pj=mac_pj, loading=loading,
                             mac_reuse=mac_reuse)  # fmt: skip
