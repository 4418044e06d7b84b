"""Accuracy of a surrogate on held-out designs: error, ranking and calibration scores.

For DSE the ranking matters as much as the error: an optimiser driven by a surrogate needs the
better design predicted better. Every score is computed per metric in the metric's SI unit.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import kendalltau

#: Scores of :func:`score_metric`, in the order tables print them.
SCORES = (
    "rmse",
    "nrmse",
    "mape",
    "kendall_tau",
    "pairwise_accuracy",
    "top_k_recall",
    "coverage_90",
)

#: Pairwise accuracy is exact up to this many rows, and estimated on a fixed sample of them beyond.
MAX_PAIR_ROWS = 4000


def rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(y)) ** 2)))


def nrmse(y: np.ndarray, pred: np.ndarray) -> float:
    """RMSE divided by the range of the true values (ArchGym's proxy-model figure)."""
    spread = float(np.max(y) - np.min(y))
    return rmse(y, pred) / spread if spread > 0 else float("nan")


def mape(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean absolute percentage error, as a fraction; rows with y == 0 are left out."""
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    nz = y != 0
    return float(np.mean(np.abs(pred[nz] / y[nz] - 1.0))) if nz.any() else float("nan")


def kendall(y: np.ndarray, pred: np.ndarray) -> float:
    """Kendall's tau-b between true and predicted values (ties handled)."""
    tau = kendalltau(y, pred).statistic
    return float(tau) if np.isfinite(tau) else float("nan")


def pairwise_accuracy(y: np.ndarray, pred: np.ndarray, seed: int = 0) -> float:
    """Share of design pairs with different true values that the prediction orders the same way."""
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    if len(y) > MAX_PAIR_ROWS:
        rows = np.random.default_rng(seed).choice(len(y), MAX_PAIR_ROWS, replace=False)
        y, pred = y[rows], pred[rows]
    agree = total = 0
    for lo in range(0, len(y), 512):  # blocks of rows keep the pair matrix small
        dy = np.sign(y[lo : lo + 512, None] - y[None, :])
        dp = np.sign(pred[lo : lo + 512, None] - pred[None, :])
        counted = dy != 0
        total += int(counted.sum())
        agree += int((counted & (dy == dp)).sum())
    return agree / total if total else float("nan")


def top_k_recall(y: np.ndarray, pred: np.ndarray, k: int, maximize: bool = False) -> float:
    """Share of the ``k`` truly best designs found among the ``k`` predicted best."""
    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    k = max(1, min(k, len(y)))
    sign = -1.0 if maximize else 1.0
    best = set(np.argsort(sign * y, kind="stable")[:k].tolist())
    found = set(np.argsort(sign * pred, kind="stable")[:k].tolist())
    return len(best & found) / k


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of true values inside their predicted interval."""
    y = np.asarray(y, dtype=float)
    return float(np.mean((y >= lower) & (y <= upper)))


def score_metric(
    y, pred, lower=None, upper=None, *, maximize: bool = False, top_k: int | None = None
) -> dict[str, float]:
    """Every score of :data:`SCORES` for one metric (``coverage_90`` needs the interval).

    ``top_k`` defaults to 1% of the rows (at least 5).
    """
    k = top_k if top_k is not None else max(5, len(y) // 100)
    out = {
        "rmse": rmse(y, pred), "nrmse": nrmse(y, pred), "mape": mape(y, pred),
        "kendall_tau": kendall(y, pred), "pairwise_accuracy": pairwise_accuracy(y, pred),
        "top_k_recall": top_k_recall(y, pred, k, maximize),
    }  # fmt: skip
    out["coverage_90"] = coverage(y, lower, upper) if lower is not None else float("nan")
    return out
