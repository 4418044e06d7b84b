"""Surrogate: a learned stand-in for a simulator, with the Simulator protocol and a portable file.

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

import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ArchGymError, WorkloadError, unknown_name
from .._simulator import Evaluation, MetricSpec
from .._space import Batch, DesignSpace
from ._data import Dataset
from ._families import FAMILIES, fit_family
from ._portable import Predictor, decode_array, encode_array, predictor_from_dict
from ._scores import score_metric

FORMAT = "archgym-surrogate"
FORMAT_VERSION = 1
#: Families cross-validated by ``family="auto"`` (GP joins when the data is small enough for it).
AUTO_FAMILIES = ("et", "rf", "knn")
#: Two-sided 90% interval of a standard normal, used when no cross-validation calibrated it.
Z90 = 1.6448536269514722
#: Smallest predictive std (standardised target units). Trees that all agree on a design they
#: memorised predict a std of ~1e-16; without a floor the interval would exclude the exact value by
#: rounding. The same floor is used when calibrating and predicting, so conformal coverage holds.
STD_FLOOR = 1e-6
#: Designs per block of :meth:`Surrogate.predict`.
PREDICT_BLOCK = 32768


class Surrogate:
    """A fitted surrogate model; implements the :class:`~archgym_py.Simulator` protocol.

    Build one with :func:`fit_surrogate` (or :func:`fit_residual`), save it with :meth:`save`,
    and load it with :func:`load_surrogate`. ``evaluate(designs, workload)`` returns metrics in SI
    units for the workloads it was trained on, and ``details`` with the 90% interval of every
    metric (``lower_<metric>``, ``upper_<metric>``) when called with ``details=True``.
    """

    def __init__(self, *, space: DesignSpace, metric_specs: Sequence[MetricSpec], workloads: Sequence[str],
                 predictor: Predictor, x_mean: np.ndarray, x_std: np.ndarray, transforms: Sequence[str],
                 y_mean: np.ndarray, y_std: np.ndarray, interval_scale: np.ndarray, learns_feasibility: bool,
                 card: dict[str, Any], prior: Any = None, prior_workload: Any = None,
                 prior_affine: np.ndarray | None = None):  # fmt: skip
        self.space = space
        self.metrics = tuple(metric_specs)
        self.workloads = tuple(workloads)
        self.predictor = predictor
        self.x_mean, self.x_std = np.asarray(x_mean, float), np.asarray(x_std, float)
        self.transforms = tuple(transforms)
        self.y_mean, self.y_std = np.asarray(y_mean, float), np.asarray(y_std, float)
        self.interval_scale = np.asarray(interval_scale, float)
        self.learns_feasibility = bool(learns_feasibility)
        self.card = card
        self.prior, self.prior_workload = prior, prior_workload
        k = len(self.metrics)
        #: Rows (offset, scale) per metric: the prior enters as offset + scale x prior (target space).
        self.prior_affine = (
            np.asarray(prior_affine, float)
            if prior_affine is not None
            else np.array([np.zeros(k), np.ones(k)])
        )
        self.space_hash = space.hash()
        self.version = (
            f"surrogate-{card.get('family', '?')}-{card.get('training', {}).get('data_hash', '')}"
        )

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return feature_names(self.space, self.workloads)

    # ------------------------------------------------------------------ prediction
    def workload_name(self, workload: Any) -> str:
        """The trained workload ``workload`` (a name or an object with ``.name``) refers to."""
        name = workload if isinstance(workload, str) else getattr(workload, "name", None)
        if name not in self.workloads:
            raise WorkloadError(
                unknown_name("workload", str(name), self.workloads, f"surrogate {self.version}")
                + "; a surrogate predicts only the workloads it was trained on (fit a residual "
                "surrogate on a few samples of a new one: archgym_py.surrogate.fit_residual)"
            )
        return name

    def predict(
        self, designs: Batch, workload: Any, intervals: bool = True
    ) -> dict[str, np.ndarray]:
        """Mean, standard deviation (target space) and the 90% interval (SI) of every metric.

        Returns ``{"mean": (n, k), "std": (n, k), "lower": (n, k), "upper": (n, k),
        "feasible": (n,)}`` with columns in ``metric_names`` order (``intervals=False``: only
        ``mean`` and ``feasible``, the fast path of an env step).
        """
        name = self.workload_name(workload)
        n = _rows(designs)
        z_mean = np.empty((n, len(self.y_mean)))
        z_std = np.empty_like(z_mean) if intervals else None

        def run(lo: int) -> None:
            block = {k: v[lo : lo + PREDICT_BLOCK] for k, v in designs.items()}
            X = features(self.space, block, np.full(_rows(block), name), self.workloads)
            X -= self.x_mean
            X /= self.x_std
            if intervals:
                z_mean[lo : lo + len(X)], z_std[lo : lo + len(X)] = self.predictor.predict(X)
            else:
                z_mean[lo : lo + len(X)] = self.predictor.mean(X)

        # Row blocks keep features, scaling and the model in cache; several blocks run on a
        # thread pool (numpy releases the GIL) with single-threaded BLAS, which gives the same
        # numbers as threaded BLAS (BLAS threads split rows and columns, not sums).
        starts = range(0, n, PREDICT_BLOCK)
        if len(starts) > 1:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1), ThreadPoolExecutor(min(_cores(), len(starts))) as pool:
                list(pool.map(run, starts))
        elif n:
            run(0)
        t_mean = z_mean * self.y_std + self.y_mean
        k = len(self.metrics)
        if self.prior is not None:
            t_mean[:, :k] += self.prior_affine[0] + self.prior_affine[1] * self._prior_targets(
                designs
            )
        feasible = t_mean[:, k] > 0.5 if self.learns_feasibility else np.ones(n, dtype=bool)
        out = {"mean": _untransform(t_mean[:, :k], self.transforms), "feasible": feasible}
        if intervals:
            t_std = np.maximum(z_std, STD_FLOOR) * self.y_std
            half = self.interval_scale * t_std[:, :k]
            out["std"] = t_std[:, :k]
            out["lower"] = _untransform(t_mean[:, :k] - half, self.transforms)
            out["upper"] = _untransform(t_mean[:, :k] + half, self.transforms)
        return out

    def _prior_targets(self, designs: Batch) -> np.ndarray:
        ev = self.prior.evaluate(designs, self.prior_workload)
        return _transform(
            np.stack([ev.metrics[m] for m in self.metric_names], axis=1), self.transforms
        )

    def evaluate(self, designs: Batch, workload: Any, details: bool = False) -> Evaluation:
        """Predicted metrics of a batch (the Simulator protocol).

        ``details=True`` adds the 90% interval of every metric (``lower_<m>``, ``upper_<m>``).
        """
        p = self.predict(designs, workload, intervals=details)
        metrics = {m: p["mean"][:, j] for j, m in enumerate(self.metric_names)}
        extra: dict[str, Any] = {}
        if details:
            for j, m in enumerate(self.metric_names):
                extra[f"lower_{m}"], extra[f"upper_{m}"] = p["lower"][:, j], p["upper"][:, j]
        return Evaluation(metrics, p["feasible"] & self.space.feasible(designs), extra)

    def score(self, data: Dataset) -> dict[str, dict[str, float]]:
        """Held-out scores (see :mod:`~archgym_py.surrogate._scores`) of every metric on ``data``."""
        preds = _predict_rows(self, data)
        out = {}
        for j, m in enumerate(self.metrics):
            out[m.name] = score_metric(data.metrics[m.name], preds["mean"][:, j], preds["lower"][:, j],
                                       preds["upper"][:, j], maximize=m.direction == "maximize")  # fmt: skip
        return out

    def check_compatible(
        self, space: DesignSpace, workload: Any = None, what: str = "this env"
    ) -> None:
        """Refuse a design space (or workload) this surrogate was not trained on."""
        if space.hash() != self.space_hash:
            raise ArchGymError(
                f"surrogate {self.card.get('path', self.version)}: trained on design space {self.space_hash} "
                f"({self.card.get('env_id') or 'unknown env'}, arch {self.card.get('arch') or '?'}), but {what} "
                f"has design space {space.hash()}; fit a surrogate on data of this space "
                "(archgym collect ... && archgym surrogate fit ...)"
            )
        if workload is not None:
            self.workload_name(workload)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        """The portable model document (``model.json``)."""
        prior = None
        if self.prior is not None:
            if not isinstance(self.prior, Surrogate):
                raise ArchGymError(
                    f"surrogate: its prior is a {type(self.prior).__name__}, not a Surrogate; only "
                    "residual models on a surrogate prior are saved (rebuild simulator priors in code)"
                )
            prior = {"model": self.prior.to_dict(), "workload": self.prior_workload,
                     "affine": encode_array(self.prior_affine)}  # fmt: skip
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "space": self.space.to_dict(),
            "space_hash": self.space_hash,
            "metrics": [{"name": m.name, "unit": m.unit, "direction": m.direction} for m in self.metrics],
            "workloads": list(self.workloads), "features": list(self.feature_names),
            "transforms": list(self.transforms), "learns_feasibility": self.learns_feasibility,
            "x_mean": encode_array(self.x_mean), "x_std": encode_array(self.x_std),
            "y_mean": encode_array(self.y_mean), "y_std": encode_array(self.y_std),
            "interval_scale": encode_array(self.interval_scale),
            "predictor": self.predictor.to_dict(), "prior": prior, "card": self.card,
        }  # fmt: skip

    def save(self, folder: str | Path) -> Path:
        """Write ``model.json`` and the human-readable ``card.yaml`` to ``folder`` (atomically)."""
        import yaml

        from .._trace import atomic_write_text

        folder = Path(folder)
        atomic_write_text(folder / "model.json", json.dumps(self.to_dict(), separators=(",", ":")))
        atomic_write_text(folder / "card.yaml", yaml.safe_dump(self.card, sort_keys=False))
        return folder


def load_surrogate(path: str | Path, space: DesignSpace | None = None) -> Surrogate:
    """Load a surrogate folder (or its ``model.json``); with ``space``, refuse another design space."""
    path = Path(path)
    file = path / "model.json" if path.is_dir() else path
    if not file.exists():
        raise ArchGymError(
            f"surrogate {str(path)!r}: no model.json there (write one with Surrogate.save)"
        )
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise ArchGymError(f"surrogate {str(file)!r}: not valid JSON ({exc})") from exc
    model = surrogate_from_dict(data, str(file))
    model.card["path"] = str(path)
    if space is not None:
        model.check_compatible(space, what=f"the given space {space.name!r}")
    return model


def surrogate_from_dict(data: Mapping[str, Any], where: str = "model.json") -> Surrogate:
    """Rebuild a Surrogate from :meth:`Surrogate.to_dict`, checking its format and space hash."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ArchGymError(
            f"surrogate {where}: not an archgym surrogate file (format {FORMAT!r} missing)"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise ArchGymError(
            f"surrogate {where}: format_version {data.get('format_version')!r}; this archgym_py reads "
            f"{FORMAT_VERSION}; refit it (archgym surrogate fit)"
        )
    space = DesignSpace.from_dict(data["space"], path=f"{where}:space", name="surrogate space")
    if space.hash() != data.get("space_hash"):
        raise ArchGymError(
            f"surrogate {where}: its design space hashes to {space.hash()}, the file says "
            f"{data.get('space_hash')}; the file was edited or is corrupt"
        )
    prior = prior_workload = affine = None
    if data.get("prior"):
        prior = surrogate_from_dict(data["prior"]["model"], f"{where}:prior")
        prior_workload = data["prior"]["workload"]
        affine = decode_array(data["prior"]["affine"], f"{where}:prior.affine")
    metrics = [MetricSpec(m["name"], m["unit"], m["direction"]) for m in data["metrics"]]
    arrays = {
        k: decode_array(data[k], f"{where}:{k}")
        for k in ("x_mean", "x_std", "y_mean", "y_std", "interval_scale")
    }
    return Surrogate(space=space, metric_specs=metrics, workloads=data["workloads"],
                     predictor=predictor_from_dict(data["predictor"], f"{where}:predictor"),
                     transforms=data["transforms"], learns_feasibility=data["learns_feasibility"],
                     card=dict(data.get("card") or {}), prior=prior, prior_workload=prior_workload,
                     prior_affine=affine, **arrays)  # fmt: skip


