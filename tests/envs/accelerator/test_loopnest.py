"""The fixed-mapping loop-nest evaluator: hand-computed one-, two- and three-level problems (every
access count and the cycles exact), and a brute-force check that replays small loop nests
element by element."""

from __future__ import annotations

import itertools
from math import prod

import numpy as np
import pytest

from archgym_py import SpecError
from archgym_py.envs.accelerator.loopnest import (
    DIMS,
    RELEVANT,
    STATIONARY_ORDERS,
    Level,
    LevelMapping,
    LoopOrder,
    Problem,
    _prime_factors,
    evaluate,
    evaluate_batch,
    evaluate_order,
    search,
)

ALL = frozenset("WIO")


def test_one_level_every_mac_goes_to_dram():
    # K=4, C=3, no buffer: 12 MACs each read W and I and update O in DRAM; an output's first
    # update needs no read (4 outputs): 8 partial-sum reads
    dram = Level("DRAM", ALL, read_pj={"W": 10, "I": 10, "O": 10}, write_pj={"O": 10})
    c = evaluate(Problem(K=4, C=3), [dram], [LevelMapping(temporal=[("K", 4), ("C", 3)])])
    assert (c.reads[("DRAM", "W")], c.reads[("DRAM", "I")], c.reads[("DRAM", "O")]) == (12, 12, 8)
    assert c.writes[("DRAM", "O")] == 12 and c.writes[("DRAM", "W")] == 0
    assert c.compute_cycles == c.cycles == 12
    assert c.energy_pj["DRAM"] == (12 + 12 + 8 + 12) * 10


def two_level(order, mac_reuse=False):
    rf = Level("RF", ALL, capacity_words=16, read_pj=dict.fromkeys("WIO", 1.0),
               write_pj=dict.fromkeys("WIO", 1.0))  # fmt: skip
    dram = Level("DRAM", ALL, read_pj=dict.fromkeys("WIO", 100.0),
                 write_pj=dict.fromkeys("WIO", 100.0), bandwidth_words=1.0)  # fmt: skip
    outer, inner = order
    mapping = [LevelMapping(temporal=[inner]), LevelMapping(temporal=[outer])]
    return evaluate(Problem(K=4, C=3), [rf, dram], mapping, mac_pj=0.5, mac_reuse=mac_reuse)


def test_two_levels_output_stationary():
    # DRAM loops over C (3), the RF over K (4): the RF holds 4 weights, 1 input, 4 outputs
    c = two_level((("C", 3), ("K", 4)))
    assert c.tiles == {("RF", "W"): 4, ("RF", "I"): 1, ("RF", "O"): 4,
                       ("DRAM", "W"): 12, ("DRAM", "I"): 3, ("DRAM", "O"): 4}  # fmt: skip
    # weights and inputs refetched every C iteration; outputs stay across C (stationary)
    assert (c.reads[("DRAM", "W")], c.reads[("DRAM", "I")], c.reads[("DRAM", "O")]) == (12, 3, 0)
    assert c.writes[("DRAM", "O")] == 4
    assert (c.writes[("RF", "W")], c.writes[("RF", "I")], c.writes[("RF", "O")]) == (12, 3, 12)
    # MAC reads 12 W, 12 I; 12 updates of which 4 start from zero (8 reads) + 4 drained
    assert (c.reads[("RF", "W")], c.reads[("RF", "I")], c.reads[("RF", "O")]) == (12, 12, 12)
    assert c.energy_pj == {"mac": 6.0, "RF": 36 + 27, "DRAM": 1500 + 400}
    assert c.transfer_cycles["DRAM"] == 19 and c.cycles == 19  # DRAM-bound: 19 words at 1/cycle


def test_two_levels_input_stationary_order():
    # DRAM loops over K (4), the RF over C (3): the 3 inputs stay in the RF across K
    c = two_level((("K", 4), ("C", 3)))
    assert (c.reads[("DRAM", "W")], c.reads[("DRAM", "I")]) == (12, 3)
    # each output is a 1-word tile brought in 4 times (K is relevant); all start from zero
    assert (c.reads[("DRAM", "O")], c.writes[("DRAM", "O")]) == (0, 4)
    assert (c.reads[("RF", "O")], c.writes[("RF", "O")]) == (8 + 4, 12)


