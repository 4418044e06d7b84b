"""The knob mapper's inner loop, compiled with numba: every knob mapping of every (design, layer)
pair built and costed on the loop-nest model, one pair at a time in registers.

:func:`.codesign.map_pairs` tries the 81 knob mappings of each pair. In numpy that is 81 rows of
:func:`.codesign.knob_mappings` and :func:`.loopnest.evaluate_many` per pair, some 2,000 array
passes over 16,384-row chunks, and it ran at 2,300 pairs a second. Here the work one pair's
candidates share is done once (the array's unrolling, the RF tiles of its nine RF choices) and
each candidate's cost is the loop-nest model written out for the co-design hierarchy (an RF per
PE, a GLB, DRAM, each keeping all three operands; overlapped loading, no operand reuse in the
MAC), with the same integer counts and the same floating-point operations in the same order as
:func:`.loopnest.evaluate_many`, so the two agree bit for bit (tested on random designs and
layers). :func:`knob_costs` returns every candidate's cycles, energy and fit; :func:`knob_best`
each pair's best by an objective with its counts, as :func:`.loopnest.evaluate_many` returns
them, and with one candidate per pair (its own knobs) it is the co-design env's evaluator.

Arrays (``m`` pairs, ``k`` candidates): ``bounds[m, 7]`` (``DIMS`` order), ``stride[m]``,
``rows[m]``/``cols[m]`` the PE array, ``flow[m]`` the dataflow's index in ``served[f, 2, 3]``
(the loops each array dimension serves, -1 padded), ``rf_bits[m]``/``glb_bits[m]`` capacities,
``glb_bw[m]``/``dram_bw[m]`` bits per cycle, ``pj[m, 3, 3]`` energy per word per level and
operand (reads and writes alike), ``mac_pj[m]``, ``width[3]`` bits per word of W, I, O; the
candidates' ``rf_stat``/``glb_stat`` (operand indices) and ``rf_fill``/``glb_fill``, each ``[1, k]``
(the same candidates for every pair) or ``[m, k]`` (each pair its own);
``fill_order[3, 7]`` the order a level with each stationary operand fills its loops in, and
``loop_order[3, 7]`` a level's loop order (outermost first) that keeps each operand.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# DIMS = N K C P Q R S; operands W I O
_N, _K, _C, _P, _Q, _R, _S = range(7)
#: RELEVANT as a table: whether dimension d indexes operand o.
RELEVANT_TABLE = np.array(
    [[0, 1, 1, 0, 0, 1, 1], [1, 0, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0, 0]], dtype=np.bool_
)


@njit(cache=True, inline="always")
def _footprint(e, stride, o):
    """Words of operand ``o`` over loop extents ``e`` (:func:`.loopnest.footprints`)."""
    if o == 0:
        return e[_K] * e[_C] * e[_R] * e[_S]
    if o == 1:
        h = min(e[_P] * e[_R], (e[_P] - 1) * stride + e[_R])
        w = min(e[_Q] * e[_S], (e[_Q] - 1) * stride + e[_S])
        return e[_N] * e[_C] * h * w
    return e[_N] * e[_K] * e[_P] * e[_Q]


@njit(cache=True, inline="always")
def _bits(e, stride, width):
    """The three footprints of extents ``e`` in bits (``footprints(...) @ width``)."""
    return (
        _footprint(e, stride, 0) * width[0]
        + _footprint(e, stride, 1) * width[1]
        + _footprint(e, stride, 2) * width[2]
    )


@njit(cache=True)
def _divisors(n, out):
    """The divisors of ``n`` in ``out``, ascending; returns how many."""
    small = 0
    f = 1
    while f * f <= n:
        if n % f == 0:
            out[small] = f
            small += 1
        f += 1
    count = small
    for i in range(small - 1, -1, -1):  # the large ones, mirrored
        big = n // out[i]
        if big != out[i]:
            out[count] = big
            count += 1
    return count


@njit(cache=True)
def _divisor_table(left, table, counts):
    """Each loop's divisors of what is ``left`` of it: ``table[j, :counts[j]]``, ascending."""
    for j in range(7):
        counts[j] = _divisors(left[j], table[j])


