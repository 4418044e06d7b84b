"""The ONNX export of MLP surrogates, run by onnxruntime (the real client), against the JSON
evaluator; and clear refusals for what does not export."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from archgym_py import ArchGymError, make_core
from archgym_py.surrogate import dataset_from_env, fit_surrogate, shipped_surrogate

ort = pytest.importorskip("onnxruntime")


def run_onnx(path, X):
    session = ort.InferenceSession(str(path))
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"features": X}), strict=True))


def assert_onnx_matches(model, core, path):
    designs = core.space.sample(2000, seed=3, method="uniform")
    out = run_onnx(model.to_onnx(path), model.feature_matrix(designs, core.workload))
    ref = model.predict(designs, core.workload)
    for key in ("mean", "lower", "upper"):
        # 1e-5 relative; a column's values near zero (a hit rate of 1e-6) get 1e-6 of its scale
        bound = 1e-5 * np.abs(ref[key]) + 1e-6 * np.abs(ref[key]).max(axis=0)
        assert (np.abs(out[key] - ref[key]) <= bound).all(), key
    if model.learns_feasibility:
        assert ((out["feasible"][:, 0] > 0.5) == ref["feasible"]).mean() > 0.999


@pytest.mark.parametrize("env_id", ["archgym/DRAM-v0", "archgym/Cluster-v0"])
def test_the_onnx_graph_predicts_what_the_json_evaluator_does(env_id, tmp_path):
    assert_onnx_matches(shipped_surrogate(env_id), make_core(env_id), tmp_path / "model.onnx")


def test_a_network_with_a_spread_head_exports_its_intervals(tmp_path):
    core = make_core("archgym/AcceleratorSmall-v0")
    data = dataset_from_env(core, 900, seed=0, method="uniform")
    params = {"hidden": [16, 16], "members": 1, "max_iter": 30, "spread": "head"}
    model = fit_surrogate(data.subset(range(600)), "mlp", cv=0, params=params,
                          calibration=data.subset(range(600, 900)))  # fmt: skip
    assert model.predictor.spread_weights is not None
    assert_onnx_matches(model, core, tmp_path / "head.onnx")


def test_only_mlp_ensembles_export(tmp_path):
    core = make_core("archgym/AcceleratorSmall-v0")
    data = dataset_from_env(core, 300, seed=0)
    trees = fit_surrogate(data, "et", cv=0)
    with pytest.raises(ArchGymError, match="only 'mlp' ensembles export"):
        trees.to_onnx(tmp_path / "trees.onnx")


def test_the_cli_exports_a_saved_model(tmp_path):
    folder = shipped_surrogate("archgym/Cluster-v0").save(tmp_path / "model")
    out = subprocess.run([sys.executable, "-m", "archgym_py.cli", "surrogate", "onnx", str(folder),
                          "-o", str(tmp_path / "m.onnx")], capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "outputs mean, lower, upper" in out.stdout and (tmp_path / "m.onnx").stat().st_size > 0
