"""GpuSimulator: LLM generation runs on GPUs, batched over designs (see :mod:`.llm`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._simulator import Evaluation, MetricSpec, check_feasibility
from ..._space import Batch
from .arch import BLOCK_SCALE_BYTES, DTYPE_BYTES, DTYPES, KV_DTYPES, QUANT_GROUP, GpuArch
from .kernels import Device
from .llm import BINDING_NAMES, Generation, Phase, block_phase, memory_bytes, nvlink_nccl

METRICS = (
    MetricSpec("latency_s", "s", "minimize", "time of the whole generation run (prefill + decode)"),
    MetricSpec("ttft_s", "s", "minimize", "time to first token: the prefill"),
    MetricSpec(
        "tpot_s", "s", "minimize", "time per output token: a decode step at the mean context"
    ),
    MetricSpec("tokens_per_s", "1/s", "maximize", "output tokens per second of the TP group"),
    MetricSpec("tokens_per_s_per_gpu", "1/s", "maximize", "output tokens per second per GPU"),
    MetricSpec("mfu", "1", "maximize", "model FLOPs / (run time x dense peak x GPUs)"),
    MetricSpec("decode_mbu", "1", "maximize", "decode HBM bytes / (decode time x peak bandwidth)"),
    MetricSpec("memory_gib", "GiB", "minimize", "per-GPU weights + KV cache + peak activations"),
    MetricSpec(
        "energy_j", "J", "minimize", "energy of the run over the TP group (load-scaled TDP)"
    ),
    MetricSpec("energy_per_token_j", "J", "minimize", "energy per output token"),
    MetricSpec("power_w", "W", "minimize", "average power per GPU over the run"),
)
_KV_BYTES = {"fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0}
#: (activation, weight) block-scale bytes per element of each compute dtype (0: none).
_BLOCK_SCALES = np.array([BLOCK_SCALE_BYTES.get(d, (0.0, 0.0)) for d in DTYPES]).T
_GIB = float(1 << 30)


class GpuSimulator:
    """Analytical GPU model of LLM inference (see :mod:`archgym_py.envs.gpu.llm` and
    :mod:`archgym_py.envs.gpu.kernels`).

    Args:
        arch: the GPU and deployment; a design overrides any of its tunable fields (``sms,
            clock_mhz, fp16_flops_per_clk_sm, hbm_bw_gbps, hbm_gib, l2_mib, l2_bytes_per_clk,
            nvlink_gbps, tp, batch, dtype, kv_dtype``) and keeps the rest.
    """

    metrics = METRICS
    version = "gpu-model/8"

    def __init__(self, arch: GpuArch):
        self.arch = arch
        self._ratio = np.array([arch.rate_ratio(d) for d in DTYPES])
        # a dtype the GPU lacks is infeasible; its metrics (finite, best effort) run at FP16's rate
        self._run_ratio = np.where(self._ratio > 0, self._ratio, 1.0)

    def device(self, full: Mapping[str, np.ndarray]) -> Device:
        """Per-design hardware numbers (shape ``(D, 1)``) of a filled batch of designs."""
        a = self.arch
        col = lambda x: np.asarray(x, dtype=np.float64).reshape(-1, 1)  # noqa: E731
        dtype = _index(DTYPES, full["dtype"])
        n = len(dtype)
        const = lambda v: np.full((n, 1), float(v))  # noqa: E731
        clock = col(full["clock_mhz"]) * 1e6
        return Device(
            sms=col(full["sms"]),
            clock_hz=clock,
            tensor_flops_per_clk_sm=col(full["fp16_flops_per_clk_sm"])
            * self._run_ratio[dtype][:, None],
            tensor_efficiency=const(a.tensor_efficiency),
            attention_efficiency=np.where(
                np.asarray(full["attention"]).reshape(-1, 1) == "cudnn",
                a.cudnn_attention_efficiency,
                a.attention_efficiency,
            ),
            hbm_bytes_per_s=col(full["hbm_bw_gbps"]) * 1e9 * a.hbm_efficiency,
            l2_bytes_per_s=col(full["l2_bytes_per_clk"]) * clock,
            l2_bytes=col(full["l2_mib"]) * float(1 << 20),
            smem_bytes_per_sm=const(a.smem_kib_per_sm * 1024),
            launch_s=const(a.kernel_launch_us * 1e-6),
            decode_fixed_s=const(a.decode_attention_fixed_us * 1e-6),
            decode_block_s=const(a.decode_attention_block_us * 1e-6),
        )

    def network(self, full: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-design deployment numbers (shape ``(D, 1)``): TP degree, dtype bytes, NCCL."""
        a = self.arch
        col = lambda x: np.asarray(x, dtype=np.float64).reshape(-1, 1)  # noqa: E731
        weight = np.array([DTYPE_BYTES[d] for d in DTYPES])[_index(DTYPES, full["dtype"])]
        kv = np.array([_KV_BYTES[d] for d in KV_DTYPES])[_index(KV_DTYPES, full["kv_dtype"])]
        act = np.where(weight >= 4.0, 4.0, 2.0)  # activations in fp32 or 16 bits
        bits = np.asarray(full["weight_bits"], dtype=np.float64)
        # weight-only quantisation: packed weights plus one fp16 scale per group, dequantised
        # to the compute dtype inside the GEMM (AWQ/GPTQ/Marlin-style kernels)
        stored = np.where(bits > 0, bits / 8 + 2.0 / QUANT_GROUP, weight)
        # block scales ride along with the low-precision operands (BLOCK_SCALE_BYTES)
        which = _index(DTYPES, full["dtype"])
        blocked = (np.asarray(full["scaling"]) == "block") | (which == DTYPES.index("fp4"))
        act_scale, weight_scale = (_BLOCK_SCALES[j][which] * blocked for j in (0, 1))
        weight = weight + act_scale
        stored = np.where(bits > 0, stored, stored + weight_scale)
        return {
            "tp": np.asarray(full["tp"], dtype=np.int64).reshape(-1, 1),
            "operand_bytes": col(weight),
            "weight_bytes": col(stored),
            "act_bytes": col(act),
            "kv_bytes": col(kv),
            **nvlink_nccl(col(full["nvlink_gbps"]), a),
            "unfused": (np.asarray(full["attention"]) == "unfused").reshape(-1, 1),
        }

    def phases(self, designs: Batch, workload: Generation) -> tuple[Phase, Phase]:
        """The prefill and the mean decode step of ``workload`` for each design."""
        full = self.arch.fill(designs)
        return self._phases(full, workload)[:2]

    def _phases(self, full, workload: Generation) -> tuple[Phase, Phase, dict[str, np.ndarray]]:
        """The prefill, the mean decode step and the deployment numbers they were costed with."""
        dev, net = self.device(full), self.network(full)
        cfg = workload.model
        batch = np.asarray(full["batch"], dtype=np.int64).reshape(-1, 1)
        common = {"moe_imbalance": workload.moe_imbalance}
        prefill = block_phase(cfg, dev, net, batch=batch, q_len=workload.input_len,
                              kv_len=workload.input_len, decode=False, **common)  # fmt: skip
        context = workload.input_len + workload.output_len // 2
        decode = block_phase(cfg, dev, net, batch=batch, q_len=1, kv_len=context, decode=True,
                             **common)  # fmt: skip
        return prefill, decode, net

    def evaluate(
        self, designs: Batch, workload: Generation, *, details: bool = False
    ) -> Evaluation:
        """Metrics of a generation run for a batch of designs.

        With ``details``: per-kernel arrays for each phase (``prefill_kernel_s``,
        ``decode_kernel_s``: time per run of each kernel, ``(D, kernels)``; ``*_binding``; the
        kernel names) and ``infeasible_reason`` (empty for a feasible design).
        """
        full = self.arch.fill(designs)
        prefill, decode, net = self._phases(full, workload)
        cfg, a = workload.model, self.arch
        tp = np.asarray(full["tp"], dtype=np.int64)
        batch = np.asarray(full["batch"], dtype=np.float64)
        ttft = prefill.total_s
        tpot = decode.total_s
        latency = ttft + (workload.output_len - 1) * tpot
        tokens = batch * workload.output_len / latency
        weights, kv, act = memory_bytes(cfg, workload, net, batch.reshape(-1, 1))
        memory = (weights + kv + act).reshape(-1)
        capacity = np.asarray(full["hbm_gib"], dtype=np.float64) * _GIB * a.memory_usable_fraction
        # model FLOPs of one rank (its share of every GEMM and attention head, as costed)
        steps = workload.output_len - 1
        flops = prefill.flops @ prefill.calls + steps * (decode.flops @ decode.calls)
        peak = self.peak(full)
        hbm_peak = np.asarray(full["hbm_bw_gbps"], dtype=np.float64) * 1e9
        metrics = {
            "latency_s": latency,
            "ttft_s": ttft,
            "tpot_s": tpot,
            "tokens_per_s": tokens,
            "tokens_per_s_per_gpu": tokens / tp,
            "mfu": flops / (latency * peak),  # flops and peak are both per GPU
            "decode_mbu": (decode.hbm_bytes @ decode.calls) / (tpot * hbm_peak),
            "memory_gib": memory / _GIB,
        }
        energy = (self.phase_energy(full, prefill)
                  + (workload.output_len - 1) * self.phase_energy(full, decode)) * tp  # fmt: skip
        metrics.update(energy_j=energy, energy_per_token_j=energy / (batch * workload.output_len),
                       power_w=energy / tp / latency)  # fmt: skip
        feasible, reasons = self._feasibility(full, cfg, memory, capacity, details)
        extra: dict[str, Any] = {}
        if details:
            extra["infeasible_reason"] = reasons
            for label, phase in (("prefill", prefill), ("decode", decode)):
                extra[f"{label}_kernels"] = phase.names
                extra[f"{label}_kernel_calls"] = phase.calls
                extra[f"{label}_kernel_s"] = phase.time_s * phase.calls
                extra[f"{label}_kernel_binding"] = np.asarray(BINDING_NAMES)[phase.binding]
            extra["weights_gib"] = np.broadcast_to(weights, (len(tp), 1)).reshape(-1) / _GIB
            extra["kv_cache_gib"] = kv.reshape(-1) / _GIB
        return Evaluation(metrics=metrics, feasible=feasible, details=extra)

    def phase_energy(self, full: Mapping[str, np.ndarray], phase: Phase) -> np.ndarray:
        """Energy of one GPU over a phase, J: each kernel draws the idle power plus the rest of
        the full-load power in proportion to its utilisation, the larger of its share of the
        dense peak and of the peak HBM bandwidth ("load-scaled TDP")."""
        a = self.arch
        time = np.maximum(phase.time_s, 1e-30)
        peak = self.peak(full)[:, None]
        hbm = np.asarray(full["hbm_bw_gbps"], dtype=np.float64)[:, None] * 1e9
        use = np.clip(np.maximum(phase.flops / (time * peak), phase.hbm_bytes / (time * hbm)), 0, 1)
        idle = a.idle_power_w
        power = idle + (self.full_load_power(full)[:, None] - idle) * use
        return (phase.time_s * power) @ phase.calls

    def full_load_power(self, full: Mapping[str, np.ndarray]) -> np.ndarray:
        """Board power at full load per design, W: the spec's power limit."""
        return np.full(len(np.asarray(full["sms"])), float(self.arch.tdp_w))

    def peak(self, full: Mapping[str, np.ndarray]) -> np.ndarray:
        """Dense peak of each design's compute dtype, FLOP/s per GPU."""
        dtype = _index(DTYPES, full["dtype"])
        return (np.asarray(full["sms"], float) * np.asarray(full["clock_mhz"], float) * 1e6
                * np.asarray(full["fp16_flops_per_clk_sm"], float) * self._run_ratio[dtype])  # fmt: skip

    def _checks(self, full, cfg, memory, capacity) -> list[tuple[np.ndarray, Any]]:
        """The feasibility checks in order: per check, the mask of designs that fail it and a
        function of the row that says why."""
        tp = np.asarray(full["tp"], dtype=np.int64)
        dtypes = np.asarray(full["dtype"])
        ffn = (cfg.ffn_hidden % tp != 0) | ((cfg.moe_ffn_hidden % tp != 0) & cfg.is_moe)
        return [
            (self._ratio[_index(DTYPES, dtypes)] == 0,
             lambda i: f"{self.arch.product} has no {dtypes[i]} pipe"),
            ((cfg.heads % tp != 0) | ffn,
             lambda i: f"tp {tp[i]} does not divide the heads ({cfg.heads}) and FFN width"),
            (memory > capacity,
             lambda i: f"needs {memory[i] / _GIB:.1f} GiB per GPU, {capacity[i] / _GIB:.1f} usable"),
        ]  # fmt: skip

    def _feasibility(self, full, cfg, memory, capacity, details: bool):
        """Which designs run and, with ``details``, why each other one cannot (its first failed
        check of :meth:`_checks`)."""
        n = len(np.asarray(full["tp"]))
        return check_feasibility(self._checks(full, cfg, memory, capacity), n, details)


def _index(levels: tuple[str, ...], values) -> np.ndarray:
    """Positions of categorical ``values`` in ``levels``."""
    lookup = {v: i for i, v in enumerate(levels)}
    return np.array([lookup[v] for v in np.asarray(values).tolist()], dtype=np.int64)
