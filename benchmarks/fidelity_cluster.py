"""Fidelity of the cluster model: NCCL collective tables, then Megatron-LM's published H100 table.

Run: ``python benchmarks/fidelity_cluster.py`` (``--calibrate`` refits NCCL's NVLink shape on
the H200 tables and prints it: ``NCCL_START_SHARE`` and ``RING_FILL_STEPS`` in
``envs/gpu/llm.py``, the GPU specs' ``nccl_ring_efficiency``, ``nccl_simple_us`` and
``nccl_ll_fraction``).

Collectives on NVLink. Source: ai-dynamo/aiconfigurator (Apache-2.0; allowed by issue 14),
``aic-core/src/aiconfigurator_core/systems/data/<gpu>/comm/nccl/<version>/nccl_perf.parquet`` at
commit 095f58a5 (its collector runs nccl-tests' ``*_perf`` binaries, one size per run, 40
warm-ups, 60-100 timed iterations, FP16, out-of-place time), copied to
``benchmarks/data/aiconfigurator_nccl.csv``: all-reduce, all-gather, reduce-scatter and
all-to-all on 2, 4 and 8 GPUs of one NVLink domain, 512 B to 512 MiB, on H100 and H200 (NCCL
2.29.2), A100 (2.27.3), B200 and GB200 (2.29.2; GB200 on 2 and 4 GPUs). Each GPU spec takes its
small 8-GPU all-reduce from its own table (B200 also its 8-GPU bus bandwidth, from its 512 MiB
row; the others from Azure's 8 GiB figures below; A100 and B200 their ring efficiency, from
their 8-GPU 512 MiB all-gather); the shape is fitted on the H200 tables, so the other GPUs'
other rows are held out. Sizes are nccl-tests' (the all-gather's result buffer, the
all-to-all's buffer per rank), as the model's are.

Older all-reduce tables, all held out: the Azure/AI-benchmarking-guide results pages (not
reserved by issue 14; the GPU specs take their 8-GPU bus bandwidth from them): nccl-tests
all-reduce bus bandwidth, in place, 1 KiB to 8 GiB, on the eight GPUs of one node: ND H200 v5
(NVLS, NCCL 2.20.5), ND H100 v5 (NVLS, NCCL 2.18.5) and ND A100 v4 (NCCL 2.18; its page calls
the algorithm NVLS, which A100 lacks).

Training steps.
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

Source (allowed by issue 14): MLPerf Training results, closed division, GPT-3 175B submissions:
v3.1 (training_results_v3.1 at commit d06288b, NeMo 23.09: NVIDIA's Eos and Eos-dfw on 512 to
10,752 H100 SXM and Azure's 10,752 in ND H100 v5, eight 400 Gb/s NDR NICs a node; the step is
the median ``train_step_timing`` the three runs log; configs: tensor 4, pipeline 8, 12 virtual
stages (custom.yaml's default), micro-batch 1, FP8), NVIDIA's v4.0
(mlcommons/training_results_v4.0 at commit 6fe95437, NeMo 24.04: 512, 10,752 and 11,616 H100
SXM) and v4.1 (training_results_v4.1 at commit b87b9e39, NeMo 24.09: 256 and 512 H100 SXM, and a
preview of 64 B200 in eight DGX B200), all on NDR InfiniBand (eight 400 Gb/s ConnectX-7 per node
in DGX H100 and DGX B200: the DGX H100 spec's fabric with the GPU swapped).
NVIDIA/results/<system>/gpt3/result_{0,1,2}.txt give the timings and the global batch;
NVIDIA/benchmarks/gpt3/implementations/.../config_DGX*.sh, config_common.sh, config_fp8.sh and
conf/custom.yaml the layout: sequence 2,048, FP8 (hybrid), distributed optimizer, sequence
parallelism and tensor-parallel overlap, no activation recomputation, interleaved pipeline. The v4.x
step time is the median over every logged training block (block_stop - block_start over the
block's tokens / (global batch x sequence): 66-73 blocks in three runs each). Held out: nothing
is fitted to it (its first run, with the compute-bound FP8 runs 9.7-17.4% fast, prompted adding
FP8 training's cast-transpose kernels to the GPU model, from their documented bytes alone).

Source (allowed by issue 14): MLPerf Training v5.0 (mlcommons/training_results_v5.0 at commit
0fdc28f), closed division, Llama 3.1 405B pretraining: NVIDIA's Eos-dfw (512 to 8,192 H100 SXM,
NeMo 25.01) and Tyche (256 and 512 GB200 in NVL72 racks, NeMo 25.04), CoreWeave's Carina (512 to
2,496 GB200, NeMo 25.04) and Nebius (512 and 1,024 H200, NeMo 25.01); every system on NDR
InfiniBand, one 400 Gb/s ConnectX-7 per GPU (systems/*.json). results/<system>/llama31_405b/
result_{0,1,2}.txt give the global batch and a ``train_step_time`` per logged step (the table's
step is their median over the three runs: 651-1,854 steps); benchmarks/llama31_405b/
implementations/<system>/config_*.sh and conf/custom.yaml the layout: FP8, distributed
optimizer, tensor-parallel overlap, data-parallel overlap, no recomputation, tensor 8 (H100) or
4, pipeline 8 with 8 virtual stages, context 2, micro-batch 1, and ASYM_PP_EMBED / ASYM_PP_LOSS
(the embedding and the loss as one pipeline layer each: ``pp_split: embedding_loss``). The
cluster specs dgx_h100_1024, dgx_h200_1024 and gb200_nvl72_1152 at each run's GPU count. And
MLPerf Training v5.1 (training_results_v5.1 at commit 441d65f4): the University of Florida's
HiPerGator DGX B200 runs on 256 and 448 B200 (NGC PyTorch 25.09; its only configs are FP8:
implementations/hpg.dgxb200x8/config_DGXB200_{32,56}x8x144xtp4pp8cp2_cg.sh), on the DGX H100
spec with its GPU swapped (eight GPUs and eight 400 Gb/s NICs a node, as DGX B200). v5.1's
NVIDIA GB200 and GB300 runs are left out: their implementations ship FP8 and NVFP4 configs
alike, and the logs do not say which ran. Held out: nothing is fitted to it.
"""

