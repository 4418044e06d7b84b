"""Fidelity of the GPU kernel model against measured GEMM tables, next to a plain roofline.

Run: ``python benchmarks/fidelity_gpu.py``

Run ``python benchmarks/fidelity_gpu.py --calibrate`` to refit the decode-attention constants.

Run ``python benchmarks/fidelity_gpu.py --measured benchmarks/data/h200_*_2026-12-04*.csv``
to compare the model with kernels and whole training steps this project timed itself on a lent
H200 (written by ``benchmarks/measure_gpu.py``; one row calibrated the cuDNN attention
efficiency, every other row is held out).

GEMMs. Source (allowed for calibration and validation by issue 13): the Azure/AI-benchmarking-guide
results pages for ND A100 v4 (A100 SXM4 80 GB, cuBLASLt FP16), ND H100 v5 (H100 SXM5, FP8) and
ND H200 v5 (H200, FP8), "GEMM CuBLASLt" tables (TFLOPS, random init, 10,000 warm-up
iterations). The largest square GEMM of each table calibrated the spec's ``tensor_efficiency``;
every other shape is held out and reported separately. The plain roofline is
``max(FLOPs / dense peak, compulsory bytes / peak HBM bandwidth)``.

FP8 GEMMs with fine-grained scaling: the table of deepseek-ai/DeepGEMM's README at its first
commit (H800 SXM5; dense, contiguous-grouped and masked-grouped shapes), all held out.

Attention forward + backward: the same Azure pages' FlashAttention-2 tables (FlashAttention-2
calibrated the spec's ``attention_efficiency``; PyTorch's standard attention is held out). The
pages give batch 2, seq 8192 and the head dim, not the mask: Azure's harness
(``Benchmarks/FlashAttention.py``) keeps the first ``batch_size=2, seqlen=8192`` block that
flash-attention's ``benchmark_flash_attention.py`` prints, and that script prints
``causal=False`` first. The causal reading is also impossible: PyTorch's path would have to move
its score-matrix passes faster than the GPU's peak HBM bandwidth (the table prints that bound).

Decode attention. Source: ai-dynamo/aiconfigurator (Apache-2.0),
``campaign_checkpoints/h200_sxm/generation_attention_perf.txt`` at commit 278bd708 (vLLM 0.20.0
flash-attention decode on H200; copied to ``benchmarks/data/``). Every fifth row (index 4, 9,
...) is held out: the spec's ``decode_attention_fixed_us`` and ``decode_attention_block_us`` are
fitted on the other 80% (``--calibrate``); the roofline there is the cache bytes at the peak
bandwidth.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path

import numpy as np

from archgym_py.envs.gpu import DOMAIN
from archgym_py.envs.gpu import kernels as K
from archgym_py.envs.gpu.arch import BLOCK_SCALE_BYTES

# (gpu spec, dtype, output bytes): {(m, n, k): measured TFLOPS}
AZURE_GEMM = {
    ("a100_sxm_80gb", "fp16", 2.0): {
        (1024, 1024, 1024): 119.4, (2048, 2048, 2048): 221.8, (4096, 4096, 4096): 228.0,
        (8192, 8192, 8192): 253.7, (16384, 16384, 16384): 256.5, (1024, 2145, 1024): 132.8,
        (6144, 12288, 12288): 250.8, (802816, 192, 768): 157.8,
    },
    ("h100_sxm", "fp8", 2.0): {
        (1024, 1024, 1024): 274.1, (2048, 2048, 2048): 1011.3, (4096, 4096, 4096): 1216.9,
        (8192, 8192, 8192): 1290.1, (16384, 16384, 16384): 1377.3,
        (32768, 32768, 32768): 1382.2, (1024, 2145, 1024): 410.7,
        (6144, 12288, 12288): 1351.4, (802816, 192, 768): 663.8,
    },
    ("h200", "fp8", 2.0): {
        (1024, 1024, 1024): 290.8, (2048, 2048, 2048): 1013.4, (4096, 4096, 4096): 1249.1,
        (8192, 8192, 8192): 1300.6, (16384, 16384, 16384): 1366.3,
        (32768, 32768, 32768): 1349.5, (1024, 2145, 1024): 407.9,
        (6144, 12288, 12288): 1318.0, (802816, 192, 768): 717.5,
    },
}  # fmt: skip
CALIBRATION = {"a100_sxm_80gb": (16384,) * 3, "h100_sxm": (32768,) * 3, "h200": (32768,) * 3}


DECODE_TABLE = Path(__file__).parent / "data" / "aiconfigurator_h200_generation_attention.csv"


def decode_rows():
    """(batch, heads, kv heads, head dim, KV bytes, context, measured s, held out) per row."""
    with open(DECODE_TABLE) as f:
        for i, r in enumerate(csv.DictReader(f)):
            yield (int(r["batch_size"]), int(r["num_heads"]), int(r["num_key_value_heads"]),
                   int(r["head_dim"]), 1.0 if r["kv_cache_dtype"] == "fp8" else 2.0,
                   int(r["step"]) + 1, float(r["latency_ms"]) * 1e-3, i % 5 == 4)  # fmt: skip


def decode_model(dev, rows) -> np.ndarray:
    return np.array([K.decode_attention(dev, b, h, kv, ctx, dh, kv_bytes=kvb).time_s[0, 0]
                     for b, h, kv, dh, kvb, ctx, _, _ in rows])  # fmt: skip


def decode_attention(calibrate: bool) -> None:
    sim = DOMAIN.simulator(DOMAIN.load_arch("h200"))
    dev = sim.device(sim.arch.fill({}))
    rows = list(decode_rows())
    fit = [r for r in rows if not r[-1]]
    if calibrate:
        best = (np.inf, 0.0, 0.0)
        measured = np.array([r[6] for r in fit])
        for fixed in np.arange(0.0, 15.0, 0.1):
            for block in np.arange(0.0, 8.0, 0.05):
                d = dataclasses.replace(dev, decode_fixed_s=np.full((1, 1), fixed * 1e-6),
                                        decode_block_s=np.full((1, 1), block * 1e-6))  # fmt: skip
                err = np.mean(np.abs(np.log(decode_model(d, fit) / measured)))
                if err < best[0]:
                    best = (err, fixed, block)
        print(f"fitted on {len(fit)} rows: decode_attention_fixed_us {best[1]:.1f}, "
              f"decode_attention_block_us {best[2]:.2f} (mean |log error| {best[0]:.3f})\n")  # fmt: skip
        dev = dataclasses.replace(dev, decode_fixed_s=np.full((1, 1), best[1] * 1e-6),
                                  decode_block_s=np.full((1, 1), best[2] * 1e-6))  # fmt: skip
    model = decode_model(dev, rows)
    bw = sim.arch.hbm_bw_gbps * 1e9
    print("decode attention on H200 vs aiconfigurator's vLLM measurements (53 shapes)")
    for label, keep in (("calibration", False), ("held out", True)):
        pick = [i for i, r in enumerate(rows) if r[-1] == keep]
        measured = np.array([rows[i][6] for i in pick])
        roof = np.array([rows[i][0] * 2 * rows[i][2] * rows[i][5] * rows[i][3] * rows[i][4] / bw
                         for i in pick])  # fmt: skip
        e_model = np.abs(model[pick] / measured - 1)
        e_roof = np.abs(roof / measured - 1)
        print(f"  {label:<12} {len(pick):>3} rows: median |error| model {np.median(e_model):6.1%}, "
              f"roofline {np.median(e_roof):6.1%}; worst model {e_model.max():6.1%}")  # fmt: skip


# Azure/AI-benchmarking-guide results pages, "Flash Attention 2.0" tables: forward + backward
# TFLOPS of flash-attention's benchmark_flash_attention.py (not causal, see the module docstring;
# model width 2048, batch 2, seq 8192): FlashAttention-2 (calibrated the spec's
# attention_efficiency) and PyTorch's standard attention (held out). Key: GPU -> (head dim, flash,
# PyTorch).
AZURE_ATTENTION = {"a100_sxm_80gb": (64, 179.5, 46.0), "h100_sxm": (128, 327.9, 145.1),
                   "h200": (128, 329.3, 161.5)}  # fmt: skip


# deepseek-ai/DeepGEMM README at its first commit (a6d97a1, Feb 2025): FP8 GEMMs with fine-grained
# (1x128 / 128x128) scaling on H800 SXM5, TFLOPS. Nothing is calibrated on them: all held out.
# Keys: (groups, m per group, n, k); groups 1 = a normal dense GEMM.
DEEPGEMM_H800 = {
    (1, 64, 2112, 7168): 206, (1, 64, 24576, 1536): 289, (1, 64, 32768, 512): 219,
    (1, 64, 7168, 16384): 336, (1, 64, 4096, 7168): 287, (1, 64, 7168, 2048): 295,
    (1, 128, 2112, 7168): 352, (1, 128, 24576, 1536): 535, (1, 128, 32768, 512): 358,
    (1, 128, 7168, 16384): 645, (1, 128, 4096, 7168): 533, (1, 128, 7168, 2048): 510,
    (1, 4096, 2112, 7168): 1058, (1, 4096, 24576, 1536): 990, (1, 4096, 32768, 512): 590,
    (1, 4096, 7168, 16384): 1358, (1, 4096, 4096, 7168): 1304, (1, 4096, 7168, 2048): 1025,
    # grouped, contiguous layout (MoE prefill / training)
    (4, 8192, 4096, 7168): 1297, (4, 8192, 7168, 2048): 1099,
    (8, 4096, 4096, 7168): 1288, (8, 4096, 7168, 2048): 1093,
    # grouped, masked layout (MoE decode)
    (1, 1024, 4096, 7168): 1233, (1, 1024, 7168, 2048): 925, (2, 512, 4096, 7168): 1040,
    (2, 512, 7168, 2048): 916, (4, 256, 4096, 7168): 932, (4, 256, 7168, 2048): 815,
}  # fmt: skip


def deepgemm() -> None:
    sim = DOMAIN.simulator(DOMAIN.load_arch("h800_sxm"))
    dev = sim.device(sim.arch.fill({"dtype": ["fp8"]}))
    peak = sim.arch.peak_flops("fp8")
    bw = sim.arch.hbm_bw_gbps * 1e9
    model_err, roof_err = [], []
    for (g, m, n, k), measured in DEEPGEMM_H800.items():
        flops = 2.0 * g * m * n * k
        # DeepGEMM's operands carry fp32 block scales (1x128 activations, 128x128 weights)
        act, weight = (1.0 + s for s in BLOCK_SCALE_BYTES["fp8"])
        t = K.gemm(dev, m, n, k, count=g, a_bytes=act, b_bytes=weight, c_bytes=2.0).time_s[0, 0]
        roof = max(flops / peak, g * (m * k + k * n + 2 * m * n) / bw)
        model_err.append(flops / t / 1e12 / measured - 1)
        roof_err.append(flops / roof / 1e12 / measured - 1)
    em, er = np.abs(model_err), np.abs(roof_err)
    worst = int(np.argmax(em))
    print(f"FP8 block-scaled GEMMs on H800 (DeepGEMM's table, {len(em)} shapes, all held out): "
          f"median |error| model {np.median(em):.1%} vs roofline {np.median(er):.1%}; model "
          f"worst {em[worst]:.1%} at {list(DEEPGEMM_H800)[worst]}; model closer on "
          f"{int(np.sum(em < er))} of {len(em)}")  # fmt: skip


def attention() -> None:
    print("attention forward + backward (not causal, batch 2, seq 8192) vs Azure's measurements")
    print(f"{'gpu':<14} {'impl':<8} {'measured':>9} {'model':>8} {'err':>7} {'roofline':>9} "
          f"{'err':>7}  set")  # fmt: skip
    causal_bw = {}
    for gpu, (dh, flash, torch) in AZURE_ATTENTION.items():
        sim = DOMAIN.simulator(DOMAIN.load_arch(gpu))
        dev = sim.device(sim.arch.fill({"dtype": ["fp16"]}))
        peak, bw = sim.arch.peak_flops("fp16"), sim.arch.hbm_bw_gbps * 1e9
        b, s, h = 2, 8192, 2048 // dh
        flops = 3.5 * 4 * b * s * s * h * dh  # the benchmark's count, backward 2.5x forward
        fused = sum(K.flash_attention(dev, b, h, h, s, s, dh, causal=False, backward=bw).time_s[0, 0]
                    for bw in (False, True))  # fmt: skip
        parts = K.unfused_attention(dev, b, h, s, s, dh, backward=True)
        split = sum(k.time_s[0, 0] for k in parts)
        # plain roofline: flash is its FLOPs at peak (its compulsory bytes are tiny); PyTorch's
        # path is each kernel's max of FLOPs at peak and bytes at peak bandwidth
        roof_fused = flops / peak
        roof_split = sum(max(k.flops[0, 0] / peak, k.hbm_bytes[0, 0] / bw) for k in parts)
        for impl, measured, t, roof, which in (
            ("flash", flash, fused, roof_fused, "calibration"),
            ("unfused", torch, split, roof_split, "held out"),
        ):
            model, rl = flops / t / 1e12, flops / roof / 1e12
            print(f"{gpu:<14} {impl:<8} {measured:>9.1f} {model:>8.1f} {model / measured - 1:>+7.1%} "
                  f"{rl:>9.1f} {rl / measured - 1:>+7.1%}  {which}")  # fmt: skip
        # the causal reading: the same measured TFLOPS over half the FLOPs, while PyTorch still
        # computes the whole score matrix and adds a mask pass (read and write it once more)
        scores = b * h * s * s * 2.0
        causal_bw[gpu] = (13 * scores) / (flops / 2 / (torch * 1e12)) / bw
    print("the causal reading would need PyTorch's 13 score-matrix passes at "
          + ", ".join(f"{g} {r:.2f}x" for g, r in causal_bw.items())
          + " the peak HBM bandwidth, with no time left for the GEMMs: the tables are not causal")  # fmt: skip


def gemms() -> None:
    print("GEMM throughput, model and plain roofline vs Azure's measured cuBLASLt tables\n")
    print(f"{'gpu':<14} {'dtype':<5} {'m x n x k':<22} {'measured':>9} {'model':>8} {'err':>7} "
          f"{'roofline':>9} {'err':>7}  set")  # fmt: skip
    held: dict[str, list[tuple[float, float]]] = {}
    for (gpu, dtype, c_bytes), table in AZURE_GEMM.items():
        sim = DOMAIN.simulator(DOMAIN.load_arch(gpu))
        dev = sim.device(sim.arch.fill({"dtype": [dtype]}))
        elem = 1.0 if dtype == "fp8" else 2.0
        peak = sim.arch.peak_flops(dtype)
        bw = sim.arch.hbm_bw_gbps * 1e9
        for (m, n, k), measured in table.items():
            flops = 2.0 * m * n * k
            t = K.gemm(dev, m, n, k, a_bytes=elem, b_bytes=elem, c_bytes=c_bytes).time_s[0, 0]
            roof = max(flops / peak, ((m * k + k * n) * elem + m * n * c_bytes) / bw)
            model, plain = flops / t / 1e12, flops / roof / 1e12
            e_model, e_roof = model / measured - 1, plain / measured - 1
            which = "calibration" if (m, n, k) == CALIBRATION[gpu] else "held out"
            if which == "held out":
                held.setdefault(gpu, []).append((abs(e_model), abs(e_roof)))
            print(f"{gpu:<14} {dtype:<5} {f'{m} x {n} x {k}':<22} {measured:>9.1f} {model:>8.1f} "
                  f"{e_model:>+7.1%} {plain:>9.1f} {e_roof:>+7.1%}  {which}")  # fmt: skip
    print("\nheld-out shapes, median |error|: model vs roofline")
    all_model, all_roof = [], []
    for gpu, errors in held.items():
        em, er = np.array(errors).T
        all_model += list(em)
        all_roof += list(er)
        print(f"  {gpu:<14} {np.median(em):6.1%}  vs {np.median(er):6.1%}  ({len(em)} shapes)")
    print(f"  {'all':<14} {np.median(all_model):6.1%}  vs {np.median(all_roof):6.1%}  "
          f"({len(all_model)} shapes)")  # fmt: skip


def read_measured(paths: list[Path]) -> tuple[list[tuple[str, str, dict, float]], np.ndarray]:
    """(kind, label, shape, seconds) per row of one or more ``measure_gpu.py`` files, and the
    run-to-run differences of the eager times. A row's time is the kernels' own where it was
    replayed from a CUDA graph, else the eager call's; the median over the files."""
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append({(r["kind"], r["label"], r["shape"]): r for r in csv.DictReader(f)})
    rows, spread = [], []
    for key in dict.fromkeys(k for run in runs for k in run):  # every row of any run, in order
        seen = [run[key] for run in runs if key in run]
        eager = np.array([float(r["seconds"]) for r in seen])
        graph = np.array([float(r["graph_seconds"]) for r in seen])
        own = graph[np.isfinite(graph)] if np.isfinite(graph).any() else eager
        rows.append((key[0], key[1], json.loads(key[2]), float(np.median(own))))
        spread += list(eager[1:] / eager[0] - 1)
    return rows, np.abs(spread)