# ---------------------------------------------------------------------- features and targets
def feature_names(space: DesignSpace, workloads: Sequence[str]) -> tuple[str, ...]:
    extra = tuple(f"workload={w}" for w in workloads) if len(workloads) > 1 else ()
    return space.feature_names + extra


def features(
    space: DesignSpace, designs: Batch, workloads: np.ndarray, known: Sequence[str]
) -> np.ndarray:
    """Design features (log2 of powers of two, one-hot categories) plus a one-hot workload."""
    X = space.features(designs)
    if len(known) > 1:
        X = np.concatenate(
            [X, (np.asarray(workloads)[:, None] == np.asarray(known)[None]).astype(float)], axis=1
        )
    return X


def choose_transforms(Y: np.ndarray) -> list[str]:
    """``"log"`` for a metric that is positive and spans a decade or more, else ``"linear"``."""
    out = []
    for y in Y.T:
        positive = bool(np.all(y > 0))
        out.append("log" if positive and y.max() / y.min() >= 10.0 else "linear")
    return out


def _transform(Y: np.ndarray, transforms: Sequence[str]) -> np.ndarray:
    return np.stack([np.log(np.maximum(Y[:, j], 1e-300)) if t == "log" else Y[:, j]
                     for j, t in enumerate(transforms)], axis=1)  # fmt: skip