def test_a_mac_holding_its_weight_and_input_reads_a_repeated_word_once():
    # output-stationary (K innermost): each input serves 4 consecutive MACs, read once: 12 / 4
    c = two_level((("C", 3), ("K", 4)), mac_reuse=True)
    assert (c.reads[("RF", "W")], c.reads[("RF", "I")], c.reads[("RF", "O")]) == (12, 3, 12)
    assert c.writes[("RF", "O")] == 12
    # input-stationary (C innermost): no word repeats on consecutive MACs; partial sums are
    # never held in the MAC (ZigZag's convention), so nothing changes
    c = two_level((("K", 4), ("C", 3)), mac_reuse=True)
    assert c.reads == two_level((("K", 4), ("C", 3))).reads
    assert (c.reads[("RF", "W")], c.reads[("RF", "I")], c.reads[("RF", "O")]) == (12, 12, 12)


def three_level():
    """A 1-D convolution (K=2, C=2, P=3, R=2) on DRAM -> GLB -> 2 PEs with RFs keeping W and O
    (inputs bypass the RF: the MACs read them from the GLB, multicast to both PEs)."""
    levels = [
        Level("RF", frozenset("WO"), instances=2, capacity_words={"W": 2, "O": 1}),
        Level("GLB", ALL, capacity_words=64),
        Level("DRAM", ALL),
    ]
    mapping = [
        LevelMapping(temporal=[("R", 2)]),
        LevelMapping(temporal=[("P", 3)], spatial={"K": 2}),
        LevelMapping(temporal=[("C", 2)]),
    ]
    return Problem(K=2, C=2, P=3, R=2), levels, mapping


def test_three_levels_with_multicast_bypass_and_partial_sums():
    c = evaluate(*three_level())
    assert c.macs == 24 and c.compute_cycles == 12  # 2 PEs
    assert c.tiles[("RF", "W")] == 2 and c.tiles[("GLB", "I")] == 4  # (3 - 1) + 2 input columns
    # W: 24 MAC reads in the RFs; each PE's 2-weight tile refetched per C (P does not index W)
    assert (c.reads[("RF", "W")], c.writes[("RF", "W")]) == (24, 8)
    assert (c.reads[("GLB", "W")], c.writes[("GLB", "W")], c.reads[("DRAM", "W")]) == (8, 8, 8)
    # I: the MACs read the GLB, one read feeding both PEs (K is spatial): 24 / 2
    assert (c.reads[("GLB", "I")], c.writes[("GLB", "I")], c.reads[("DRAM", "I")]) == (12, 8, 8)
    assert c.reads[("RF", "I")] == c.writes[("RF", "I")] == 0
    # O: the GLB keeps all 6 outputs across C; each PE's 1-word tile arrives 6 times (C x P):
    # 12 arrivals, 6 start from zero (c = 0), 6 read back from the GLB (c = 1)
    assert (c.writes[("GLB", "O")], c.reads[("GLB", "O")]) == (12, 6 + 6)
    assert (c.writes[("DRAM", "O")], c.reads[("DRAM", "O")]) == (6, 0)
    assert (c.writes[("RF", "O")], c.reads[("RF", "O")]) == (24 + 6, 18 + 12)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p, lv, m: (p, lv, m[:2]), "mapping: got 2 level"),
        (lambda p, lv, m: (Problem(K=2, C=2, P=3, R=3), lv, m), "factors of R multiply to 2"),
        (
            lambda p, lv, m: (p, [lv[0], Level("GLB", ALL, capacity_words=8), lv[2]], m),
            "GLB holds 14 words",
        ),
        (
            lambda p, lv, m: (p, [Level("RF", frozenset("WO"), instances=4), *lv[1:]], m),
            "fans GLB's 1 instance",
        ),
        (
            lambda p, lv, m: (p, lv, [LevelMapping(temporal=[("X", 2)]), *m[1:]]),
            "unknown dimension 'X'",
        ),
    ],
)
def test_bad_mappings_name_what_is_wrong(change, message):
    with pytest.raises(SpecError, match=message):
        evaluate(*change(*three_level()))


