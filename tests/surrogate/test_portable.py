"""The portable predictors reproduce the scikit-learn models they were converted from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archgym_py import ArchGymError
from archgym_py.surrogate import decode_array, encode_array, fit_family, predictor_from_dict
from archgym_py.surrogate._portable import (
    GaussianProcess,
    MLPEnsemble,
    NearestNeighbours,
    TreeEnsemble,
)


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = np.stack([X[:, 0] ** 2 + X[:, 1], np.sin(2 * X[:, 2]) + 0.1 * X[:, 3]], axis=1)
    return X, Y, rng.normal(size=(200, 4))


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_forests_equal_scikit_learn():
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    X, Y, Xt = _data()
    for cls in (RandomForestRegressor, ExtraTreesRegressor):
        model = cls(n_estimators=20, max_features=0.7, random_state=0).fit(X, Y)
        mean, std = TreeEnsemble.from_forest(model).predict(Xt)
        _close(mean, model.predict(Xt))
        per_tree = np.stack([t.predict(Xt) for t in model.estimators_])
        _close(std, per_tree.std(axis=0))
    single = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, Y[:, 0])
    _close(TreeEnsemble.from_forest(single).predict(Xt)[0][:, 0], single.predict(Xt))


def test_boosted_trees_equal_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingRegressor as HGB

    X, Y, Xt = _data()
    roles = [[HGB(max_iter=30, loss=loss, random_state=0, **kw).fit(X, Y[:, j]) for j in range(2)]
             for loss, kw in (("squared_error", {}), ("quantile", {"quantile": 0.05}),
                              ("quantile", {"quantile": 0.95}))]  # fmt: skip
    mean, std = TreeEnsemble.from_boosters(roles).predict(Xt)
    _close(mean, np.stack([m.predict(Xt) for m in roles[0]], axis=1))
    q = [np.stack([m.predict(Xt) for m in role], axis=1) for role in roles[1:]]
    _close(std, np.abs(q[1] - q[0]) / (2 * 1.6448536269514722))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_gp_knn_equal_scikit_learn():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor

    X, Y, Xt = _data()
    nets = [
        MLPRegressor(hidden_layer_sizes=(16, 8), max_iter=30, random_state=s).fit(X, Y)
        for s in (0, 1)
    ]
    mean, std = MLPEnsemble.from_sklearn(nets).predict(Xt)
    members = np.stack([n.predict(Xt) for n in nets])
    # MLPs run in float32 (twice as fast); the saved weights stay float64 (see MLPEnsemble).
    np.testing.assert_allclose(mean, members.mean(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std, members.std(axis=0, ddof=1), rtol=1e-4, atol=1e-5)

    kernel = ConstantKernel() * RBF(np.ones(4), (1e-2, 1e3)) + WhiteKernel(1e-3, (1e-9, 1.0))
    gp = GaussianProcessRegressor(kernel, random_state=0, optimizer=None).fit(X, Y)
    gm, gs = gp.predict(Xt, return_std=True)
    mean, std = GaussianProcess.from_sklearn(gp).predict(Xt)
    _close(mean, gm)
    _close(std, gs)

    knn = KNeighborsRegressor(n_neighbors=5).fit(X, Y)  # continuous data: no distance ties
    _close(NearestNeighbours(k=5, x_train=X, y_train=Y).predict(Xt)[0], knn.predict(Xt))


@pytest.mark.parametrize("name", ["rf", "et", "hgb", "gp", "mlp", "knn"])
def test_every_family_round_trips_through_json_exactly(name):
    X, Y, Xt = _data(120)
    params = {"max_iter": 20} if name in ("hgb", "mlp") else None
    predictor, _ = fit_family(name, X, Y, seed=0, params=params)
    loaded = predictor_from_dict(json.loads(json.dumps(predictor.to_dict())))
    for a, b in zip(predictor.predict(Xt), loaded.predict(Xt), strict=True):
        np.testing.assert_array_equal(a, b)
    mean, std = predictor.predict(Xt)
    assert mean.shape == std.shape == (200, 2) and np.all(std >= 0)


def test_array_codec_is_exact_and_rejects_garbage():
    a = np.array([[1.5, -2.0, np.pi], [1e-300, 0.0, 7.0]])
    data = json.loads(json.dumps(encode_array(a)))
    np.testing.assert_array_equal(decode_array(data), a)
    assert decode_array(encode_array(np.arange(5, dtype=np.int32))).dtype == np.int32
    with pytest.raises(ArchGymError, match="model.x: expected"):
        decode_array({"dtype": "<f8", "shape": [3], "base64": "!!"}, "model.x")
    with pytest.raises(ArchGymError, match="Python objects"):
        encode_array(np.array([object()]))
    with pytest.raises(ArchGymError, match="model.kind: got 'pickle'"):
        predictor_from_dict({"kind": "pickle"})


def test_a_spread_head_learns_where_the_noise_is_and_round_trips():
    # Noise grows with |x0|: a head on one network's hidden layer must rank designs by it.
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(4000, 3))
    noise_sd = 0.02 + 0.5 * np.abs(X[:, :1])
    Y = np.sin(X[:, :1]) + X[:, 1:2] + noise_sd * rng.normal(size=(4000, 1))
    net, _ = fit_family(
        "mlp", X[:2000], Y[:2000], params={"members": 1, "hidden": [32, 32], "max_iter": 100}
    )
    headed = net.with_spread_head(X[2000:], Y[2000:])
    Xt = rng.uniform(-2, 2, size=(500, 3))
    mean, std = headed.predict(Xt)
    np.testing.assert_array_equal(mean, net.predict(Xt)[0])  # the head changes only the spread
    assert np.all(net.predict(Xt)[1] == 0)  # one network alone has no spread
    rho = np.corrcoef(np.argsort(np.argsort(std[:, 0])), np.argsort(np.argsort(np.abs(Xt[:, 0]))))
    assert rho[0, 1] > 0.8
    # by hand: exp of the head's linear map of the last hidden layer
    h = np.maximum(np.maximum(Xt @ net.weights[0][0] + net.biases[0][0], 0) @ net.weights[1][0]
                   + net.biases[1][0], 0)  # fmt: skip
    # capped at the targets' own spread (1 in standardised units)
    by_hand = np.exp(np.minimum(h @ headed.spread_weights[0] + headed.spread_biases[0], 0.0))
    np.testing.assert_allclose(std, by_hand, rtol=1e-4)
    loaded = predictor_from_dict(json.loads(json.dumps(headed.to_dict())))
    for a, b in zip(headed.predict(Xt), loaded.predict(Xt), strict=True):
        np.testing.assert_array_equal(a, b)


def test_mlp_parameters_are_checked():
    X, Y, _ = _data(60)
    with pytest.raises(ArchGymError, match="spread.*'heads'"):
        fit_family("mlp", X, Y, params={"spread": "heads", "max_iter": 5})
    with pytest.raises(ArchGymError, match=r"learning_rates: got \[0.001, -1.0\]"):
        fit_family("mlp", X, Y, params={"learning_rates": [1e-3, -1.0], "max_iter": 5})
    with pytest.raises(ArchGymError, match="learning_rates: got 'fast'"):
        fit_family("mlp", X, Y, params={"learning_rates": "fast", "max_iter": 5})
    with pytest.raises(ArchGymError, match="spread_weights"):
        MLPEnsemble(activation="relu", weights=[np.zeros((1, 4, 3)), np.zeros((1, 3, 2))],
                    biases=[np.zeros((1, 3)), np.zeros((1, 2))], spread_weights=np.zeros((1, 4, 2)),
                    spread_biases=np.zeros((1, 2)))  # fmt: skip
