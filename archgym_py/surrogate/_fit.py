"""Fitting surrogates: family selection, interval calibration, residual (hybrid, few-shot) models.

Data flow of a fit (:func:`fit_surrogate`)::

    Dataset --features--> X (standardised)        metrics --log or linear--> Y (standardised)
        cross-validation over candidate families (grouped by design) --> the best family,
        out-of-fold residuals --> a per-metric interval scale (split-conformal 90% interval)
        fit on every row --> a portable predictor (numpy arrays) --> Surrogate

A metric spanning a decade or more (max/min >= 10, all positive) is learned as its logarithm;
the others linearly. A residual surrogate (``prior=``) learns the difference between the truth
and a prior model in that target space: the hybrid of an analytical prior and a learned
correction, or few-shot transfer from a surrogate trained on another workload or architecture.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .._errors import ArchGymError, unknown_name
from ._data import Dataset, split
from ._families import FAMILIES, fit_family
from ._surrogate import (
    STD_FLOOR,
    Surrogate,
    _transform,
    choose_transforms,
    feature_names,
    features,
    prior_targets,
)

#: Families cross-validated by ``family="auto"`` (GP joins when the data is small enough for it).
AUTO_FAMILIES = ("et", "rf", "knn")

#: Two-sided 90% interval of a standard normal, used when no cross-validation calibrated it.
Z90 = 1.6448536269514722


def _folds(data: Dataset, k: int, seed: int) -> list[np.ndarray]:
    """Test rows of ``k`` folds; rows of one design share a fold."""
    keys = data.design_keys()
    order = np.random.default_rng(seed).permutation(int(keys.max()) + 1)
    fold_of_key = np.empty_like(order)
    fold_of_key[order] = np.arange(len(order)) % k
    return [np.flatnonzero(fold_of_key[keys] == f) for f in range(k)]


class _Problem:
    """Standardised features and targets of a dataset (optionally relative to a prior)."""

    def __init__(self, data: Dataset, workloads: Sequence[str], transforms: Sequence[str] | None,
                 prior_part: np.ndarray | None):  # fmt: skip
        Y = data.targets()
        self.transforms = list(transforms) if transforms is not None else choose_transforms(Y)
        T = _transform(Y, self.transforms)
        if prior_part is not None:
            T = T - prior_part
        self.learns_feasibility = bool(data.feasible.any() and not data.feasible.all())
        if self.learns_feasibility:
            T = np.concatenate([T, data.feasible[:, None].astype(float)], axis=1)
        X = features(data.space, data.designs, data.workloads, workloads)
        self.workloads = workloads
        self.x_mean, self.x_std = X.mean(axis=0), _safe_std(X)
        self.y_mean, self.y_std = T.mean(axis=0), _safe_std(T)
        self.X = (X - self.x_mean) / self.x_std
        self.Y = (T - self.y_mean) / self.y_std

    @staticmethod
    def targets_of(data: Dataset, problem: _Problem, prior: Any, prior_workload: Any,
                   affine: np.ndarray, feasibility: bool = False) -> np.ndarray:  # fmt: skip
        """Standardised metric targets of other rows, in ``problem``'s scaling (with
        ``feasibility``, also the feasibility column where the problem learns it)."""
        T = _transform(data.targets(), problem.transforms)
        if prior is not None:
            P = prior_targets(
                prior, data.designs, prior_workload, data.metric_names, problem.transforms
            )
            T = T - (affine[0] + affine[1] * P)
        if feasibility and problem.learns_feasibility:
            T = np.concatenate([T, data.feasible[:, None].astype(float)], axis=1)
        k = T.shape[1]
        return (T - problem.y_mean[:k]) / problem.y_std[:k]


def _affine_fit(P: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per column, least-squares ``T ~ offset + scale x P``; an offset alone when P is constant."""
    out = np.empty((2, P.shape[1]))
    for j in range(P.shape[1]):
        p, t = P[:, j], T[:, j]
        if len(p) >= 3 and np.ptp(p) > 0:
            A = np.stack([np.ones_like(p), p], axis=1)
            out[:, j] = np.linalg.lstsq(A, t, rcond=None)[0]
        else:
            out[:, j] = np.mean(t - p), 1.0
    return out