@njit(cache=True, inline="always")
def _fill(below, left, order, budget, stride, width, out, table, counts, trial):
    """One level's tiles (:func:`.codesign.knob_mappings`): per loop in ``order``, the largest
    divisor of what is ``left`` (``table``: :func:`_divisor_table` of ``left``) whose tiles stay
    within ``budget`` bits (the same binary search over the sorted divisors), multiplied into
    ``below`` and taken out of ``left``. ``trial``: a work array of 7."""
    trial[:] = below
    for x in range(7):
        j = order[x]
        lo, hi = 0, counts[j] - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            trial[j] = below[j] * table[j, mid]
            if _bits(trial, stride, width) <= budget:
                lo = mid
            else:
                hi = mid - 1
        f = table[j, lo]
        out[j] = f
        below[j] *= f
        trial[j] = below[j]
        left[j] //= f


@njit(cache=True)
def _unroll(bounds, served, rows, cols, spatial, left, divs):
    """The array's greedy unrolling: per array dimension, its loops in turn, the largest divisor
    of what is left within the room left."""
    for j in range(7):
        spatial[j] = 1
        left[j] = bounds[j]
    for side in range(2):
        room = rows if side == 0 else cols
        for x in range(served.shape[1]):
            j = served[side, x]
            if j < 0:
                continue
            count = _divisors(left[j], divs)
            f = 1
            for i in range(count):
                if divs[i] <= room:
                    f = divs[i]
            spatial[j] *= f
            left[j] //= f
            room //= f


@njit(cache=True, inline="always")
def _stays(T, order, level, o):
    """Iterations of the loops above ``level`` from the innermost one that indexes operand
    ``o`` (factor > 1) outwards (:func:`.loopnest._stays_batch`)."""
    stays = 1
    started = False
    for above in range(level + 1, 3):
        for x in range(6, -1, -1):  # innermost first
            d = order[above, x]
            f = T[above, d]
            if not started and RELEVANT_TABLE[o, d] and f > 1:
                started = True
            if started:
                stays *= f
    return stays


@njit(cache=True, inline="always")
def _window(T, order, level, o):
    """Cycles a refill of ``level``'s tile of operand ``o`` may take without a second buffer:
    the level's period over its loops outside the first one that indexes ``o``
    (:func:`.loopnest._refill_windows_batch`, every level a keeper)."""
    period = 1
    for lv in range(level + 1):
        for d in range(7):
            period *= T[lv, d]
    outside = 1
    for x in range(7):
        d = order[level, x]
        f = T[level, d]
        if RELEVANT_TABLE[o, d] and f > 1:
            break
        outside *= f
    return float(period) / outside


@njit(cache=True, inline="always")
def _stall(n_stays, hidden, words, width_o, instances, bandwidth):
    """One side of a refill's stall (:func:`.loopnest._stalls_batch`); ``bandwidth`` 0: none."""
    cycles = 0.0 if bandwidth == 0.0 else words * width_o / instances / bandwidth
    return max(0.0, cycles / n_stays - hidden) * max(n_stays - 1.0, 0.0)


