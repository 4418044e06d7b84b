"""Golden values of the workloads' surrogate features (``Network.features``,
``TransformerConfig.features``), computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.workloads import load_model
from archgym_py.envs.workloads.layers import Network, conv2d, gemm


def test_a_network_of_a_depthwise_conv_and_a_gemm():
    # depthwise 3x3 over 8 channels of 4x4 (padding 1): 8 x 9 x 16 = 1152 MACs, 72 weights,
    # 128 inputs, 128 outputs; a 4 x 8 @ 8 x 16 GEMM: 512 MACs, 128 weights, 32 in, 64 out
    dw = conv2d("dw", 8, 8, 4, 3, padding=1, groups=8)
    fc = gemm("fc", 4, 16, 8)
    assert (dw.macs, dw.weight_words, dw.input_words, dw.output_words) == (1152, 72, 128, 128)
    assert (fc.macs, fc.weight_words, fc.input_words, fc.output_words) == (512, 128, 32, 64)
    f = Network("pair", (dw, fc)).features()
    assert f["log2_macs"] == pytest.approx(np.log2(1664))
    assert f["log2_weights"] == pytest.approx(np.log2(200))
    assert f["log2_inputs"] == pytest.approx(np.log2(160))
    assert f["log2_outputs"] == pytest.approx(np.log2(192))
    assert f["log2_layers"] == 1.0
    assert f["log2_macs_per_word"] == pytest.approx(np.log2(1664 / 552))
    # the MAC-weighted filter size: 3x3 for the depthwise MACs, 1x1 for the GEMM's
    assert f["log2_filter"] == pytest.approx(1152 * np.log2(9) / 1664)
    assert f["grouped_share"] == pytest.approx(1152 / 1664)
    assert f["gemm_share"] == pytest.approx(512 / 1664)


def test_a_dense_and_a_mixture_of_experts_model():
    # Llama-3-8B: 4096 wide, 32 layers of 32 heads, 8 KV heads of 128, FFN 14336; a token's
    # KV cache is 2 x 32 x 8 x 128 x 2 B = 128 KiB. Mixtral-8x7B has the same shape, experts
    # of 14336 with top-2 routing, 46.7 B parameters of which 12.9 B are active
    dense = load_model("llama3_8b").features()
    assert (dense["log2_hidden"], dense["log2_layers"], dense["log2_heads"]) == (12.0, 5.0, 5.0)
    assert dense["log2_kv_heads"] == 3.0 and dense["log2_kv_bytes_per_token"] == 17.0
    assert dense["log2_ffn"] == pytest.approx(np.log2(14336))
    assert dense["log2_params"] == dense["log2_active_params"]
    assert dense["experts_per_token"] == 0.0
    moe = load_model("mixtral_8x7b").features()
    assert moe["experts_per_token"] == 2.0 and moe["log2_ffn"] == pytest.approx(np.log2(14336))
    assert 2 ** moe["log2_params"] == pytest.approx(46.7e9, rel=0.01)
    assert 2 ** moe["log2_active_params"] == pytest.approx(12.9e9, rel=0.01)