# ----------------------------------------------------------------------------- brute force
def _tile(problem, op, base, inside, strides):
    """The elements of ``op`` the loops ``inside`` touch from index ``base``."""
    tile = set()
    for jt in itertools.product(*[range(f) for _, _, f in inside]):
        idx = dict(base)
        for key, j in zip(inside, jt, strict=True):
            idx[key[1]] += j * strides[key]
        if op == "W":
            tile.add((idx["K"], idx["C"], idx["R"], idx["S"]))
        else:
            h = idx["P"] * problem.stride + idx["R"]
            w = idx["Q"] * problem.stride + idx["S"]
            tile.add((idx["N"], idx["C"], h, w))
    return tile


def _fills(problem, op, above, inside, outside_spatial, strides):
    """Refills of one level: per instance, a new tile each time the element set changes."""
    fills = 0
    for inst in itertools.product(*[range(f) for _, _, f in outside_spatial]):
        last = None
        for it in itertools.product(*[range(f) for _, _, f in above]):
            base = dict.fromkeys(DIMS, 0)
            for key, i in zip([*outside_spatial, *above], [*inst, *it], strict=True):
                base[key[1]] += i * strides[key]
            tile = _tile(problem, op, base, inside, strides)
            if tile != last:
                fills += len(tile)
                last = tile
    return fills


def replay(problem, levels, mapping):
    """Fills of W and I per level below the outermost, by executing the loop nest: a level's
    tile is the set of elements its inner loops touch; a different set than the last is a refill
    (independent of the evaluator's stationarity rule)."""
    loops = []  # (level, dim, factor), outermost first
    for lv in reversed(range(len(levels))):
        loops += [(lv, d, f) for d, f in mapping[lv].temporal]
    spatial = [(lv, d, f) for lv in range(len(levels)) for d, f in mapping[lv].spatial.items()]
    # a loop's stride within its dimension: spatial loops fastest, then inner temporal ones
    strides, running = {}, dict.fromkeys(DIMS, 1)
    for key in [*spatial, *reversed(loops)]:
        strides[key] = running[key[1]]
        running[key[1]] *= key[2]
    assert all(running[d] == b for d, b in problem.bounds.items())
    counts = {}
    for li in range(len(levels) - 1):
        above = [x for x in loops if x[0] > li]
        inside = [x for x in loops if x[0] <= li] + [x for x in spatial if x[0] <= li]
        outside_spatial = [x for x in spatial if x[0] > li]  # they separate li's instances
        for op in "WI":
            if op in levels[li].keeps:
                counts[(levels[li].name, op)] = _fills(
                    problem, op, above, inside, outside_spatial, strides
                )
    return counts


def random_case(rng):
    """A small random problem and a random 3-level mapping of it."""
    dims = {d: int(rng.choice([1, 2, 3, 4])) for d in "KCPR"}
    problem = Problem(
        K=dims["K"], C=dims["C"], P=dims["P"], R=dims["R"], stride=int(rng.integers(1, 3))
    )
    per_level = [dict.fromkeys(DIMS, 1) for _ in range(3)]
    spatial = {}
    for d, bound in dims.items():
        # split each bound into factors over 3 levels (and maybe a spatial K or C at the GLB)
        f = [bound, 1, 1]
        if d != "R":  # R stays in the RF: see the evaluator's note on coinciding windows
            if bound == 4:
                f = [2, 2, 1] if rng.random() < 0.5 else [1, 2, 2]
            rng.shuffle(f)
        for lv in range(3):
            per_level[lv][d] = f[lv]
    if per_level[1]["K"] > 1 and rng.random() < 0.5:
        spatial = {"K": per_level[1]["K"]}
        per_level[1]["K"] = 1
    mapping = []
    for lv in range(3):
        loops = [(d, per_level[lv][d]) for d in "KCPR" if per_level[lv][d] > 1]
        rng.shuffle(loops)
        mapping.append(LevelMapping(temporal=loops, spatial=spatial if lv == 1 else {}))
    pes = prod(spatial.values()) if spatial else 1
    levels = [Level("RF", frozenset("WI"), instances=pes), Level("GLB", ALL), Level("DRAM", ALL)]
    return problem, levels, mapping