@njit(cache=True, inline="always")
def _cost(T, order, S1, bounds, stride, inst0, cap, bw, pj, mac_pj, width, scratch, out):
    """Cycles, energy (pJ), whether it fits and stall cycles of one mapping, in ``out[0:4]``
    (its tiles, reads and writes left in ``scratch[4:7]``, ``[7:10]`` and ``[10:13]``): the loop-nest
    model (:func:`.loopnest.evaluate_many`) for three levels that keep every operand, the array
    fanning out below the GLB, overlapped loading and no operand reuse in the MAC. ``scratch``:
    a ``(13, 7)`` int64 work array."""
    ext, union = scratch[0:3], scratch[3]
    tiles, reads, writes = scratch[4:7, :3], scratch[7:10, :3], scratch[10:13, :3]
    macs = 1
    compute = 1
    for d in range(7):
        ext[0, d] = T[0, d]
        ext[1, d] = ext[0, d] * T[1, d] * S1[d]
        ext[2, d] = ext[1, d] * T[2, d]
        union[d] = ext[0, d] * S1[d]
        macs *= bounds[d]
        compute *= T[0, d] * T[1, d] * T[2, d]
    for lv in range(3):
        for o in range(3):
            tiles[lv, o] = _footprint(ext[lv], stride, o)
            reads[lv, o] = 0
            writes[lv, o] = 0
    inst = (inst0, 1, 1)
    stall0 = stall1 = stall2 = 0.0
    for o in range(3):
        st0 = _stays(T, order, 0, o)
        st1 = _stays(T, order, 1, o)
        arr0 = tiles[0, o] * st0 * inst0
        arr1 = tiles[1, o] * st1
        if o != 2:
            reads[0, o] += macs
            # RF <- GLB: the distinct words the array below needs per stay
            fetched = st0 * _footprint(union, stride, o)
            writes[0, o] += arr0
            reads[1, o] += fetched
            n_stays = float(st0)
            hidden = _hidden(tiles, 0, o, cap, width, compute, n_stays, T, order)
            stall0 += _stall(n_stays, hidden, arr0, width[o], inst[0], bw[0])
            stall1 += _stall(n_stays, hidden, fetched, width[o], inst[1], bw[1])
            # GLB <- DRAM
            fetched = st1 * tiles[1, o]
            writes[1, o] += arr1
            reads[2, o] += fetched
            n_stays = float(st1)
            hidden = _hidden(tiles, 1, o, cap, width, compute, n_stays, T, order)
            stall1 += _stall(n_stays, hidden, arr1, width[o], inst[1], bw[1])
            stall2 += _stall(n_stays, hidden, fetched, width[o], inst[2], bw[2])
            continue
        # outputs, the outer link first: GLB -> DRAM, then RF -> GLB reduced over the array's
        # loops that do not index them (C, R, S). Each link is written out: the same steps in a
        # shared inline helper ran 10% slower (measured)
        zero = bounds[_N] * bounds[_K] * bounds[_P] * bounds[_Q]
        drained = arr1
        back = drained - zero
        reads[1, o] += arr1
        writes[2, o] += drained
        reads[2, o] += back
        writes[1, o] += back
        n_stays = float(st1)
        hidden = _hidden(tiles, 1, o, cap, width, compute, n_stays, T, order)
        stall1 += _stall(n_stays, hidden, arr1 + back, width[o], inst[1], bw[1])
        stall2 += _stall(n_stays, hidden, drained + back, width[o], inst[2], bw[2])
        zero = arr1 - back
        drained = arr0 // (S1[_C] * S1[_R] * S1[_S])
        back = drained - zero
        reads[0, o] += arr0
        writes[1, o] += drained
        reads[1, o] += back
        writes[0, o] += back
        n_stays = float(st0)
        hidden = _hidden(tiles, 0, o, cap, width, compute, n_stays, T, order)
        stall0 += _stall(n_stays, hidden, arr0 + back, width[o], inst[0], bw[0])
        stall1 += _stall(n_stays, hidden, drained + back, width[o], inst[1], bw[1])
        zero = arr0 - back
        writes[0, o] += macs
        reads[0, o] += macs - zero
    fits = True
    for lv in range(2):
        held = tiles[lv, 0] * width[0] + tiles[lv, 1] * width[1] + tiles[lv, 2] * width[2]
        fits = fits and held <= cap[lv]
    transfer = 0.0
    for lv in range(1, 3):  # the RF's bandwidth is unbounded
        moved = 0
        for o in range(3):
            moved += (reads[lv, o] + writes[lv, o]) * width[o]
        transfer = max(transfer, moved / inst[lv] / bw[lv])
    energy = macs * mac_pj
    for lv in range(3):
        for o in range(3):
            energy = energy + reads[lv, o] * pj[lv, o] + writes[lv, o] * pj[lv, o]
    stall = max(stall0, max(stall1, stall2))
    out[0] = max(compute + stall, transfer) + 0.0
    out[1] = energy
    out[2] = 1.0 if fits else 0.0
    out[3] = stall


@njit(cache=True, inline="always")
def _hidden(tiles, a, o, cap, width, compute, n_stays, T, order):
    """Cycles a refill of level ``a`` may take: the tile's use when the level holds a second
    copy of it, else its refill window (:func:`.loopnest._double_buffers_batch`)."""
    held = tiles[a, 0] * width[0] + tiles[a, 1] * width[1] + tiles[a, 2] * width[2]
    if held + tiles[a, o] * width[o] <= cap[a]:
        return compute / n_stays
    return _window(T, order, a, o)


