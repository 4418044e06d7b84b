"""The memory-controller loop, compiled with numba: one pass over a trace per configuration.

Model (times are integer clock cycles of the device):

* **Front end.** Requests are admitted in trace order (one initiator, like DRAMSys's trace
  players and DRAMsim3's trace CPU): after the arbiter's forward delay and the controller's think
  delay; the Fifo and Reorder arbiters take one request per cycle and keep at most
  ``max_active_transactions`` outstanding. A request waits while its buffer class is full and
  takes the slot the cycle one frees; with free entries it is admitted the cycle it arrives.
* **Buffers.** Bankwise: ``request_buffer_size`` entries per bank. ReadWrite: ``read_buffer_size``
  reads and ``write_buffer_size`` writes per channel. Shared: ``request_buffer_size`` per channel.
  With ``command_queue_depth`` d > 0 (ReadWrite and Shared), the buffer is a transaction queue in
  front of per-bank command queues, as DRAMsim3's: the oldest d requests of each bank and
  direction sit in their bank's command queue (free of the transaction queue) and only they can
  be scheduled; with d = 0 every buffered request is a candidate until its column command.
* **Scheduling.** Column commands issue one decision at a time per channel. Each bank offers one
  candidate: the oldest (Fifo), the oldest row hit else the oldest (FrFcfs, and GrpFrFcfsWm
  within the direction it serves), or the oldest hit of the last column command's direction else
  FrFcfs's choice (FrFcfsGrp, never overtaking an earlier access to the same column). With
  ``max_row_hits`` N > 0, a row that served N accesses stops winning over an older miss to its
  bank once the miss's precharge could issue first (DRAMsim3's precharge arbitration caps hits
  at 4, and only arbitrates a precharge that is ready: a hit that can issue before it goes).
  Among the banks' candidates the one whose column command can issue first wins; ties go to the
  oldest request (``bank_arbitration`` Oldest, DRAMSys's command multiplexer) or to the next
  bank after the last one served (RoundRobin, DRAMsim3's ``CommandQueue::GetNextQueue``).
* **Row commands overlap transfers.** A candidate's PRE and ACT are prepared by its bank as soon
  as the request is buffered and the bank's previous column command has issued, not when the
  request wins the channel: precharges and activations of other banks hide under the data of
  row hits, as in every bank-state-machine controller (DRAMSys, DRAMsim3, Ramulator).
* **Write batching.** GrpFrFcfsWm serves one direction at a time per channel: it switches to
  writes when the buffered writes reach the high watermark, or when no read waits and at least
  ``write_drain_idle_writes`` are buffered (Ramulator: 1; DRAMsim3: 9), and back to
  reads when they fall to the low watermark while reads wait (Ramulator's watermark controller,
  DRAMSys's GrpFrFcfsWm); a switch pays the bus turnaround once per batch. Writes held below
  that threshold drain once the trace has no more requests. With ``write_drain`` CommandQueues
  (DRAMsim3; ReadWrite buffer, command queues of d > 0 entries shared by both directions) a
  drain instead moves the buffered writes into their banks' command queues, each entry freeing
  its buffer slot as it moves; the drain ends once the writes counted at its start have moved,
  reads move in only outside drains, and a bank serves its queue in the order entries moved in
  (row hits first). Moves happen at once, where DRAMsim3 moves one transaction per cycle.
* **Timing.** Per bank: tRCD, tRP, tRAS, tRC, tRTP, tWR; per rank: tRRD_S, tFAW (a window of the
  last four ACTs), tCCD_S, tWTR_S; per bank group: tRRD_L, tCCD_L, tWTR_L; per channel: the data
  bus (bursts in issue order; a write after a read waits tRTW = CL + BL/2 - CWL + the spec's
  read-to-write bubble, tRTRS between ranks) and the command bus (one command per cycle).
* **Page policy** after each access: Open keeps the row; Closed precharges (auto-precharge at the
  earliest legal cycle); OpenAdaptive precharges when no buffered request hits the row but another
  one waits for the bank; ClosedAdaptive precharges unless a buffered request hits the row. With
  ``close_after_hits`` N > 0 any policy closes a row after its N-th access (gem5's
  ``max_accesses_per_row``).
* **Refresh.** A refresh falls due every tREFI per rank (all-bank) or every tREFIpb for the next
  bank in turn (per-bank). If the target is busy (a buffered request by then) it is postponed
  while fewer than ``refresh_max_postponed`` are owed, else forced: open rows are precharged and
  the rank (or bank) is blocked for tRFC (tRFCpb). While idle, owed refreshes are repaid and up to
  ``refresh_max_pulledin`` future ones are done early.
* **Responses.** A read completes at the end of its data burst (RD + CL + burst), a write at the
  end of its write burst. The Fifo response queue returns them in command order, Reorder in
  request order per channel; the Reorder arbiter restores request order for the initiator; the
  backward arbitration delay and one cycle per Fifo/Reorder arbiter stage are added.

Outputs per configuration are command counts, row hits and conflicts, the time at least one bank
of each rank was open (for background power), the end time and the latency distributions: all
requests, reads and writes from trace arrival, and reads and all requests from acceptance.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Indices into the timing vector.
CL, CWL, RCD, RP, RAS, RC, CCD_S, CCD_L, RRD_S, RRD_L, FAW, WR, WTR_S, WTR_L, RTP, RTRS = range(16)
RFC, REFI, RFCPB, REFIPB, BURST, ARB_FW, ARB_BW, THINK_FW, RTW = range(16, 25)
N_TIMING = 25

# Columns of the configuration matrix (categorical knobs as their index in arch.py's tuples).
PAGE, SCHED, BUF, RBS, RESPQ, REFP, MAXPOST, MAXPULL, ARB, MAT = range(10)
RBS_RD, RBS_WR, CMDQ, WM_HI, WM_LO, HITCAP, CLOSE_AFTER, WM_IDLE, WDRAIN, BANK_ARB = range(10, 20)
N_CONFIG = 20

# Scheduler indices (arch.SCHEDULERS order).
FIFO, FRFCFS, FRFCFS_GRP, GRP_FRFCFS_WM = range(4)

# Columns of the statistics matrix.
(
    S_ACT,
    S_PRE,
    S_RD,
    S_WR,
    S_REF_AB,
    S_REF_PB,
    S_HITS,
    S_CONFLICTS,
    S_ACTIVE,
    S_END,
    S_LAT_MEAN,
    S_LAT_P95,
    S_LAT_P99,
    S_LAT_MAX,
    S_START,
    S_REF_BLOCKED,
    S_RLAT_MEAN,
    S_RLAT_P95,
    S_RLAT_P99,
    S_WLAT_MEAN,
    S_RCTL_MEAN,
    S_CTL_MEAN,
    S_TURNAROUNDS,
    S_BUF_FULL,
    S_MAX_OWED,
    S_MIN_OWED,
) = range(26)
N_STATS = 26

INF = np.int64(1) << np.int64(61)
# Command-bus cycles remembered per channel (a ring of cycle stamps): far more than the span of
# cycles in which commands are placed out of order (a few tRC).
CMD_RING = 4096


@njit(cache=True, inline="always")
def _busy_rank(q, qlen, adm, base, nb, t):
    """Whether any of the ``nb`` banks from ``base`` holds a request admitted by ``t``."""
    for b in range(base, base + nb):
        if qlen[b] > 0 and adm[q[b, 0]] <= t:
            return True
    return False


@njit(cache=True)
def _refresh(
    b0, nbanks, t, trfc, trp, open_row, b_pre_ready, b_act_ready, b_act_id, act_end, counts
):
    """Precharge the open banks among ``b0 .. b0+nbanks`` and refresh them: returns when they are
    ready again. counts[0] += precharges."""
    tref = t
    for b in range(b0, b0 + nbanks):
        if open_row[b] >= 0:
            tp = max(t, b_pre_ready[b])
            counts[0] += 1
            act_end[b_act_id[b]] = tp
            b_act_id[b] = -1
            open_row[b] = -1
            ready = tp + trp
        else:
            ready = max(t, b_act_ready[b])
        if ready > tref:
            tref = ready
    for b in range(b0, b0 + nbanks):
        b_act_ready[b] = tref + trfc
    return tref + trfc


@njit(cache=True, inline="always")
def _refresh_target(refp, base, rr, nb_r):
    """First bank and bank count the next refresh of a rank covers: all of its banks (all-bank)
    or the next one in turn (per-bank)."""
    return (base, nb_r) if refp == 1 else (base + rr, 1)


@njit(cache=True)
def _refresh_next(
    refp,
    rk_i,
    base,
    nb_r,
    t,
    tim,
    open_row,
    b_pre_ready,
    b_act_ready,
    b_act_id,
    act_end,
    ref_rr,
    counts,
):
    """Do the next refresh of rank ``rk_i`` at ``t`` or later; returns when its banks are ready.
    counts: [precharges by refresh, all-bank refreshes, per-bank refreshes]."""
    b0, nb = _refresh_target(refp, base, ref_rr[rk_i], nb_r)
    trfc = tim[RFC] if refp == 1 else tim[RFCPB]
    ready = _refresh(
        b0, nb, t, trfc, tim[RP], open_row, b_pre_ready, b_act_ready, b_act_id, act_end, counts
    )
    if refp == 1:
        counts[1] += 1
    else:
        ref_rr[rk_i] = (ref_rr[rk_i] + 1) % nb_r
        counts[2] += 1
    return ready


@njit(cache=True, inline="always")
def _cmd_slot(ring, cc, t):
    """The first free command-bus cycle of channel ``cc`` at or after ``t``; books it."""
    while ring[cc, t & (CMD_RING - 1)] == t:
        t += 1
    ring[cc, t & (CMD_RING - 1)] = t
    return t


@njit(cache=True, inline="always")
def _move_in(b, d, t, q, qlen, wr, adm, cq, cq_t, depth, limit):
    """Move up to ``limit`` of bank ``b``'s oldest direction-``d`` requests from the transaction
    queue into its command queue at ``t``, while the queue (``depth`` entries for both
    directions) has room; returns how many moved."""
    moved = 0
    seen = 0
    for jq in range(qlen[b]):
        if moved >= limit or cq[b, 0] + cq[b, 1] >= depth:
            break
        r = q[b, jq]
        if wr[r] != d:
            continue
        seen += 1
        if seen <= cq[b, d]:
            continue  # already in the command queue
        cq_t[r] = max(t, adm[r])
        cq[b, d] += 1
        moved += 1
    return moved


@njit(cache=True, inline="always")
def _reads_follow(cc, nb, t, q, qlen, wr, adm, cq, cq_t, depth, occ, ch_cq, last_free):
    """A moving drain has ended at ``t``: waiting reads move into every bank of channel ``cc``
    with room."""
    for bb in range(nb):
        b = cc * nb + bb
        m = _move_in(b, 0, t, q, qlen, wr, adm, cq, cq_t, depth, 1 << 62)
        occ[cc, 0] -= m
        ch_cq[cc] += m
    last_free[cc, 0] = t


@njit(cache=True)
def _quantiles(v, out, i_mean, i_p95, i_p99):
    """Mean, p95 and p99 of ``v`` into ``out``; 0 when ``v`` is empty (a trace without reads has
    no read latency: 0, as DRAMsim3 reports it, keeps observations and rewards finite)."""
    n = v.shape[0]
    if n == 0:
        out[i_mean] = 0.0
        if i_p95 >= 0:
            out[i_p95] = 0.0
            out[i_p99] = 0.0
        return
    out[i_mean] = v.sum() / n
    if i_p95 >= 0:
        k95 = max(0, int(np.ceil(0.95 * n)) - 1)
        k99 = max(0, int(np.ceil(0.99 * n)) - 1)
        part = np.partition(v, k95)
        tail = np.partition(part[k95:], k99 - k95)
        out[i_p95] = part[k95]
        out[i_p99] = tail[k99 - k95]


@njit(cache=True, nogil=True)
def simulate_one(arr, wr, chn, bank, bgk, rank, row, col, tim, org, c, out, lat, keep_lat):
    """Simulate one controller configuration ``c`` over the decoded trace; fill ``out`` (stats)."""
    n = arr.shape[0]
    NCH, NB, NR, NBG_R, NB_R = org[0], org[1], org[2], org[3], org[4]
    page, sched, buf, rbs, respq = c[PAGE], c[SCHED], c[BUF], c[RBS], c[RESPQ]
    refp, maxpost, maxpull, arb, mat = c[REFP], c[MAXPOST], c[MAXPULL], c[ARB], c[MAT]
    rbs_rd, rbs_wr, depth, wm_hi, wm_lo, hitcap, close_after, wm_idle = (
        c[RBS_RD], c[RBS_WR], c[CMDQ], c[WM_HI], c[WM_LO], c[HITCAP], c[CLOSE_AFTER], c[WM_IDLE],
    )  # fmt: skip
    # DRAMsim3's drain: writes move from the write buffer into the per-bank command queues (which
    # reads and writes share) until the batch has moved, and issue there among the reads
    mv = sched == GRP_FRFCFS_WM and buf == 1 and depth > 0 and c[WDRAIN] == 1
    round_robin = c[BANK_ARB] == 1
    t_cl, t_cwl, t_rcd, t_rp, t_ras, t_rc = tim[CL], tim[CWL], tim[RCD], tim[RP], tim[RAS], tim[RC]
    t_ccds, t_ccdl, t_rrds, t_rrdl, t_faw = tim[CCD_S], tim[CCD_L], tim[RRD_S], tim[RRD_L], tim[FAW]
    t_wr, t_wtrs, t_wtrl, t_rtp, t_rtrs = tim[WR], tim[WTR_S], tim[WTR_L], tim[RTP], tim[RTRS]
    burst, arb_fw, arb_bw, think, t_rtw = (
        tim[BURST],
        tim[ARB_FW],
        tim[ARB_BW],
        tim[THINK_FW],
        tim[RTW],
    )
    arb_stage = 1 if arb != 0 else 0
    watermark = sched == GRP_FRFCFS_WM
    if buf == 0:
        depth = 0  # per-bank buffers are the command queues already
    # Batching writes behind a transaction queue (DRAMsim3), writes wait in the write buffer and
    # move to their bank's command queue only during a drain: they hold a buffer slot until
    # their column command.
    wdepth = 0 if watermark else depth

    nbt = NCH * NB
    nrt = NCH * NR
    ngt = NCH * NR * NBG_R
    # a bank may hold every entry of its buffer class (and, behind a transaction queue, its
    # command-queue entries too)
    if buf == 0:
        qcap = rbs
    elif buf == 1:
        qcap = rbs_rd + rbs_wr + 2 * depth
    else:
        qcap = rbs + 2 * depth
    q = np.empty((nbt, qcap), np.int64)
    qlen = np.zeros(nbt, np.int64)
    b_dir = np.zeros((nbt, 2), np.int64)  # buffered reads and writes per bank
    occ = np.zeros((NCH, 2), np.int64)  # transaction-queue entries held (ReadWrite: per direction)
    last_free = np.full((max(nbt, NCH), 2), -INF, np.int64)  # when a slot of a class last freed
    ch_cnt = np.zeros(NCH, np.int64)
    ch_rd = np.zeros(NCH, np.int64)
    ch_wr = np.zeros(NCH, np.int64)
    ch_oldest = np.full(NCH, INF, np.int64)
    ch_floor = np.zeros(NCH, np.int64)  # no decision before the channel's latest admission
    ch_wmode = np.zeros(NCH, np.bool_)
    ch_mode_t = np.zeros(NCH, np.int64)
    ch_batch = np.zeros(NCH, np.int64)  # writes left in the current drain
    drain_reads = np.zeros(nbt, np.int64)  # reads a bank still issues during a drain
    cq = np.zeros((nbt, 2), np.int64)  # moving drains: reads and writes in each command queue
    ch_cq = np.zeros(NCH, np.int64)

    open_row = np.full(nbt, -1, np.int64)
    b_act_ready = np.zeros(nbt, np.int64)
    b_pre_ready = np.zeros(nbt, np.int64)
    b_cas_ready = np.zeros(nbt, np.int64)
    b_last_cas = np.full(nbt, -INF, np.int64)
    b_hits = np.zeros(nbt, np.int64)
    b_act_id = np.full(nbt, -1, np.int64)

    r_last_act = np.full(nrt, -INF, np.int64)
    faw = np.full((nrt, 4), -INF, np.int64)
    faw_pos = np.zeros(nrt, np.int64)
    r_last_cas = np.full(nrt, -INF, np.int64)
    r_last_wr_end = np.full(nrt, -INF, np.int64)
    g_last_act = np.full(ngt, -INF, np.int64)
    g_last_cas = np.full(ngt, -INF, np.int64)
    g_last_wr_end = np.full(ngt, -INF, np.int64)

    bus_free = np.zeros(NCH, np.int64)
    bus_last_wr = np.zeros(NCH, np.int64)
    bus_last_rank = np.full(NCH, -1, np.int64)
    bus_used = np.zeros(NCH, np.bool_)
    last_rd_cas = np.full(NCH, -INF, np.int64)
    cmd_ring = np.full((NCH, CMD_RING), -1, np.int64)
    ch_next = np.zeros(NCH, np.int64)
    ch_last_resp = np.zeros(NCH, np.int64)
    ch_last_wr = np.zeros(NCH, np.int64)
    ch_run = np.zeros(NCH, np.int64)

    interval = tim[REFI] if refp == 1 else tim[REFIPB]
    ref_next = np.full(nrt, arr[0] + interval, np.int64)
    rr_last = np.full(NCH, -1, np.int64)  # the bank (within its channel) served last
    owed = np.zeros(nrt, np.int64)
    ref_rr = np.zeros(nrt, np.int64)

    act_start = np.empty(n, np.int64)
    act_end = np.empty(n, np.int64)
    act_rk = np.empty(n, np.int64)
    n_acts = 0

    adm = np.full(n, INF, np.int64)
    cq_t = np.zeros(n, np.int64)  # moving drains: when a request entered its command queue
    done = np.empty(n, np.int64)
    fifo_resp = np.empty(n, np.int64)
    resp = np.empty(n, np.int64)
    scheduled = np.zeros(n, np.bool_)
    known = np.zeros(n, np.bool_)
    counts = np.zeros(3, np.int64)  # precharges by refresh, all-bank and per-bank refreshes

    n_act = 0
    n_pre = 0
    n_rd = 0
    n_wr = 0
    hits = 0
    conflicts = 0
    ref_blocked = 0
    turnarounds = 0
    # whether the monotone limits ever bound (a run they never bound is the run of any larger
    # limit: the simulator reuses it, see simulator._simulate_unique)
    n_full = 0
    max_owed = 0
    min_owed = 0

    nxt = 0
    blocked = False  # the next request found its buffer class full: it waits for a free slot
    last_adm = -INF
    n_done = 0
    pfx = 0
    glob_run = np.int64(0)

    while n_done < n:
        # ---------------------------------------------------------------- next admission
        ta = INF
        if nxt < n:
            ta = max(arr[nxt] + arb_fw + think, last_adm)  # in trace order
            if arb != 0:
                ta = max(ta, last_adm + 1)
                k = nxt - mat
                if k >= 0:
                    ta = max(ta, resp[k]) if known[k] else INF
            if ta < INF:
                cc = chn[nxt]
                b = cc * NB + bank[nxt]
                d = wr[nxt]
                if buf == 0:
                    full = qlen[b] >= rbs
                    fi, fd = b, 0
                elif buf == 1:
                    full = occ[cc, d] >= (rbs_wr if d else rbs_rd)
                    fi, fd = cc, d
                else:
                    full = occ[cc, 0] >= rbs
                    fi, fd = cc, 0
                if full:
                    blocked = True
                    n_full += 1
                    ta = INF
                elif blocked:  # it waited: admitted when the slot freed, not before
                    ta = max(ta, last_free[fi, fd])

        # ---------------------------------------------------------------- next decision
        td = INF
        cbest = -1
        for cc in range(NCH):
            if ch_cnt[cc] > 0:
                t = max(ch_next[cc], ch_oldest[cc], ch_floor[cc])
                if mv and ch_cq[cc] == 0:  # only buffered writes: wait until a drain starts
                    w = occ[cc, 1]
                    if w < wm_hi and w < wm_idle and ta < INF:
                        continue
                elif (
                    not mv
                    and watermark
                    and not ch_wmode[cc]
                    and ch_rd[cc] == 0
                    and ch_wr[cc] < wm_idle
                ):
                    if ta < INF:
                        continue  # too few writes to start an idle drain: wait for more
                    t = max(t, last_adm)  # the trace is exhausted: drain what is left
                if t < td:
                    td = t
                    cbest = cc

        if ta < INF and ta <= td:
            j = nxt
            cc = chn[j]
            b = cc * NB + bank[j]
            d = wr[j]
            adm[j] = ta
            last_adm = ta
            ch_floor[cc] = ta
            blocked = False
            q[b, qlen[b]] = j
            qlen[b] += 1
            if mv:
                # straight to its bank's command queue when nothing of its direction is ahead
                # of it there and its direction is moving (reads unless a drain runs)
                if (d == (1 if ch_wmode[cc] else 0) and cq[b, d] == b_dir[b, d]
                        and cq[b, 0] + cq[b, 1] < depth):  # fmt: skip
                    cq[b, d] += 1
                    cq_t[j] = ta
                    ch_cq[cc] += 1
                    if d:
                        ch_batch[cc] -= 1
                        if ch_batch[cc] <= 0:
                            ch_wmode[cc] = False
                            _reads_follow(cc, NB, ta, q, qlen, wr, adm, cq, cq_t, depth, occ,
                                          ch_cq, last_free)  # fmt: skip
                else:
                    occ[cc, d] += 1
            elif buf != 0 and b_dir[b, d] >= (wdepth if d else depth):  # in the transaction queue
                occ[cc, d if buf == 1 else 0] += 1
            b_dir[b, d] += 1
            if ch_cnt[cc] == 0:
                ch_oldest[cc] = ta
            ch_cnt[cc] += 1
            if d:
                ch_wr[cc] += 1
            else:
                ch_rd[cc] += 1
            nxt += 1
            continue
        if cbest < 0:
            out[S_END] = -1.0  # cannot happen: nothing admitted and nothing to schedule
            return

        cc = cbest
        T = td
        # ---------------------------------------------------------------- refresh due by T
        if refp != 0:
            for rr in range(NR):
                rk_i = cc * NR + rr
                base = cc * NB + rr * NB_R
                while ref_next[rk_i] <= T:
                    t_due = ref_next[rk_i]
                    ref_next[rk_i] += interval
                    owed[rk_i] += 1
                    max_owed = max(max_owed, owed[rk_i])
                    b0, nb = _refresh_target(refp, base, ref_rr[rk_i], NB_R)
                    if _busy_rank(q, qlen, adm, b0, nb, t_due):
                        if owed[rk_i] > maxpost:  # forced
                            _refresh_next(refp, rk_i, base, NB_R, t_due, tim, open_row,
                                          b_pre_ready, b_act_ready, b_act_id, act_end, ref_rr,
                                          counts)  # fmt: skip
                            owed[rk_i] -= 1
                            ref_blocked += 1
                    else:  # idle: repay owed refreshes and pull in while still idle
                        t = t_due
                        while owed[rk_i] > -maxpull:
                            t = _refresh_next(refp, rk_i, base, NB_R, t, tim, open_row,
                                              b_pre_ready, b_act_ready, b_act_id, act_end,
                                              ref_rr, counts)  # fmt: skip
                            owed[rk_i] -= 1
                            min_owed = min(min_owed, owed[rk_i])
                            b0, nb = _refresh_target(refp, base, ref_rr[rk_i], NB_R)
                            if _busy_rank(q, qlen, adm, b0, nb, t):
                                break

        # ---------------------------------------------------------------- write-drain mode
        serve = -1  # direction served (-1: both)
        if mv:
            w = occ[cc, 1]
            if (
                not ch_wmode[cc]
                and w > 0
                and (w >= wm_hi or (ch_cq[cc] == 0 and (w >= wm_idle or ta == INF)))
            ):
                ch_wmode[cc] = True
                ch_batch[cc] = w
                for bb in range(NB):
                    b = cc * NB + bb
                    m = _move_in(b, 1, T, q, qlen, wr, adm, cq, cq_t, depth, ch_batch[cc])
                    ch_batch[cc] -= m
                    occ[cc, 1] -= m
                    ch_cq[cc] += m
                last_free[cc, 1] = T
                if ch_batch[cc] <= 0:  # the whole batch moved: reads move in again
                    ch_wmode[cc] = False
                    _reads_follow(cc, NB, T, q, qlen, wr, adm, cq, cq_t, depth, occ, ch_cq,
                                  last_free)  # fmt: skip
        elif watermark:
            if ch_wmode[cc] and (ch_batch[cc] <= 0 or ch_wr[cc] == 0):
                ch_wmode[cc] = False
                ch_mode_t[cc] = T
            if not ch_wmode[cc] and ch_wr[cc] > 0:
                # a drain serves the writes above the low watermark when the high one is
                # reached, or every buffered write when no read waits (once at least wm_idle
                # are buffered, or the trace has no more requests)
                batch = 0
                if ch_wr[cc] >= wm_hi:
                    batch = ch_wr[cc] - wm_lo
                elif ch_rd[cc] == 0 and (ch_wr[cc] >= wm_idle or ta == INF):
                    batch = ch_wr[cc]
                if batch > 0:
                    ch_wmode[cc] = True
                    ch_mode_t[cc] = T
                    ch_batch[cc] = batch
                    for bb in range(NB):  # reads already at their banks still issue
                        b = cc * NB + bb
                        drain_reads[b] = min(b_dir[b, 0], depth)
            serve = 1 if ch_wmode[cc] else 0
            if serve == 0 and ch_rd[cc] == 0:
                continue  # a drain just ended below the idle threshold: hold the rest

        # ---------------------------------------------------------------- pick a request
        best_r = -1
        best_b = -1
        best_k = -1
        best_cas = INF
        best_pre = -1
        best_act = -1
        best_turn = NB
        for bb in range(NB):
            b = cc * NB + bb
            L = qlen[b]
            if L == 0:
                continue
            orow = open_row[b]
            capped = hitcap > 0 and b_hits[b] >= hitcap
            # during a drain, reads already in the bank's command queue issue first (they are
            # ahead of the writes moved in for the drain)
            want = 0 if serve == 1 and drain_reads[b] > 0 else serve
            first_k = -1
            hit_k = -1
            grp_k = -1
            seen_rd = 0
            seen_wr = 0
            # the requests a bank can schedule, per direction: its command queue's (a moving
            # drain fills it per direction; behind a transaction queue, its oldest ``depth``)
            if mv:
                lim_rd, lim_wr = cq[b, 0], cq[b, 1]
            else:
                lim_rd = lim_wr = depth if depth > 0 else L
            for jq in range(L):
                r = q[b, jq]
                if adm[r] > T:
                    break
                if wr[r]:
                    seen_wr += 1
                    if seen_wr > lim_wr:
                        continue  # still in the write buffer or transaction queue
                else:
                    seen_rd += 1
                    if seen_rd > lim_rd:
                        continue
                if mv:
                    # DRAMsim3 appends an entry when it moves in, so its queue is served in the
                    # order entries moved in (reads that waited out a drain queue behind the
                    # writes it moved), then admitted; no early exit
                    if first_k < 0 or cq_t[r] < cq_t[q[b, first_k]]:
                        first_k = jq
                    if row[r] == orow and (hit_k < 0 or cq_t[r] < cq_t[q[b, hit_k]]):
                        hit_k = jq
                    continue
                if serve >= 0 and wr[r] != want:
                    continue
                if first_k < 0:
                    first_k = jq
                    if sched == FIFO or orow < 0:
                        break
                if row[r] == orow:
                    if hit_k < 0:
                        hit_k = jq
                        if sched != FRFCFS_GRP:
                            break
                    if sched == FRFCFS_GRP and not capped and wr[r] == ch_last_wr[cc]:
                        hazard = False
                        for jj in range(jq):
                            r2 = q[b, jj]
                            if row[r2] == orow and col[r2] == col[r]:
                                hazard = True
                                break
                        if not hazard:
                            grp_k = jq
                            break
            if first_k < 0:
                continue
            # a row that served max_row_hits accesses no longer puts its hits before an older
            # miss, but, as DRAMsim3 arbitrates a precharge only once it could issue, a hit that
            # can issue before the miss's precharge still goes first
            late_k = -1
            if capped:
                k = first_k
                if hit_k >= 0 and row[q[b, first_k]] != orow:
                    late_k = hit_k
            else:
                k = grp_k if grp_k >= 0 else (hit_k if hit_k >= 0 else first_k)
            wall = INF
            k0 = c0 = p0 = a0 = -1
            for attempt in range(2 if late_k >= 0 else 1):
                if attempt == 1:
                    k = late_k
                r = q[b, k]
                rk_i = cc * NR + rank[r]
                g_i = cc * NR * NBG_R + bgk[r]
                # the bank prepares its next access once the request is here and its previous
                # column command has issued (and, batching writes, once its direction is served)
                t0 = max(adm[r], b_last_cas[b] + 1)
                if mv:
                    t0 = max(t0, cq_t[r])
                if watermark and wr[r] == serve:  # the direction served since the last switch
                    t0 = max(t0, ch_mode_t[cc])
                t_pre = -1
                t_act = -1
                if orow == row[r]:
                    t_c = max(t0, b_cas_ready[b])
                else:
                    if orow >= 0:
                        t_pre = max(t0, b_pre_ready[b])
                        t_a = t_pre + t_rp
                    else:
                        t_a = t0
                    t_a = max(t_a, b_act_ready[b])
                    t_a = max(t_a, r_last_act[rk_i] + t_rrds)
                    t_a = max(t_a, g_last_act[g_i] + t_rrdl)
                    t_a = max(t_a, faw[rk_i, faw_pos[rk_i]] + t_faw)
                    t_act = t_a
                    t_c = t_a + t_rcd
                t_c = max(t_c, r_last_cas[rk_i] + t_ccds)
                t_c = max(t_c, g_last_cas[g_i] + t_ccdl)
                t_c = max(t_c, ch_next[cc])
                latency = t_cwl if wr[r] else t_cl
                if bus_used[cc]:
                    if bus_last_rank[cc] != rank[r]:
                        t_c = max(t_c, bus_free[cc] + t_rtrs - latency)
                    else:
                        t_c = max(t_c, bus_free[cc] - latency)
                        if wr[r]:
                            t_c = max(t_c, last_rd_cas[cc] + t_rtw)
                if not wr[r]:
                    t_c = max(t_c, r_last_wr_end[rk_i] + t_wtrs)
                    t_c = max(t_c, g_last_wr_end[g_i] + t_wtrl)
                if attempt == 0 and late_k >= 0:
                    wall = t_pre  # the miss's precharge
                    k0, c0, p0, a0 = k, t_c, t_pre, t_act
                elif attempt == 1 and t_c >= wall:  # the precharge could issue first: the miss
                    k, t_c, t_pre, t_act = k0, c0, p0, a0
                    r = q[b, k]
            if t_c > best_cas:
                continue
            if round_robin:  # ties: the bank soonest after the last one served
                turn = (bb - rr_last[cc] - 1) % NB
                if t_c == best_cas and turn >= best_turn:
                    continue
                best_turn = turn
            elif t_c == best_cas and r >= best_r:  # ties: the oldest request
                continue
            best_cas = t_c
            best_r = r
            best_b = b
            best_k = k
            best_pre = t_pre
            best_act = t_act

        # ---------------------------------------------------------------- commit
        r = best_r
        b = best_b
        t_c = best_cas
        rk_i = cc * NR + rank[r]
        g_i = cc * NR * NBG_R + bgk[r]
        if best_pre >= 0:
            t_p = _cmd_slot(cmd_ring, cc, best_pre)
            n_pre += 1
            conflicts += 1
            act_end[b_act_id[b]] = t_p
            b_act_id[b] = -1
            best_act = max(best_act, t_p + t_rp)
        if best_act >= 0:
            t_a = _cmd_slot(cmd_ring, cc, best_act)
            n_act += 1
            faw[rk_i, faw_pos[rk_i]] = t_a
            faw_pos[rk_i] = (faw_pos[rk_i] + 1) % 4
            r_last_act[rk_i] = max(r_last_act[rk_i], t_a)
            g_last_act[g_i] = max(g_last_act[g_i], t_a)
            open_row[b] = row[r]
            b_act_ready[b] = t_a + t_rc
            b_cas_ready[b] = t_a + t_rcd
            b_pre_ready[b] = t_a + t_ras
            b_hits[b] = 0
            act_start[n_acts] = t_a
            act_end[n_acts] = INF
            act_rk[n_acts] = rk_i
            b_act_id[b] = n_acts
            n_acts += 1
            t_c = max(t_c, t_a + t_rcd)
        else:
            hits += 1
        t_c = _cmd_slot(cmd_ring, cc, t_c)
        rr_last[cc] = b - cc * NB
        b_hits[b] += 1
        b_last_cas[b] = t_c
        r_last_cas[rk_i] = t_c
        g_last_cas[g_i] = t_c
        ch_next[cc] = t_c + 1
        latency = t_cwl if wr[r] else t_cl
        data_end = t_c + latency + burst
        if bus_used[cc] and bus_last_wr[cc] != wr[r]:
            turnarounds += 1
        bus_free[cc] = data_end
        bus_last_wr[cc] = wr[r]
        bus_last_rank[cc] = rank[r]
        bus_used[cc] = True
        ch_last_wr[cc] = wr[r]
        if watermark and not mv and ch_wmode[cc]:
            if wr[r]:
                ch_batch[cc] -= 1
            else:
                drain_reads[b] -= 1
        if wr[r]:
            n_wr += 1
            r_last_wr_end[rk_i] = data_end
            g_last_wr_end[g_i] = data_end
            b_pre_ready[b] = max(b_pre_ready[b], data_end + t_wr)
        else:
            n_rd += 1
            last_rd_cas[cc] = t_c
            b_pre_ready[b] = max(b_pre_ready[b], t_c + t_rtp)
        done[r] = data_end

        # leave the buffer: a slot of the request's class frees at its column command (behind a
        # transaction queue: the next request of its bank and direction moves up to the bank)
        d = wr[r]
        L = qlen[b]
        for jq in range(best_k, L - 1):
            q[b, jq] = q[b, jq + 1]
        qlen[b] = L - 1
        if buf == 0:
            last_free[b, 0] = t_c
        elif mv:
            cq[b, d] -= 1
            ch_cq[cc] -= 1
        elif b_dir[b, d] > (wdepth if d else depth):
            fd = d if buf == 1 else 0
            occ[cc, fd] -= 1
            last_free[cc, fd] = t_c
        b_dir[b, d] -= 1
        if mv:  # the freed command-queue entry takes the bank's next write (draining) or read
            dd = 1 if ch_wmode[cc] else 0
            m = _move_in(b, dd, t_c, q, qlen, wr, adm, cq, cq_t, depth,
                         ch_batch[cc] if dd else n)  # fmt: skip
            occ[cc, dd] -= m
            ch_cq[cc] += m
            if m > 0:
                last_free[cc, dd] = t_c
            if dd:
                ch_batch[cc] -= m
                if ch_batch[cc] <= 0 or occ[cc, 1] == 0:  # the batch has moved: reads follow
                    ch_wmode[cc] = False
                    _reads_follow(cc, NB, t_c, q, qlen, wr, adm, cq, cq_t, depth, occ, ch_cq,
                                  last_free)  # fmt: skip
        ch_cnt[cc] -= 1
        if d:
            ch_wr[cc] -= 1
        else:
            ch_rd[cc] -= 1
        oldest = INF
        for bb in range(NB):
            b2 = cc * NB + bb
            if qlen[b2] > 0 and adm[q[b2, 0]] < oldest:
                oldest = adm[q[b2, 0]]
        ch_oldest[cc] = oldest

        # page policy
        close = page == 2
        if page == 1 or page == 3:
            further_hit = False
            further_any = False
            for jq in range(qlen[b]):
                r2 = q[b, jq]
                if adm[r2] > t_c:
                    break
                further_any = True
                if row[r2] == row[r]:
                    further_hit = True
                    break
            close = (not further_hit and further_any) if page == 1 else (not further_hit)
        if close_after > 0 and b_hits[b] >= close_after:  # capped: close after N accesses
            close = True
        if close:  # auto-precharge: no command-bus slot
            tp = b_pre_ready[b]
            n_pre += 1
            act_end[b_act_id[b]] = tp
            b_act_id[b] = -1
            open_row[b] = -1
            b_act_ready[b] = max(b_act_ready[b], tp + t_rp)

        # responses
        rsp = max(data_end, ch_last_resp[cc])
        ch_last_resp[cc] = rsp
        fifo_resp[r] = rsp
        scheduled[r] = True
        if respq == 0 and arb != 2:
            resp[r] = rsp + arb_bw + arb_stage
            known[r] = True
        while pfx < n and scheduled[pfx]:
            i = pfx
            if respq == 1:
                rc = max(done[i], ch_run[chn[i]])
                ch_run[chn[i]] = rc
            else:
                rc = fifo_resp[i]
            ri = rc + arb_bw + arb_stage
            if arb == 2:
                ri = max(ri, glob_run)
                glob_run = ri
            resp[i] = ri
            known[i] = True
            pfx += 1
        n_done += 1

    # -------------------------------------------------------------------- wrap up
    t_end = np.int64(0)
    for i in range(n):
        if resp[i] > t_end:
            t_end = resp[i]
    if refp != 0:  # refreshes due before the end are done (idle), none pulled in
        for rk_i in range(nrt):
            cc = rk_i // NR
            base = cc * NB + (rk_i % NR) * NB_R
            while ref_next[rk_i] <= t_end:
                owed[rk_i] += 1
                t_due = ref_next[rk_i]
                ref_next[rk_i] += interval
                while owed[rk_i] > 0:
                    _refresh_next(refp, rk_i, base, NB_R, t_due, tim, open_row, b_pre_ready,
                                  b_act_ready, b_act_id, act_end, ref_rr, counts)  # fmt: skip
                    owed[rk_i] -= 1
    for b in range(nbt):
        if b_act_id[b] >= 0:
            act_end[b_act_id[b]] = max(t_end, act_start[b_act_id[b]])
    # union of open intervals per rank, ACTs sorted by start per rank
    order = np.argsort(act_start[:n_acts], kind="mergesort")
    run_s = np.full(nrt, -INF, np.int64)
    run_e = np.full(nrt, -INF, np.int64)
    active = np.int64(0)
    for oi in range(n_acts):
        a = order[oi]
        rk_i = act_rk[a]
        s = act_start[a]
        e = min(act_end[a], t_end)
        if s > run_e[rk_i]:
            if run_e[rk_i] > run_s[rk_i]:
                active += run_e[rk_i] - run_s[rk_i]
            run_s[rk_i] = s
            run_e[rk_i] = e
        elif e > run_e[rk_i]:
            run_e[rk_i] = e
    for rk_i in range(nrt):
        if run_e[rk_i] > run_s[rk_i]:
            active += run_e[rk_i] - run_s[rk_i]

    latv = np.empty(n, np.float64)
    n_reads = 0
    for i in range(n):
        latv[i] = resp[i] - arr[i]
        if not wr[i]:
            n_reads += 1
    rlat = np.empty(n_reads, np.float64)
    wlat = np.empty(n - n_reads, np.float64)
    rctl = np.empty(n_reads, np.float64)
    ctl = np.empty(n, np.float64)
    ir = 0
    iw = 0
    for i in range(n):
        ctl[i] = resp[i] - adm[i]
        if wr[i]:
            wlat[iw] = latv[i]
            iw += 1
        else:
            rlat[ir] = latv[i]
            rctl[ir] = ctl[i]
            ir += 1
    if keep_lat:
        lat[:] = latv
    out[S_LAT_MAX] = latv.max()
    _quantiles(latv, out, S_LAT_MEAN, S_LAT_P95, S_LAT_P99)
    _quantiles(rlat, out, S_RLAT_MEAN, S_RLAT_P95, S_RLAT_P99)
    _quantiles(wlat, out, S_WLAT_MEAN, -1, -1)
    _quantiles(rctl, out, S_RCTL_MEAN, -1, -1)
    _quantiles(ctl, out, S_CTL_MEAN, -1, -1)
    out[S_ACT] = n_act
    out[S_PRE] = n_pre + counts[0]
    out[S_RD] = n_rd
    out[S_WR] = n_wr
    out[S_REF_AB] = counts[1]
    out[S_REF_PB] = counts[2]
    out[S_HITS] = hits
    out[S_CONFLICTS] = conflicts
    out[S_ACTIVE] = active
    out[S_END] = t_end
    out[S_START] = arr[0]
    out[S_REF_BLOCKED] = ref_blocked
    out[S_TURNAROUNDS] = turnarounds
    out[S_BUF_FULL] = n_full
    out[S_MAX_OWED] = max_owed
    out[S_MIN_OWED] = min_owed


@njit(cache=True, nogil=True)
def simulate_range(
    arr, wr, chn, bank, bgk, rank, row, col, tim, org, configs, stats, lat, keep_lat, lo, hi
):
    """Configurations ``lo .. hi`` (rows of ``configs``) over the same decoded trace. Releases the
    GIL, so ranges run in parallel on Python threads (fork-safe, unlike an OpenMP pool)."""
    for i in range(lo, hi):
        simulate_one(
            arr,
            wr,
            chn,
            bank,
            bgk,
            rank,
            row,
            col,
            tim,
            org,
            configs[i],
            stats[i],
            lat[i] if keep_lat else lat[0],
            keep_lat,
        )
