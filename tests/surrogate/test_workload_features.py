"""Workloads described by their features: golden values of each domain's ``features()``, and
surrogates that predict a workload they never trained on."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py import ArchGymError, WorkloadError, make_core
from archgym_py.envs.workloads.layers import Network, gemm
from archgym_py.surrogate import dataset_from_env, fit_surrogate, load_surrogate


def test_a_network_describes_itself_by_shape():
    net = Network("one_gemm", (gemm("fc", 64, 128, 256, count=2),))
    f = net.features()
    # 2 x 64 x 128 x 256 MACs; weights 128 x 256 twice; all of them in GEMM layers
    assert f["log2_macs"] == pytest.approx(np.log2(2 * 64 * 128 * 256))
    assert f["log2_weights"] == pytest.approx(np.log2(2 * 128 * 256))
    assert f["log2_layers"] == 1.0 and f["gemm_share"] == 1.0 and f["grouped_share"] == 0.0


def test_traces_and_models_describe_themselves_without_an_address_mapping():
    dram = make_core("archgym/DRAM-v0", workload="random").workload.features()
    hot = make_core("archgym/DRAM-v0", workload="hotspot").workload.features()
    assert dram["page_locality"] < 0.05 < hot["page_locality"]  # random rarely revisits a page
    assert 0.0 < dram["read_fraction"] < 1.0
    gpu = make_core("archgym/GPU-v0").workload.features()
    assert gpu["log2_input_len"] == 10.0 and gpu["log2_hidden"] == 12.0  # Llama-3-8B, 1024 in
    job = make_core("archgym/Cluster-v0").workload.features()
    assert job["log2_global_batch"] == 10.0 and job["log2_seq_len"] == 11.0


@pytest.fixture(scope="module")
def accelerator_rows():
    env = "archgym/AcceleratorSmall-v0"
    return {w: dataset_from_env(make_core(env, workload=w), 400, seed=2, method="uniform")
            for w in ("resnet18", "alexnet", "vgg16", "mobilenet_v2")}  # fmt: skip


def test_a_features_surrogate_predicts_a_workload_it_never_saw(accelerator_rows, tmp_path):
    rows = accelerator_rows
    train = rows["resnet18"].concat(rows["alexnet"]).concat(rows["vgg16"])
    onehot = fit_surrogate(train, "et", cv=0)
    unseen = make_core("archgym/AcceleratorSmall-v0", workload="mobilenet_v2")
    with pytest.raises(WorkloadError, match="mobilenet_v2"):
        onehot.evaluate(rows["mobilenet_v2"].designs, unseen.workload)
    model = fit_surrogate(train, "et", cv=0, workload_encoding="features")
    assert model.card["workload_encoding"] == "features"
    assert "workload.log2_macs" in model.feature_names
    ev = model.evaluate(rows["mobilenet_v2"].designs, unseen.workload)
    assert np.isfinite(ev.metrics["latency_s"]).all()
    scores = model.score(rows["mobilenet_v2"])  # the dataset carries the unseen one's features
    assert np.isfinite(scores["latency_s"]["mape"])
    loaded = load_surrogate(model.save(tmp_path / "m"))
    again = loaded.evaluate(rows["mobilenet_v2"].designs, unseen.workload)
    np.testing.assert_array_equal(again.metrics["latency_s"], ev.metrics["latency_s"])


def test_the_features_encoding_needs_every_workloads_features(accelerator_rows):
    data = accelerator_rows["resnet18"]
    bare = data.subset(np.arange(len(data)))
    bare.workload_features = {}
    with pytest.raises(ArchGymError, match=r"\['resnet18'\] have none"):
        fit_surrogate(bare, "et", cv=0, workload_encoding="features")
    with pytest.raises(ArchGymError, match="unknown workload_encoding 'names'"):
        fit_surrogate(data, "et", cv=0, workload_encoding="names")


def test_the_cli_fits_a_features_model_on_traces_of_two_workloads(tmp_path, capsys):
    # trace workloads are names; the domain loads them to find their features
    from archgym_py.cli import main

    paths = []
    for workload in ("resnet18", "alexnet"):
        paths.append(str(tmp_path / f"{workload}.csv"))
        assert main(["collect", "archgym/AcceleratorSmall-v0", "--workload", workload, "-n", "200",
                     "-o", paths[-1], "-q"]) == 0  # fmt: skip
    assert main(["surrogate", "fit", *paths, "-o", str(tmp_path / "m"), "--family", "et",
                 "--cv", "0", "--workload-encoding", "features"]) == 0  # fmt: skip
    model = load_surrogate(tmp_path / "m")
    assert model.workload_encoding == "features"
    assert set(model.workload_table) == {"resnet18", "alexnet"}
    assert "workload.log2_macs" in model.feature_names


def test_a_workload_object_describes_itself_even_under_a_trained_name(accelerator_rows):
    from archgym_py.surrogate import DescribedWorkload

    rows = accelerator_rows
    model = fit_surrogate(rows["resnet18"].concat(rows["alexnet"]), "et", cv=0,
                          workload_encoding="features")  # fmt: skip
    designs = rows["vgg16"].designs
    # an object named resnet18 that is AlexNet by its features is predicted as AlexNet
    alexnet = model.evaluate(designs, "alexnet").metrics["latency_s"]
    disguised = DescribedWorkload("resnet18", rows["alexnet"].workload_features["alexnet"])
    renamed = model.evaluate(designs, disguised).metrics["latency_s"]
    np.testing.assert_array_equal(renamed, alexnet)
    assert not np.allclose(model.evaluate(designs, "resnet18").metrics["latency_s"], alexnet)