def test_fills_equal_a_brute_force_replay_of_the_loop_nest():
    rng = np.random.default_rng(0)
    for _ in range(60):
        problem, levels, mapping = random_case(rng)
        cost = evaluate(problem, levels, mapping)
        expected = replay(problem, levels, mapping)
        for key, fills in expected.items():
            assert cost.writes[key] == fills, (key, problem, mapping)
    assert RELEVANT["I"] == frozenset("NCPQRS")


# ----------------------------------------------------------------------------- batched
def as_arrays(mapping):
    """A LevelMapping list as evaluate_batch's temporal factors and loop orders."""
    temporal = np.ones((len(mapping), 7), np.int64)
    orders = np.zeros((len(mapping), 7), np.int64)
    for lv, m in enumerate(mapping):
        named = [DIMS.index(d) for d, _ in m.temporal]
        for d, f in m.temporal:
            temporal[lv, DIMS.index(d)] = f
        orders[lv] = named + [i for i in range(7) if i not in named]
    return temporal, orders


@pytest.mark.parametrize(
    "loading, mac_reuse", [("overlapped", False), ("serial", False), ("overlapped", True)]
)
def test_the_batched_evaluator_equals_the_reference_one_mapping_at_a_time(loading, mac_reuse):
    rng = np.random.default_rng(1)
    cases = {}
    for _ in range(200):  # group random mappings by hierarchy and spatial loops
        problem, levels, mapping = random_case(rng)
        rf_o = rng.random() < 0.5  # the RF keeps outputs too, in half the cases
        levels = [Level("RF", frozenset("WIO") if rf_o else frozenset("WI"), instances=levels[0].instances,
                        read_pj={"W": 1, "I": 2, "O": 3}, write_pj={"W": 1, "I": 2, "O": 3},
                        capacity_words=24),
                  Level("GLB", ALL, read_pj=dict.fromkeys("WIO", 6.0), write_pj=dict.fromkeys("WIO", 6.0),
                        bandwidth_words=2.0),
                  Level("DRAM", ALL, read_pj=dict.fromkeys("WIO", 200.0),
                        write_pj=dict.fromkeys("WIO", 200.0), bandwidth_words=0.5)]  # fmt: skip
        key = (problem, rf_o, tuple(tuple(sorted(m.spatial.items())) for m in mapping))
        cases.setdefault(key, (problem, levels, []))[2].append(mapping)
    checked = stalled = 0
    for problem, levels, mappings in cases.values():
        arrays = [as_arrays(m) for m in mappings]
        batch = evaluate_batch(problem, levels, np.stack([a[0] for a in arrays]),
                               np.stack([a[1] for a in arrays]), [m.spatial for m in mappings[0]],
                               mac_pj=0.7, loading=loading, mac_reuse=mac_reuse)  # fmt: skip
        for i, mapping in enumerate(mappings):
            try:
                ref = evaluate(problem, levels, mapping, mac_pj=0.7, loading=loading,
                               mac_reuse=mac_reuse)  # fmt: skip
            except SpecError:  # over capacity
                assert not batch["fits"][i]
                continue
            assert batch["fits"][i]
            for li, lv in enumerate(levels):
                for o, op in enumerate("WIO"):
                    assert batch["reads"][i, li, o] == ref.reads[(lv.name, op)]
                    assert batch["writes"][i, li, o] == ref.writes[(lv.name, op)]
            assert batch["cycles"][i] == pytest.approx(ref.cycles)
            assert batch["stall_cycles"][i] == pytest.approx(ref.stall_cycles)
            assert batch["loading_cycles"][i] == pytest.approx(ref.loading_cycles)
            assert (ref.loading_cycles > 0) == (loading == "serial")
            assert batch["energy_pj"][i] == pytest.approx(ref.total_energy_pj)
            checked += 1
            stalled += ref.stall_cycles > 0
    assert checked > 100 and stalled > 20  # the stall model is exercised too


