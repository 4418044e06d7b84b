"""Golden tests of the training step: backward GEMMs, flash-attention backward, the conjugate
all-reduces, mixed-precision Adam's memory and traffic."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py import WorkloadError
from archgym_py.envs.gpu import TRAINING_DOMAIN
from archgym_py.envs.gpu.llm import LOSS_BYTES_PER_LOGIT
from archgym_py.envs.gpu.training import ADAM_BYTES_PER_PARAM, STATE_BYTES_PER_PARAM

SIM = TRAINING_DOMAIN.simulator(TRAINING_DOMAIN.load_arch("h100_sxm"))
WORK = TRAINING_DOMAIN.load_workload("llama3_8b_seq4096")


def step(**design):
    return SIM.evaluate({k: [v] for k, v in design.items()}, WORK, details=True)


def gemm_flops(phase, suffix=""):
    """FLOPs of a step's weight GEMMs (forward, or their ``_dgrad`` / ``_wgrad``)."""
    per_run = dict(zip(phase.names, phase.flops[0] * phase.calls, strict=True))
    forward = [
        n for n in phase.names if n.endswith("_proj") or n in ("ffn_up", "ffn_down", "lm_head")
    ]
    return sum(per_run[n + suffix] for n in forward)


def test_each_gemm_brings_an_input_and_a_weight_gradient_of_its_flops():
    phase, _ = SIM.step({"tp": [2], "batch": [1]}, WORK)
    forward = gemm_flops(phase)
    assert gemm_flops(phase, "_dgrad") == pytest.approx(forward)
    assert gemm_flops(phase, "_wgrad") == pytest.approx(forward)
    # two FLOPs per weight per token forward, over every position (the embedding is a gather),
    # split over two GPUs of tensor parallelism
    weights = WORK.model.params - WORK.model.vocab * WORK.model.hidden
    assert 2 * forward == pytest.approx(2 * weights * WORK.seq_len, rel=0.01)


def test_flash_attention_backward_is_two_and_a_half_forwards():
    phase, _ = SIM.step({"tp": [1], "batch": [1]}, WORK)
    f = dict(zip(phase.names, phase.flops[0], strict=True))
    assert f["attention_bwd"] == pytest.approx(2.5 * f["attention"])


def test_tensor_parallel_training_doubles_the_all_reduces():
    phase, _ = SIM.step({"tp": [4], "batch": [1]}, WORK)
    calls = dict(zip(phase.names, phase.calls, strict=True))
    assert calls["attn_allreduce"] == calls["ffn_allreduce"] == 2 * WORK.model.layers


def test_adam_state_and_traffic_follow_mixed_precision():
    assert STATE_BYTES_PER_PARAM == 2 + 2 + 4 + 4 + 4  # ZeRO: weight, gradient, master, m, v
    ev = step(tp=8, batch=1)
    a = SIM.arch
    adam = ev.details["optimizer_s"][0]
    expected = (
        WORK.model.params / 8 * ADAM_BYTES_PER_PARAM / (a.hbm_bw_gbps * 1e9 * a.hbm_efficiency)
    )
    assert adam == pytest.approx(expected + a.kernel_launch_us * 1e-6)
    states = WORK.model.params * STATE_BYTES_PER_PARAM / 8
    assert ev.metrics["memory_gib"][0] * (1 << 30) > states


def test_an_8b_model_does_not_train_on_one_80_gb_gpu_and_does_with_tensor_parallelism():
    ev = SIM.evaluate({"tp": [1, 4]}, WORK, details=True)
    assert ev.feasible.tolist() == [False, True]
    assert "GiB per GPU" in ev.details["infeasible_reason"][0]


def test_step_time_is_its_kernels_plus_adam_and_mfu_is_plausible():
    ev = step(tp=2, batch=1)
    total = ev.details["step_kernel_s"].sum() + ev.details["optimizer_s"][0]
    assert ev.metrics["latency_s"][0] == pytest.approx(total)
    assert 0.3 < ev.metrics["mfu"][0] < 0.7
    assert np.isfinite(list(ev.metrics.values())).all()


def test_fp8_training_casts_and_transposes_each_gemm_input_and_output_gradient():
    # one bf16 and one fp8 design in one batch: the fp8 one gets, per GEMM, a cast-transpose of
    # its input in the forward pass and of its output gradient in the backward, each reading
    # 16-bit values and writing two 8-bit copies (4 bytes an element); the bf16 one none
    phase, _ = SIM.step({"tp": [2, 2], "batch": [1, 1], "dtype": ["bf16", "fp8"]}, WORK)
    k = dict(zip(phase.names, range(len(phase.names)), strict=True))
    cfg, tokens = WORK.model, WORK.seq_len
    qkv_out = (cfg.heads + 2 * cfg.kv_heads) // 2 * cfg.head_dim  # its columns on a rank
    assert phase.hbm_bytes[1, k["qkv_proj_cast"]] == tokens * cfg.hidden * 4
    assert phase.hbm_bytes[1, k["qkv_proj_cast_bwd"]] == tokens * qkv_out * 4
    assert phase.time_s[0, k["qkv_proj_cast"]] == phase.time_s[0, k["qkv_proj_cast_bwd"]] == 0
    assert phase.calls[k["qkv_proj_cast"]] == cfg.layers
    bf16_only, _ = SIM.step({"tp": [2], "batch": [1], "dtype": ["bf16"]}, WORK)
    assert not any(n.endswith(("_cast", "_cast_bwd")) for n in bf16_only.names)
    # the bf16 design's step is the same whether fp8 designs share its batch or not
    assert phase.total_s[0] == pytest.approx(bf16_only.total_s[0], rel=1e-12)


def test_the_loss_streams_megatrons_cross_entropy_passes_over_the_rank_logits():
    # Megatron-Core's unfused vocab-parallel cross-entropy, per logit: cast to fp32 (2 + 4),
    # max (4), subtract (8), exp (8), sum (4), divide (8); backward scale (8), cast back (4 + 2)
    assert LOSS_BYTES_PER_LOGIT == (2 + 4) + 4 + 8 + 8 + 4 + 8 + 8 + (4 + 2)
    phase, _ = SIM.step({"tp": [1, 4], "batch": [1, 1]}, WORK)
    k = phase.names.index("loss")
    logits = WORK.seq_len * WORK.model.vocab / np.array([1, 4])
    np.testing.assert_allclose(phase.hbm_bytes[:, k], 52 * logits)
    assert phase.calls[k] == 1
    a = SIM.arch
    rate = a.hbm_bw_gbps * 1e9 * a.hbm_efficiency
    assert phase.time_s[0, k] == pytest.approx(52 * logits[0] / rate + a.kernel_launch_us * 1e-6)


def test_unfused_attention_keeps_its_softmax_output_for_the_backward_pass():
    # flash attention recomputes the probabilities; the unfused kernels keep P, one s x s
    # matrix a head of the rank, in the activation dtype, every layer
    ev = SIM.evaluate({"tp": [2, 2], "batch": [1, 1], "attention": ["flash", "unfused"]}, WORK)
    cfg, s = WORK.model, WORK.seq_len
    scores = (cfg.heads // 2) * s * s * 2.0 * cfg.layers
    gib = ev.metrics["memory_gib"]
    assert (gib[1] - gib[0]) * (1 << 30) == pytest.approx(scores)


def test_bad_training_workloads_name_the_field():
    with pytest.raises(WorkloadError, match="seq_len"):
        TRAINING_DOMAIN.load_workload({"model": "llama3_8b", "seq_len": -1})
