"""The GPU domain: LLM inference and training steps on a GPU (or a tensor-parallel group of them)
from numbers alone.

``DOMAIN`` (inference) and ``TRAINING_DOMAIN`` are the tables the engine reaches through an env
spec's ``domain: gpu`` and ``domain: gpu_training``; ``DESIGN_DOMAIN`` (``domain: gpu_design``)
prices a future GPU's silicon, power and cost per token (:mod:`.design`). A workload is a
:class:`Generation` (a model from ``arch_specs/models``, prompt and output lengths); the base
architecture is a GPU spec (``arch_specs/gpu/arch``) whose tunable fields are the hardware of a
future GPU and the deployment (tensor parallelism, batch, dtypes).

Example:
    >>> from archgym_py.envs.gpu import DOMAIN
    >>> sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    >>> ev = sim.evaluate({"batch": [1, 64]}, DOMAIN.load_workload("llama3_8b_chat"))
    >>> bool(ev.metrics["tokens_per_s"][1] > 10 * ev.metrics["tokens_per_s"][0])
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._domain import Domain
from ..workloads import model_workload_factories
from .arch import DTYPES, KV_DTYPES, GpuArch, load_arch
from .design import DESIGN_METRICS, GpuDesignArch, GpuDesignSimulator
from .llm import BINDING_NAMES, Generation, generation_from_dict
from .simulator import METRICS, GpuSimulator
from .training import TRAINING_METRICS, GpuTrainingSimulator, TrainingStep, training_from_dict

__all__ = [
    "BINDING_NAMES",
    "DOMAIN",
    "DTYPES",
    "Generation",
    "DESIGN_DOMAIN",
    "GpuArch",
    "GpuDesignArch",
    "GpuDesignDomain",
    "GpuDesignSimulator",
    "GpuDomain",
    "GpuSimulator",
    "GpuTrainingDomain",
    "GpuTrainingSimulator",
    "TRAINING_DOMAIN",
    "TrainingStep",
    "KV_DTYPES",
    "METRICS",
    "load_arch",
]


#: Built-in workloads: chat-like (prompt 1024, 128 out), long-prompt summarisation (8192 in, 256
#: out), and MoE models.
BUILTIN_GENERATIONS = model_workload_factories(Generation, {
    "llama3_8b_chat": ("llama3_8b", {"input_len": 1024, "output_len": 128}),
    "llama3_8b_summarise": ("llama3_8b", {"input_len": 8192, "output_len": 256}),
    "llama3_70b_chat": ("llama3_70b", {"input_len": 1024, "output_len": 128}),
    "mixtral_8x7b_chat": ("mixtral_8x7b", {"input_len": 1024, "output_len": 128}),
    "gpt3_175b_chat": ("gpt3_175b", {"input_len": 1024, "output_len": 128}),
    "deepseek_v3_chat": ("deepseek_v3", {"input_len": 1024, "output_len": 128}),
    "qwen3_30b_a3b_chat": ("qwen3_30b_a3b", {"input_len": 1024, "output_len": 128}),
})  # fmt: skip


class GpuDomain(Domain):
    """The engine's view of this family (see :class:`archgym_py.Domain`)."""

    name = "gpu"
    metrics = METRICS
    arch_type = GpuArch
    workload_type = Generation
    builtin_workloads = BUILTIN_GENERATIONS
    workload_what = "GPU workload"
    workload_forms = " or a YAML file {model: ..., input_len: ..., output_len: ...}"

    def workload_from_dict(self, data: Mapping[str, Any], *, path: str = "workload") -> Generation:
        """A generation run from ``{model, input_len, output_len, moe_imbalance}``."""
        return generation_from_dict(data, path=path)

    def simulator(self, arch: GpuArch) -> GpuSimulator:
        """The analytical GPU model on ``arch``."""
        return GpuSimulator(arch)

    def describe_details(self, details: Mapping[str, Any]) -> list[str]:
        """Design 0's kernels per phase: time per run, share of the phase, binding resource."""
        if "prefill_kernels" not in details:
            return super().describe_details(details)
        lines = []
        reason = details["infeasible_reason"][0]
        if reason:
            lines.append(f"infeasible: {reason}")
        for label in ("prefill", "decode"):
            times = np.asarray(details[f"{label}_kernel_s"])[0]
            total = times.sum()
            what = "one prefill" if label == "prefill" else "one decode step (mean context)"
            lines.append(f"{what}: {total * 1e3:.4g} ms")
            lines.append(f"  {'kernel':<16} {'calls':>6} {'time_ms':>10} {'share':>7} bound")
            for j, name in enumerate(details[f"{label}_kernels"]):
                lines.append(
                    f"  {name:<16} {int(details[f'{label}_kernel_calls'][j]):>6} "
                    f"{times[j] * 1e3:>10.4g} {times[j] / total:>7.1%} "
                    f"{details[f'{label}_kernel_binding'][0, j]}"
                )
        return lines