from __future__ import annotations

import argparse
from functools import cache
from pathlib import Path

import numpy as np

from archgym_py.envs.cluster import DOMAIN, TrainingJob
from archgym_py.envs.cluster.collectives import (
    Link,
    all_gather,
    all_reduce,
    all_to_all,
    bus_bandwidth,
    reduce_scatter,
)
from archgym_py.envs.cluster.step import nvlink_link as nvlink_link_of
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
    """One of the table's GPT models. Its output layer has weights of its own: the table's
    sizes need them (1.7 B = 24 layers x 12 x 2,048^2 + 2 x 131,072 x 2,048)."""
    cite = {"source": "Megatron-LM README model table"}
    values = {"hidden": hidden, "layers": layers, "heads": heads, "kv_heads": heads,
              "head_dim": hidden // heads, "ffn_hidden": 4 * hidden, "ffn_gated": False,
              "vocab": VOCAB, "max_seq_len": SEQ, "decoder": True, "tied_embeddings": False}  # fmt: skip
    arch = {k: {"value": v, **cite} for k, v in values.items()}
    return load_model({"spec_version": 1, "name": f"gpt_{name}", "architecture": arch})


#: nccl-tests sizes of the Azure tables: 1 KiB x 2^i, i = 0..23 (the pages label them 1K ... 8G)
NCCL_SIZES = 1024.0 * 2.0 ** np.arange(24)
# Azure/AI-benchmarking-guide, Azure_Results/ND_*_results.md, "NCCL Bandwidth": all-reduce bus
# bandwidth (GB/s) over 8 GPUs per size of NCCL_SIZES. Key: cluster spec whose NVLink it checks.
AZURE_ALLREDUCE = {
    "dgx_h200_1024": [0.06, 0.12, 0.23, 0.47, 0.93, 1.84, 3.72, 7.39, 14.75, 29.38, 52.96, 88.78,
                      138.44, 181.94, 240.41, 300.91, 368.11, 412.45, 432.24, 442.72, 467.58,
                      472.57, 477.41, 479.98],
    "dgx_h100_1024": [0.07, 0.14, 0.27, 0.53, 0.95, 1.71, 2.72, 5.40, 10.86, 21.35, 43.70, 81.93,
                      128.73, 172.13, 234.45, 295.53, 361.78, 400.61, 423.38, 438.46, 466.35,
                      472.36, 475.54, 478.87],
    "dgx_a100_1024": [0.04, 0.08, 0.17, 0.33, 0.67, 1.37, 2.70, 5.15, 10.11, 19.24, 36.22, 53.54,
                      71.43, 89.99, 109.22, 132.77, 166.63, 174.18, 213.87, 221.58, 228.10,
                      230.22, 230.48, 231.58],
}  # fmt: skip
#: NCCL version behind each Azure table: the model's shape is NCCL 2.29's, so all are held out.
AZURE_NCCL = {"dgx_h200_1024": "held out, NCCL 2.20.5", "dgx_h100_1024": "held out, NCCL 2.18.5",
              "dgx_a100_1024": "held out, NCCL 2.18"}  # fmt: skip


