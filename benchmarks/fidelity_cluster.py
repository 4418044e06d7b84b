"""Fidelity of the cluster training-step model against Megatron-LM's published H100 table.

Run: ``python benchmarks/fidelity_cluster.py``

Source (allowed by issue 14): the NVIDIA/Megatron-LM README, "Performance Benchmarking"
(images/model_table.png): GPT models of 1.7 B to 462 B parameters (vocabulary 131,072, sequence
4,096, FFN 4 x hidden) trained on 48 to 6,144 H100 GPUs, with each model's tensor, pipeline and
data-parallel sizes, global batch, per-GPU teraFLOP/s and MFU. Nothing is calibrated on it: every
row is held out. Megatron's FLOP count (Narayanan et al., SC 2021, eq. 3 without recomputation)
is ``72 B s l h^2 (1 + s / (6 h) + V / (12 h l))``; the model's step time divides it here, so the
per-GPU figures are comparable. Assumed where the table is silent: micro-batch 1, the
distributed optimizer (ZeRO-1), no recomputation, BF16, DGX H100 nodes (8 GPUs on NVLink,
400 Gb/s per GPU). Megatron also overlaps tensor-parallel communication with compute
(``--tp-comm-overlap``), which this model does not.
"""

from __future__ import annotations

import numpy as np

from archgym_py.envs.cluster import DOMAIN, TrainingJob
from archgym_py.envs.workloads import load_model

VOCAB, SEQ = 131072, 4096
# (name, heads, hidden, layers, tp, pp, dp, gpus, batch, per-GPU TFLOP/s, MFU)
MEGATRON_H100 = [
    ("1.7B", 16, 2048, 24, 1, 1, 48, 48, 192, 408.8, 0.41),
    ("7.1B", 32, 4096, 30, 2, 1, 48, 96, 192, 465.9, 0.47),
    ("16B", 48, 6144, 32, 4, 1, 48, 192, 192, 489.1, 0.49),
    ("32B", 56, 7168, 48, 8, 1, 48, 384, 192, 459.6, 0.46),
    ("70B", 64, 8192, 84, 8, 2, 48, 768, 384, 419.7, 0.42),
    ("119B", 80, 10240, 92, 8, 4, 48, 1536, 768, 420.5, 0.43),
    ("177B", 96, 12288, 96, 8, 6, 48, 2304, 1152, 432.8, 0.44),
    ("314B", 128, 16384, 96, 8, 8, 48, 3072, 1536, 474.4, 0.48),
    ("462B", 144, 18432, 112, 8, 16, 48, 6144, 3072, 459.9, 0.47),
]


def gpt(name: str, heads: int, hidden: int, layers: int):
    cite = {"source": "Megatron-LM README model table"}
    values = {"hidden": hidden, "layers": layers, "heads": heads, "kv_heads": heads,
              "head_dim": hidden // heads, "ffn_hidden": 4 * hidden, "ffn_gated": False,
              "vocab": VOCAB, "max_seq_len": SEQ, "decoder": True, "tied_embeddings": True}  # fmt: skip
    arch = {k: {"value": v, **cite} for k, v in values.items()}
    return load_model({"spec_version": 1, "name": f"gpt_{name}", "architecture": arch})


def main() -> None:
    base = DOMAIN.load_arch("dgx_h100_1024")
    print(f"{'model':<6} {'GPUs':>5} {'tp':>3} {'pp':>3} {'dp':>3} | {'TFLOP/s per GPU':>15} "
          f"{'model':>7} {'err':>7} | {'MFU':>5} {'step s':>7}  bound")  # fmt: skip
    errors = []
    for name, heads, h, layers, tp, pp, dp, gpus, batch, measured, mfu in MEGATRON_H100:
        sim = DOMAIN.simulator(base.replace(gpus=gpus, tp=tp, pp=pp))
        job = TrainingJob(gpt(name, heads, h, layers), SEQ, batch)
        design = {"tp": [tp], "pp": [pp], "microbatch": [1], "zero_stage": [1],
                  "recompute": ["none"], "dtype": ["bf16"], "tp_overlap": ["overlap"]}  # fmt: skip
        ev = sim.evaluate(design, job, details=True)
        assert int(ev.details["dp"][0]) == dp, (name, ev.details["dp"])
        step = ev.metrics["step_time_s"][0]
        flops = 72 * batch * SEQ * layers * h**2 * (1 + SEQ / (6 * h) + VOCAB / (12 * h * layers))
        model = flops / step / gpus / 1e12
        errors.append(model / measured - 1)
        parts = {k: ev.details[k][0] for k in ("compute_s", "bubble_s", "dp_exposed_s")}
        bound = max(parts, key=parts.get)
        reason = ev.details["infeasible_reason"][0]
        print(f"{name:<6} {gpus:>5} {tp:>3} {pp:>3} {dp:>3} | {measured:>15.1f} {model:>7.1f} "
              f"{errors[-1]:>+7.1%} | {mfu:>5.0%} {step:>7.2f}  {bound}"
              + (f"  ({reason})" if reason else ""))  # fmt: skip
    e = np.abs(errors)
    print(f"\nper-GPU throughput, {len(e)} held-out configurations: median |error| {np.median(e):.1%}, "
          f"max {e.max():.1%}; within 10% on {int(np.sum(e <= 0.10))} of {len(e)} (target: all)")  # fmt: skip


if __name__ == "__main__":
    main()