#: Built-in training workloads: one micro-batch step at each model's usual sequence length.
BUILTIN_TRAINING = model_workload_factories(TrainingStep, {
    "llama3_8b_seq4096": ("llama3_8b", {"seq_len": 4096}),
    "llama2_7b_seq4096": ("llama2_7b", {"seq_len": 4096}),
    "gpt2_seq1024": ("gpt2", {"seq_len": 1024}),
    "mixtral_8x7b_seq4096": ("mixtral_8x7b", {"seq_len": 4096}),
})  # fmt: skip


class GpuTrainingDomain(GpuDomain):
    """Training steps on the same GPU specs and knobs (``batch`` is the micro-batch)."""

    name = "gpu_training"
    metrics = TRAINING_METRICS
    workload_type = TrainingStep
    builtin_workloads = BUILTIN_TRAINING
    workload_what = "GPU training workload"
    workload_forms = " or a YAML file {model: ..., seq_len: ...}"

    def workload_from_dict(
        self, data: Mapping[str, Any], *, path: str = "workload"
    ) -> TrainingStep:
        """A training step from ``{model, seq_len, moe_imbalance}``."""
        return training_from_dict(data, path=path)

    def simulator(self, arch: GpuArch) -> GpuTrainingSimulator:
        """The analytical GPU model of a training step on ``arch``."""
        return GpuTrainingSimulator(arch)

    def describe_details(self, details: Mapping[str, Any]) -> list[str]:
        """Design 0's kernels of one step: time per step, share, binding resource."""
        if "step_kernels" not in details:
            return Domain.describe_details(self, details)
        times = np.asarray(details["step_kernel_s"])[0]
        adam = float(np.asarray(details["optimizer_s"])[0])
        total = times.sum() + adam
        lines = (
            [f"infeasible: {details['infeasible_reason'][0]}"]
            if details["infeasible_reason"][0]
            else []
        )
        lines += [f"one step: {total * 1e3:.4g} ms (Adam {adam * 1e3:.4g} ms)",
                  f"  {'kernel':<20} {'calls':>6} {'time_ms':>10} {'share':>7} bound"]  # fmt: skip
        for j, name in enumerate(details["step_kernels"]):
            lines.append(f"  {name:<20} {int(details['step_kernel_calls'][j]):>6} "
                         f"{times[j] * 1e3:>10.4g} {times[j] / total:>7.1%} "
                         f"{details['step_kernel_binding'][0, j]}")  # fmt: skip
        return lines


class GpuDesignDomain(GpuDomain):
    """Inference on a future GPU priced in area, silicon cost, power and cost per token."""

    name = "gpu_design"
    metrics = DESIGN_METRICS
    arch_type = GpuDesignArch

    def simulator(self, arch: GpuDesignArch) -> GpuDesignSimulator:
        """The GPU model with the design's area, cost and power on ``arch``."""
        return GpuDesignSimulator(arch)


DOMAIN = GpuDomain()
TRAINING_DOMAIN = GpuTrainingDomain()
DESIGN_DOMAIN = GpuDesignDomain()
