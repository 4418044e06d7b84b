"""The memory-controller loop, compiled with numba: one pass over a trace per configuration.

Model (times are integer clock cycles of the device):

* **Front end.** Requests are admitted in trace order (one initiator, like DRAMSys's trace
  players): after the arbiter's forward delay and the controller's think delay; the Fifo and
  Reorder arbiters take one request per cycle and keep at most ``max_active_transactions``
  outstanding (a request enters only once the response of the one ``max_active_transactions``
  earlier has left); a request waits while its buffer class is full (per bank, per direction or
  shared) and takes the slot when the previous occupant's column command issues.
* **Scheduling.** One decision at a time per channel: each bank offers one buffered request,
  the oldest (Fifo), the oldest row hit else the oldest (FrFcfs), or the oldest row hit of the
  same direction as the last column command else FrFcfs's choice (FrFcfsGrp, skipping a hit
  that would overtake an earlier access to the same column); among the banks' offers the one
  whose column command can issue first wins, ties to the oldest (DRAMSys's "Oldest" command
  multiplexer). Its PRE, ACT and RD/WR issue at their earliest legal cycles and the next decision
  happens no earlier than its first command, so activations to other banks overlap its transfer.
* **Timing.** Per bank: tRCD, tRP, tRAS, tRC, tRTP, tWR; per rank: tRRD_S, tFAW (a window of the
  last four ACTs), tCCD_S, tWTR_S; per bank group: tRRD_L, tCCD_L, tWTR_L; per channel: the data
  bus (bursts in issue order, 2 cycles read-to-write turnaround, tRTRS between ranks). ACTs and
  column commands issue in decision order. The command bus is not modelled as a resource.
* **Page policy** after each access: Open keeps the row; Closed precharges (auto-precharge at the
  earliest legal cycle); OpenAdaptive precharges when no buffered request hits the row but another
  one waits for the bank; ClosedAdaptive precharges unless a buffered request hits the row.
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
of each rank was open (for background power), the end time and the latency distribution.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Indices into the timing vector.
CL, CWL, RCD, RP, RAS, RC, CCD_S, CCD_L, RRD_S, RRD_L, FAW, WR, WTR_S, WTR_L, RTP, RTRS = range(16)
RFC, REFI, RFCPB, REFIPB, BURST, ARB_FW, ARB_BW, THINK_FW = range(16, 24)
N_TIMING = 24

# Columns of the configuration matrix (categorical knobs as their index in arch.py's tuples).
PAGE, SCHED, BUF, RBS, RESPQ, REFP, MAXPOST, MAXPULL, ARB, MAT = range(10)
N_CONFIG = 10

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
) = range(16)
N_STATS = 16

INF = np.int64(1) << np.int64(61)


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


@njit(cache=True, nogil=True)
def simulate_one(arr, wr, chn, bank, bgk, rank, row, col, tim, org, c, out, lat, keep_lat):
    """Simulate one controller configuration ``c`` over the decoded trace; fill ``out`` (stats)."""
    n = arr.shape[0]
    NCH, NB, NR, NBG_R, NB_R = org[0], org[1], org[2], org[3], org[4]
    page, sched, buf, rbs, respq = c[PAGE], c[SCHED], c[BUF], c[RBS], c[RESPQ]
    refp, maxpost, maxpull, arb, mat = c[REFP], c[MAXPOST], c[MAXPULL], c[ARB], c[MAT]
    t_cl, t_cwl, t_rcd, t_rp, t_ras, t_rc = tim[CL], tim[CWL], tim[RCD], tim[RP], tim[RAS], tim[RC]
    t_ccds, t_ccdl, t_rrds, t_rrdl, t_faw = tim[CCD_S], tim[CCD_L], tim[RRD_S], tim[RRD_L], tim[FAW]
    t_wr, t_wtrs, t_wtrl, t_rtp, t_rtrs = tim[WR], tim[WTR_S], tim[WTR_L], tim[RTP], tim[RTRS]
    burst, arb_fw, arb_bw, think = tim[BURST], tim[ARB_FW], tim[ARB_BW], tim[THINK_FW]
    arb_stage = 1 if arb != 0 else 0

    nbt = NCH * NB
    nrt = NCH * NR
    ngt = NCH * NR * NBG_R
    qcap = 2 * rbs if buf == 1 else rbs  # a bank may hold every entry of its buffer class
    q = np.empty((nbt, qcap), np.int64)
    qlen = np.zeros(nbt, np.int64)
    ch_cnt = np.zeros(NCH, np.int64)
    ch_rd = np.zeros(NCH, np.int64)
    ch_wr = np.zeros(NCH, np.int64)
    ch_oldest = np.full(NCH, INF, np.int64)
    slot_free = np.zeros(max(nbt, 2 * NCH), np.int64)

    open_row = np.full(nbt, -1, np.int64)
    b_act_ready = np.zeros(nbt, np.int64)
    b_pre_ready = np.zeros(nbt, np.int64)
    b_cas_ready = np.zeros(nbt, np.int64)
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
    ch_now = np.zeros(NCH, np.int64)
    ch_last_resp = np.zeros(NCH, np.int64)
    ch_last_wr = np.zeros(NCH, np.int64)
    ch_run = np.zeros(NCH, np.int64)

    interval = tim[REFI] if refp == 1 else tim[REFIPB]
    ref_next = np.full(nrt, arr[0] + interval, np.int64)
    owed = np.zeros(nrt, np.int64)
    ref_rr = np.zeros(nrt, np.int64)

    act_start = np.empty(n, np.int64)
    act_end = np.empty(n, np.int64)
    act_rk = np.empty(n, np.int64)
    n_acts = 0

    adm = np.full(n, INF, np.int64)
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

    nxt = 0
    last_adm = -INF
    n_done = 0
    pfx = 0
    glob_run = np.int64(0)

    while n_done < n:
        # ---------------------------------------------------------------- next admission
        ta = INF
        if nxt < n:
            ta = arr[nxt] + arb_fw + think
            if arb != 0:
                ta = max(ta, last_adm + 1)
                k = nxt - mat
                if k >= 0:
                    ta = max(ta, resp[k]) if known[k] else INF
            if ta < INF:
                cc = chn[nxt]
                b = cc * NB + bank[nxt]
                if buf == 0:
                    cls = b
                    full = qlen[b] >= rbs
                elif buf == 1:
                    cls = 2 * cc + wr[nxt]
                    full = (ch_wr[cc] if wr[nxt] else ch_rd[cc]) >= rbs
                else:
                    cls = cc
                    full = ch_cnt[cc] >= rbs
                ta = INF if full else max(ta, slot_free[cls])

        # ---------------------------------------------------------------- next decision
        td = INF
        cbest = -1
        for cc in range(NCH):
            if ch_cnt[cc] > 0:
                t = max(ch_now[cc], ch_oldest[cc])
                if t < td:
                    td = t
                    cbest = cc

        if ta < INF and ta <= td:
            j = nxt
            cc = chn[j]
            b = cc * NB + bank[j]
            adm[j] = ta
            last_adm = ta
            q[b, qlen[b]] = j
            qlen[b] += 1
            if ch_cnt[cc] == 0:
                ch_oldest[cc] = ta
            ch_cnt[cc] += 1
            if wr[j]:
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
                    b0, nb = _refresh_target(refp, base, ref_rr[rk_i], NB_R)
                    if _busy_rank(q, qlen, adm, b0, nb, t_due):
                        if owed[rk_i] > maxpost:  # forced
                            _refresh_next(
                                refp,
                                rk_i,
                                base,
                                NB_R,
                                t_due,
                                tim,
                                open_row,
                                b_pre_ready,
                                b_act_ready,
                                b_act_id,
                                act_end,
                                ref_rr,
                                counts,
                            )
                            owed[rk_i] -= 1
                            ref_blocked += 1
                    else:  # idle: repay owed refreshes and pull in while still idle
                        t = t_due
                        while owed[rk_i] > -maxpull:
                            t = _refresh_next(
                                refp,
                                rk_i,
                                base,
                                NB_R,
                                t,
                                tim,
                                open_row,
                                b_pre_ready,
                                b_act_ready,
                                b_act_id,
                                act_end,
                                ref_rr,
                                counts,
                            )
                            owed[rk_i] -= 1
                            b0, nb = _refresh_target(refp, base, ref_rr[rk_i], NB_R)
                            if _busy_rank(q, qlen, adm, b0, nb, t):
                                break

        # ---------------------------------------------------------------- pick a request
        best_r = -1
        best_b = -1
        best_k = -1
        best_cas = INF
        best_pre = -1
        best_act = -1
        for bb in range(NB):
            b = cc * NB + bb
            L = qlen[b]
            if L == 0 or adm[q[b, 0]] > T:
                continue
            k = 0
            orow = open_row[b]
            if sched != 0 and orow >= 0:
                hit_k = -1
                grp_k = -1
                for jq in range(L):
                    r = q[b, jq]
                    if adm[r] > T:
                        break
                    if row[r] == orow:
                        if hit_k < 0:
                            hit_k = jq
                            if sched == 1:
                                break
                        if sched == 2 and wr[r] == ch_last_wr[cc]:
                            hazard = False
                            for jj in range(jq):
                                r2 = q[b, jj]
                                if row[r2] == orow and col[r2] == col[r]:
                                    hazard = True
                                    break
                            if not hazard:
                                grp_k = jq
                                break
                if grp_k >= 0:
                    k = grp_k
                elif hit_k >= 0:
                    k = hit_k
            r = q[b, k]
            rk_i = cc * NR + rank[r]
            g_i = cc * NR * NBG_R + bgk[r]
            t_pre = -1
            t_act = -1
            if orow == row[r]:
                t_c = max(T, b_cas_ready[b])
            else:
                if orow >= 0:
                    t_pre = max(T, b_pre_ready[b])
                    t_a = t_pre + t_rp
                else:
                    t_a = T
                t_a = max(t_a, b_act_ready[b])
                t_a = max(t_a, r_last_act[rk_i] + t_rrds)
                t_a = max(t_a, g_last_act[g_i] + t_rrdl)
                t_a = max(t_a, faw[rk_i, faw_pos[rk_i]] + t_faw)
                t_act = t_a
                t_c = t_a + t_rcd
            t_c = max(t_c, r_last_cas[rk_i] + t_ccds)
            t_c = max(t_c, g_last_cas[g_i] + t_ccdl)
            latency = t_cwl if wr[r] else t_cl
            gap = 0
            if bus_used[cc]:
                if bus_last_rank[cc] != rank[r]:
                    gap = t_rtrs
                elif wr[r] and not bus_last_wr[cc]:
                    gap = 2
            t_c = max(t_c, bus_free[cc] + gap - latency)
            if not wr[r]:
                t_c = max(t_c, r_last_wr_end[rk_i] + t_wtrs)
                t_c = max(t_c, g_last_wr_end[g_i] + t_wtrl)
            if t_c < best_cas or (t_c == best_cas and r < best_r):
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
            n_pre += 1
            conflicts += 1
            act_end[b_act_id[b]] = best_pre
            b_act_id[b] = -1
        if best_act >= 0:
            t_a = best_act
            n_act += 1
            faw[rk_i, faw_pos[rk_i]] = t_a
            faw_pos[rk_i] = (faw_pos[rk_i] + 1) % 4
            r_last_act[rk_i] = t_a
            g_last_act[g_i] = t_a
            open_row[b] = row[r]
            b_act_ready[b] = t_a + t_rc
            b_cas_ready[b] = t_a + t_rcd
            b_pre_ready[b] = t_a + t_ras
            act_start[n_acts] = t_a
            act_end[n_acts] = INF
            act_rk[n_acts] = rk_i
            b_act_id[b] = n_acts
            n_acts += 1
        else:
            hits += 1
        r_last_cas[rk_i] = t_c
        g_last_cas[g_i] = t_c
        latency = t_cwl if wr[r] else t_cl
        data_end = t_c + latency + burst
        bus_free[cc] = data_end
        bus_last_wr[cc] = wr[r]
        bus_last_rank[cc] = rank[r]
        bus_used[cc] = True
        ch_last_wr[cc] = wr[r]
        if wr[r]:
            n_wr += 1
            r_last_wr_end[rk_i] = data_end
            g_last_wr_end[g_i] = data_end
            b_pre_ready[b] = max(b_pre_ready[b], data_end + t_wr)
        else:
            n_rd += 1
            b_pre_ready[b] = max(b_pre_ready[b], t_c + t_rtp)
        done[r] = data_end

        # leave the buffer
        L = qlen[b]
        for jq in range(best_k, L - 1):
            q[b, jq] = q[b, jq + 1]
        qlen[b] = L - 1
        ch_cnt[cc] -= 1
        if wr[r]:
            ch_wr[cc] -= 1
        else:
            ch_rd[cc] -= 1
        if buf == 0:
            slot_free[b] = t_c
        elif buf == 1:
            slot_free[2 * cc + wr[r]] = t_c
        else:
            slot_free[cc] = t_c
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
        if close:
            tp = b_pre_ready[b]
            n_pre += 1
            act_end[b_act_id[b]] = tp
            b_act_id[b] = -1
            open_row[b] = -1
            b_act_ready[b] = max(b_act_ready[b], tp + t_rp)

        first = best_pre if best_pre >= 0 else (best_act if best_act >= 0 else t_c)
        ch_now[cc] = max(T, first)

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
                    _refresh_next(
                        refp,
                        rk_i,
                        base,
                        NB_R,
                        t_due,
                        tim,
                        open_row,
                        b_pre_ready,
                        b_act_ready,
                        b_act_id,
                        act_end,
                        ref_rr,
                        counts,
                    )
                    owed[rk_i] -= 1
    for b in range(nbt):
        if b_act_id[b] >= 0:
            act_end[b_act_id[b]] = max(t_end, act_start[b_act_id[b]])
    # union of open intervals per rank (starts are in order per rank: ACTs issue in order)
    run_s = np.full(nrt, -INF, np.int64)
    run_e = np.full(nrt, -INF, np.int64)
    active = np.int64(0)
    for a in range(n_acts):
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
    total = 0.0
    for i in range(n):
        latv[i] = resp[i] - arr[i]
        total += latv[i]
    if keep_lat:
        lat[:] = latv
    k95 = max(0, int(np.ceil(0.95 * n)) - 1)
    k99 = max(0, int(np.ceil(0.99 * n)) - 1)
    part = np.partition(latv, k95)
    tail = np.partition(part[k95:], k99 - k95)
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
    out[S_LAT_MEAN] = total / n
    out[S_LAT_P95] = part[k95]
    out[S_LAT_P99] = tail[k99 - k95]
    out[S_LAT_MAX] = tail.max()
    out[S_START] = arr[0]
    out[S_REF_BLOCKED] = ref_blocked


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
