"""Every tunable knob set at once: the check the GPU and cluster models share."""

from __future__ import annotations

import numpy as np


def evaluate_every_knob(sim, options, workload, *, n: int, seed: int):
    """Evaluate ``n`` random designs that set every tunable of ``sim`` at once (values drawn
    from ``options``, which must name each one, so that a new knob joins the test), with
    details; assert finite metrics and an infeasibility reason exactly where a design is
    infeasible; return the evaluation for the model's own checks."""
    assert set(options) == set(sim.arch.tunable)  # a new knob joins this test
    rng = np.random.default_rng(seed)
    design = {k: rng.choice(np.array(v, dtype=object), n).tolist() for k, v in options.items()}
    ev = sim.evaluate(design, workload, details=True)
    for name, values in ev.metrics.items():
        assert np.isfinite(values).all(), name
    reasons = np.array(ev.details["infeasible_reason"])
    assert ((reasons == "") == ev.feasible).all()
    return ev