def nvlink_link(spec) -> Link:
    """The NVLink level of a cluster spec as the step model builds it."""
    from archgym_py.envs.gpu import DOMAIN as GPU

    return nvlink_link_of(GPU.load_arch(DOMAIN.load_arch(spec).gpu))


def allreduce_busbw(link: Link) -> np.ndarray:
    """Bus bandwidth (GB/s) of the model's 8-GPU ring all-reduce at each NCCL_SIZES size."""
    t = all_reduce(8, NCCL_SIZES, link, "ring")
    return bus_bandwidth("all_reduce", 8, NCCL_SIZES, t) / 1e9


def calibrate() -> None:
    """Fit NCCL's NVLink shape on AIConfigurator's H200 tables (every collective and rank count,
    4 KiB-512 MiB; log-time least squares) with the spec's measured small all-reduce and 8-GPU
    bus bandwidth: the start share, ring fill and NVLS start (``envs/gpu/llm.py``) and the H200
    spec's ``nccl_ring_efficiency``, ``nccl_simple_us`` and ``nccl_ll_fraction``."""
    from scipy.optimize import minimize

    from archgym_py.envs.gpu import DOMAIN as GPU

    gpu = GPU.load_arch("h200")
    rows = _aic_rows("h200", 4096)
    one_way, small = gpu.nvlink_gbps * 1e9 / 2, gpu.allreduce_latency_us * 1e-6
    reduce = np.array([one_way * gpu.nccl_busbw_efficiency])

    def loss(p):
        share, fill, ring, simple_us, ll, nvls_us = p
        if min(p) <= 0 or share >= 1 or ll > 1 or ring > 1:
            return 1e9
        link = Link(np.array([one_way * ring]), np.array([small * (1 - share) / 14]),
                    simple_us * 1e-6, ll, small * share, fill, reduce, nvls_us * 1e-6)  # fmt: skip
        e = np.concatenate([nvlink_collective_s("h200", c, n, b, link) / t for c, n, b, t in rows])
        return float(np.mean(np.log(e) ** 2))

    fit = min((minimize(loss, p0, method="Nelder-Mead",
                        options={"maxiter": 40000, "xatol": 1e-8, "fatol": 1e-14})
               for p0 in ([0.4, 0.3, 0.8, 12.0, 0.5, 40.0], [0.2, 0.5, 0.85, 20.0, 0.6, 25.0])),
              key=lambda r: r.fun).x  # fmt: skip
    print(f"fitted on AIConfigurator's H200 tables ({sum(len(r[2]) for r in rows)} rows): "
          f"NCCL_START_SHARE {fit[0]:.3f}, RING_FILL_STEPS {fit[1]:.3f}, nccl_ring_efficiency "
          f"{fit[2]:.3f}, nccl_simple_us {fit[3]:.1f}, nccl_ll_fraction {fit[4]:.3f}, "
          f"NVLS_START_US {fit[5]:.1f} (rms log error {np.sqrt(loss(fit)):.3f})\n")  # fmt: skip


def collectives() -> None:
    print("8-GPU all-reduce bus bandwidth (GB/s), model vs Azure's nccl-tests tables; the plain "
          "alpha-beta model is the same link with one protocol (the ring's bulk rate, no start)")  # fmt: skip
    print(f"{'spec':<15} {'set':<22} | {'>= 1 MiB: median |err|':>22} {'worst':>7} | "
          f"{'plain median':>12} {'worst':>7} | {'< 1 MiB median':>14}")  # fmt: skip
    big = NCCL_SIZES >= 1 << 20
    for spec, table in AZURE_ALLREDUCE.items():
        measured = np.array(table)
        link = nvlink_link(spec)
        err = allreduce_busbw(link) / measured - 1
        plain = allreduce_busbw(Link(link.bytes_per_s, link.latency_s)) / measured - 1
        e, p = np.abs(err), np.abs(plain)
        print(f"{spec:<15} {AZURE_NCCL[spec]:<22} | {np.median(e[big]):>22.1%} {e[big].max():>7.1%} | "
              f"{np.median(p[big]):>12.1%} {p[big].max():>7.1%} | {np.median(e[~big]):>14.1%}")  # fmt: skip
    print()