def _untransform(T: np.ndarray, transforms: Sequence[str]) -> np.ndarray:
    out = np.array(T, dtype=np.float64)
    logs = [j for j, t in enumerate(transforms) if t == "log"]
    with np.errstate(over="ignore"):  # a very wide interval's upper end may be +inf: unbounded
        out[:, logs] = np.exp(out[:, logs])
    return out


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _rows(batch: Batch) -> int:
    return len(next(iter(batch.values())))


def _predict_rows(model: Surrogate, data: Dataset) -> dict[str, np.ndarray]:
    """Predictions for every row of ``data`` (rows of several workloads predicted per workload)."""
    n, k = len(data), len(model.metrics)
    out = {key: np.empty((n, k)) for key in ("mean", "std", "lower", "upper")}
    out["feasible"] = np.empty(n, dtype=bool)
    for w in data.workload_names:
        rows = np.flatnonzero(data.workloads == w)
        p = model.predict({key: v[rows] for key, v in data.designs.items()}, w)
        for key, value in p.items():
            out[key][rows] = value
    return out


# ---------------------------------------------------------------------- fitting
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
                 prior_targets: np.ndarray | None):  # fmt: skip
        Y = data.targets()
        self.transforms = list(transforms) if transforms is not None else choose_transforms(Y)
        T = _transform(Y, self.transforms)
        if prior_targets is not None:
            T = T - prior_targets
        self.learns_feasibility = bool(data.feasible.any() and not data.feasible.all())
        if self.learns_feasibility:
            T = np.concatenate([T, data.feasible[:, None].astype(float)], axis=1)
        X = features(data.space, data.designs, data.workloads, workloads)
        self.x_mean, self.x_std = X.mean(axis=0), _safe_std(X)
        self.y_mean, self.y_std = T.mean(axis=0), _safe_std(T)
        self.X = (X - self.x_mean) / self.x_std
        self.Y = (T - self.y_mean) / self.y_std

    @staticmethod
    def targets_of(data: Dataset, problem: _Problem, prior: Any, prior_workload: Any,
                   affine: np.ndarray) -> np.ndarray:  # fmt: skip
        """Standardised metric targets of other rows, in ``problem``'s scaling."""
        T = _transform(data.targets(), problem.transforms)
        if prior is not None:
            ev = prior.evaluate(data.designs, prior_workload)
            P = _transform(
                np.stack([ev.metrics[m] for m in data.metric_names], axis=1), problem.transforms
            )
            T = T - (affine[0] + affine[1] * P)
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


