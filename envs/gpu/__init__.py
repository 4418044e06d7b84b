"""The GPU domain: LLM inference on a GPU (or a tensor-parallel group of them) from numbers alone.

``DOMAIN`` is the table the engine reaches through an env spec's ``domain: gpu``. A workload is a
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
from ..workloads import load_model
from .arch import DTYPES, KV_DTYPES, GpuArch, load_arch
from .llm import BINDING_NAMES, Generation, generation_from_dict
from .simulator import METRICS, GpuSimulator

__all__ = [
    "BINDING_NAMES",
    "DOMAIN",
    "DTYPES",
    "Generation",
    "GpuArch",
    "GpuDomain",
    "GpuSimulator",
    "KV_DTYPES",
    "METRICS",
    "load_arch",
]


def _generation(model: str, input_len: int, output_len: int, name: str):
    return lambda: Generation(load_model(model), input_len, output_len, name=name)


#: Built-in workloads: chat-like (prompt 1024, 128 out), long-prompt summarisation (8192 in, 256
#: out), and an MoE model.
BUILTIN_GENERATIONS = {
    "llama3_8b_chat": _generation("llama3_8b", 1024, 128, "llama3_8b_chat"),
    "llama3_8b_summarise": _generation("llama3_8b", 8192, 256, "llama3_8b_summarise"),
    "llama3_70b_chat": _generation("llama3_70b", 1024, 128, "llama3_70b_chat"),
    "mixtral_8x7b_chat": _generation("mixtral_8x7b", 1024, 128, "mixtral_8x7b_chat"),
    "gpt3_175b_chat": _generation("gpt3_175b", 1024, 128, "gpt3_175b_chat"),
}


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


DOMAIN = GpuDomain()
