"""Surrogate: a learned stand-in for a simulator, with the Simulator protocol and a portable file.

A surrogate maps a design's features (log2 of powers of two, one-hot categories, one-hot workload)
to every metric in its target space (the logarithm for a metric spanning decades), then back to
SI units; ``predict`` adds a calibrated 90% interval. A residual surrogate adds a rescaled prior
model's prediction. Fitting lives in :mod:`archgym_py.surrogate._fit`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ArchGymError, WorkloadError, unknown_name
from .._simulator import Evaluation, MetricSpec
from .._space import Batch, DesignSpace
from .._threads import thread_pool
from ._data import Dataset
from ._portable import Predictor, decode_array, encode_array, predictor_from_dict
from ._scores import score_metric

FORMAT = "archgym-surrogate"
FORMAT_VERSION = 1
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
        #: per trained workload its features, when the model encodes workloads by them
        self.workload_table = (
            {w: dict(f) for w, f in workloads.items()} if isinstance(workloads, Mapping) else None
        )
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
        return feature_names(self.space, self._known())

    @property
    def workload_encoding(self) -> str:
        """``"features"`` (workloads described by ``workload.features()``) or ``"onehot"``."""
        return "onehot" if self.workload_table is None else "features"

    def _known(self, workload: Any = None) -> KnownWorkloads:
        """What :func:`features` encodes workloads against: the trained names, or the feature
        table, extended by ``workload`` when it is a new one that describes itself."""
        if self.workload_table is None:
            return self.workloads
        if not hasattr(workload, "features"):  # a name (or nothing): the trained table
            return self.workload_table
        # an object describes itself, even under a trained name (another rate, another length)
        return {**self.workload_table, str(workload.name): dict(workload.features())}

    # ------------------------------------------------------------------ prediction
    def workload_name(self, workload: Any) -> str:
        """The workload ``workload`` (a name or an object with ``.name``) refers to: a trained
        one, or with the ``features`` encoding any workload object that has ``features()``."""
        name = workload if isinstance(workload, str) else getattr(workload, "name", None)
        if self.workload_table is not None and hasattr(workload, "features"):
            return str(name)
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
        known = self._known(workload)
        n = _rows(designs)
        z_mean = np.empty((n, len(self.y_mean)))
        z_std = np.empty_like(z_mean) if intervals else None

        def run(lo: int) -> None:
            block = {k: v[lo : lo + PREDICT_BLOCK] for k, v in designs.items()}
            X = features(self.space, block, np.full(_rows(block), name), known)
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

            with threadpool_limits(1):
                list(thread_pool().map(run, starts))
        elif n:
            run(0)
        t_mean = z_mean * self.y_std + self.y_mean
        k = len(self.metrics)
        if self.prior is not None:
            P = prior_targets(
                self.prior, designs, self.prior_workload, self.metric_names, self.transforms
            )
            t_mean[:, :k] += self.prior_affine[0] + self.prior_affine[1] * P
        feasible = t_mean[:, k] > 0.5 if self.learns_feasibility else np.ones(n, dtype=bool)
        out = {"mean": _untransform(t_mean[:, :k], self.transforms), "feasible": feasible}
        if intervals:
            t_std = np.maximum(z_std, STD_FLOOR) * self.y_std
            half = self.interval_scale * t_std[:, :k]
            out["std"] = t_std[:, :k]
            out["lower"] = _untransform(t_mean[:, :k] - half, self.transforms)
            out["upper"] = _untransform(t_mean[:, :k] + half, self.transforms)
        return out

    def feature_matrix(self, designs: Batch, workload: Any) -> np.ndarray:
        """The model's input features of a batch (before its scaling), shape ``(n, F)`` in
        ``feature_names`` order: what the ONNX export (:meth:`to_onnx`) takes."""
        name = self.workload_name(workload)
        return features(self.space, designs, np.full(_rows(designs), name), self._known(workload))

    def to_onnx(self, path: str | Path) -> Path:
        """Write this MLP surrogate as an ONNX graph (see :mod:`archgym_py.surrogate._onnx`)."""
        from ._onnx import export_onnx

        return export_onnx(self, path)

    def evaluate(self, designs: Batch, workload: Any, details: bool = False) -> Evaluation:
        """Predicted metrics of a batch (the Simulator protocol).

        ``details=True`` adds the 90% interval of every metric (``lower_<m>``, ``upper_<m>``).
        """
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite results are refused below
            p = self.predict(designs, workload, intervals=details)
        if not np.all(np.isfinite(p["mean"])):
            rows = np.flatnonzero(~np.all(np.isfinite(p["mean"]), axis=1))
            raise ArchGymError(
                f"surrogate {self.version}: non-finite predictions for {len(rows)} of {len(p['mean'])} "
                f"designs (first: row {rows[0]}); the model file is corrupt or the designs lie far "
                "outside its training data"
            )
        # A linear-target model can extrapolate below zero; a time or an energy cannot be.
        floor = [0.0 if m.nonnegative else -np.inf for m in self.metrics]
        metrics = {
            m: np.maximum(p["mean"][:, j], floor[j]) for j, m in enumerate(self.metric_names)
        }
        extra: dict[str, Any] = {}
        if details:
            for j, m in enumerate(self.metric_names):
                extra[f"lower_{m}"] = np.maximum(p["lower"][:, j], floor[j])
                extra[f"upper_{m}"] = np.maximum(p["upper"][:, j], floor[j])
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
        self,
        space: DesignSpace,
        workload: Any = None,
        what: str = "this env",
        arch: str | None = None,
    ) -> None:
        """Refuse a design space, workload or base architecture this surrogate was not trained on.

        Two base architectures can share a design space (the same tunable defaults) and still
        differ in their constants (timings, energies), so the architecture's name is checked too.
        """
        trained_arch = self.card.get("arch")
        if arch and trained_arch and arch != trained_arch:
            raise ArchGymError(
                f"surrogate {self.card.get('path', self.version)}: trained on base architecture "
                f"{trained_arch!r}, but {what} uses {arch!r}; fit a surrogate on data of that architecture"
            )
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
            # the features encoding only: one-hot files stay as they were
            **({"workload_table": self.workload_table} if self.workload_table else {}),
        }  # fmt: skip

    def save(self, folder: str | Path) -> Path:
        """Write ``model.json`` and the human-readable ``card.yaml`` to ``folder`` (atomically)."""
        import yaml

        from .._trace import atomic_write_text

        folder = Path(folder)
        self.card.pop("path", None)  # where it was loaded from: not part of the model
        # strict JSON: a score that is undefined (NaN: the rank of a constant metric) is null
        self.card = _json_safe(self.card)
        self.card["model_digest"] = model_digest(self.to_dict())
        doc = json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)
        atomic_write_text(folder / "model.json", doc)
        atomic_write_text(folder / "card.yaml", yaml.safe_dump(self.card, sort_keys=False))
        return folder


def model_digest(doc: Mapping[str, Any]) -> str:
    """A hash of everything in ``model.json`` but the card; the card records it, so an edit of the
    weights, scales or transforms is caught when the file is loaded."""
    import hashlib

    body = json.dumps(
        {k: v for k, v in doc.items() if k != "card"}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


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
    _check_card(model, file.with_name("card.yaml"))
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
    recorded = (data.get("card") or {}).get("model_digest")
    if recorded is not None and recorded != model_digest(data):
        raise ArchGymError(
            f"surrogate {where}: its arrays do not match the digest its card recorded ({recorded}); "
            "the file was edited or is corrupt: refit it or restore it"
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
    transforms = data["transforms"]
    if (
        not isinstance(transforms, list)
        or len(transforms) != len(metrics)
        or set(transforms) - set(TRANSFORMS)
    ):
        raise ArchGymError(
            f"surrogate {where}:transforms: got {transforms!r}; expected one of {list(TRANSFORMS)} "
            f"per metric ({len(metrics)}); the file is corrupt"
        )
    model = Surrogate(space=space, metric_specs=metrics,
                      workloads=data.get("workload_table") or data["workloads"],
                      predictor=predictor_from_dict(data["predictor"], f"{where}:predictor"),
                      transforms=transforms, learns_feasibility=data["learns_feasibility"],
                      card=dict(data.get("card") or {}), prior=prior, prior_workload=prior_workload,
                      prior_affine=affine, **arrays)  # fmt: skip
    _check_arrays(model, where)
    return model


#: Target transforms a model may use.
TRANSFORMS = ("log", "linear")


def _check_arrays(model: Surrogate, where: str) -> None:
    """Shapes and finite, positive scales; then one prediction, which must be finite."""
    n_x, k = len(model.feature_names), len(model.metrics)
    expected = {"x_mean": n_x, "x_std": n_x, "interval_scale": k}
    for name, size in expected.items():
        array = getattr(model, name)
        if array.shape != (size,):
            raise ArchGymError(
                f"surrogate {where}:{name}: shape {array.shape}; expected ({size},); the file is corrupt"
            )
    if model.y_mean.shape != model.y_std.shape or model.y_mean.shape[0] < k:
        raise ArchGymError(f"surrogate {where}:y_mean/y_std: shapes {model.y_mean.shape} and "
                           f"{model.y_std.shape}; expected ({k},) or more; the file is corrupt")  # fmt: skip
    for name in ("x_mean", "x_std", "y_mean", "y_std", "interval_scale", "prior_affine"):
        array = getattr(model, name)
        positive = name in ("x_std", "y_std", "interval_scale")
        if not np.all(np.isfinite(array)) or (positive and not np.all(array > 0)):
            raise ArchGymError(
                f"surrogate {where}:{name}: expected finite{' positive' if positive else ''} values, "
                f"got {array[:6].tolist()}; the file is corrupt"
            )
    probe = model.space.batch([model.space.default()])
    with np.errstate(all="ignore"):  # the result is checked just below
        mean = model.predict(probe, model.workloads[0])["mean"]
    if not np.all(np.isfinite(mean)):
        raise ArchGymError(f"surrogate {where}:predictor: predicts {mean[0].tolist()} for the space's "
                           "default design (non-finite weights?); the file is corrupt")  # fmt: skip


def _json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _same(a: Any, b: Any) -> bool:
    """Equality of parsed YAML/JSON values in which NaN equals NaN (a metric that is constant
    over the training data has NaN rank scores, and ``nan != nan``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


def _check_card(model: Surrogate, card_path: Path) -> None:
    """``card.yaml`` must be there and say what ``model.json`` says (it is what people read)."""
    from .._spec import load_yaml

    if not card_path.exists():
        raise ArchGymError(
            f"surrogate {str(card_path.parent)!r}: card.yaml is missing (Surrogate.save writes it)"
        )
    card = {k: v for k, v in (load_yaml(card_path) or {}).items() if k != "path"}
    if not _same(card, {k: v for k, v in model.card.items() if k != "path"}):
        differ = sorted(
            k for k in set(card) | set(model.card) if not _same(card.get(k), model.card.get(k))
        )
        raise ArchGymError(f"surrogate {str(card_path)!r}: the card and model.json disagree on {differ}; "
                           "one of them was edited: refit or restore both")  # fmt: skip


# ---------------------------------------------------------------------- features and targets
#: A surrogate's workloads: their names (one-hot encoded when there are several), or per name
#: the workload's features (``workload.features()``), so that a new workload can be predicted.
KnownWorkloads = Sequence[str] | Mapping[str, Mapping[str, float]]


def feature_names(space: DesignSpace, workloads: KnownWorkloads) -> tuple[str, ...]:
    if isinstance(workloads, Mapping):
        return space.feature_names + tuple(f"workload.{k}" for k in _workload_keys(workloads))
    extra = tuple(f"workload={w}" for w in workloads) if len(workloads) > 1 else ()
    return space.feature_names + extra


def _workload_keys(table: Mapping[str, Mapping[str, float]]) -> list[str]:
    return list(next(iter(table.values())))


def features(
    space: DesignSpace, designs: Batch, workloads: np.ndarray, known: KnownWorkloads
) -> np.ndarray:
    """Design features (log2 of powers of two, one-hot categories) plus the workload: one-hot
    among ``known`` names, or its features when ``known`` maps names to them."""
    X = space.features(designs)
    if isinstance(known, Mapping):
        keys = _workload_keys(known)
        names, inverse = np.unique(np.asarray(workloads).astype(str), return_inverse=True)
        W = np.array([[float(known[w][k]) for k in keys] for w in names])[inverse.ravel()]
        return np.concatenate([X, W], axis=1)
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


def prior_targets(prior: Any, designs: Batch, workload: Any, metric_names: Sequence[str],
                  transforms: Sequence[str]) -> np.ndarray:  # fmt: skip
    """A prior model's metrics of ``designs``, shape ``(n, k)``, in the surrogate's target space."""
    ev = prior.evaluate(designs, workload)
    return _transform(np.stack([ev.metrics[m] for m in metric_names], axis=1), transforms)


def _untransform(T: np.ndarray, transforms: Sequence[str]) -> np.ndarray:
    out = np.array(T, dtype=np.float64)
    logs = [j for j, t in enumerate(transforms) if t == "log"]
    with np.errstate(over="ignore"):  # a very wide interval's upper end may be +inf: unbounded
        out[:, logs] = np.exp(out[:, logs])
    return out


def _rows(batch: Batch) -> int:
    return len(next(iter(batch.values())))


class DescribedWorkload:
    """A workload known only by its name and features (what a trace or dataset records)."""

    def __init__(self, name: str, features: Mapping[str, float]):
        self.name, self._features = name, dict(features)

    def features(self) -> dict[str, float]:
        return dict(self._features)


def _predict_rows(model: Surrogate, data: Dataset) -> dict[str, np.ndarray]:
    """Predictions for every row of ``data`` (rows of several workloads predicted per workload)."""
    n, k = len(data), len(model.metrics)
    out = {key: np.empty((n, k)) for key in ("mean", "std", "lower", "upper")}
    out["feasible"] = np.empty(n, dtype=bool)
    for w in data.workload_names:
        rows = np.flatnonzero(data.workloads == w)
        workload: Any = w
        if model.workload_table is not None and w not in model.workload_table:
            if w in data.workload_features:  # a workload never trained on, described by the data
                workload = DescribedWorkload(w, data.workload_features[w])
        p = model.predict({key: v[rows] for key, v in data.designs.items()}, workload)
        for key, value in p.items():
            out[key][rows] = value
    return out