def _median_line(label: str, errors: list[float]) -> str:
    e = np.abs(errors)
    return (f"  {label:<30} {len(e):>3} rows: median |error| {np.median(e):6.1%}, worst "
            f"{e.max():6.1%}, mean signed {np.mean(errors):+6.1%}")  # fmt: skip


def _gemm_group(label: str, dtype: str) -> str:
    if dtype == "fp8":
        return "fp8 squares"
    if label.startswith("decode"):
        return "bf16 decode GEMMs (Llama-3-8B)"
    return "bf16 Megatron layer GEMMs" if label[0].isdigit() else "bf16 squares, Azure shapes"


def model_time(
    devs, hbm_peak: float, kind: str, label: str, shape: dict
) -> tuple[float, float, str]:
    """The model's time of one measured kernel, a plain roofline's (NaN where none) and the
    kernel's group."""
    dev, nan = devs["bf16"], float("nan")
    if kind == "attention":  # the spec's efficiency of the back-end that ran
        dev = devs[label.split()[0]]
    if kind == "gemm":
        m, n, k, dtype = shape["m"], shape["n"], shape["k"], shape["dtype"]
        elem = 1.0 if dtype == "fp8" else 2.0
        d = devs[dtype]
        t = K.gemm(d, m, n, k, a_bytes=elem, b_bytes=elem, c_bytes=2.0).time_s[0, 0]
        peak = d.sms * d.tensor_flops_per_clk_sm * d.clock_hz
        roof = max(2.0 * m * n * k / peak[0, 0],
                   ((m * k + k * n) * elem + 2.0 * m * n) / hbm_peak)  # fmt: skip
        return t, roof, _gemm_group(label, dtype)
    if kind == "attention":
        args = (shape["batch"], shape["heads"], shape["heads"], shape["seq"], shape["seq"],
                shape["head_dim"])  # fmt: skip
        passes = (False, True) if label.endswith("fwd+bwd") else (False,)
        t = sum(K.flash_attention(dev, *args, causal=shape["causal"], backward=bwd).time_s[0, 0]
                for bwd in passes)  # fmt: skip
        mask = "causal" if shape["causal"] else "full"
        return t, nan, f"attention {label.split()[0]} {mask} {label.split()[1]}"
    return K.memory_bound(dev, shape["bytes"]).time_s[0, 0], nan, "bandwidth-bound kernels"


