"""A third domain in a few lines: the template a new domain follows (see DEVELOPERS.md).

Data-parallel x tensor-parallel x pipeline-parallel training of a shared transformer model on a
fixed number of GPUs; the constraints name the architecture's ``gpus`` and the model's ``heads``
and ``layers``. The physics is a textbook first-order estimate (6 x params FLOPs per token,
ring all-reduce, a GPipe bubble); it exists to prove the engine, not to predict a cluster.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from archgym_py import Arch, Domain, Evaluation, MetricSpec
from archgym_py._spec import Field
from archgym_py.envs.workloads import TransformerConfig, load_model, model_names

HERE = Path(__file__).parent


class ToyCluster(Arch):
    family, what, knob, spec_folder = "toy", "toy cluster", "toy knob", HERE / "arch"
    tunable = {k: Field(int, f"{k} degree", low=1) for k in ("dp", "tp", "pp", "microbatches")}
    constants = {"gpus": Field(int, "GPUs", low=1), "gpu_tflops": Field(float, "peak", low=0),
                 "link_gbps": Field(float, "per-GPU link", low=0), "hbm_gib": Field(float, "memory", low=0),
                 "tokens": Field(int, "tokens per step", low=1)}  # fmt: skip


class ToySimulator:
    metrics = (MetricSpec("step_time_s", "s"), MetricSpec("memory_bytes", "B"))
    version = "toy/1"

    def __init__(self, arch: ToyCluster):
        self.arch = arch

    def evaluate(
        self, designs, workload: TransformerConfig, *, details: bool = False
    ) -> Evaluation:
        a, d = self.arch, {k: v.astype(np.float64) for k, v in self.arch.fill(designs).items()}
        shards = d["tp"] * d["pp"]
        compute = 6 * workload.params * a.tokens / (a.gpus * a.gpu_tflops * 1e12)
        bubble = (d["pp"] - 1) / d["microbatches"]
        grads = 2 * (d["dp"] - 1) / d["dp"] * 2 * workload.params / shards / (a.link_gbps * 1e9)
        acts = (
            4 * (d["tp"] - 1) / d["tp"] * 2 * a.tokens / d["dp"] * workload.hidden * workload.layers
        )
        step = compute * (1 + bubble) + grads + acts / (a.link_gbps * 1e9)
        memory = 16 * workload.params / shards + 2 * a.tokens * workload.hidden / (
            d["dp"] * d["tp"]
        )
        return Evaluation(
            {"step_time_s": step, "memory_bytes": memory}, memory <= a.hbm_gib * 2**30
        )


class ToyDomain(Domain):
    name, metrics, arch_type, workload_type = (
        "toy",
        ToySimulator.metrics,
        ToyCluster,
        TransformerConfig,
    )
    builtin_workloads = {name: partial(load_model, name) for name in model_names()}

    def workload_from_dict(self, data, *, path="workload"):
        return TransformerConfig.from_dict(data, path=path)

    def simulator(self, arch: ToyCluster) -> ToySimulator:
        return ToySimulator(arch)


DOMAIN = ToyDomain()
