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


@pytest.mark.parametrize("env_id", ["archgym/DRAM-v0", "archgym/Cluster-v0"])
def test_the_onnx_graph_predicts_what_the_json_evaluator_does(env_id, tmp_path):
    core = make_core(env_id)
    model = shipped_surrogate(env_id)
    path = model.to_onnx(tmp_path / "model.onnx")
    designs = core.space.sample(2000, seed=3, method="uniform")
    out = run_onnx(path, model.feature_matrix(designs, core.workload))
    ref = model.predict(designs, core.workload)
    for key in ("mean", "lower", "upper"):
        # 1e-5 relative; a column's values near zero (a hit rate of 1e-6) get 1e-6 of its scale
        bound = 1e-5 * np.abs(ref[key]) + 1e-6 * np.abs(ref[key]).max(axis=0)
        assert (np.abs(out[key] - ref[key]) <= bound).all(), key
    if model.learns_feasibility:
        assert ((out["feasible"][:, 0] > 0.5) == ref["feasible"]).mean() > 0.999


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