def measured_kernels(paths: list[Path], gpu: str) -> None:
    """The model against kernels timed on a real GPU by ``measure_gpu.py`` (all held out)."""
    from fidelity_cluster import MEGATRON_H100, SEQ, VOCAB, gpt

    from archgym_py.envs.gpu.training import GpuTrainingSimulator, TrainingStep

    rows, spread = read_measured(paths)
    facts = json.loads(paths[0].with_suffix(".json").read_text())
    sim = DOMAIN.simulator(DOMAIN.load_arch(gpu))
    devs = {d: sim.device(sim.arch.fill({"dtype": [d]})) for d in ("bf16", "fp8")}
    for backend, attention in (("flash", "flash"), ("cudnn", "cudnn")):
        devs[backend] = sim.device(sim.arch.fill({"dtype": ["bf16"], "attention": [attention]}))
    print(f"model ({gpu} spec) vs {len(paths)} run(s) of measure_gpu.py on {facts['name']} "
          f"(PyTorch {facts['torch']}, driver {facts['nvidia_smi']['driver_version']}); "
          f"run-to-run: median |difference| {np.median(spread):.1%}, worst {spread.max():.0%}")  # fmt: skip
    print("error = model time / measured time - 1 (negative: the model is fast); kernels under "
          "300 us timed from CUDA graphs")  # fmt: skip
    groups: dict[str, list[float]] = {}
    roofs: dict[str, list[float]] = {}
    for kind, label, shape, measured in rows:
        if kind in ("layer", "step", "decode_step"):
            continue
        t, roof, group = model_time(devs, sim.arch.hbm_bw_gbps * 1e9, kind, label, shape)
        groups.setdefault(group, []).append(t / measured - 1)
        roofs.setdefault(group, []).append(roof / measured - 1)
        if kind == "memory":
            print(f"  {label:<26} {shape['bytes'] / measured / 1e9:6.0f} GB/s over the bytes it "
                  f"must move; model {t / measured - 1:+6.1%}")  # fmt: skip
    for group, errors in groups.items():
        line = _median_line(group, errors)
        if np.isfinite(roofs[group]).all():
            line += f"; plain roofline {np.median(np.abs(roofs[group])):6.1%}"
        print(line)
    print("\none tensor-parallel rank's compute per micro-batch (seq 4096, micro-batch 1, no "
          "communication): PyTorch eager vs the model's kernels")  # fmt: skip
    print(f"  {'model':<6} {'tp':>3} {'attn':<6} | {'layer ms':>9} {'model':>8} {'err':>7} | {'head ms':>8} "
          f"{'model':>8} {'err':>7} | TFLOP/s: {'eager':>6} {'model':>6} {'Megatron H100':>14}")  # fmt: skip
    # the default rows ran PyTorch's pick; the forced rows say which it was (cuDNN on Hopper)
    measured = {(label.split()[0], " ".join(label.split()[3:]) or "default"): (shape, t)
                for kind, label, shape, t in rows if kind == "layer" and "layers" in label}  # fmt: skip
    heads_s = {label.split()[0]: t for kind, label, shape, t in rows
               if kind == "layer" and "head" in label}  # fmt: skip
    tsim = GpuTrainingSimulator(DOMAIN.load_arch(gpu))
    for attention in ("cudnn", "flash"):
        for name, heads, h, layers, tp, *_, per_gpu, _mfu in MEGATRON_H100:
            key = (name, attention if (name, attention) in measured else "default")
            if key not in measured or name not in heads_s:
                continue
            shape, stack_s = measured[key]
            m_layer, m_head = stack_s / shape["layers"], heads_s[name]
            cfg = gpt(name, heads, h, layers)
            design = {"tp": [tp], "batch": [1], "dtype": ["bf16"], "attention": [attention]}
            phase, _ = tsim.step(design, TrainingStep(cfg, SEQ))
            layer, head = (x[0] for x in phase.compute_split(layers))
            flops = 72 * SEQ * layers * h**2 * (1 + SEQ / (6 * h) + VOCAB / (12 * h * layers)) / tp
            eager, modelled = (flops / (layers * lt + ht) / 1e12 for lt, ht in
                               ((m_layer, m_head), (layer, head)))  # fmt: skip
            print(f"  {name:<6} {tp:>3} {attention:<6} | {m_layer * 1e3:>9.3f} {layer * 1e3:>8.3f} "
                  f"{layer / m_layer - 1:>+7.1%} | {m_head * 1e3:>8.3f} {head * 1e3:>8.3f} "
                  f"{head / m_head - 1:>+7.1%} | {eager:>15.0f} {modelled:>6.0f} {per_gpu:>14.1f}")  # fmt: skip
    measured_steps(rows, gpu)
    measured_decode_steps(rows, gpu)


