"""Workloads: layer shapes, MAC and weight counts against published figures, YAML round trip."""

from __future__ import annotations

import pytest
import yaml

from archgym_py import WorkloadError
from archgym_py.envs.accelerator import BUILTIN_NETWORKS, batched_gemm, conv2d, gemm, load_workload
from archgym_py.envs.workloads import network_from_dict


def test_conv_output_size_and_macs_hand_computed():
    layer = conv2d("c", in_channels=3, out_channels=64, in_size=224, kernel=7, stride=2, padding=3)
    assert (layer.p, layer.q) == (112, 112)
    assert layer.macs == 64 * 3 * 7 * 7 * 112 * 112 == 118_013_952


def test_depthwise_and_gemm_forms():
    dw = conv2d("dw", 32, 32, 112, 3, padding=1, groups=32)
    assert (dw.groups, dw.c, dw.k) == (32, 1, 1) and dw.macs == 32 * 9 * 112 * 112
    g = gemm("g", m=128, n=768, k=3072)
    assert g.macs == 128 * 768 * 3072 and g.weight_words == 768 * 3072
    bg = batched_gemm("bg", batch=12, m=128, n=128, k=64)
    assert bg.macs == 12 * 128 * 128 * 64 and bg.weight_words == 12 * 128 * 64


def test_alexnet_conv_layers_match_eyeriss_figures():
    # Chen et al., ISSCC 2016: AlexNet uses 2.3M weights and 666M MACs per 227x227 image (CONV layers).
    convs = [layer for layer in BUILTIN_NETWORKS["alexnet"]().layers if layer.kind == "conv2d"]
    assert sum(layer.macs for layer in convs) == 665_784_864
    assert sum(layer.weight_words for layer in convs) == 2_332_704


def test_vgg16_conv_layers_match_eyeriss_figures():
    # Chen et al., ISSCC 2016: VGG16 uses 14.7M weights and 15.3G MACs per 224x224 image (CONV layers).
    convs = [layer for layer in BUILTIN_NETWORKS["vgg16"]().layers if layer.kind == "conv2d"]
    macs = sum(layer.macs * layer.count for layer in convs)
    weights = sum(layer.weight_words * layer.count for layer in convs)
    assert macs == pytest.approx(15.3e9, rel=0.01)
    assert weights == pytest.approx(14.7e6, rel=0.01)


def test_resnet18_exact_macs():
    # Hand count: conv1 118,013,952 + 4 x 115,605,504 + 3 x (57,802,752 + 3 x 115,605,504 + 6,422,528) + fc 512,000
    assert BUILTIN_NETWORKS["resnet18"]().macs == 1_814_073_344


@pytest.mark.parametrize(
    "name, macs, rel",
    [
        ("resnet50", 4.09e9, 0.01),  # torchvision ResNet-50 v1.5: 4.09 GMACs
        ("mobilenet_v2", 300e6, 0.01),  # Sandler et al., CVPR 2018: 300M multiply-adds
    ],
)
def test_published_mac_counts(name, macs, rel):
    assert BUILTIN_NETWORKS[name]().macs == pytest.approx(macs, rel=rel)


def test_llama7b_decode_weights_match_parameter_count():
    # Touvron et al., 2023: 6,738,415,616 parameters = matmul weights + token embedding (32000 x 4096)
    # + RMSNorm weights (2 per layer x 32 + final) x 4096. The attention GEMMs' second operand is the
    # KV cache (2 x 32 layers x 2048 tokens x 4096), not parameters.
    net = BUILTIN_NETWORKS["llama7b_decode"]()
    params = sum(layer.weight_words * layer.count for layer in net.layers if layer.kind == "gemm")
    assert params == 6_738_415_616 - 32000 * 4096 - 65 * 4096
    kv_cache = sum(
        layer.weight_words * layer.count for layer in net.layers if layer.kind == "batched_gemm"
    )
    assert kv_cache == 2 * 32 * 2048 * 4096


def test_transformer_layer_macs():
    s, d = 128, 768
    assert BUILTIN_NETWORKS["bert_base_layer"]().macs == 12 * s * d * d + 2 * s * s * d


@pytest.mark.parametrize("name", sorted(BUILTIN_NETWORKS))
def test_yaml_round_trip(name, tmp_path):
    net = BUILTIN_NETWORKS[name]()
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(net.to_dict()))
    again = load_workload(str(path))
    assert again.layers == net.layers and again.macs == net.macs


@pytest.mark.parametrize(
    "layer, message",
    [
        (
            {"kind": "conv2d", "in_channels": 3, "out_channels": 8, "in_size": 4, "kernel": 7},
            "kernel 7x7 does not fit input 4x4",
        ),
        (
            {
                "kind": "conv2d",
                "in_channels": 3,
                "out_channels": 8,
                "in_size": 8,
                "kernel": 3,
                "groups": 2,
            },
            "groups=2 must divide",
        ),
        ({"kind": "gemm", "m": 0, "n": 4, "k": 4}, "m must be a positive integer, got 0"),
        ({"kind": "gemm", "m": 1, "n": 4, "k": 4, "bias": True}, "unknown key 'bias'"),
        ({"kind": "pool", "size": 2}, "layers[0].kind: got 'pool'; expected one of"),
    ],
)
def test_bad_layers_name_the_field(layer, message):
    with pytest.raises(Exception) as err:
        network_from_dict({"spec_version": 1, "name": "bad", "layers": [layer]})
    assert message in str(err.value)


def test_unknown_workload_name_suggests():
    with pytest.raises(
        WorkloadError,
        match=r"unknown accelerator workload 'resnet-18' \(did you mean 'resnet18'\?\)",
    ):
        load_workload("resnet-18")


@pytest.mark.parametrize(
    "in_size, message",
    [
        ("64", "in_size must be a positive integer or a pair \\[h, w\\], got '64'"),
        (6.0, "in_size must be a positive integer or a pair \\[h, w\\], got 6.0"),
        ([6, 6.5], "in_size must be a positive integer, got 6.5"),
    ],
)
def test_layer_sizes_are_checked_whole(in_size, message):
    # Issue 15: "64" was read as the pair ('6', '4') and reported as "got '4'".
    from archgym_py import WorkloadError

    layer = {"kind": "conv2d", "in_channels": 3, "out_channels": 8, "in_size": in_size, "kernel": 3}
    with pytest.raises(WorkloadError, match=message):
        load_workload({"spec_version": 1, "name": "x", "layers": [layer]})
