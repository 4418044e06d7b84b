"""A training step of a transformer on one GPU (or a tensor-parallel group), batched over designs.

A step runs one micro-batch of ``batch`` sequences of ``seq_len`` tokens (the design's ``batch``
knob): the forward pass over every position with its loss, the backward pass (each GEMM's input
and weight gradients, flash attention's backward, each memory-bound kernel's backward, the
conjugate all-reduces of Megatron-style tensor parallelism), and a fused Adam update over the
rank's parameters. Mixed precision as in Megatron-LM: weights and activations in the compute
dtype, fp32 master weights, gradients accumulated in fp32, Adam's two moments in fp32.

Memory per GPU: 16 bytes per parameter for weights, gradients and Adam states in mixed precision
(Rajbhandari et al., ZeRO, SC 2020: 2 + 2 + 12), divided by the TP degree, plus the activations
the backward pass reads: per block the inputs of the two norms, of the QKV, output, up and down
projections, Q/K/V and the attention output (flash attention keeps no score matrix; unfused
attention keeps each head's softmax output), and the activation function's input; plus the fp32
logits of every position.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._simulator import Evaluation, MetricSpec
from ..._space import Batch
from ..workloads import (
    TransformerConfig,
    check_imbalance,
    check_positive,
    model_workload_from_dict,
    model_workload_to_dict,
)
from .kernels import memory_bound
from .llm import BINDING_NAMES, block_phase
from .simulator import GpuSimulator

#: Bytes an Adam step moves per parameter: reads fp32 master weight, both fp32 moments and the
#: fp32 gradient, writes the master weight, both moments and the compute-dtype weight.
ADAM_BYTES_PER_PARAM = 4 + 4 + 4 + 4 + 4 + 4 + 4 + 2
#: Bytes per parameter held for mixed-precision Adam (ZeRO, SC 2020): fp16/bf16 weight and
#: gradient, fp32 master weight and two moments.
STATE_BYTES_PER_PARAM = 16


@dataclass(frozen=True)
class TrainingStep:
    """A training workload: a model and the sequence length of its micro-batches."""

    model: TransformerConfig
    seq_len: int = 4096
    moe_imbalance: float = 1.0
    name: str = ""
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_positive(seq_len=self.seq_len)
        check_imbalance(self.moe_imbalance)
        if not self.name:
            object.__setattr__(self, "name", f"{self.model.name}_train_seq{self.seq_len}")

    def to_dict(self) -> dict[str, Any]:
        """The mapping :func:`training_from_dict` reads back (the model in full)."""
        return model_workload_to_dict(self)

    def features(self) -> dict[str, float]:
        """The workload as surrogate features: the model's shape and the run's lengths (log2)."""
        return {
            **self.model.features(),
            "log2_seq_len": float(np.log2(self.seq_len)),
            "moe_imbalance": float(self.moe_imbalance),
        }

    def scalars(self) -> dict[str, Any]:
        """Numbers a design-space constraint may name."""
        return {"seq_len": self.seq_len, "layers": self.model.layers, "heads": self.model.heads}


def training_from_dict(data: Mapping[str, Any], *, path: str = "workload") -> TrainingStep:
    """``{model: llama3_8b, seq_len: 4096, moe_imbalance: 1.0}``."""
    return model_workload_from_dict(TrainingStep, data, path=path)


TRAINING_METRICS = (
    MetricSpec("latency_s", "s", "minimize", "time of one training step (forward, backward, Adam)"),
    MetricSpec("tokens_per_s", "1/s", "maximize", "tokens trained per second by the TP group"),
    MetricSpec("tokens_per_s_per_gpu", "1/s", "maximize", "tokens trained per second per GPU"),
    MetricSpec("mfu", "1", "maximize", "model FLOPs / (step time x dense peak x GPUs)"),
    MetricSpec(
        "memory_gib", "GiB", "minimize", "per-GPU weights, gradients, Adam states, activations"
    ),
    MetricSpec("energy_per_token_j", "J", "minimize", "energy per trained token (load-scaled TDP)"),
    MetricSpec("power_w", "W", "minimize", "average power per GPU over the step"),
)


class GpuTrainingSimulator(GpuSimulator):
    """Training steps on the analytical GPU model (see the module docstring); the same design
    knobs as :class:`GpuSimulator`, ``batch`` being the micro-batch."""

    metrics = TRAINING_METRICS
    version = "gpu-training-model/9"

    def step(self, designs: Batch, workload: TrainingStep):
        """The step's kernels (forward and backward) and the optimizer's time, per design."""
        full = self.arch.fill(designs)
        return self._step(full, workload)

    def _step(self, full, workload: TrainingStep, *, seq_len=None, ep=None, etp=None):
        """The step's phase and Adam time. Per-design overrides for the cluster domain:
        ``seq_len`` (the tokens of each sequence a rank holds), ``ep`` (expert-parallel
        degrees) and ``etp`` (expert tensor-parallel degrees)."""
        dev, net = self.device(full), self.network(full)
        if ep is not None:
            net["ep"] = np.asarray(ep, dtype=np.int64).reshape(-1, 1)
        if etp is not None:
            net["etp"] = np.asarray(etp, dtype=np.int64).reshape(-1, 1)
        seq = workload.seq_len if seq_len is None else np.asarray(seq_len).reshape(-1, 1)
        batch = np.asarray(full["batch"], dtype=np.int64).reshape(-1, 1)
        phase = block_phase(workload.model, dev, net, batch=batch, q_len=seq, kv_len=seq,
                            decode=False, moe_imbalance=workload.moe_imbalance, training=True)  # fmt: skip
        params = workload.model.params / net["tp"]
        adam = memory_bound(dev, params * ADAM_BYTES_PER_PARAM).time_s.reshape(-1)
        return phase, adam

    def evaluate(
        self, designs: Batch, workload: TrainingStep, *, details: bool = False
    ) -> Evaluation:
        """Metrics of one training step for a batch of designs; ``details`` adds the per-kernel
        breakdown (``step_kernels``, ``step_kernel_s``, ``step_kernel_binding``, ``optimizer_s``)
        and ``infeasible_reason``."""
        full = self.arch.fill(designs)
        phase, adam = self._step(full, workload)
        cfg = workload.model
        tp = np.asarray(full["tp"], dtype=np.int64)
        batch = np.asarray(full["batch"], dtype=np.float64)
        step = phase.total_s + adam
        tokens = batch * workload.seq_len / step
        net = self.network(full)
        memory = (
            self.state_bytes(cfg, net) + self.activation_bytes(cfg, workload, net, batch)
        ).reshape(-1)
        capacity = (
            np.asarray(full["hbm_gib"], dtype=np.float64)
            * (1 << 30)
            * self.arch.memory_usable_fraction
        )
        flops = phase.flops @ phase.calls
        metrics = {
            "latency_s": step,
            "tokens_per_s": tokens,
            "tokens_per_s_per_gpu": tokens / tp,
            "mfu": flops / (step * self.peak(full)),
            "memory_gib": memory / (1 << 30),
        }
        a = self.arch
        adam_j = adam * (a.idle_power_w + (a.tdp_w - a.idle_power_w) * a.hbm_efficiency)
        energy = (self.phase_energy(full, phase) + adam_j) * tp
        metrics.update(
            energy_per_token_j=energy / (batch * workload.seq_len), power_w=energy / tp / step
        )
        feasible, reasons = self._feasibility(full, cfg, memory, capacity, details)
        extra: dict[str, Any] = {}
        if details:
            extra.update(infeasible_reason=reasons, step_kernels=phase.names,
                         step_kernel_calls=phase.calls, step_kernel_s=phase.time_s * phase.calls,
                         step_kernel_binding=np.asarray(BINDING_NAMES)[phase.binding],
                         optimizer_s=adam)  # fmt: skip
        return Evaluation(metrics=metrics, feasible=feasible, details=extra)

    def _checks(self, full, cfg, memory, capacity):
        """The inference checks, and: weight-only quantisation is an inference format."""
        bits = np.asarray(full["weight_bits"], dtype=np.int64)
        return [*super()._checks(full, cfg, memory, capacity),
                (bits != 0, lambda i: f"weight_bits {bits[i]}: weight-only quantisation is an "
                                      "inference format")]  # fmt: skip

    @staticmethod
    def state_bytes(cfg: TransformerConfig, net: Mapping[str, np.ndarray]) -> np.ndarray:
        """Weights, gradients and Adam states per GPU (16 bytes per parameter, ZeRO)."""
        return cfg.params * STATE_BYTES_PER_PARAM / net["tp"].reshape(-1)

    @staticmethod
    def activation_bytes(cfg: TransformerConfig, work: TrainingStep, net, batch) -> np.ndarray:
        """Activations the backward pass reads, per GPU (see the module docstring)."""
        tp, act = net["tp"].reshape(-1), net["act_bytes"].reshape(-1)
        tokens = np.asarray(batch, dtype=np.float64).reshape(-1) * work.seq_len
        d = cfg.hidden
        # at least one head a rank: a TP degree past the heads is infeasible (the simulator's
        # checks say why), but its best-effort metrics stay finite
        heads = np.maximum(1, cfg.heads // tp)
        kv_heads = np.maximum(1, cfg.kv_heads // tp)
        qkv = (heads + 2 * kv_heads) * cfg.head_dim
        attn_out = heads * cfg.head_dim
        if cfg.is_moe:
            inner = cfg.moe_ffn_hidden * cfg.experts_per_token / tp
        else:
            inner = cfg.ffn_hidden / tp
        gated = 2 if cfg.ffn_gated else 1
        # norm inputs (2 d), QKV input (d), Q/K/V, attention output, out-proj input (= attention
        # output), up input (d), activation input (gated x inner), down input (inner)
        per_token = 4 * d + qkv + 2 * attn_out + (gated + 1) * inner
        blocks = tokens * per_token * act * cfg.layers
        logits = tokens * cfg.vocab / tp * 4.0
        scores = GpuTrainingSimulator.score_bytes(cfg, work, net, batch)
        return blocks + scores + logits

    @staticmethod
    def score_bytes(cfg: TransformerConfig, work: TrainingStep, net, batch) -> np.ndarray:
        """Per GPU, the bytes of attention's probability matrices the backward pass reads:
        unfused attention keeps each head's softmax output (``seq x seq`` values; the mask
        saves nothing, as in its kernels), flash attention none (it recomputes them). The term
        Korthikanti et al. (MLSys 2023) write ``5 a s^2 b`` with dropout; without it, one
        matrix in the activation dtype."""
        tp, act = net["tp"].reshape(-1), net["act_bytes"].reshape(-1)
        heads = np.maximum(1, cfg.heads // tp)
        batch = np.asarray(batch, dtype=np.float64).reshape(-1)
        per_layer = batch * heads * float(work.seq_len) ** 2 * act
        unfused = np.asarray(net["unfused"]).reshape(-1)
        return np.where(unfused, per_layer * cfg.layers, 0.0)