def measured_steps(rows, gpu: str) -> None:
    """Whole training steps on one GPU against the cluster model on a one-GPU cluster."""
    from fidelity_cluster import SEQ, VOCAB, gpt

    from archgym_py.envs.cluster import DOMAIN as CLUSTER
    from archgym_py.envs.cluster import TrainingJob

    steps = [(shape, t) for kind, label, shape, t in rows if kind == "step"]
    if not steps:
        return
    spec = {"h200": "dgx_h200_1024", "h100_sxm": "dgx_h100_1024"}[gpu]
    sim = CLUSTER.simulator(CLUSTER.load_arch(spec).replace(gpus=1, tp=1, pp=1))
    print("\nwhole training steps of the 1.7 B GPT on one GPU (micro-batches of one 4,096-token "
          "sequence, then AdamW; no communication), eager PyTorch vs the cluster model")  # fmt: skip
    for shape, measured in steps:
        h, layers, m = shape["hidden"], shape["layers"], shape["microbatches"]
        cfg = gpt("1.7B", shape["heads"], h, layers)
        design = {
            "tp": [1],
            "pp": [1],
            "microbatch": [1],
            "zero_stage": [0],
            "attention": ["cudnn"],
        }
        model = sim.evaluate(design, TrainingJob(cfg, SEQ, m)).metrics["step_time_s"][0]
        flops = 72 * m * SEQ * layers * h**2 * (1 + SEQ / (6 * h) + VOCAB / (12 * h * layers))
        print(f"  {m} micro-batch(es): measured {measured * 1e3:7.1f} ms ({flops / measured / 1e12:.0f} "
              f"TFLOP/s), model {model * 1e3:7.1f} ms ({flops / model / 1e12:.0f}), "
              f"error {model / measured - 1:+.1%}")  # fmt: skip