# ----------------------------------------------------------------------------- mapper
def rf_dram(rf_words):
    return [
        Level("RF", ALL, capacity_words=rf_words, read_pj=dict.fromkeys("WIO", 1.0),
              write_pj=dict.fromkeys("WIO", 1.0), bandwidth_words=4.0),
        Level("DRAM", ALL, read_pj=dict.fromkeys("WIO", 100.0),
              write_pj=dict.fromkeys("WIO", 100.0), bandwidth_words=1.0),
    ]  # fmt: skip


def test_with_room_for_the_whole_layer_the_mapper_reaches_compulsory_traffic():
    problem = Problem(K=4, C=6, P=4, R=3)
    w, i, o = 4 * 6 * 3, 6 * (4 + 3 - 1), 4 * 4
    mapping, cost = search(problem, rf_dram(w + i + o), [{}, {}], objective="energy")
    # every weight and input read from DRAM once, every output written once, never read back
    assert (cost.reads[("DRAM", "W")], cost.reads[("DRAM", "I")]) == (w, i)
    assert (cost.writes[("DRAM", "O")], cost.reads[("DRAM", "O")]) == (o, 0)


def exhaustive(problem, levels, spatial, objective):
    """Every assignment of every prime factor to a level, with every stationary order per level."""
    n = len(levels)
    slots = []
    for d, dim in enumerate(DIMS):
        fan = prod(sp.get(dim, 1) for sp in spatial)
        slots += [(d, p) for p in _prime_factors(problem.bounds[dim] // fan)]
    temporal, orders = [], []
    table = [[DIMS.index(x) for x in o] for o in STATIONARY_ORDERS.values()]
    for where in itertools.product(range(n), repeat=len(slots)):
        t = np.ones((n, 7), np.int64)
        for (d, p), lv in zip(slots, where, strict=True):
            t[lv, d] *= p
        for choice in itertools.product(range(3), repeat=n):
            temporal.append(t)
            orders.append([table[c] for c in choice])
    r = evaluate_batch(problem, levels, np.array(temporal), np.array(orders), spatial)
    score = {"latency": r["cycles"], "energy": r["energy_pj"],
             "edp": r["cycles"] * r["energy_pj"]}[objective]  # fmt: skip
    score = np.where(r["fits"], score, np.inf)
    best = score == score.min()
    # among the optima, the other metric's best (latency ties go to the lowest energy)
    other = r["energy_pj"] if objective == "latency" else r["cycles"]
    return score.min(), other[best].min()


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
def test_the_random_pruned_mapper_finds_the_exhaustive_optimum_of_a_small_layer(objective):
    problem = Problem(K=4, C=4, P=4, R=2)
    levels = [
        Level("RF", frozenset("WO"), instances=2, capacity_words={"W": 8, "O": 4},
              read_pj={"W": 1.0, "O": 1.0}, write_pj={"W": 1.0, "O": 1.0}, bandwidth_words=2.0),
        Level("GLB", ALL, capacity_words=64, read_pj=dict.fromkeys("WIO", 6.0),
              write_pj=dict.fromkeys("WIO", 6.0), bandwidth_words=2.0),
        Level("DRAM", ALL, read_pj=dict.fromkeys("WIO", 200.0),
              write_pj=dict.fromkeys("WIO", 200.0), bandwidth_words=0.25),
    ]  # fmt: skip
    spatial = [{}, {"K": 2}, {}]
    best, tie_break = exhaustive(problem, levels, spatial, objective)
    _, cost = search(problem, levels, spatial, objective=objective, samples=20000, seed=3)
    found = {"latency": cost.cycles, "energy": cost.total_energy_pj,
             "edp": cost.cycles * cost.total_energy_pj}[objective]  # fmt: skip
    assert found == pytest.approx(best)
    other = cost.total_energy_pj if objective == "latency" else cost.cycles
    assert other == pytest.approx(tie_break)  # ties broken by the other metric, as ZigZag does


def test_the_mapper_is_reproducible_and_refuses_what_cannot_map():
    problem = Problem(K=4, C=6, P=4, R=3)
    a = search(problem, rf_dram(40), [{}, {}], seed=5)
    b = search(problem, rf_dram(40), [{}, {}], seed=5)
    assert a[0] == b[0]
    with pytest.raises(SpecError, match="none of 64 sampled mappings fits"):
        search(problem, rf_dram(2), [{}, {}], samples=64)
    with pytest.raises(SpecError, match="K unrolled 3x does not divide"):
        search(problem, rf_dram(40), [{"K": 3}, {}])
    with pytest.raises(SpecError, match="objective: got 'speed'"):
        search(problem, rf_dram(40), [{}, {}], objective="speed")


def test_a_shared_capacity_in_bits_counts_each_operand_at_its_width():
    # 4 8-bit inputs and 4 32-bit partial sums: 160 bits; a 150-bit buffer cannot hold them
    levels = [
        Level("Buf", ALL, capacity_bits=160, word_bits={"W": 8, "I": 8, "O": 32}),
        Level("DRAM", ALL),
    ]
    mapping = [LevelMapping(temporal=[("K", 4)]), LevelMapping(temporal=[("C", 3)])]
    # tiles: W 4, I 1, O 4 words -> 32 + 8 + 128 = 168 bits > 160
    with pytest.raises(SpecError, match="Buf holds 168 bits"):
        evaluate(Problem(K=4, C=3), levels, mapping)
    roomy = [Level("Buf", ALL, capacity_bits=168, word_bits={"W": 8, "I": 8, "O": 32}), levels[1]]
    assert evaluate(Problem(K=4, C=3), roomy, mapping).tiles[("Buf", "O")] == 4
    batch = evaluate_batch(Problem(K=4, C=3), levels, *[np.stack([a]) for a in as_arrays(mapping)],
                           [{}, {}])  # fmt: skip
    assert not batch["fits"][0]


# ----------------------------------------------------------------------------- loop orders
def test_per_operand_cuts_let_inputs_stay_where_weights_and_outputs_do_not():
    # one loop order, innermost first: C (3), P (2), K (4); the RF keeps the inputs across all
    # of it (cut 3) but the weights and outputs only across C (cut 1), as a ZigZag mapping can
    rf = Level("RF", ALL)
    dram = Level("DRAM", ALL)
    order = LoopOrder(loops=[("C", 3), ("P", 2), ("K", 4)],
                      cuts={"W": [1, 3], "I": [3, 3], "O": [1, 3]}, spatial=[{}, {}])  # fmt: skip
    c = evaluate_order(Problem(K=4, C=3, P=2), [rf, dram], order)
    assert c.tiles[("RF", "I")] == 6 and c.tiles[("RF", "W")] == 3 and c.tiles[("RF", "O")] == 1
    # inputs: the 6-word tile arrives once; weights: 3 words per K (P does not index W) = 12
    assert (c.reads[("DRAM", "I")], c.reads[("DRAM", "W")]) == (6, 12)
    # outputs: a 1-word tile per (P, K): 8 arrivals, all zero starts; 24 MAC updates, 16 reads
    assert (c.writes[("DRAM", "O")], c.reads[("DRAM", "O")]) == (8, 0)
    assert (c.writes[("RF", "O")], c.reads[("RF", "O")]) == (24, 16 + 8)
    # the same loops cut at one place for every operand re-reads the inputs per (P, K): 24
    aligned = LoopOrder(order.loops, {"W": [1, 3], "I": [1, 3], "O": [1, 3]}, [{}, {}])
    assert evaluate_order(Problem(K=4, C=3, P=2), [rf, dram], aligned).reads[("DRAM", "I")] == 24


def test_bad_loop_orders_name_what_is_wrong():
    levels = [Level("RF", ALL), Level("DRAM", ALL)]
    loops = [("C", 3), ("K", 4)]
    with pytest.raises(SpecError, match=r"cuts.I: got \[2, 1\]; expected nondecreasing"):
        evaluate_order(
            Problem(K=4, C=3),
            levels,
            LoopOrder(loops, {"W": [1, 2], "I": [2, 1], "O": [1, 2]}, [{}, {}]),
        )
    with pytest.raises(SpecError, match=r"cuts.O: got \[1\]; expected one cut per level"):
        evaluate_order(
            Problem(K=4, C=3),
            levels,
            LoopOrder(loops, {"W": [1, 2], "I": [1, 2], "O": [1]}, [{}, {}]),
        )
    with pytest.raises(SpecError, match="factors of K multiply to 2"):
        evaluate_order(
            Problem(K=4, C=3),
            levels,
            LoopOrder([("C", 3), ("K", 2)], {"W": [1, 2], "I": [1, 2], "O": [1, 2]}, [{}, {}]),
        )


def test_unrolled_output_and_filter_positions_share_their_overlapping_inputs():
    # 4 PEs each compute one output position p over the 3 filter taps r: a PE needs inputs
    # p..p+2 (3 words), but the 4 PEs together need rows 0..5: the buffer reads 6, not 12
    levels = [Level("RF", frozenset("I"), instances=4), Level("GLB", ALL), Level("DRAM", ALL)]
    mapping = [
        LevelMapping(temporal=[("R", 3)]),
        LevelMapping(spatial={"P": 4}),
        LevelMapping(),
    ]
    c = evaluate(Problem(P=4, R=3), levels, mapping)
    assert c.writes[("RF", "I")] == 12  # 3 words into each of 4 PEs
    assert c.reads[("GLB", "I")] == 6  # rows 0..5, each read once and multicast
    batch = evaluate_batch(Problem(P=4, R=3), levels, *[np.stack([a]) for a in as_arrays(mapping)],
                           [m.spatial for m in mapping])  # fmt: skip
    assert batch["reads"][0, 1, 1] == 6
    # unrolled over R instead (a MAC per tap), the MACs read the GLB's inputs directly: each
    # step's 3 taps need 3 distinct rows, nothing shared within a step
    taps = [Level("GLB", ALL), Level("DRAM", ALL)]
    c = evaluate(Problem(P=4, R=3), taps, [LevelMapping(temporal=[("P", 4)], spatial={"R": 3}),
                                            LevelMapping()])  # fmt: skip
    assert c.reads[("GLB", "I")] == 12


def test_a_buffer_without_room_for_a_second_tile_stalls_where_its_refill_window_is_short():
    # K=4, C=16, P=64. The RF loops K 4 (inner) and P 64 (outer), DRAM loops C 16 at 0.5 words
    # a cycle. The RF holds 4 weights, 64 inputs and 256 outputs (324 words). A weight tile is
    # refilled 16 times (once per C), 4 words: 8 cycles at DRAM. With room for a second copy
    # (400 words) it hides under the 256 MACs of the previous tile. Without (324), it can only
    # replace weights in their last pass over P (every weight is used again for each p): 256 /
    # 64 = 4 cycles, so each refill after the first stalls 8 - 4 = 4: 15 x 4 = 60 cycles. The
    # inputs' window is their whole period (P indexes them): 64 words in 128 cycles hide; the
    # outputs stay across C (one stay). DRAM moves 64 + 1024 + 256 words: 2,688 cycles < compute.
    def run(rf_words, loading="overlapped"):
        rf = Level("RF", ALL, capacity_words=rf_words, read_pj=dict.fromkeys("WIO", 1.0),
                   write_pj=dict.fromkeys("WIO", 1.0))  # fmt: skip
        dram = Level("DRAM", ALL, read_pj=dict.fromkeys("WIO", 100.0),
                     write_pj=dict.fromkeys("WIO", 100.0), bandwidth_words=0.5)  # fmt: skip
        mapping = [LevelMapping(temporal=[("P", 64), ("K", 4)]), LevelMapping(temporal=[("C", 16)])]
        problem = Problem(K=4, C=16, P=64)
        batch = evaluate_batch(problem, [rf, dram], *[np.stack([a]) for a in as_arrays(mapping)],
                               [m.spatial for m in mapping], loading=loading)  # fmt: skip
        return evaluate(problem, [rf, dram], mapping, loading=loading), batch

    roomy, roomy_batch = run(400)
    assert roomy.tiles[("RF", "W")] == 4 and roomy.tiles[("RF", "I")] == 64
    assert roomy.stall_cycles == 0 and roomy.cycles == 4096 == roomy_batch["cycles"][0]
    assert roomy.transfer_cycles["DRAM"] == 2688
    tight, tight_batch = run(324)
    assert tight.stall_cycles == 60 == tight_batch["stall_cycles"][0]
    assert tight.cycles == 4096 + 60 == tight_batch["cycles"][0]

    # serial loading: before the first MAC the first weight tile (4 words, 8 cycles) and the
    # first input tile (64 words, 128 cycles) load in parallel; after the last, the 256 outputs
    # drain (512 cycles)
    serial, serial_batch = run(400, "serial")
    assert serial.loading_cycles == 128 + 512 == serial_batch["loading_cycles"][0]
    assert serial.cycles == 4096 + 640 == serial_batch["cycles"][0]
    with pytest.raises(SpecError, match="loading: got 'eager'"):
        run(400, "eager")


def test_serial_loading_carries_the_innermost_tiles_through_every_link():
    # K=2, C=4 on RF (loops K 2) / GLB (C 2, 1 word a cycle) / DRAM (C 2, 0.5 word a cycle).
    # The first MAC needs the RF's first weight tile (2 words: 2 cycles out of the GLB, 4 out of
    # DRAM) and input tile (1 word: 1 + 2), which load in parallel: 6 cycles. After the last MAC
    # the RF's 2 outputs go up to the GLB (2 cycles) and on to DRAM (4): 6. Total 12; the GLB's
    # own (larger) tiles stream during compute.
    big = dict.fromkeys("WIO", 1.0)
    levels = [Level("RF", ALL, capacity_words=64, read_pj=big, write_pj=big),
              Level("GLB", ALL, capacity_words=64, read_pj=big, write_pj=big, bandwidth_words=1.0),
              Level("DRAM", ALL, read_pj=big, write_pj=big, bandwidth_words=0.5)]  # fmt: skip
    mapping = [LevelMapping(temporal=[("K", 2)]), LevelMapping(temporal=[("C", 2)]),
               LevelMapping(temporal=[("C", 2)])]  # fmt: skip
    problem = Problem(K=2, C=4)
    cost = evaluate(problem, levels, mapping, loading="serial")
    batch = evaluate_batch(problem, levels, *[np.stack([a]) for a in as_arrays(mapping)],
                           [m.spatial for m in mapping], loading="serial")  # fmt: skip
    assert cost.loading_cycles == 12 == batch["loading_cycles"][0]
    overlapped = evaluate(problem, levels, mapping)
    assert cost.cycles == overlapped.cycles + 12 and overlapped.loading_cycles == 0


def test_batched_mappings_whose_factors_miss_the_bounds_are_named():
    levels = rf_dram(64)
    temporal = np.ones((2, 2, 7), np.int64)
    temporal[:, 1, DIMS.index("K")] = 4  # K = 4 everywhere, but C = 3 in neither mapping
    orders = np.tile(np.arange(7), (2, 2, 1))
    with pytest.raises(
        SpecError,
        match=r"mappings\[0\]: the factors multiply to \[1, 4, 1, 1, 1, 1, 1\], not the layer's bounds \[1, 4, 3, 1, 1, 1, 1\]",
    ):
        evaluate_batch(Problem(K=4, C=3), levels, temporal, orders, [{}, {}])
