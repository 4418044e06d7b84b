"""Active learning: spend the simulation budget where the surrogate is unsure or a design promises.

:func:`active_learning_curve` grows a training set to each budget of a list and scores the
surrogate on a fixed test set at every step, so acquisitions compare at equal simulation cost:

* ``"random"`` / ``"sobol"``: the budget's designs drawn uniformly / from a scrambled Sobol sequence;
* ``"uncertainty"``: from a Sobol start, each step simulates the pool designs with the widest
  predicted interval (mean standardised std over the metrics);
* ``"ei"``: each step simulates the pool designs of highest expected improvement on one metric
  (a model of the optimiser's use: accuracy where the good designs are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from .._errors import ArchGymError, unknown_name
from ._data import Dataset, dataset_from_env
from ._fit import fit_surrogate

ACQUISITIONS = ("random", "sobol", "uncertainty", "ei")


def active_learning_curve(core: Any, test: Dataset, *, acquisition: str = "uncertainty",
                          budgets: Sequence[int] = (64, 128, 256, 512), family: str = "et",
                          metric: str | None = None, pool: int = 4096, seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Scores of surrogates trained on ``budgets[i]`` simulated designs, chosen by ``acquisition``.

    Args:
        core: the env core whose simulator labels the chosen designs (``EnvCore``).
        test: held-out rows the surrogates are scored on.
        acquisition: one of :data:`ACQUISITIONS`.
        budgets: increasing simulation budgets; the first is the Sobol start of active acquisitions.
        family: the surrogate family refitted at every step (no cross-validation inside the loop).
        metric: the metric reported (and maximised by ``"ei"``); default the first metric.
        pool: candidate designs the active acquisitions choose from.
        seed: seeds sampling and models.

    Returns:
        One row per budget: ``acquisition``, ``budget``, ``metric``, and the metric's ``nrmse``,
        ``kendall_tau``, ``top_k_recall`` and ``coverage_90`` on ``test``, and ``best`` (the best
        true value among the simulated designs).
    """
    if acquisition not in ACQUISITIONS:
        raise ArchGymError(unknown_name("acquisition", acquisition, ACQUISITIONS))
    budgets = [int(b) for b in budgets]
    if (
        not budgets
        or budgets[0] < 2
        or any(b <= a for a, b in zip(budgets, budgets[1:], strict=False))
    ):
        raise ArchGymError(
            f"budgets: got {budgets}; expected increasing numbers of designs, the first >= 2"
        )
    metric = metric or core.metric_names[0]
    if metric not in core.metric_names:
        raise ArchGymError(unknown_name("metric", metric, core.metric_names))
    j = core.metric_names.index(metric)
    maximize = core.metric_specs[j].direction == "maximize"
    space = core.space
    rows: list[dict[str, Any]] = []

    def record(data: Dataset, budget: int) -> None:
        model = fit_surrogate(data, family, seed=seed, cv=0)
        s = model.score(test)[metric]
        y = data.metrics[metric]
        rows.append({"acquisition": acquisition, "budget": budget, "metric": metric,
                     "nrmse": s["nrmse"], "kendall_tau": s["kendall_tau"],
                     "top_k_recall": s["top_k_recall"], "coverage_90": s["coverage_90"],
                     "best": float(y.max() if maximize else y.min())})  # fmt: skip
        return model

    if acquisition in ("random", "sobol"):
        method = "uniform" if acquisition == "random" else "sobol"
        for budget in budgets:
            record(dataset_from_env(core, budget, seed=seed, method=method), budget)
        return rows

    candidates = space.sample(pool, seed=seed + 1, method="uniform")
    taken = np.zeros(pool, dtype=bool)
    data = dataset_from_env(core, budgets[0], seed=seed, method="sobol")
    model = record(data, budgets[0])
    for budget in budgets[1:]:
        want = budget - len(data)
        free = np.flatnonzero(~taken)
        if want > len(free):
            raise ArchGymError(f"pool: {pool} candidates cannot fill budget {budget}; raise pool")
        batch = {k: v[free] for k, v in candidates.items()}
        pred = model.predict(batch, core.workload)
        if acquisition == "uncertainty":
            gain = (pred["std"] / model.y_std[: pred["std"].shape[1]]).mean(axis=1)
        else:
            gain = _expected_improvement(pred, data, j, model.transforms[j], maximize)
        chosen = free[np.argsort(-gain, kind="stable")[:want]]
        taken[chosen] = True
        new = dataset_from_env(core, 0, designs={k: v[chosen] for k, v in candidates.items()})
        data = data.concat(new)
        model = record(data, budget)
    return rows


def _expected_improvement(pred: dict[str, np.ndarray], data: Dataset, j: int, transform: str,
                          maximize: bool) -> np.ndarray:  # fmt: skip
    """EI over the best simulated value of metric ``j``, in the surrogate's target space."""
    y = data.targets()[:, j]
    t = np.log(y) if transform == "log" else y
    mu = np.log(pred["mean"][:, j]) if transform == "log" else pred["mean"][:, j]
    sigma = np.maximum(pred["std"][:, j], 1e-12)
    improve = (mu - t.max()) if maximize else (t.min() - mu)
    z = improve / sigma
    return improve * norm.cdf(z) + sigma * norm.pdf(z)