def measured_decode_steps(rows, gpu: str) -> None:
    """Llama-3-8B decode steps replayed from CUDA graphs against the model's decode phase."""
    from archgym_py.envs.gpu.llm import block_phase
    from archgym_py.envs.workloads import load_model

    steps = [(shape, t) for kind, label, shape, t in rows if kind == "decode_step"]
    if not steps:
        return
    sim = DOMAIN.simulator(DOMAIN.load_arch(gpu))
    cfg = load_model("llama3_8b")
    print("\nLlama-3-8B decode steps (random weights, static BF16 KV cache, SDPA attention; "
          "one step replayed from a CUDA graph) vs the model's decode phase")  # fmt: skip
    for shape, measured in steps:
        batch, context = shape["batch"], shape["context"]
        full = sim.arch.fill({"batch": [batch]})
        phase = block_phase(cfg, sim.device(full), sim.network(full), batch=np.array([[batch]]),
                            q_len=1, kv_len=context, decode=True, moe_imbalance=1.0)  # fmt: skip
        model = phase.total_s[0]
        print(f"  batch {batch:>3}, context {context:>5}: measured {measured * 1e3:6.2f} ms, "
              f"model {model * 1e3:6.2f} ms, error {model / measured - 1:+.1%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="refit the decode constants")
    parser.add_argument("--measured", type=Path, nargs="+",
                        help="measure_gpu.py CSVs (runs on one GPU): compare with them alone")  # fmt: skip
    parser.add_argument("--gpu", default="h200", help="the spec the --measured file's GPU has")
    args = parser.parse_args()
    if args.measured:
        measured_kernels(args.measured, args.gpu)
        return
    gemms()
    print()
    deepgemm()
    print()
    attention()
    print()
    decode_attention(args.calibrate)


if __name__ == "__main__":
    main()