def _standardised_prediction(predictor, problem, data, workloads):
    X = features(data.space, data.designs, data.workloads, workloads)
    return predictor.predict((X - problem.x_mean) / problem.x_std)


def _safe_std(A: np.ndarray) -> np.ndarray:
    std = A.std(axis=0)
    return np.where(std > 0, std, 1.0)


def fit_surrogate(data: Dataset, family: str = "auto", *, params: Mapping[str, Any] | None = None,
                  seed: int = 0, cv: int = 3, candidates: Sequence[str] | None = None,
                  test: Dataset | None = None, calibration: Dataset | None = None, prior: Any = None, prior_workload: Any = None,
                  prior_affine: bool = False, metrics: Sequence[str] | None = None, source: str = "") -> Surrogate:  # fmt: skip
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
    workloads = data.workload_names
    transforms = None
    prior_targets = affine = None
    if prior is not None:
        if prior_workload is None:
            known = getattr(prior, "workloads", workloads)
            if len(known) != 1:
                raise ArchGymError(
                    f"fit_residual: the prior knows workloads {list(known)}; name prior_workload="
                )
            prior_workload = known[0]
        if isinstance(prior, Surrogate):
            transforms = prior.transforms
            if prior.feature_names[: len(data.space.feature_names)] != data.space.feature_names:
                raise ArchGymError(
                    "fit_residual: the prior's design features differ from the data's"
                )
        transforms = transforms or choose_transforms(data.targets())
        ev = prior.evaluate(data.designs, prior_workload)
        P = _transform(np.stack([ev.metrics[m] for m in data.metric_names], axis=1), transforms)
        affine = np.array([np.zeros(P.shape[1]), np.ones(P.shape[1])])
        if prior_affine:
            affine = _affine_fit(P, _transform(data.targets(), transforms))
        prior_targets = affine[0] + affine[1] * P
    problem = _Problem(data, workloads, transforms, prior_targets)
    names = list(candidates or AUTO_FAMILIES)
    if family == "auto" and candidates is None and len(data) <= FAMILIES["gp"].max_rows:
        names.append("gp")
    tried = names if family == "auto" else [family]
    cv_scores: dict[str, float] = {}
    oof: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    n_folds = min(cv, len(np.unique(data.design_keys())))
    if n_folds >= 2:
        folds = _folds(data, n_folds, seed)
        for name in tried:
            mean, std = np.empty_like(problem.Y), np.empty_like(problem.Y)
            for test_rows in folds:
                train_rows = np.setdiff1d(np.arange(len(data)), test_rows)
                model, _ = fit_family(
                    name, problem.X[train_rows], problem.Y[train_rows], seed=seed, params=params
                )
                mean[test_rows], std[test_rows] = model.predict(problem.X[test_rows])
            k = len(data.metric_names)
            cv_scores[name] = float(np.sqrt(np.mean((mean[:, :k] - problem.Y[:, :k]) ** 2)))
            oof[name] = (mean, std)
        chosen = min(cv_scores, key=cv_scores.get) if family == "auto" else family
    elif family == "auto":
        raise ArchGymError("fit_surrogate: family='auto' needs cv >= 2 folds to choose")
    else:
        chosen = family
    predictor, used = fit_family(chosen, problem.X, problem.Y, seed=seed, params=params)
    k = len(data.metric_names)
    if calibration is not None and len(calibration):
        # Split conformal: residuals of rows the model never saw set the 90% interval's width.
        mean, std = _standardised_prediction(predictor, problem, calibration, workloads)
        target = _Problem.targets_of(calibration, problem, prior, prior_workload, affine)
        scale = _interval_scale(target, mean[:, :k], std[:, :k])
    elif chosen in oof:
        mean, std = oof[chosen]
        scale = _interval_scale(problem.Y[:, :k], mean[:, :k], std[:, :k])
    else:
        scale = np.full(k, Z90)
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
        "features": list(feature_names(data.space, data.workload_names)),
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