@njit(cache=True)
def _rf_first(rf_stat, rf_fill):
    """Per candidate, the first candidate with its RF knobs: the RF's tiles depend on them only
    (nine RF fills serve the 81 candidates). Candidates whose tiles come out equal are still
    costed apiece: finding them (81 -> ~72 per pair) took longer than it saved."""
    k = rf_stat.shape[0]
    first = np.arange(k)
    for c in range(k):
        for e in range(c - 1, -1, -1):
            if rf_stat[e] == rf_stat[c] and rf_fill[e] == rf_fill[c]:
                first[c] = e
    return first


@njit(cache=True)
def _drive(bounds, stride, rows, cols, flow, served, rf_bits, glb_bits, glb_bw, dram_bw, pj,
           mac_pj, width, rf_stat, glb_stat, rf_fill, glb_fill, fill_order, loop_order,
           max_divisors, objective, table):  # fmt: skip
    """Every candidate of every pair costed; with ``table`` their cycles, energy and fit kept,
    ``(m, k)`` each; with ``objective`` 0, 1 or 2 (latency, energy, EDP; -1: none) each pair's
    best (fitting first, ties to the other metric, then to the first candidate: ``np.lexsort``'s
    order) and its counts, as :func:`.loopnest.evaluate_many` returns them."""
    m, k = bounds.shape[0], rf_stat.shape[1]
    rows_kept = m if table else 0
    cycles = np.empty((rows_kept, k))
    energy = np.empty((rows_kept, k))
    fits = np.empty((rows_kept, k), np.bool_)
    best_rows = m if objective >= 0 else 0
    choice = np.empty(best_rows, np.int64)
    counts_out = np.empty((best_rows, 3, 3, 3), np.int64)  # tiles, reads, writes
    compute_out = np.empty(best_rows, np.int64)
    floats_out = np.empty((best_rows, 4))  # cycles, energy, fits, stall
    row = np.empty((k, 4))
    S1, left0, left = np.empty(7, np.int64), np.empty(7, np.int64), np.empty(7, np.int64)
    below, trial = np.empty(7, np.int64), np.empty(7, np.int64)
    T = np.ones((3, 7), np.int64)
    order = np.empty((3, 7), np.int64)
    scratch = np.empty((13, 7), np.int64)
    cap, bw = np.zeros(3), np.zeros(3)
    table0, counts0 = np.empty((7, max_divisors), np.int64), np.empty(7, np.int64)
    tables, counts = np.empty((k, 7, max_divisors), np.int64), np.empty((k, 7), np.int64)
    rf_tiles, rf_left = np.empty((k, 7), np.int64), np.empty((k, 7), np.int64)
    rf_first = np.empty(rf_stat.shape, np.int64)
    for x in range(rf_stat.shape[0]):
        rf_first[x] = _rf_first(rf_stat[x], rf_fill[x])
    for i in range(m):
        x = i if rf_stat.shape[0] > 1 else 0  # the pair's candidates
        rs, gs, rfill, gfill, first = rf_stat[x], glb_stat[x], rf_fill[x], glb_fill[x], rf_first[x]
        _unroll(bounds[i], served[flow[i]], rows[i], cols[i], S1, left0, table0[0])
        _divisor_table(left0, table0, counts0)
        inst0 = S1[0] * S1[1] * S1[2] * S1[3] * S1[4] * S1[5] * S1[6]
        cap[0], cap[1], cap[2] = rf_bits[i], glb_bits[i], 0.0
        bw[0], bw[1], bw[2] = 0.0, glb_bw[i], dram_bw[i]
        # the best once more after the others, so that its counts are the ones left in scratch
        again = objective >= 0 and k > 1
        if objective >= 0 and k == 1:
            choice[i] = 0
        for run in range(k + 1 if again else k):
            c = run
            if run == k:
                c = _best(row, objective)
                choice[i] = c
            r = first[c]
            if r == c and run < k:  # the first candidate with these RF knobs fills the RF
                below[:] = 1
                rf_left[c] = left0
                _fill(below, rf_left[c], fill_order[rs[c]], rfill[c] * rf_bits[i],
                      stride[i], width, rf_tiles[c], table0, counts0, trial)  # fmt: skip
                _divisor_table(rf_left[c], tables[c], counts[c])
            left[:] = rf_left[r]
            for d in range(7):
                below[d] = rf_tiles[r, d] * S1[d]
            _fill(below, left, fill_order[gs[c]], gfill[c] * glb_bits[i], stride[i],
                  width, T[1], tables[r], counts[r], trial)  # fmt: skip
            T[0], T[2] = rf_tiles[r], left
            order[0], order[1] = loop_order[rs[c]], loop_order[rs[c]]
            order[2] = loop_order[gs[c]]
            _cost(T, order, S1, bounds[i], stride[i], inst0, cap, bw, pj[i], mac_pj[i], width,
                  scratch, row[c])  # fmt: skip
        _store(i, row, scratch, T, choice, cycles, energy, fits, counts_out, compute_out,
               floats_out, table, objective >= 0)  # fmt: skip
    return cycles, energy, fits, choice, counts_out, compute_out, floats_out


