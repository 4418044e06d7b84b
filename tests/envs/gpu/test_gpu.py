"""Golden tests of the GPU model: datasheet peaks, roofline limits, the wave tail, the regimes of
decode and prefill, the tensor-parallel all-reduce, memory feasibility and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py import WorkloadError
from archgym_py.envs.gpu import DOMAIN, Generation
from archgym_py.envs.gpu import kernels as K
from archgym_py.envs.gpu.arch import DTYPES, PEAK_FIELD, RATE_FIELD
from archgym_py.envs.workloads import load_model

from ..knob_sweep import evaluate_every_knob

GPUS = DOMAIN.arch_names()


def device(name, **design):
    sim = DOMAIN.simulator(DOMAIN.load_arch(name))
    return sim, sim.device(sim.arch.fill({k: [v] for k, v in design.items()}))


@pytest.mark.parametrize("name", GPUS)
def test_every_datasheet_peak_is_sms_x_clock_x_per_sm_rate(name):
    arch = DOMAIN.load_arch(name)
    for dtype in DTYPES:
        peak = getattr(arch, PEAK_FIELD[dtype]) * 1e12
        if getattr(arch, RATE_FIELD[dtype]) == 0:
            assert peak == 0, f"{name} {dtype}: a peak without a pipe"
        else:
            # datasheets round their peaks to two or three significant figures
            assert arch.peak_flops(dtype) == pytest.approx(peak, rel=0.015), (name, dtype)


def test_a_large_gemm_runs_at_the_measured_fraction_of_the_tensor_peak():
    # 16384^3 FP16 on A100: 64 x 128 tiles of 256 x 128 in ceil(8192 / 108) = 76 waves, 0.2%
    # above the roofline of peak x efficiency
    # plus the epilogue's store of C at the achievable bandwidth
    sim, dev = device("a100_sxm_80gb", dtype="fp16")
    cost = K.gemm(dev, 16384, 16384, 16384)
    roof = 2 * 16384**3 / (sim.arch.peak_flops("fp16") * sim.arch.tensor_efficiency)
    store = 16384**2 * 2 / (2039e9 * sim.arch.hbm_efficiency)
    launch = sim.arch.kernel_launch_us * 1e-6
    assert cost.time_s[0, 0] == pytest.approx(roof * 76 / (8192 / 108) + store + launch, rel=1e-9)
    assert K.BINDINGS[cost.binding[0, 0]] == "compute"


def test_a_memory_bound_kernel_moves_its_bytes_at_the_measured_bandwidth():
    sim, dev = device("h100_sxm")
    cost = K.memory_bound(dev, 1e9)
    expected = 1e9 / (3350e9 * sim.arch.hbm_efficiency) + sim.arch.kernel_launch_us * 1e-6
    assert cost.time_s[0, 0] == pytest.approx(expected, rel=1e-12)
    assert K.BINDINGS[cost.binding[0, 0]] == "hbm"


def test_one_tile_past_a_multiple_of_the_sm_count_costs_a_whole_wave(monkeypatch):
    # 256 x 128 tiles, compute-bound shapes: 12 x 11 = 132 tiles fill H100's SMs once;
    # 7 x 19 = 133 tiles need a second wave for the last one
    monkeypatch.setattr(K, "TILES", ((256, 128),))
    monkeypatch.setattr(K, "SPLITS", (1,))
    sim, dev = device("h100_sxm")
    assert sim.arch.sms == 132
    full = K.gemm(dev, 256 * 12, 128 * 11, 8192)
    tail = K.gemm(dev, 256 * 7, 128 * 19, 8192)
    assert K.BINDINGS[full.binding[0, 0]] == K.BINDINGS[tail.binding[0, 0]] == "compute"
    rate = 3350e9 * sim.arch.hbm_efficiency
    launch = sim.arch.kernel_launch_us * 1e-6

    def main_loop(cost, m, n):  # less the launch and the epilogue's store of C
        return cost.time_s[0, 0] - launch - m * n * 2 / rate

    assert main_loop(tail, 256 * 7, 128 * 19) == pytest.approx(
        2 * main_loop(full, 256 * 12, 128 * 11)
    )


def test_the_heuristic_picks_the_fastest_candidate(monkeypatch):
    sim, dev = device("h100_sxm")
    best = K.gemm(dev, 4096, 4096, 4096).time_s[0, 0]
    times = []
    for tile in K.TILES:
        monkeypatch.setattr(K, "TILES", (tile,))
        times.append(K.gemm(dev, 4096, 4096, 4096).time_s[0, 0])
    assert best == min(times)


def llama_details(**design):
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    work = DOMAIN.load_workload("llama3_8b_chat")
    return sim, work, sim.evaluate({k: [v] for k, v in design.items()}, work, details=True)


def bindings(ev, phase):
    names = ev.details[f"{phase}_kernels"]
    return dict(zip(names, ev.details[f"{phase}_kernel_binding"][0], strict=True))


def test_decode_is_memory_bound_and_prefill_compute_bound_at_the_usual_shapes():
    _, _, ev = llama_details(batch=1)
    decode, prefill = bindings(ev, "decode"), bindings(ev, "prefill")
    for gemm in ("qkv_proj", "out_proj", "ffn_up", "ffn_down", "lm_head"):
        assert decode[gemm] == "hbm", gemm
    for gemm in ("qkv_proj", "out_proj", "ffn_up", "ffn_down"):  # on chip: tensor cores or L2
        assert prefill[gemm] in ("compute", "l2"), gemm
    assert prefill["ffn_up"] == "compute"


def test_a_batch_one_decode_step_reads_the_weights_at_about_the_achievable_bandwidth():
    sim, work, ev = llama_details(batch=1)
    weights = work.model.params * 2  # bf16
    floor = weights / (3350e9 * sim.arch.hbm_efficiency)
    assert floor < ev.metrics["tpot_s"][0] < 1.25 * floor


def test_the_tensor_parallel_all_reduce_adds_what_the_link_bandwidth_says():
    sim, work, ev = llama_details(batch=16, tp=4)
    a = sim.arch
    names = ev.details["decode_kernels"]
    j = names.index("attn_allreduce")
    per_call = ev.details["decode_kernel_s"][0, j] / ev.details["decode_kernel_calls"][j]
    from archgym_py.envs.gpu.llm import NCCL_START_SHARE, RING_FILL_STEPS

    nbytes = 16 * work.model.hidden * 2
    ring = 900e9 / 2 * a.nccl_ring_efficiency  # 4 GPUs: a ring, not the 8-GPU (NVLS) rate
    steps = 2 * (4 - 1)
    moved = steps / 4 * nbytes * (steps + RING_FILL_STEPS) / steps
    # a 128 KiB message: NCCL's low-latency protocols, at their share of the ring's rate, beat
    # the bulk one's start
    assert moved / (ring * a.nccl_ll_fraction) < a.nccl_simple_us * 1e-6 + moved / ring
    small = a.allreduce_latency_us * 1e-6  # the 8-GPU all-reduce: a start and 14 steps
    latency = small * NCCL_START_SHARE + steps * small * (1 - NCCL_START_SHARE) / 14
    expected = latency + moved / (ring * a.nccl_ll_fraction)
    assert per_call == pytest.approx(expected)
    _, _, single = llama_details(batch=16, tp=1)
    assert single.details["decode_kernel_s"][0, j] == 0


def test_a_model_that_does_not_fit_says_why_and_fits_with_tensor_parallelism():
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    work = DOMAIN.load_workload("llama3_70b_chat")
    ev = sim.evaluate({"tp": [1, 4]}, work, details=True)
    assert ev.feasible.tolist() == [False, True]
    assert "GiB per GPU" in ev.details["infeasible_reason"][0]
    assert ev.metrics["memory_gib"][0] > 130  # 70.6 B weights in bf16


def test_a_dtype_the_gpu_lacks_is_infeasible_and_named():
    sim = DOMAIN.simulator(DOMAIN.load_arch("a100_sxm_80gb"))
    ev = sim.evaluate({"dtype": ["fp8"]}, DOMAIN.load_workload("llama3_8b_chat"), details=True)
    assert not ev.feasible[0]
    assert "no fp8 pipe" in ev.details["infeasible_reason"][0]
    assert np.isfinite(list(ev.metrics.values())).all()


def test_fp4_on_blackwell_doubles_the_fp8_rate_and_reads_nvfp4_weights():
    # a compute-bound 16384^3 GEMM: FP4 runs at twice FP8's rate (the per-SM rate doubles; the
    # epilogue store and launch do not shrink), and a batch-one decode step's weight GEMMs read
    # half FP8's bytes
    _, fp8 = device("b200", dtype="fp8")
    _, fp4 = device("b200", dtype="fp4")
    t8 = K.gemm(fp8, 16384, 16384, 16384, a_bytes=1.0, b_bytes=1.0)
    t4 = K.gemm(fp4, 16384, 16384, 16384, a_bytes=0.5, b_bytes=0.5)
    assert K.BINDINGS[t4.binding[0, 0]] == "compute"
    assert 1.9 < t8.time_s[0, 0] / t4.time_s[0, 0] < 2.0
    sim = DOMAIN.simulator(DOMAIN.load_arch("b200"))
    ev = sim.evaluate(
        {"dtype": ["fp8", "fp4"]}, DOMAIN.load_workload("llama3_8b_chat"), details=True
    )
    assert ev.feasible.all()
    ffn = ev.details["decode_kernels"].index("ffn_up")
    # 32 launches aside, the weight reads: 1 byte (fp8, per-tensor scale) against 0.5 + NVFP4's
    # one E4M3 scale per 16 values
    launches = 32 * sim.arch.kernel_launch_us * 1e-6
    t8, t4 = ev.details["decode_kernel_s"][:, ffn] - launches
    assert t8 / t4 == pytest.approx(1.0 / (0.5 + 1 / 16), rel=0.02)
    hopper = DOMAIN.simulator(DOMAIN.load_arch("h200"))
    ev = hopper.evaluate({"dtype": ["fp4"]}, DOMAIN.load_workload("llama3_8b_chat"), details=True)
    assert "no fp4 pipe" in ev.details["infeasible_reason"][0]


def test_fp8_weights_and_cache_speed_up_decode_on_hopper():
    _, _, ev = llama_details(batch=64)
    _, _, fp8 = llama_details(batch=64, dtype="fp8", kv_dtype="fp8")
    assert 1.5 < ev.metrics["tpot_s"][0] / fp8.metrics["tpot_s"][0] < 2.0


def test_block_scaling_adds_its_scales_to_the_operand_bytes():
    # DeepSeek-V3's fp8 recipe: one fp32 scale per 1x128 activations and per 128x128 weights;
    # a batch-one decode step reads the weights, so it grows by 4 / 16384 of a byte per weight
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    wl = DOMAIN.load_workload("llama3_8b_chat")
    ev = sim.evaluate({"dtype": ["fp8", "fp8"], "scaling": ["tensor", "block"]}, wl, details=True)
    net = sim.network(sim.arch.fill({"dtype": ["fp8", "fp8"], "scaling": ["tensor", "block"]}))
    assert net["weight_bytes"][:, 0].tolist() == [1.0, 1.0 + 4 / 16384]
    assert net["operand_bytes"][:, 0].tolist() == [1.0, 1.0 + 4 / 128]
    assert ev.metrics["tpot_s"][1] > ev.metrics["tpot_s"][0]
    # bf16 has no scales to add
    net = sim.network(sim.arch.fill({"dtype": ["bf16"], "scaling": ["block"]}))
    assert net["weight_bytes"][0, 0] == 2.0


def test_moe_routing_imbalance_slows_the_expert_gemms():
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    model = load_model("mixtral_8x7b")
    even = Generation(model, 1024, 16)
    skewed = Generation(model, 1024, 16, moe_imbalance=2.0)
    design = {"tp": [2], "batch": [8]}
    assert (
        sim.evaluate(design, skewed).metrics["ttft_s"][0]
        > 1.2 * sim.evaluate(design, even).metrics["ttft_s"][0]
    )


def test_bad_workloads_name_the_field():
    with pytest.raises(WorkloadError, match="input_len"):
        DOMAIN.load_workload({"model": "llama3_8b", "input_len": 0})
    with pytest.raises(WorkloadError, match="unknown keys"):
        DOMAIN.load_workload({"model": "llama3_8b", "prompt": 10})
    with pytest.raises(WorkloadError, match="encoder"):
        DOMAIN.load_workload({"model": "bert_base"})


def test_the_kernel_breakdown_sums_to_the_phase_times():
    _, work, ev = llama_details(batch=8, tp=2)
    assert ev.details["prefill_kernel_s"].sum() == pytest.approx(ev.metrics["ttft_s"][0])
    assert ev.details["decode_kernel_s"].sum() == pytest.approx(ev.metrics["tpot_s"][0])
    total = ev.metrics["ttft_s"][0] + (work.output_len - 1) * ev.metrics["tpot_s"][0]
    assert ev.metrics["latency_s"][0] == pytest.approx(total)


def test_decode_attention_pays_a_block_wave_per_sms_sequence_heads_and_reads_whole_pages():
    sim, dev = device("h200")
    a = sim.arch
    # short contexts: bound by waves of (sequence, KV head) blocks; 1024 x 2 = 2048 blocks
    # are ceil(2048 / 132) = 16 waves
    short = K.decode_attention(dev, 1024, 8, 2, 2, 128).time_s[0, 0]
    assert short == pytest.approx(
        (a.decode_attention_fixed_us + 16 * a.decode_attention_block_us) * 1e-6
    )
    # a long context is bound by the cache's bytes, read in whole 16-token pages
    long = K.decode_attention(dev, 16, 32, 8, 32760, 128).time_s[0, 0]
    cache = 16 * 2 * 8 * 32768 * 128 * 2 + 16 * 2 * 32 * 128 * 2
    expected = a.decode_attention_fixed_us * 1e-6 + cache / (4800e9 * a.hbm_efficiency)
    assert long == pytest.approx(expected)


def test_power_stays_between_idle_and_the_board_limit_and_energy_per_token_falls_with_batch():
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    ev = sim.evaluate({"batch": [1, 8, 64]}, DOMAIN.load_workload("llama3_8b_chat"))
    power = ev.metrics["power_w"]
    assert np.all(power > sim.arch.idle_power_w) and np.all(power <= sim.arch.tdp_w)
    assert np.all(np.diff(ev.metrics["energy_per_token_j"]) < 0)


def test_a_streaming_kernel_draws_idle_plus_its_share_of_the_power_limit():
    # a 1 GB copy-like kernel uses the measured fraction of peak bandwidth for its whole time
    # (less the launch): power = idle + (TDP - idle) x that share
    from archgym_py.envs.gpu.llm import Phase

    sim, dev = device("h100_sxm")
    a = sim.arch
    cost = K.memory_bound(dev, 1e9)
    phase = Phase(["copy"], np.array([1.0]), cost.time_s, cost.flops, cost.hbm_bytes, cost.binding)
    full = sim.arch.fill({"batch": [1]})
    t = cost.time_s[0, 0]
    share = 1e9 / (t * 3350e9)
    expected = t * (a.idle_power_w + (a.tdp_w - a.idle_power_w) * share)
    assert sim.phase_energy(full, phase)[0] == pytest.approx(expected)


def test_unfused_attention_moves_the_score_matrix_and_loses_to_flash_at_long_prompts():
    sim, dev = device("h100_sxm")
    b, h, s, dh = 2, 16, 8192, 128
    kernels = K.unfused_attention(dev, b, h, s, s, dh)
    softmax = kernels[1]
    assert softmax.hbm_bytes[0, 0] == 2 * b * h * s * s * 2  # read S, write P, fp16
    total = K.combine(kernels)
    assert total.time_s[0, 0] == pytest.approx(sum(k.time_s[0, 0] for k in kernels))
    flash = K.flash_attention(dev, b, h, h, s, s, dh)
    assert total.time_s[0, 0] > 2 * flash.time_s[0, 0]
    # the env knob switches a prefill to it
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    ev = sim.evaluate(
        {"attention": ["flash", "unfused"]}, DOMAIN.load_workload("llama3_8b_summarise")
    )
    assert ev.metrics["ttft_s"][1] > ev.metrics["ttft_s"][0]


def test_weight_only_quantisation_shrinks_weights_and_speeds_up_memory_bound_decode():
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    work = DOMAIN.load_workload("llama3_8b_chat")
    ev = sim.evaluate({"weight_bits": [0, 8, 4], "batch": [1, 1, 1]}, work, details=True)
    w = ev.details["weights_gib"] * (1 << 30)
    params = work.model.params
    # packed weights plus an fp16 scale per 128
    assert w[1] == pytest.approx(params * (1 + 2 / 128))
    assert w[2] == pytest.approx(params * (0.5 + 2 / 128))
    tpot = ev.metrics["tpot_s"]
    assert tpot[0] > 1.5 * tpot[1] > 1.5 * 1.2 * tpot[2]
    from archgym_py.envs.gpu import TRAINING_DOMAIN

    train = TRAINING_DOMAIN.simulator(TRAINING_DOMAIN.load_arch("h100_sxm"))
    tev = train.evaluate({"weight_bits": [4], "tp": [4]}, TRAINING_DOMAIN.load_workload("gpt2_seq1024"),
                         details=True)  # fmt: skip
    assert not tev.feasible[0] and "inference format" in tev.details["infeasible_reason"][0]


def test_mla_decode_reads_one_latent_per_token_not_a_key_and_value_per_head():
    from archgym_py.envs.workloads import load_model

    model = load_model("deepseek_v3")
    assert model.latent_width == 512 + 64
    assert model.kv_bytes_per_token_fp16 == 2 * 61 * 576  # DeepSeek-V2 paper's cache formula
    sim = DOMAIN.simulator(DOMAIN.load_arch("h200"))
    run = Generation(model, 1024, 128)
    design = {"tp": [8], "batch": [4], "dtype": ["fp8"], "kv_dtype": ["fp8"]}
    ev = sim.evaluate(design, run, details=True)
    assert ev.details["kv_cache_gib"][0] * (1 << 30) == pytest.approx(4 * (1024 + 128) * 61 * 576)
    decode = sim.phases(design, run)[1]
    j = decode.names.index("attention")
    context = 1024 + 64
    paged = -(-context // 16) * 16
    cache = 4 * paged * 576 * 1.0  # fp8 latents, shared by the rank's 16 heads
    queries_and_outputs = 4 * 16 * (576 + 512) * 2.0
    assert decode.hbm_bytes[0, j] == pytest.approx(cache + queries_and_outputs)
    names = set(decode.names)
    assert {"q_absorb", "v_absorb"} <= names and "kv_up" not in names
    prefill = sim.phases(design, run)[0]
    assert "kv_up" in prefill.names and "q_absorb" not in prefill.names


def test_mfu_is_a_per_gpu_share_whatever_the_tensor_parallel_degree():
    # a prefill's FLOPs are about two per weight per token; MFU is them over the group's time,
    # peak and GPUs, so it must not fall by the TP degree on its own
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    work = Generation(DOMAIN.load_workload("llama3_8b_chat").model, 4096, 1)
    ev = sim.evaluate({"tp": [1, 2], "batch": [4, 4]}, work)
    m = work.model  # output_len 1: the run is the prefill; the LM head scores one position
    total = 2 * (m.params - 2 * m.vocab * m.hidden) * 4 * 4096
    for i, tp in enumerate((1, 2)):
        implied = (
            ev.metrics["mfu"][i] * ev.metrics["latency_s"][i] * tp * sim.arch.peak_flops("bf16")
        )
        assert total < implied < 1.3 * total


@pytest.mark.parametrize("workload", ["llama3_8b_chat", "mixtral_8x7b_chat", "deepseek_v3_chat"])
def test_every_knob_combination_on_blackwell_runs_or_says_why(workload):
    # all tunables at once, at valid values, on B200 (every dtype has a pipe there): finite
    # metrics, prefill and decode breakdowns that sum to TTFT and TPOT, reasons exactly where
    # a design is infeasible
    sim = DOMAIN.simulator(DOMAIN.load_arch("b200"))
    options = {
        "sms": [74, 148, 296], "clock_mhz": [1200.0, 1856.0], "fp16_flops_per_clk_sm": [4096, 8192],
        "hbm_bw_gbps": [3000.0, 7700.0], "hbm_gib": [80.0, 180.0], "l2_mib": [50.0, 126.0],
        "l2_bytes_per_clk": [5120.0, 10240.0], "nvlink_gbps": [900.0, 1800.0],
        "tp": [1, 2, 8, 16], "batch": [1, 64], "dtype": list(DTYPES),
        "kv_dtype": ["bf16", "fp8"], "weight_bits": [0, 4], "attention": ["flash", "cudnn", "unfused"],
        "scaling": ["tensor", "block"],
    }  # fmt: skip
    ev = evaluate_every_knob(sim, options, DOMAIN.load_workload(workload), n=256, seed=3)
    np.testing.assert_allclose(ev.details["prefill_kernel_s"].sum(axis=1), ev.metrics["ttft_s"],
                               rtol=1e-9)  # fmt: skip
    np.testing.assert_allclose(ev.details["decode_kernel_s"].sum(axis=1), ev.metrics["tpot_s"],
                               rtol=1e-9)  # fmt: skip


def test_a_tensor_parallel_degree_past_the_heads_is_infeasible_with_finite_metrics():
    # found by the fuzz test: 33 GPUs for Llama-3-8B's 32 heads divided by zero heads a rank
    import warnings

    from archgym_py import make_core

    core = make_core("archgym/GPU-v0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = core.simulator.evaluate({"tp": [33, 8]}, core.workload, details=True)
    assert ev.feasible.tolist() == [False, True]
    assert ev.details["infeasible_reason"][0].startswith("tp 33 does not divide the heads (32)")
    assert all(np.isfinite(v).all() for v in ev.metrics.values())
