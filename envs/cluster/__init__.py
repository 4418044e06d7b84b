"""The distributed-training cluster domain: collectives on fabrics and 3-D parallel training steps.

:mod:`.collectives` holds the alpha-beta collective models (ring, tree, NVLS, direct,
hierarchical); :mod:`.step` costs a training step of a job laid out with tensor, pipeline and
data parallelism, ZeRO and recomputation, on the GPU domain's kernel model; :mod:`.design` makes
the GPU part of the design (its SMs, clock, L2 and HBM stacks, priced). ``DOMAIN`` is what an env
spec's ``domain: cluster`` reaches, ``DESIGN_DOMAIN`` ``domain: cluster_design``.

Example:
    >>> from archgym_py.envs.cluster import DOMAIN
    >>> sim = DOMAIN.simulator(DOMAIN.load_arch("dgx_h100_1024"))
    >>> ev = sim.evaluate({"pp": [8, 5]}, DOMAIN.load_workload("gpt3_175b"), details=True)
    >>> ev.feasible.tolist(), ev.details["infeasible_reason"][1]
    ([True, False], 'tp x pp x cp (40) does not divide the 1024 GPUs')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._domain import Domain
from ..workloads import model_workload_factories
from .arch import ClusterArch
from .collectives import (
    ALGORITHMS,
    BUS_FACTOR,
    COLLECTIVES,
    Link,
    all_gather,
    all_reduce,
    all_to_all,
    broadcast,
    bus_bandwidth,
    hierarchical_all_reduce,
    reduce_scatter,
    send_recv,
)
from .design import DESIGN_METRICS, ClusterDesignArch, ClusterDesignSimulator
from .step import BREAKDOWN, METRICS, ClusterSimulator, TrainingJob, job_from_dict

__all__ = [
    "ALGORITHMS",
    "BREAKDOWN",
    "BUS_FACTOR",
    "COLLECTIVES",
    "DESIGN_DOMAIN",
    "DOMAIN",
    "ClusterArch",
    "ClusterDesignArch",
    "ClusterDesignSimulator",
    "ClusterDomain",
    "ClusterSimulator",
    "Link",
    "TrainingJob",
    "all_gather",
    "all_reduce",
    "all_to_all",
    "broadcast",
    "bus_bandwidth",
    "hierarchical_all_reduce",
    "reduce_scatter",
    "send_recv",
]


#: Built-in training jobs (global batches in sequences).
BUILTIN_JOBS = model_workload_factories(TrainingJob, {
    "gpt3_175b": ("gpt3_175b", {"seq_len": 2048, "global_batch": 1024}),
    "llama2_70b": ("llama2_70b", {"seq_len": 4096, "global_batch": 1024}),
    "llama3_8b": ("llama3_8b", {"seq_len": 8192, "global_batch": 512}),
    "mixtral_8x7b": ("mixtral_8x7b", {"seq_len": 4096, "global_batch": 1024}),
})  # fmt: skip


class ClusterDomain(Domain):
    """The engine's view of this family (see :class:`archgym_py.Domain`)."""

    name = "cluster"
    metrics = METRICS
    arch_type = ClusterArch
    workload_type = TrainingJob
    builtin_workloads = BUILTIN_JOBS
    workload_forms = " or a YAML file {model: ..., seq_len: ..., global_batch: ...}"

    def workload_from_dict(self, data: Mapping[str, Any], *, path: str = "workload") -> TrainingJob:
        """A training job from ``{model, seq_len, global_batch}``."""
        return job_from_dict(data, path=path)

    def simulator(self, arch: ClusterArch) -> ClusterSimulator:
        """The cluster training-step model on ``arch``."""
        return ClusterSimulator(arch)

    def describe_details(self, details: Mapping[str, Any]) -> list[str]:
        """Design 0's step-time breakdown and layout."""
        if "compute_s" not in details:
            return super().describe_details(details)
        parts = {k: float(np.asarray(details[k])[0]) for k in BREAKDOWN}
        total = sum(parts.values())
        reason = details["infeasible_reason"][0]
        lines = [f"infeasible: {reason}"] if reason else []
        lines.append(f"layout: dp {int(details['dp'][0])}, {int(details['microbatches'][0])} "
                     f"micro-batches per step; step {total * 1e3:.4g} ms, "
                     f"{float(details['achieved_tflops_per_gpu'][0]):.4g} TFLOP/s per GPU, "
                     f"{float(details['gpu_hours'][0]):.4g} GPU-hours")  # fmt: skip
        lines += [f"  {k:<16} {v * 1e3:>12.4g} ms {v / total:>7.1%}" for k, v in parts.items()]
        return lines


class ClusterDesignDomain(ClusterDomain):
    """Training on a cluster whose GPU is part of the design, priced (:mod:`.design`)."""

    name = "cluster_design"
    metrics = DESIGN_METRICS
    arch_type = ClusterDesignArch

    def simulator(self, arch: ClusterDesignArch) -> ClusterDesignSimulator:
        """The cluster model on each design's GPU, with the GPU's area, cost and power."""
        return ClusterDesignSimulator(arch)


DOMAIN = ClusterDomain()
DESIGN_DOMAIN = ClusterDesignDomain()