def _interval_scale(target: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per metric, the 90% quantile of |residual| / std: mean +- scale x std covers 90%."""
    ratio = np.abs(target - mean) / np.maximum(std, STD_FLOOR)
    # Split conformal's finite-sample level, ceil((n + 1) 0.9) / n; the 1e-9 keeps the boundary
    # row inside after the round trip through exp().
    n = len(ratio)
    level = min(1.0, np.ceil((n + 1) * 0.9) / n)
    return np.quantile(ratio, level, axis=0, method="higher") * (1 + 1e-9)


def _standardised_features(problem, data, workloads) -> np.ndarray:
    # rows of workloads the table lacks describe themselves
    X = features(data.space, data.designs, data.workloads, _with_own(workloads, data))
    return (X - problem.x_mean) / problem.x_std


def _standardised_prediction(predictor, problem, data, workloads):
    return predictor.predict(_standardised_features(problem, data, workloads))


def _safe_std(A: np.ndarray) -> np.ndarray:
    std = A.std(axis=0)
    return np.where(std > 0, std, 1.0)


def fit_surrogate(data: Dataset, family: str = "auto", *, params: Mapping[str, Any] | None = None,
                  seed: int = 0, cv: int = 3, candidates: Sequence[str] | None = None,
                  test: Dataset | None = None, calibration: Dataset | None = None, prior: Any = None, prior_workload: Any = None,
                  prior_affine: bool = False, metrics: Sequence[str] | None = None, source: str = "",
                  on_stage: Callable[[str], None] | None = None,
                  workload_encoding: str = "onehot") -> Surrogate:  # fmt: skip
    """Fit a surrogate of every metric of ``data``.

    Args:
        data: training rows (see :func:`~archgym_py.surrogate.dataset_from_trace`).
        family: a family of :data:`~archgym_py.surrogate.FAMILIES`, or ``"auto"``: the candidate
            with the lowest cross-validated error (mean RMSE of the standardised targets).
        params: the family's parameters (defaults: ``FAMILIES[name].defaults``).
        seed: seeds the folds and the models; the same seed gives the same model.
        cv: folds of the cross-validation that selects the family and calibrates the 90%
            interval; 0 or 1 skips it (the interval is then mean +- 1.645 std).
        candidates: families tried by ``"auto"`` (default :data:`AUTO_FAMILIES`, plus ``gp`` when
            the data has at most 400 rows).
        test: held-out rows; their scores go into the model card.
        calibration: held-out rows that set the 90% interval (split conformal) instead of the
            cross-validation residuals; use it with ``cv=0`` when refitting folds is too costly.
        prior: a model with the Simulator protocol; the surrogate learns the residual to it.
        prior_workload: the workload the prior is asked for (default: the prior's one workload,
            or the data's for a prior that is not a surrogate).
        prior_affine: first fit ``offset + scale x prior`` per metric by least squares (target
            space), then learn the residual to that: a prior that ranks designs well but is off
            in level and spread (another workload) then needs a few samples, not many.
        metrics: learn only these metrics (default: all); an env on the surrogate then offers
            only them, enough for an objective that uses no other.
        source: where the data came from, for the model card.
        on_stage: called with a line before each fit (a family's fold, the final model), for
            progress on long fits (``archgym surrogate fit`` prints them).
        workload_encoding: ``"onehot"`` (a column per trained workload: only those can be
            predicted) or ``"features"`` (each workload's ``features()``: layer shapes for the
            accelerator, trace statistics for DRAM, model shape and lengths for the GPU and
            cluster, so a workload never trained on can be predicted zero-shot).
    """
    start = time.perf_counter()
    if metrics is None and isinstance(prior, Surrogate):
        metrics = prior.metric_names  # a residual learns what its prior predicts
    if metrics is not None:
        data = data.with_metrics(metrics)
        test = test.with_metrics(metrics) if test is not None else None
        calibration = calibration.with_metrics(metrics) if calibration is not None else None
    if len(data) < 2:
        raise ArchGymError(f"fit_surrogate: {len(data)} training rows; need at least 2")
    if params and family == "auto":
        raise ArchGymError("fit_surrogate: params= needs a named family, not 'auto'")
    workloads = _known_workloads(data, workload_encoding)
    transforms, prior_workload, affine, prior_part = _prior_part(
        data, prior, prior_workload, prior_affine, workloads
    )
    problem = _Problem(data, workloads, transforms, prior_part)
    names = list(candidates or AUTO_FAMILIES)
    if family == "auto" and candidates is None and len(data) <= FAMILIES["gp"].max_rows:
        names.append("gp")
    tried = names if family == "auto" else [family]
    n_folds = min(cv, len(np.unique(data.design_keys())))
    cv_scores, oof = _cross_validate(data, problem, tried, n_folds, seed, params, on_stage)
    if n_folds >= 2:
        chosen = min(cv_scores, key=cv_scores.get) if family == "auto" else family
    elif family == "auto":
        raise ArchGymError("fit_surrogate: family='auto' needs cv >= 2 folds to choose")
    else:
        chosen = family
    if on_stage is not None:
        on_stage(f"fitting {chosen} on all {len(data)} rows")
    predictor, used = fit_family(chosen, problem.X, problem.Y, seed=seed, params=params)
    prior_args = (prior, prior_workload, affine)
    if used.get("spread") == "head":
        predictor, calibration = _spread_head(predictor, problem, calibration, workloads, seed,
                                              prior_args)  # fmt: skip
    scale = _calibrated_scale(
        predictor, problem, calibration, oof.get(chosen), workloads, prior_args
    )
    card = _card(data, chosen, used, seed, cv_scores, n_folds, scale, problem, source,
                 time.perf_counter() - start, prior)  # fmt: skip
    model = Surrogate(space=data.space, metric_specs=data.metric_specs, workloads=workloads, predictor=predictor,
                      x_mean=problem.x_mean, x_std=problem.x_std, transforms=problem.transforms,
                      y_mean=problem.y_mean, y_std=problem.y_std, interval_scale=scale,
                      learns_feasibility=problem.learns_feasibility, card=card, prior=prior,
                      prior_workload=prior_workload, prior_affine=affine)  # fmt: skip
    if test is not None and len(test):
        model.card["held_out"] = {
            "rows": len(test),
            "data_hash": test.hash(),
            "scores": model.score(test),
        }
    return model


def _calibrated_scale(predictor, problem, calibration, oof, workloads, prior_args) -> np.ndarray:
    """Per metric, the factor of the std that makes the 90% interval: split conformal on the
    calibration rows, else on the out-of-fold residuals, else the normal 1.645."""
    k = problem.Y.shape[1] - problem.learns_feasibility
    if calibration is not None and len(calibration):
        # Split conformal: residuals of rows the model never saw set the 90% interval's width.
        mean, std = _standardised_prediction(predictor, problem, calibration, workloads)
        target = _Problem.targets_of(calibration, problem, *prior_args)
        return _interval_scale(target, mean[:, :k], std[:, :k])
    if oof is not None:
        mean, std = oof
        return _interval_scale(problem.Y[:, :k], mean[:, :k], std[:, :k])
    return np.full(k, Z90)


#: Fewest calibration rows of an MLP with a spread head (half fit the head, half the interval).
MIN_HEAD_ROWS = 200


def _spread_head(predictor, problem, calibration, workloads, seed: int, prior_args):
    """Fit an MLP's spread head on half of the calibration rows (chosen at random by design);
    return it and the other half, which calibrates the interval: the head's fit must not see
    the rows that judge its width."""
    if calibration is None or len(calibration) < MIN_HEAD_ROWS:
        rows = 0 if calibration is None else len(calibration)
        raise ArchGymError(
            f"fit_surrogate: mlp parameter spread='head' fits its head on held-out rows; "
            f"calibration= has {rows} rows, expected at least {MIN_HEAD_ROWS} (archgym "
            "surrogate fit: --calibrate 0.2)"
        )
    head_rows, conformal_rows = split(calibration, "random", test_fraction=0.5, seed=seed)
    head = calibration.subset(head_rows)
    target = _Problem.targets_of(head, problem, *prior_args, feasibility=True)
    fitted = predictor.with_spread_head(_standardised_features(problem, head, workloads), target)
    return fitted, calibration.subset(conformal_rows)


def _with_own(workloads, data: Dataset):
    """``workloads`` with the feature rows of ``data``'s own workloads (features encoding)."""
    return {**data.workload_features, **workloads} if isinstance(workloads, Mapping) else workloads


WORKLOAD_ENCODINGS = ("onehot", "features")


def _known_workloads(data: Dataset, encoding: str):
    """The trained workloads as :func:`features` encodes them: names (one-hot), or their
    features (``workload.features()``, carried by the dataset) so new workloads can be predicted."""
    if encoding not in WORKLOAD_ENCODINGS:
        raise ArchGymError(unknown_name("workload_encoding", encoding, WORKLOAD_ENCODINGS))
    names = data.workload_names
    if encoding == "onehot":
        return names
    missing = [w for w in names if w not in data.workload_features]
    if missing:
        raise ArchGymError(
            f"fit_surrogate: workload_encoding 'features' needs the features of every workload; "
            f"{missing} have none (datasets from dataset_from_env carry them; a trace's workloads "
            "must be ones its env's domain can load by name)"
        )
    return {w: data.workload_features[w] for w in names}


def _prior_part(data: Dataset, prior: Any, prior_workload: Any, prior_affine: bool, workloads):
    """``(transforms, prior workload, affine, prior targets)`` of a residual fit (all None but the
    workload without a prior)."""
    if prior is None:
        return None, prior_workload, None, None
    if prior_workload is None:
        known = getattr(prior, "workloads", workloads)
        if len(known) != 1:
            raise ArchGymError(
                f"fit_residual: the prior knows workloads {list(known)}; name prior_workload="
            )
        prior_workload = known[0]
    transforms = None
    if isinstance(prior, Surrogate):
        transforms = prior.transforms
        if prior.feature_names[: len(data.space.feature_names)] != data.space.feature_names:
            raise ArchGymError("fit_residual: the prior's design features differ from the data's")
    transforms = transforms or choose_transforms(data.targets())
    P = prior_targets(prior, data.designs, prior_workload, data.metric_names, transforms)
    affine = np.array([np.zeros(P.shape[1]), np.ones(P.shape[1])])
    if prior_affine:
        affine = _affine_fit(P, _transform(data.targets(), transforms))
    return transforms, prior_workload, affine, affine[0] + affine[1] * P


def _cross_validate(data: Dataset, problem, tried, n_folds: int, seed: int, params, on_stage=None):
    """Cross-validated standardised RMSE and out-of-fold ``(mean, std)`` of each family (none
    with fewer than two folds)."""
    cv_scores: dict[str, float] = {}
    oof: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if n_folds < 2:
        return cv_scores, oof
    folds = _folds(data, n_folds, seed)
    k = len(data.metric_names)
    for name in tried:
        mean, std = np.empty_like(problem.Y), np.empty_like(problem.Y)
        for fold, test_rows in enumerate(folds, start=1):
            if on_stage is not None:
                on_stage(f"cross-validating {name}: fold {fold} of {n_folds}")
            train_rows = np.setdiff1d(np.arange(len(data)), test_rows)
            model, _ = fit_family(
                name, problem.X[train_rows], problem.Y[train_rows], seed=seed, params=params
            )
            mean[test_rows], std[test_rows] = model.predict(problem.X[test_rows])
        cv_scores[name] = float(np.sqrt(np.mean((mean[:, :k] - problem.Y[:, :k]) ** 2)))
        oof[name] = (mean, std)
    return cv_scores, oof


#: Families cross-validated by :func:`fit_residual`'s ``"auto"``: with a handful of samples the
#: rescaled prior alone (``mean``) often beats any model of the residual.
RESIDUAL_FAMILIES = ("mean", "et", "knn")


def fit_residual(data: Dataset, prior: Any, family: str = "auto", *, prior_workload: Any = None,
                 affine: bool = True, **kwargs: Any) -> Surrogate:  # fmt: skip
    """A surrogate of the residual between ``data`` and a ``prior`` model (hybrid / few-shot).

    ``prior`` is any Simulator-protocol object: a surrogate trained on another workload or base
    architecture (few-shot transfer: a few dozen samples of the new one fit the correction), or a
    cheap analytical model or simulator (hybrid). The residual is learned in the metrics' target
    space (log for metrics spanning decades). With ``affine`` (default) the prior is first
    rescaled (``offset + scale x prior`` per metric, least squares), which keeps the prior's ranking
    from as few as 10 samples; the residual model (``family``) then learns what is left.
    ``family="auto"`` cross-validates :data:`RESIDUAL_FAMILIES` (up to 10 folds), ``mean``
    being "the rescaled prior alone".
    """
    if family == "auto" and "candidates" not in kwargs:
        kwargs["candidates"] = RESIDUAL_FAMILIES
        kwargs.setdefault("cv", min(10, len(data)))
    return fit_surrogate(
        data, family, prior=prior, prior_workload=prior_workload, prior_affine=affine, **kwargs
    )


def _card(
    data, family, params, seed, cv_scores, folds, scale, problem, source, fit_s, prior
) -> dict[str, Any]:
    import sklearn

    from .. import __version__

    return {
        "family": family, "description": FAMILIES[family].description, "parameters": params, "seed": seed,
        "env_id": data.env_id, "arch": data.arch, "space_hash": data.space.hash(),
        "workloads": list(data.workload_names),
        "workload_encoding": "features" if isinstance(problem.workloads, Mapping) else "onehot",
        "features": list(feature_names(data.space, problem.workloads)),
        "metrics": [{"name": m.name, "unit": m.unit, "direction": m.direction, "target": t}
                    for m, t in zip(data.metric_specs, problem.transforms, strict=True)],
        "learns_feasibility": problem.learns_feasibility,
        "training": {"rows": len(data), "data_hash": data.hash(), "source": source, "fit_time_s": round(fit_s, 3)},
        "cross_validation": {"folds": folds, "rmse_standardised": cv_scores},
        "interval_90_scale": [float(s) for s in scale],
        "prior": None if prior is None else getattr(prior, "version", type(prior).__name__),
        "versions": {"archgym_py": __version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                     "python": platform.python_version()},
    }  # fmt: skip