@njit(cache=True, inline="always")
def _store(i, row, scratch, T, choice, cycles, energy, fits, counts, compute, floats, table, best):
    """Pair ``i``'s results: every candidate's cycles, energy and fit (``table``), and the
    chosen one's counts, compute cycles and floats (``best``; its mapping still in ``T``, its
    counts in ``scratch``)."""
    if table:
        for c in range(row.shape[0]):
            cycles[i, c], energy[i, c], fits[i, c] = row[c, 0], row[c, 1], row[c, 2] != 0.0
    if best:
        floats[i] = row[choice[i]]
        for x in range(3):
            counts[i, x] = scratch[4 + 3 * x : 7 + 3 * x, :3]
        n = 1
        for lv in range(3):
            for d in range(7):
                n *= T[lv, d]
        compute[i] = n


@njit(cache=True, inline="always")
def _best(row, objective):
    """The best of one pair's candidates (``row[c]``: cycles, energy, fit): by latency (0),
    energy (1) or EDP (2), the ones that do not fit last, ties broken by the other metric and
    then by the first candidate (``np.lexsort``'s order in :func:`.codesign.map_pairs`)."""
    best, best_p, best_q = 0, 0.0, 0.0
    for c in range(row.shape[0]):
        if objective == 0:
            p, q = row[c, 0], row[c, 1]
        elif objective == 1:
            p, q = row[c, 1], row[c, 0]
        else:
            p, q = row[c, 0] * row[c, 1], row[c, 0]
        if row[c, 2] == 0.0:
            p = np.inf
        if c == 0 or p < best_p or (p == best_p and q < best_q):
            best, best_p, best_q = c, p, q
    return best


@njit(cache=True, nogil=True)
def knob_costs(bounds, stride, rows, cols, flow, served, rf_bits, glb_bits, glb_bw, dram_bw, pj,
               mac_pj, width, rf_stat, glb_stat, rf_fill, glb_fill, fill_order, loop_order,
               max_divisors):  # fmt: skip
    """Cycles, energy (pJ) and fit of every knob mapping of every pair: three ``(m, k)`` arrays
    (see the module docstring for the arguments; ``max_divisors``: at least the most divisors
    any loop bound has)."""
    r = _drive(bounds, stride, rows, cols, flow, served, rf_bits, glb_bits, glb_bw, dram_bw, pj,
               mac_pj, width, rf_stat, glb_stat, rf_fill, glb_fill, fill_order, loop_order,
               max_divisors, -1, True)  # fmt: skip
    return r[0], r[1], r[2]


@njit(cache=True, nogil=True)
def knob_best(bounds, stride, rows, cols, flow, served, rf_bits, glb_bits, glb_bw, dram_bw, pj,
              mac_pj, width, rf_stat, glb_stat, rf_fill, glb_fill, fill_order, loop_order,
              max_divisors, objective):  # fmt: skip
    """Each pair's best knob mapping by ``objective`` (0 latency, 1 energy, 2 EDP) and its
    counts: ``choice[m]``, ``counts[m, 3, 3, 3]`` (tiles, reads, writes per level and operand),
    ``compute[m]`` cycles and ``floats[m, 4]`` (cycles, energy, fit, stall cycles)."""
    r = _drive(bounds, stride, rows, cols, flow, served, rf_bits, glb_bits, glb_bw, dram_bw, pj,
               mac_pj, width, rf_stat, glb_stat, rf_fill, glb_fill, fill_order, loop_order,
               max_divisors, objective, False)  # fmt: skip
    return r[3], r[4], r[5], r[6]