#: The measured NVLink collectives (see the module docstring): gpu spec, NCCL version,
#: collective, ranks, bytes (nccl-tests' size), seconds.
AIC_NCCL = Path(__file__).parent / "data" / "aiconfigurator_nccl.csv"


@cache
def _spec_nvlink(gpu_spec: str) -> Link:
    """The NVLink level of a GPU spec, as the step model builds it (loaded once a run)."""
    from archgym_py.envs.gpu import DOMAIN as GPU

    return nvlink_link_of(GPU.load_arch(gpu_spec))


def nvlink_collective_s(gpu_spec: str, collective: str, ranks: int, size, link=None) -> np.ndarray:
    """The cluster model's time for ``collective`` over ``ranks`` GPUs of one NVLink domain of
    ``gpu_spec`` (a GPU spec name; ``link`` overrides its NVLink level): what the step model
    charges inside a node."""
    link = _spec_nvlink(gpu_spec) if link is None else link
    if collective == "all_reduce":
        return all_reduce(ranks, size, link, "ring")
    return {"all_gather": all_gather, "reduce_scatter": reduce_scatter,
            "all_to_all": all_to_all}[collective](ranks, size, link)  # fmt: skip


@cache
def _aic_table() -> np.ndarray:
    """AIConfigurator's NCCL rows (read once a run)."""
    return np.genfromtxt(AIC_NCCL, delimiter=",", names=True, dtype=None, encoding="utf-8")


def _aic_rows(gpu_spec: str, min_bytes: int):
    """AIConfigurator's rows of one GPU from ``min_bytes`` up: (collective, ranks, bytes,
    seconds) per collective and rank count."""
    table = _aic_table()
    table = table[(table["gpu_spec"] == gpu_spec) & (table["bytes"] >= min_bytes)]
    return [(c, n, part["bytes"].astype(float), part["seconds"])
            for c in ("all_reduce", "all_gather", "reduce_scatter", "all_to_all")
            for n in (2, 4, 8)
            if len(part := table[(table["collective"] == c) & (table["ranks"] == n)])]  # fmt: skip


def nvlink_collectives() -> list[float]:
    """Model vs AIConfigurator's nccl-tests tables at >= 1 MiB, per GPU and collective (columns:
    the median |error| on 2, 4 and 8 GPUs, then the worst signed error over them); returns
    every row's error."""
    print("NVLink collectives >= 1 MiB, model vs AIConfigurator's nccl-tests tables: median "
          "|error| per rank count, worst signed error (negative: model fast)")  # fmt: skip
    print(f"{'gpu spec':<14} {'set':<11} {'collective':<15} | {'n=2':>6} {'n=4':>6} {'n=8':>6} | "
          f"{'worst':>7}")  # fmt: skip
    errors: dict[str, list[float]] = {"calibration": [], "held out": []}
    for gpu in ("h200", "h100_sxm", "a100_sxm_80gb", "b200", "gb200"):
        role = "calibration" if gpu == "h200" else "held out"
        rows = _aic_rows(gpu, 1 << 20)
        for collective in ("all_reduce", "all_gather", "reduce_scatter", "all_to_all"):
            cells, worst = {}, []
            for c, n, size, seconds in rows:
                if c != collective:
                    continue
                e = nvlink_collective_s(gpu, c, n, size) / seconds - 1
                errors[role].extend(e.tolist())
                worst.append(e[np.argmax(np.abs(e))])
                cells[n] = f"{np.median(np.abs(e)):.0%}"
            w = worst[int(np.argmax(np.abs(worst)))]
            print(f"{gpu:<14} {role:<11} {collective:<15} | "
                  + " ".join(f"{cells.get(n, '-'):>6}" for n in (2, 4, 8)) + f" | {w:>+7.0%}")  # fmt: skip
    for role, e in errors.items():
        e = np.abs(e)
        print(f"{role}: {len(e)} rows, median |error| {np.median(e):.1%}, within 10% on "
              f"{np.mean(e <= 0.1):.0%}, worst {e.max():.0%}")  # fmt: skip
    print("(target: every collective within 10% over 1 MiB)\n")
    return errors["held out"]


