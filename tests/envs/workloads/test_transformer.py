"""Transformer model configs against published figures, and their GEMM decomposition by hand."""

from __future__ import annotations

import pytest

from archgym_py import SpecError, WorkloadError
from archgym_py.envs.workloads import block, decode_step, load_model, model_names, prefill

# Published parameter counts (billions) and the source of each; ours leave out norms, biases and
# position embeddings, so BERT and GPT-2 land a few percent low (BERT-base 108.9 M of 110 M).
PUBLISHED = {
    "llama2_7b": (
        6.74,
        None,
        "Touvron et al. 2023, Llama 2, Table 1 (7B: 6.74 B in the HF model card)",
    ),
    "llama3_8b": (8.03, None, "Meta 2024, Llama 3 model card (8.03 B)"),
    "llama2_70b": (68.98, None, "Hugging Face meta-llama/Llama-2-70b-hf (68.98 B)"),
    "mixtral_8x7b": (
        46.7,
        12.9,
        "Jiang et al. 2024, Mixtral of Experts: 46.7 B total, 12.9 B active",
    ),
    "qwen3_30b_a3b": (
        30.5,
        3.3,
        "Qwen3 Technical Report 2025, Table 2: 30.5 B total, 3.3 B active",
    ),
    "gpt3_175b": (175.0, None, "Brown et al. 2020, Table 2.1 (175.0 B)"),
    "llama31_405b": (405.0, None, "Meta 2024, The Llama 3 Herd of Models, Table 3 (405 B)"),
    "deepseek_v3": (
        671.0,
        37.0,
        "DeepSeek-V3 Technical Report 2024 (arXiv:2412.19437): 671 B total, 37 B activated",
    ),
    "bert_large": (0.340, None, "Devlin et al. 2019, Section 3 (340 M)"),
}


def test_every_shipped_model_is_listed():
    assert set(PUBLISHED) <= set(model_names())
    assert {"gpt2", "bert_base", "llama3_70b"} <= set(model_names())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_match_the_published_ones(name):
    total, active, _source = PUBLISHED[name]
    model = load_model(name)
    assert model.params / 1e9 == pytest.approx(total, rel=0.025)
    if active is not None:
        assert model.active_params / 1e9 == pytest.approx(active, rel=0.025)
    else:
        assert model.active_params == model.params


def test_llama2_7b_decode_macs_by_hand():
    # Weights: 32 x (4 d^2 + 3 d ff) + vocab d; attention: 2 x 32 layers x 32 heads x 128 x 2048.
    d, ff, layers, vocab, context = 4096, 11008, 32, 32000, 2048
    weights = layers * (4 * d * d + 3 * d * ff) + vocab * d
    attention = 2 * layers * 32 * 128 * context
    net = decode_step(load_model("llama2_7b"), batch=1, context=context)
    assert net.macs == weights + attention == 7_143_948_288
    assert [(layer.name, layer.count) for layer in net.layers] == [
        ("qkv_proj", 96), ("attn_scores", 32), ("attn_context", 32), ("out_proj", 32),
        ("ffn_gate_up", 64), ("ffn_down", 32), ("lm_head", 1),
    ]  # fmt: skip


def test_grouped_query_attention_projects_fewer_keys_and_values():
    net = block(load_model("llama3_8b"), batch=2, seq_len=16)
    shapes = {layer.name: (layer.p, layer.k, layer.c, layer.count) for layer in net.layers}
    assert shapes["q_proj"] == (32, 4096, 4096, 1)  # (tokens, outputs, reduction, count)
    assert shapes["kv_proj"] == (32, 8 * 128, 4096, 2)  # 8 KV heads of 128


def test_moe_routes_each_token_to_top_k_experts():
    cfg = load_model("mixtral_8x7b")
    net = prefill(cfg, batch=1, seq_len=512)
    by_name = {layer.name: layer for layer in net.layers}
    # 512 tokens x top-2 over 8 experts: 128 tokens per expert, balanced.
    up = by_name["expert_gate_up"]
    assert (up.groups, up.p, up.k, up.c, up.count) == (8, 128, 14336, 4096, 2 * 32)
    expert_macs = sum(by_name[n].macs * by_name[n].count for n in ("expert_gate_up", "expert_down"))
    assert expert_macs == 512 * 2 * 3 * 4096 * 14336 * 32
    assert by_name["router"].macs == 512 * 8 * 4096
    # One decode token visits only 2 experts.
    decode = {layer.name: layer for layer in decode_step(cfg, batch=1, context=64).layers}
    assert (decode["expert_gate_up"].groups, decode["expert_gate_up"].p) == (2, 1)


def test_constraints_can_read_a_model_through_its_network():
    net = prefill(load_model("gpt2"), batch=1, seq_len=64)
    scalars = net.scalars()
    assert (scalars["hidden"], scalars["heads"], scalars["layers"]) == (768, 12, 12)
    assert scalars["macs"] == net.macs


def test_bad_models_and_shapes_are_refused():
    data = load_model("llama3_8b").to_dict()
    data["architecture"]["kv_heads"]["value"] = 5
    with pytest.raises(SpecError, match=r"kv_heads: got 5; expected a divisor of heads \(32\)"):
        load_model(data)
    with pytest.raises(WorkloadError, match="is an encoder: it has no decode step"):
        decode_step(load_model("bert_base"))
    with pytest.raises(WorkloadError, match="seq_len: got 0; expected a positive integer"):
        prefill(load_model("gpt2"), seq_len=0)
    with pytest.raises(SpecError, match="unknown transformer model 'llama3-8b'"):
        load_model("llama3-8b")
