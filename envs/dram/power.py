"""DRAMPower-style energy from command counts and bank-state residency.

The IDD-based model of Chandrasekar et al. ("Improved power modeling of DDR SDRAMs", DSD 2011;
the DRAMPower tool), per supply rail and per device, every device of a rank switching together:

* ACT:  (IDD0 - IDD3N) x tRAS x V        PRE: (IDD0 - IDD2N) x tRP x V
* RD:   (IDD4R - IDD3N) x tBurst x V     WR:  (IDD4W - IDD3N) x tBurst x V
* REF (all-bank): (IDD5B - IDD3N) x tRFC x V; a per-bank refresh refreshes 1/banks of the rows,
  so it costs 1/banks of an all-bank refresh (the same refresh energy per tREFI either way)
* background: IDD3N x V while at least one bank of the rank is open, IDD2N x V otherwise.

I/O and termination power are not modelled (DRAMPower's core model neither); nor power-down.
"""

from __future__ import annotations

import numpy as np

from . import kernel as K

PARTS = ("act", "pre", "rd", "wr", "ref", "background")


def _rails(arch):
    rails = [
        (
            arch.vdd_v,
            arch.idd0_ma,
            arch.idd2n_ma,
            arch.idd3n_ma,
            arch.idd4r_ma,
            arch.idd4w_ma,
            arch.idd5b_ma,
        )
    ]
    if arch.vpp_v:
        rails.append(
            (
                arch.vpp_v,
                arch.ipp0_ma,
                arch.ipp2n_ma,
                arch.ipp3n_ma,
                arch.ipp4r_ma,
                arch.ipp4w_ma,
                arch.ipp5b_ma,
            )
        )
    return rails


def energy_breakdown(arch, stats: np.ndarray) -> dict[str, np.ndarray]:
    """Energy in joules per part (``PARTS``) for every row of the kernel's statistics matrix."""
    tck = arch.tck_ns * 1e-9
    devices = arch.devices_per_rank
    ranks = arch.channels * arch.ranks
    duration_ck = stats[:, K.S_END] - stats[:, K.S_START]
    active_ck = stats[:, K.S_ACTIVE]
    precharged_ck = np.maximum(duration_ck * ranks - active_ck, 0.0)
    ref_ck = stats[:, K.S_REF_AB] * arch.trfc_ck + (
        stats[:, K.S_REF_PB] * arch.trfc_ck / arch.banks_per_rank
        if arch.supports_per_bank_refresh
        else 0.0
    )
    parts = {p: np.zeros(len(stats)) for p in PARTS}
    for volts, idd0, idd2n, idd3n, idd4r, idd4w, idd5b in _rails(arch):
        scale = volts * 1e-3 * tck * devices  # mA x cycles -> J for one rank
        parts["act"] += stats[:, K.S_ACT] * (idd0 - idd3n) * arch.tras_ck * scale
        parts["pre"] += stats[:, K.S_PRE] * (idd0 - idd2n) * arch.trp_ck * scale
        parts["rd"] += stats[:, K.S_RD] * (idd4r - idd3n) * arch.burst_ck * scale
        parts["wr"] += stats[:, K.S_WR] * (idd4w - idd3n) * arch.burst_ck * scale
        parts["ref"] += ref_ck * (idd5b - idd3n) * scale
        parts["background"] += (active_ck * idd3n + precharged_ck * idd2n) * scale
    return parts