#: MLPerf Training, NVIDIA, GPT-3 175B (see the module docstring): (round and system, GPU spec,
#: GPUs, tensor, pipeline, virtual pipeline stages, micro-batch, global batch, measured seconds a
#: step).
MLPERF_GPT3 = [
    ("v3.1 eos_n64", "h100_sxm", 512, 4, 8, 12, 1, 2048, 11.052),
    ("v3.1 eos_n96", "h100_sxm", 768, 4, 8, 12, 1, 3072, 11.075),
    ("v3.1 eos-dfw_n512", "h100_sxm", 4096, 4, 8, 12, 1, 2048, 1.609),
    ("v3.1 eos-dfw_n768", "h100_sxm", 6144, 4, 8, 12, 1, 3072, 1.615),
    ("v3.1 eos-dfw_n1024", "h100_sxm", 8192, 4, 8, 12, 1, 4096, 1.619),
    ("v3.1 eos-dfw_n1280", "h100_sxm", 10240, 4, 8, 12, 1, 2560, 0.926),
    ("v3.1 eos-dfw_n1344", "h100_sxm", 10752, 4, 8, 12, 1, 2688, 0.930),
    ("v3.1 Azure ND_H100_v5", "h100_sxm", 10752, 4, 8, 12, 1, 2688, 0.947),
    ("v4.0 eos_n64", "h100_sxm", 512, 4, 8, 4, 2, 2304, 10.98),
    ("v4.0 eos-dfw_n1344", "h100_sxm", 10752, 4, 6, 8, 1, 2688, 0.921),
    ("v4.0 eos-dfw_n1452", "h100_sxm", 11616, 4, 6, 8, 1, 2904, 0.922),
    ("v4.1 eos_n32", "h100_sxm", 256, 4, 8, 6, 2, 2048, 18.41),
    ("v4.1 eos_n64", "h100_sxm", 512, 4, 8, 6, 2, 2048, 9.542),
    ("v4.1 b200_n8", "b200", 64, 4, 8, 6, 2, 2048, 36.255),
]

#: MLPerf Training v5.0 and v5.1, Llama 3.1 405B pretraining (see the module docstring): (round,
#: submitter and system, cluster spec, its GPU, GPUs, tensor, global batch, measured seconds a
#: step: the median of every ``train_step_time`` the three runs log). Every run: pipeline 8 with
#: 8 virtual stages, context 2, micro-batch 1, sequence 8,192, FP8.
MLPERF_LLAMA31 = [
    ("v5.0 NVIDIA eos-dfw_n64", "dgx_h100_1024", "h100_sxm", 512, 8, 1152, 55.134),
    ("v5.0 NVIDIA eos-dfw_n256", "dgx_h100_1024", "h100_sxm", 2048, 8, 1152, 14.220),
    ("v5.0 NVIDIA eos-dfw_n304", "dgx_h100_1024", "h100_sxm", 2432, 8, 1216, 12.729),
    ("v5.0 NVIDIA eos-dfw_n320", "dgx_h100_1024", "h100_sxm", 2560, 8, 1120, 11.174),
    ("v5.0 NVIDIA eos-dfw_n1024", "dgx_h100_1024", "h100_sxm", 8192, 8, 1536, 5.180),
    ("v5.0 Nebius H200 n64", "dgx_h200_1024", "h200", 512, 4, 1152, 50.016),
    ("v5.0 Nebius H200 n128", "dgx_h200_1024", "h200", 1024, 4, 1152, 25.356),
    ("v5.0 NVIDIA tyche_ngpu256", "gb200_nvl72_1152", "gb200", 256, 4, 448, 19.144),
    ("v5.0 NVIDIA tyche_ngpu512", "gb200_nvl72_1152", "gb200", 512, 4, 896, 19.474),
    ("v5.0 CoreWeave carina_512", "gb200_nvl72_1152", "gb200", 512, 4, 896, 19.315),
    ("v5.0 CoreWeave carina_1024", "gb200_nvl72_1152", "gb200", 1024, 4, 768, 8.448),
    ("v5.0 CoreWeave carina_1536", "gb200_nvl72_1152", "gb200", 1536, 4, 1152, 8.505),
    ("v5.0 CoreWeave carina_2048", "gb200_nvl72_1152", "gb200", 2048, 4, 1280, 7.164),
    ("v5.0 CoreWeave carina_2496", "gb200_nvl72_1152", "gb200", 2496, 4, 1248, 5.827),
    ("v5.1 UFlorida dgxb200 n32", "dgx_h100_1024", "b200", 256, 4, 576, 27.665),
    ("v5.1 UFlorida dgxb200 n56", "dgx_h100_1024", "b200", 448, 4, 1008, 27.958),
]


