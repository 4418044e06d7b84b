"""Fitted models as plain arrays, evaluated with numpy: the portable form of every surrogate.

A scikit-learn model is converted to one of these predictors right after it is fitted, and the
surrogate predicts through the predictor from then on, so what is saved is exactly what was used.
Each predictor maps standardised features ``X`` (shape ``(n, d)``) to a mean and a standard
deviation of the standardised targets (shape ``(n, k)`` each) and round-trips through a JSON
document: arrays are stored as base64 of their little-endian bytes (exact, compact), never pickled.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .._errors import ArchGymError

#: Rows evaluated at once by the tree and kernel predictors (bounds their temporary memory).
CHUNK = 8192


# ---------------------------------------------------------------------------- array codec
def encode_array(a: np.ndarray) -> dict[str, Any]:
    """A JSON-ready mapping that restores ``a`` exactly (dtype, shape, bytes)."""
    a = np.ascontiguousarray(a)
    if a.dtype.hasobject:
        raise ArchGymError(f"cannot store an array of Python objects ({a.dtype}) portably")
    little = a.astype(a.dtype.newbyteorder("<"), copy=False)
    return {
        "dtype": little.dtype.str,
        "shape": list(a.shape),
        "base64": base64.b64encode(little.tobytes()).decode("ascii"),
    }


def decode_array(data: Mapping[str, Any], path: str = "array") -> np.ndarray:
    """The array of :func:`encode_array`; a malformed entry raises ArchGymError naming ``path``."""
    try:
        dtype = np.dtype(str(data["dtype"]))
        if dtype.hasobject:
            raise ValueError("object arrays are not portable")
        raw = base64.b64decode(data["base64"], validate=True)
        return np.frombuffer(raw, dtype=dtype).reshape(data["shape"]).copy()
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchGymError(
            f"{path}: expected {{dtype, shape, base64}} of a numeric array, got an invalid entry ({exc})"
        ) from exc


# ---------------------------------------------------------------------------- predictors
class Predictor:
    """Base of the portable predictors: ``predict(X) -> (mean, std)`` and a JSON form."""

    kind: ClassVar[str]
    arrays: ClassVar[tuple[str, ...]] = ()

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def mean(self, X: np.ndarray) -> np.ndarray:
        """The mean alone (what an env step needs; cheaper where the std costs extra work)."""
        return self.predict(X)[0]

    def _params(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, **self._params()}
        out.update({name: encode_array(getattr(self, name)) for name in self.arrays})
        return out

    @classmethod
    def _from(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Predictor:
        return cls(**params, **arrays)


def predictor_from_dict(data: Mapping[str, Any], path: str = "model") -> Predictor:
    """Rebuild any predictor from :meth:`Predictor.to_dict`."""
    kinds = {
        c.kind: c for c in (TreeEnsemble, MLPEnsemble, GaussianProcess, NearestNeighbours, Constant)
    }
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in kinds:
        raise ArchGymError(f"{path}.kind: got {kind!r}; expected one of {sorted(kinds)}")
    cls = kinds[kind]
    arrays = {name: decode_array(data.get(name, {}), f"{path}.{name}") for name in cls.arrays}
    params = {k: v for k, v in data.items() if k != "kind" and k not in cls.arrays}
    return cls._from(params, arrays)


class TreeEnsemble(Predictor):
    """Binary regression trees in flat arrays: a forest (mean of trees) or a boosted sum.

    Node ``i`` of the flat arrays splits on ``feature[i] <= threshold[i]`` (go to ``left[i]``,
    else ``right[i]``; ``left[i] == -1`` marks a leaf holding ``value[i]``, one value per output).
    ``roots[t]`` is tree ``t``'s first node and ``tree_output[t]`` the output it predicts
    (``-1``: every output, as scikit-learn's multi-output forests).

    Modes:
        ``"mean"``: random forest / extra trees. The mean is the average of the trees and the
        standard deviation their spread (the forest's own uncertainty).
        ``"quantile"``: gradient boosting, three boosters per output (squared error, 5% and 95%
        quantiles), each ``baseline + sum of its trees``; std = (q95 - q05) / (2 x 1.645).

    ``float32_inputs`` reproduces scikit-learn's decision trees, which compare float32 features.
    """

    kind = "trees"
    arrays = ("roots", "tree_output", "tree_booster", "feature", "threshold", "left", "right",
              "value", "baseline")  # fmt: skip

    def __init__(self, *, mode: str, n_outputs: int, float32_inputs: bool, max_depth: int,
                 roots, tree_output, tree_booster, feature, threshold, left, right, value, baseline):  # fmt: skip
        if mode not in ("mean", "quantile"):
            raise ArchGymError(f"trees.mode: got {mode!r}; expected 'mean' or 'quantile'")
        self.mode, self.n_outputs = mode, int(n_outputs)
        self.float32_inputs, self.max_depth = bool(float32_inputs), int(max_depth)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.tree_output = np.asarray(tree_output, dtype=np.int64)
        self.tree_booster = np.asarray(tree_booster, dtype=np.int64)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)
        self.baseline = np.asarray(baseline, dtype=np.float64)

    def _params(self):
        return {"mode": self.mode, "n_outputs": self.n_outputs,
                "float32_inputs": self.float32_inputs, "max_depth": self.max_depth}  # fmt: skip

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Leaf node of every (row, tree), shape ``(n, n_trees)``: all trees descend together."""
        X = np.asarray(X, dtype=np.float64)
        if self.float32_inputs:
            X = X.astype(np.float32).astype(np.float64)
        n = len(X)
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.max_depth):
            inner = self.left[node] >= 0
            if not inner.any():
                break
            f = self.feature[node]
            go_left = X[rows, np.where(inner, f, 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        return node

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        mean = np.empty((len(X), self.n_outputs))
        std = np.empty_like(mean)
        rows = max(1, 4 * CHUNK * 64 // len(self.roots))  # (rows x trees) node arrays stay ~16 MB
        for lo in range(0, len(X), rows):
            m, s = self._predict_chunk(X[lo : lo + rows])
            mean[lo : lo + len(m)], std[lo : lo + len(m)] = m, s
        return mean, std

    def _predict_chunk(self, X):
        leaf = self.leaves(X)
        if self.mode == "mean":
            per_tree = self.value[leaf]  # (n, trees, outputs)
            # Summed tree by tree, as scikit-learn's forest does, so the mean matches it exactly.
            total = np.zeros((len(X), self.n_outputs))
            for t in range(per_tree.shape[1]):
                total += per_tree[:, t]
            mean = total / per_tree.shape[1]
            return mean, per_tree.std(axis=1)
        # Boosters: baseline + the sum of their trees' leaves (each booster's trees are contiguous).
        starts = np.flatnonzero(np.r_[True, np.diff(self.tree_booster) != 0])
        raw = self.baseline + np.add.reduceat(self.value[leaf, 0], starts, axis=1)
        k = self.n_outputs
        mean, q05, q95 = raw[:, :k], raw[:, k : 2 * k], raw[:, 2 * k :]
        return mean, np.abs(q95 - q05) / (2 * 1.6448536269514722)

    @classmethod
    def from_forest(cls, forest) -> TreeEnsemble:
        """From a fitted RandomForestRegressor or ExtraTreesRegressor."""
        trees = [e.tree_ for e in forest.estimators_]
        parts = _concat_trees(
            [
                (t.feature, t.threshold, t.children_left, t.children_right, t.value[:, :, 0])
                for t in trees
            ]
        )
        return cls(mode="mean", n_outputs=trees[0].n_outputs, float32_inputs=True,
                   tree_output=np.full(len(trees), -1), tree_booster=np.zeros(len(trees)),
                   baseline=np.zeros(0), max_depth=max(t.max_depth for t in trees), **parts)  # fmt: skip

    @classmethod
    def from_boosters(cls, boosters: Sequence[Sequence[Any]]) -> TreeEnsemble:
        """From ``[mean, q05, q95]`` lists of fitted HistGradientBoostingRegressors, one per output."""
        n_outputs = len(boosters[0])
        specs, booster_of, output_of, baseline = [], [], [], []
        for role, models in enumerate(boosters):
            for j, model in enumerate(models):
                b = role * n_outputs + j
                baseline.append(float(np.ravel(model._baseline_prediction)[0]))
                for (pred,) in model._predictors:
                    nd = pred.nodes
                    if np.any(nd["is_categorical"]):
                        raise ArchGymError(
                            "gradient boosting with categorical splits is not exported"
                        )
                    leaf = nd["is_leaf"].astype(bool)
                    left = np.where(leaf, -1, nd["left"].astype(np.int64))
                    right = np.where(leaf, -1, nd["right"].astype(np.int64))
                    specs.append(
                        (nd["feature_idx"], nd["num_threshold"], left, right, nd["value"][:, None])
                    )
                    booster_of.append(b)
                    output_of.append(j)
        depth = max(
            int(p.nodes["depth"].max()) for role in boosters for m in role for (p,) in m._predictors
        )
        return cls(mode="quantile", n_outputs=n_outputs, float32_inputs=False, max_depth=depth,
                   tree_output=np.array(output_of), tree_booster=np.array(booster_of),
                   baseline=np.array(baseline), **_concat_trees(specs))  # fmt: skip


def _concat_trees(trees) -> dict[str, np.ndarray]:
    """Flat node arrays of several trees; child indices are offset to the flat numbering."""
    roots, feats, thrs, lefts, rights, values = [], [], [], [], [], []
    offset = 0
    for feature, threshold, left, right, value in trees:
        left = np.asarray(left, dtype=np.int64)
        right = np.asarray(right, dtype=np.int64)
        leaf = left < 0
        roots.append(offset)
        feats.append(np.where(leaf, 0, feature).astype(np.int64))
        thrs.append(np.asarray(threshold, dtype=np.float64))
        lefts.append(np.where(leaf, -1, left + offset))
        rights.append(np.where(leaf, -1, right + offset))
        values.append(np.asarray(value, dtype=np.float64))
        offset += len(left)
    return {"roots": np.array(roots), "feature": np.concatenate(feats), "threshold": np.concatenate(thrs),
            "left": np.concatenate(lefts), "right": np.concatenate(rights),
            "value": np.concatenate(values)}  # fmt: skip


#: Largest log standard deviation (standardised targets) a spread head predicts.
SPREAD_CAP = 0.0


class MLPEnsemble(Predictor):
    """Multi-layer perceptrons (ReLU hidden layers, linear output); mean and spread of the members.

    ``weights`` and ``biases`` are stacked over members: layer ``l`` is ``weights_l`` of shape
    ``(members, fan_in, fan_out)``. The standard deviation is the members' spread, or, with a
    *spread head* (``spread_weights`` of shape ``(members, width, k)``, ``spread_biases`` of
    shape ``(members, k)``), ``exp`` of the members' mean of a linear map from their last hidden
    layer: the log of the expected |residual|, fitted on held-out rows (:meth:`with_spread_head`).
    A single network then still gives every design its own uncertainty, for one small product.
    """

    kind = "mlp"

    def __init__(self, *, activation: str, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                 spread_weights: np.ndarray | None = None, spread_biases: np.ndarray | None = None):  # fmt: skip
        if activation not in ("relu", "tanh"):
            raise ArchGymError(f"mlp.activation: got {activation!r}; expected 'relu' or 'tanh'")
        self.activation = activation
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.biases = [np.asarray(b, dtype=np.float64) for b in biases]
        if (spread_weights is None) != (spread_biases is None):
            raise ArchGymError("mlp: spread_weights and spread_biases come together")
        self.spread_weights = self.spread_biases = None
        if spread_weights is not None:
            members, width, k = self.weights[-1].shape
            expected = ((members, width, k), (members, k))
            if (np.shape(spread_weights), np.shape(spread_biases)) != expected:
                raise ArchGymError(
                    f"mlp.spread_weights/spread_biases: shapes {np.shape(spread_weights)} and "
                    f"{np.shape(spread_biases)}; expected {expected[0]} and {expected[1]}"
                )
            self.spread_weights = np.asarray(spread_weights, dtype=np.float64)
            self.spread_biases = np.asarray(spread_biases, dtype=np.float64)
        self._w32: list[np.ndarray] | None = None

    def _forward(self, X: np.ndarray, spread: bool = False, hidden: bool = False):
        """Every member's output ``(members, n, k)``; with ``spread`` also the spread head's
        log-spread, with ``hidden`` the last hidden layer ``(members, n, width)`` instead.

        Evaluated in float32 (weights rounded once from the float64 fit): twice the speed of
        float64 matrix products, for a relative change of ~1e-6, far below the model's error.
        The saved weights stay float64, so a loaded model predicts exactly what it did before.
        """
        if self._w32 is None:
            self._w32 = [w.astype(np.float32) for w in self.weights]
            self._b32 = [b.astype(np.float32) for b in self.biases]
        X = np.asarray(X, dtype=np.float64)
        members, last = len(self.weights[0]), len(self.weights) - 1
        out = np.empty((members, len(X), self.weights[-1].shape[-1]))
        extra = None
        if hidden:
            extra = np.empty((members, len(X), self.weights[-1].shape[1]))
        elif spread:
            extra = np.empty_like(out)
        # Blocks of rows keep the hidden activations in cache (one (n, width) array per layer
        # of a million rows would be memory-bound).
        for lo in range(0, len(X), CHUNK):
            x = X[lo : lo + CHUNK].astype(np.float32)
            rows = slice(lo, lo + len(x))
            for m in range(members):
                h = x
                for i, (w, b) in enumerate(zip(self._w32, self._b32, strict=True)):
                    if i == last and hidden:
                        extra[m, rows] = h
                    elif i == last and spread:  # float64: exp() of it widens any rounding
                        extra[m, rows] = h @ self.spread_weights[m] + self.spread_biases[m]
                    h = h @ w[m]
                    h += b[m]
                    if i < last:
                        np.maximum(h, 0.0, out=h) if self.activation == "relu" else np.tanh(
                            h, out=h
                        )
                out[m, rows] = h
        return out, extra

    def member_predictions(self, X: np.ndarray) -> np.ndarray:
        """Every member's output, shape ``(members, n, k)``."""
        return self._forward(X)[0]

    def mean(self, X):
        return self.member_predictions(X).mean(axis=0)

    def predict(self, X):
        if self.spread_weights is not None:
            members, log_spread = self._forward(X, spread=True)
            # A linear head extrapolates without bound far from its fitting rows; capped at
            # the targets' own spread (1 in standardised units), a design is never predicted
            # as less known than the training mean +- its standard deviation would say.
            return members.mean(axis=0), np.exp(np.minimum(log_spread.mean(axis=0), SPREAD_CAP))
        members = self.member_predictions(X)
        if len(members) == 1:
            return members[0], np.zeros_like(members[0])
        return members.mean(axis=0), members.std(axis=0, ddof=1)

    def with_spread_head(self, X: np.ndarray, Y: np.ndarray, ridge: float = 1e-3) -> MLPEnsemble:
        """This ensemble with a spread head fitted on held-out rows ``X``, ``Y`` (standardised).

        Per member and output, ridge regression of ``log |residual|`` on the last hidden layer:
        the log-spread is then linear in features the network already computes. Its level is
        what a conformal calibration rescales, so only the head's design-to-design variation
        matters.
        """
        members, H = self._forward(X, hidden=True)  # outputs and last hidden layer, one pass
        width, k = H.shape[2], members.shape[2]
        W, B = np.empty((len(H), width, k)), np.empty((len(H), k))
        for m in range(len(H)):
            A = np.concatenate([H[m], np.ones((len(X), 1))], axis=1)
            # a residual of exactly 0 (a design the model fits exactly) would be log(0)
            target = np.log(np.abs(Y - members[m]) + 1e-6)
            gram = A.T @ A + ridge * len(X) * np.diag([*np.ones(width), 0.0])
            coef = np.linalg.solve(gram, A.T @ target)
            W[m], B[m] = coef[:width], coef[width]
        return MLPEnsemble(activation=self.activation, weights=self.weights, biases=self.biases,
                           spread_weights=W, spread_biases=B)  # fmt: skip

    def to_dict(self):
        out = {"kind": self.kind, "activation": self.activation,
               "weights": [encode_array(w) for w in self.weights],
               "biases": [encode_array(b) for b in self.biases]}  # fmt: skip
        if self.spread_weights is not None:
            out["spread_weights"] = encode_array(self.spread_weights)
            out["spread_biases"] = encode_array(self.spread_biases)
        return out

    @classmethod
    def _from(cls, params, arrays):
        head = {name: decode_array(params[name], f"mlp.{name}")
                for name in ("spread_weights", "spread_biases") if name in params}  # fmt: skip
        return cls(activation=params["activation"],
                   weights=[decode_array(w, "mlp.weights") for w in params["weights"]],
                   biases=[decode_array(b, "mlp.biases") for b in params["biases"]], **head)  # fmt: skip

    @classmethod
    def from_sklearn(cls, members: Sequence[Any]) -> MLPEnsemble:
        """From fitted MLPRegressors of one architecture (an ensemble over seeds)."""
        acts = {m.activation for m in members}
        if len(acts) != 1:
            raise ArchGymError(f"mlp ensemble: members mix activations {sorted(acts)}")
        n_layers = len(members[0].coefs_)
        weights = [np.stack([m.coefs_[i] for m in members]) for i in range(n_layers)]
        biases = [np.stack([m.intercepts_[i] for m in members]) for i in range(n_layers)]
        return cls(activation=acts.pop(), weights=weights, biases=biases)


class GaussianProcess(Predictor):
    """A Gaussian process with a ``constant x RBF(length_scales) + white noise`` kernel.

    Mean ``K(X, X_train) @ alpha``; variance ``k(x, x) - ||L^-1 K(X_train, x)||^2`` with ``L`` the
    Cholesky factor of the training kernel matrix, as scikit-learn computes it.
    """

    kind = "gp"
    arrays = ("x_train", "alpha", "chol", "length_scales")

    def __init__(self, *, constant: float, noise: float, x_train, alpha, chol, length_scales):
        self.constant, self.noise = float(constant), float(noise)
        self.x_train = np.asarray(x_train, dtype=np.float64)
        self.alpha = np.asarray(alpha, dtype=np.float64)
        self.chol = np.asarray(chol, dtype=np.float64)
        self.length_scales = np.asarray(length_scales, dtype=np.float64)

    def _params(self):
        return {"constant": self.constant, "noise": self.noise}

    def predict(self, X):
        from scipy.linalg import solve_triangular
        from scipy.spatial.distance import cdist

        X = np.asarray(X, dtype=np.float64)
        mean = np.empty((len(X), self.alpha.shape[1]))
        std = np.empty_like(mean)
        for lo in range(0, len(X), CHUNK):
            x = X[lo : lo + CHUNK]
            dists = cdist(
                x / self.length_scales, self.x_train / self.length_scales, metric="sqeuclidean"
            )
            k = self.constant * np.exp(-0.5 * dists)
            mean[lo : lo + len(x)] = k @ self.alpha
            v = solve_triangular(self.chol, k.T, lower=True, check_finite=False)
            var = self.constant + self.noise - np.einsum("ij,ji->i", v.T, v)
            std[lo : lo + len(x)] = np.sqrt(np.maximum(var, 0.0))[:, None]
        return mean, std

    @classmethod
    def from_sklearn(cls, gp) -> GaussianProcess:
        """From a fitted GaussianProcessRegressor with kernel ``C * RBF + WhiteKernel``."""
        kernel = gp.kernel_
        try:
            (const, rbf), white = (kernel.k1.k1, kernel.k1.k2), kernel.k2
            constant, scales, noise = const.constant_value, rbf.length_scale, white.noise_level
        except AttributeError as exc:
            raise ArchGymError(
                f"gp: expected a C * RBF + WhiteKernel kernel, got {kernel}"
            ) from exc
        if getattr(gp, "normalize_y", False):
            raise ArchGymError("gp: fit on standardised targets with normalize_y=False")
        alpha = gp.alpha_ if gp.alpha_.ndim == 2 else gp.alpha_[:, None]
        scales = np.broadcast_to(np.atleast_1d(scales), (gp.X_train_.shape[1],))
        return cls(constant=constant, noise=noise, x_train=gp.X_train_, alpha=alpha,
                   chol=gp.L_, length_scales=scales)  # fmt: skip


class NearestNeighbours(Predictor):
    """k nearest training designs (Euclidean); mean of their targets, spread as uncertainty.

    Distance ties are broken by training order (a stable sort), so predictions are reproducible.
    """

    kind = "knn"
    arrays = ("x_train", "y_train")

    def __init__(self, *, k: int, x_train, y_train):
        self.k = int(k)
        self.x_train = np.asarray(x_train, dtype=np.float64)
        self.y_train = np.asarray(y_train, dtype=np.float64)
        if not 1 <= self.k <= len(self.x_train):
            raise ArchGymError(
                f"knn.k: got {k}; expected 1..{len(self.x_train)} (the training rows)"
            )

    def _params(self):
        return {"k": self.k}

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        mean = np.empty((len(X), self.y_train.shape[1]))
        std = np.empty_like(mean)
        sq_train = np.einsum("ij,ij->i", self.x_train, self.x_train)
        for lo in range(0, len(X), CHUNK // 8):
            x = X[lo : lo + CHUNK // 8]
            d = np.einsum("ij,ij->i", x, x)[:, None] - 2 * x @ self.x_train.T + sq_train[None]
            idx = np.argsort(d, axis=1, kind="stable")[:, : self.k]
            y = self.y_train[idx]  # (n, k, outputs)
            mean[lo : lo + len(x)] = y.mean(axis=1)
            std[lo : lo + len(x)] = y.std(axis=1, ddof=1) if self.k > 1 else 0.0
        return mean, std


class Constant(Predictor):
    """The training mean and spread, for every design: the baseline a model must beat (and, on a
    residual surrogate, "the prior alone")."""

    kind = "constant"
    arrays = ("mean_", "std_")

    def __init__(self, *, mean_, std_):
        self.mean_ = np.asarray(mean_, dtype=np.float64)
        self.std_ = np.asarray(std_, dtype=np.float64)

    def predict(self, X):
        n = len(X)
        return np.tile(self.mean_, (n, 1)), np.tile(self.std_, (n, 1))
