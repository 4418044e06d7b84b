"""Model families: a scikit-learn fit, converted at once to its portable predictor.

Every family fits standardised features to standardised targets (all outputs at once) and returns
a :class:`~archgym_py.surrogate._portable.Predictor` with a mean and an uncertainty:

=========  ==========================================  =====================================
family     scikit-learn model                          uncertainty
=========  ==========================================  =====================================
``rf``     RandomForestRegressor                       spread of the trees
``et``     ExtraTreesRegressor                         spread of the trees
``hgb``    HistGradientBoostingRegressor, per output    5% and 95% quantile boosters
``gp``     GaussianProcessRegressor, C*RBF(ARD)+White  predictive standard deviation
``mlp``    MLPRegressor ensemble over seeds             spread of the members
``knn``    k nearest neighbours                         spread of the neighbours
``mean``   the training mean (a baseline)               spread of the training targets
=========  ==========================================  =====================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._errors import ArchGymError, unknown_name
from ._portable import (
    Constant,
    GaussianProcess,
    MLPEnsemble,
    NearestNeighbours,
    Predictor,
    TreeEnsemble,
)


@dataclass(frozen=True)
class Family:
    """A model family: its defaults and how to fit it."""

    name: str
    description: str
    defaults: Mapping[str, Any]
    fit: Callable[..., Predictor]
    #: Largest training set the family is fitted on (a GP is cubic in it); rows beyond are subsampled.
    max_rows: int | None = None


def _forest(cls_name: str):
    def fit(X, Y, *, seed: int, n_estimators: int, min_samples_leaf: int, max_features: float | None = 1.0,
            n_jobs: int = 2) -> Predictor:  # fmt: skip
        from sklearn import ensemble

        model = getattr(ensemble, cls_name)(
            n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, max_features=max_features,
            random_state=seed, n_jobs=n_jobs,
        )  # fmt: skip
        # One output as a 1-d target (scikit-learn warns on a column vector); the trees are the same.
        return TreeEnsemble.from_forest(model.fit(X, Y[:, 0] if Y.shape[1] == 1 else Y))

    return fit


def fit_hgb(X, Y, *, seed: int, max_iter: int, learning_rate: float, max_leaf_nodes: int,
            l2_regularization: float = 0.0) -> Predictor:  # fmt: skip
    from sklearn.ensemble import HistGradientBoostingRegressor

    def booster(loss: str, y: np.ndarray, quantile: float | None = None):
        kwargs = {"quantile": quantile} if quantile is not None else {}
        return HistGradientBoostingRegressor(
            loss=loss, max_iter=max_iter, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes,
            l2_regularization=l2_regularization, early_stopping=False, random_state=seed, **kwargs,
        ).fit(X, y)  # fmt: skip

    roles = [("squared_error", None), ("quantile", 0.05), ("quantile", 0.95)]
    boosters = [[booster(loss, Y[:, j], q) for j in range(Y.shape[1])] for loss, q in roles]
    return TreeEnsemble.from_boosters(boosters)


def fit_gp(X, Y, *, seed: int, restarts: int = 0) -> Predictor:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(X.shape[1]), (1e-2, 1e3)) + WhiteKernel(
        1e-3, (1e-9, 1.0)
    )
    gp = GaussianProcessRegressor(
        kernel, normalize_y=False, n_restarts_optimizer=restarts, random_state=seed
    )
    with warnings.catch_warnings():  # hyperparameters at a bound are a fit outcome, not an error
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(X, Y)
    return GaussianProcess.from_sklearn(gp)


def fit_mlp(X, Y, *, seed: int, hidden: tuple[int, ...] | list[int], members: int, max_iter: int,
            alpha: float = 1e-6, solver: str = "adam", batch_size: int = 128,
            learning_rates: Sequence[float] = (1e-3,), spread: str = "members") -> Predictor:  # fmt: skip
    """An ensemble of ``members`` networks over seeds.

    ``learning_rates``: Adam's step size in successive phases of up to ``max_iter`` epochs each
    (a phase ends early once the training loss stops improving); later, smaller steps settle
    the weights the first phase found, which a constant step leaves noisy. ``spread``:
    ``"members"`` (the ensemble's spread is the uncertainty) or ``"head"`` (a linear head on the
    last hidden layer, fitted on held-out rows by ``MLPEnsemble.with_spread_head``; ``fit_surrogate``
    does that with its ``calibration=`` rows).
    """
    from sklearn.neural_network import MLPRegressor

    if spread not in MLP_SPREADS:
        raise ArchGymError(unknown_name("mlp parameter spread", spread, MLP_SPREADS))
    try:
        rates = [float(r) for r in learning_rates]
    except (TypeError, ValueError):
        rates = []
    if not rates or not all(np.isfinite(r) and r > 0 for r in rates):
        raise ArchGymError(
            f"mlp parameter learning_rates: got {learning_rates!r}; expected a list of positive numbers"
        )
    target = Y[:, 0] if Y.shape[1] == 1 else Y  # one output as a 1-d target (as for the forests)
    nets = []
    for m in range(members):
        net = MLPRegressor(
            hidden_layer_sizes=tuple(hidden), alpha=alpha, solver=solver, max_iter=max_iter,
            batch_size=min(batch_size, len(X)), tol=1e-7, n_iter_no_change=30, random_state=seed + m,
            learning_rate_init=rates[0], warm_start=True,
        )  # fmt: skip
        with warnings.catch_warnings():  # a budget of iterations is a choice, not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            for rate in rates:  # warm start: a new phase keeps the weights, restarts Adam
                net.set_params(learning_rate_init=rate)
                # scikit-learn's warm start keeps the previous phase's stall count, which would
                # stop the new phase after one epoch; each phase gets its own patience.
                net._no_improvement_count = 0
                net.fit(X, target)
        nets.append(net)
    return MLPEnsemble.from_sklearn(nets)


#: Where an MLP ensemble's uncertainty comes from (see :func:`fit_mlp`).
MLP_SPREADS = ("members", "head")


def fit_mean(X, Y, *, seed: int) -> Predictor:
    del X, seed  # the baseline ignores the design
    return Constant(mean_=Y.mean(axis=0), std_=Y.std(axis=0))


def fit_knn(X, Y, *, seed: int, k: int) -> Predictor:
    del seed  # deterministic
    return NearestNeighbours(k=min(k, len(X)), x_train=X, y_train=Y)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "rf",
            "random forest",
            {"n_estimators": 100, "min_samples_leaf": 1, "max_features": 0.5},
            _forest("RandomForestRegressor"),
        ),  # fmt: skip
        Family(
            "et",
            "extremely randomised trees",
            {"n_estimators": 100, "min_samples_leaf": 1, "max_features": 1.0},
            _forest("ExtraTreesRegressor"),
        ),  # fmt: skip
        Family(
            "hgb",
            "histogram gradient boosting (mean, 5% and 95% quantiles)",
            {"max_iter": 300, "learning_rate": 0.1, "max_leaf_nodes": 31},
            fit_hgb,
        ),  # fmt: skip
        Family(
            "gp",
            "Gaussian process, constant x RBF (one length scale per feature) + noise",
            {"restarts": 0},
            fit_gp,
            max_rows=400,
        ),  # fmt: skip
        Family(
            "mlp",
            "multi-layer perceptron ensemble (ReLU)",
            {"hidden": [64, 64], "members": 5, "max_iter": 400},
            fit_mlp,
        ),  # fmt: skip
        Family("knn", "k nearest neighbours", {"k": 5}, fit_knn),
        Family(
            "mean",
            "the training mean (baseline; on a residual model: the rescaled prior alone)",
            {},
            fit_mean,
        ),
    )
}


def family(name: str) -> Family:
    """The family called ``name`` (see :data:`FAMILIES`)."""
    if name not in FAMILIES:
        raise ArchGymError(unknown_name("surrogate family", name, FAMILIES))
    return FAMILIES[name]


def fit_family(name: str, X: np.ndarray, Y: np.ndarray, *, seed: int = 0,
               params: Mapping[str, Any] | None = None) -> tuple[Predictor, dict[str, Any]]:  # fmt: skip
    """Fit family ``name`` on standardised ``X``, ``Y``; return the predictor and the parameters used."""
    fam = family(name)
    used = dict(fam.defaults)
    for key, value in (params or {}).items():
        if key not in used and key not in _OPTIONAL.get(name, ()):
            raise ArchGymError(
                unknown_name(f"{name} parameter", key, [*used, *_OPTIONAL.get(name, ())])
            )
        used[key] = value
    if fam.max_rows is not None and len(X) > fam.max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), fam.max_rows, replace=False))
        X, Y = X[rows], Y[rows]
    return fam.fit(X, Y, seed=seed, **used), used


_OPTIONAL = {
    "rf": ("n_jobs",), "et": ("n_jobs",), "hgb": ("l2_regularization",),
    "mlp": ("alpha", "solver", "batch_size", "learning_rates", "spread"),
}  # fmt: skip