def _mlperf_row(arch, model, seq, design, batch, measured) -> tuple[float, float, str]:
    """The model's step for one MLPerf run: (per-GPU throughput error, step, binding part)."""
    sim = DOMAIN.simulator(arch)
    full = {"zero_stage": [1], "recompute": ["none"], "dtype": ["fp8"], "tp_overlap": ["overlap"],
            **{k: [v] for k, v in design.items()}}  # fmt: skip
    ev = sim.evaluate(full, TrainingJob(model, seq, batch), details=True)
    assert ev.feasible[0], ev.details["infeasible_reason"][0]
    step = float(ev.metrics["step_time_s"][0])
    parts = {k: ev.details[k][0] for k in ("compute_s", "bubble_s", "dp_exposed_s")}
    return measured / step - 1, step, max(parts, key=parts.get)  # per-GPU: the step's inverse


def _summary(errors) -> None:
    """The median per-GPU error of a table's runs and how many are within 10%."""
    e = np.abs(errors)
    print(f"per-GPU throughput, {len(e)} held-out runs: median |error| {np.median(e):.1%}, "
          f"within 10% on {int(np.sum(e <= 0.10))} of {len(e)}\n")  # fmt: skip


def mlperf() -> list[float]:
    """Model vs MLPerf Training's GPT-3 175B steps (the DGX H100 spec at each GPU count with the
    submission's GPU, FP8, the submissions' layouts); returns each row's per-GPU throughput error."""
    base = DOMAIN.load_arch("dgx_h100_1024")
    model = DOMAIN.load_workload("gpt3_175b").model
    print("MLPerf Training, GPT-3 175B (closed division): step time, model vs measured")
    print(f"{'round, system':<20} {'gpu':<9} {'GPUs':>6} {'tp':>3} {'pp':>3} {'vp':>3} {'mbs':>4} "
          f"{'batch':>6} | {'measured s':>10} {'model s':>8} {'per-GPU err':>11}  bound")  # fmt: skip
    errors = []
    for system, gpu, gpus, tp, pp, vp, mbs, batch, measured in MLPERF_GPT3:
        arch = base.replace(gpus=gpus, tp=tp, pp=pp, gpu=gpu)
        design = {"tp": tp, "pp": pp, "pp_interleave": vp, "microbatch": mbs}
        err, step, bound = _mlperf_row(arch, model, 2048, design, batch, measured)
        errors.append(err)
        print(f"{system:<20} {gpu:<9} {gpus:>6} {tp:>3} {pp:>3} {vp:>3} {mbs:>4} {batch:>6} | "
              f"{measured:>10.3f} {step:>8.3f} {err:>+11.1%}  {bound}")  # fmt: skip
    _summary(errors)
    return errors


def mlperf_llama31() -> list[float]:
    """Model vs MLPerf Training v5.0's and v5.1's Llama 3.1 405B steps (each run's cluster spec
    and GPU at its count, its layout, the embedding and the loss counted in the pipeline split
    as the runs' ASYM_PP_EMBED / ASYM_PP_LOSS do); returns each row's per-GPU throughput error."""
    model = load_model("llama31_405b")
    print("MLPerf Training v5.0 and v5.1, Llama 3.1 405B (closed division): step time, model vs "
          "measured; pp 8 x 8 virtual stages, cp 2, micro-batch 1, FP8")  # fmt: skip
    print(f"{'round, submitter, system':<28} {'cluster spec':<17} {'gpu':<9} {'GPUs':>5} "
          f"{'tp':>3} {'batch':>6} | {'measured s':>10} {'model s':>8} {'per-GPU err':>11}  "
          "bound")  # fmt: skip
    errors = []
    for system, spec, gpu, gpus, tp, batch, measured in MLPERF_LLAMA31:
        arch = DOMAIN.load_arch(spec).replace(gpus=gpus, tp=tp, pp=8, cp=2, gpu=gpu)
        design = {"tp": tp, "pp": 8, "pp_interleave": 8, "cp": 2, "microbatch": 1,
                  "pp_split": "embedding_loss"}  # fmt: skip
        err, step, bound = _mlperf_row(arch, model, 8192, design, batch, measured)
        errors.append(err)
        print(f"{system:<28} {spec:<17} {gpu:<9} {gpus:>5} {tp:>3} {batch:>6} | {measured:>10.3f} "
              f"{step:>8.3f} {err:>+11.1%}  {bound}")  # fmt: skip
    _summary(errors)
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="refit NCCL's protocol shape")
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
    collectives()
    nvlink_collectives()
    mlperf()
    mlperf_llama31()
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
