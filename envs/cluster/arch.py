"""A training cluster and how a job is laid out on it: schema and loading from YAML.

A spec (``arch_specs/cluster/arch/*.yaml``) names the GPU (a spec of the GPU domain), the GPU
count, the NVLink domain and the scale-out fabric, each constant with its source. The tunable
fields are the parallel layout (tensor and pipeline degrees; the data-parallel degree is what
is left of the GPUs), the micro-batch, the ZeRO stage, activation recomputation, the dtype, the
fabric's per-GPU bandwidth, its leaf-to-spine oversubscription and the NVLink domain size, and the
checkpoint interval.

The scale-out fabric is a rail-optimised fat tree (NVIDIA's DGX SuperPOD design): GPU ``i`` of
every node in a leaf group (``leaf_gpus`` GPUs, a SuperPOD scalable unit) hangs off rail ``i``'s
leaf switch, so same-rail traffic inside the group is one switch hop at the full NIC rate; traffic
that leaves the group crosses the spine, whose uplinks carry ``1 / oversubscription`` of what the
leaf's downlinks can (1: non-blocking). ``topology`` can instead put the NVLink domains on a
ring, a 2-D or 3-D torus, or one non-blocking switch (see :mod:`.fabric`).
"""

from __future__ import annotations

from ..._arch import Arch
from ..._errors import SpecError
from ..._spec import Field
from .fabric import TOPOLOGIES

RECOMPUTE = ("none", "selective", "full")
#: What a pipeline divides into stages (see the ``pp_split`` knob).
PP_SPLITS = ("layers", "embedding_loss")
#: Pipeline schedules: GPipe (all forwards, then all backwards), 1F1B (Narayanan et al., SC 2021;
#: interleaved with ``pp_interleave`` > 1) and zero-bubble ZB-H1 and ZB-H2 (Qi et al., ICLR 2024).
PP_SCHEDULES = ("1f1b", "gpipe", "zb_h1", "zb_h2", "zb_v")
TP_OVERLAP = ("none", "overlap")
DTYPES = ("bf16", "fp8")

TUNABLE: dict[str, Field] = {
    "tp": Field(int, "tensor-parallel degree (inside one NVLink domain)", low=1, high=576),
    "pp": Field(int, "pipeline-parallel stages", low=1, high=512),
    "pp_interleave": Field(
        int, "model chunks per pipeline stage (interleaved 1F1B; 1: plain 1F1B)", low=1, high=64
    ),  # fmt: skip
    "pp_schedule": Field(
        str,
        "pipeline schedule: 1f1b, gpipe or zero-bubble zb_h1, zb_h2, zb_v",
        choices=PP_SCHEDULES,
    ),  # fmt: skip
    "cp": Field(
        int, "context-parallel degree (each sequence split over cp ranks)", low=1, high=4096
    ),  # fmt: skip
    "ep": Field(
        int,
        "expert-parallel degree (MoE experts spread over data-parallel ranks)",
        low=1,
        high=4096,
    ),  # fmt: skip
    "etp": Field(
        int,
        "expert tensor-parallel degree: the ranks one MoE expert splits over (0: the "
        "tensor-parallel degree, Megatron-Core's default)",
        low=0,
        high=576,
    ),  # fmt: skip
    "microbatch": Field(int, "sequences per micro-batch per data-parallel rank", low=1, high=4096),
    "pp_split": Field(
        str,
        "what the pipeline splits into equal stages: the transformer layers (layers), or the "
        "layers with the input embedding and the loss as one more layer each (embedding_loss: "
        "Megatron-Core's --account-for-embedding-in-pipeline-split and "
        "--account-for-loss-in-pipeline-split)",
        choices=PP_SPLITS,
    ),  # fmt: skip
    "zero_stage": Field(
        int, "ZeRO stage: 0 none, 1 optimizer, 2 + gradients, 3 + weights", low=0, high=3
    ),  # fmt: skip
    "zero_scope": Field(
        str,
        "ZeRO sharding over every data-parallel replica (global, FSDP) or inside the NVLink "
        "domain, replicated across domains (domain, HSDP)",
        choices=("global", "domain"),
    ),  # fmt: skip
    "offload": Field(
        str,
        "optimizer state and Adam on the host CPU (cpu, ZeRO-Offload) or on the GPU (none)",
        choices=("none", "cpu"),
    ),  # fmt: skip
    "recompute": Field(
        str,
        "activation recomputation: none, selective (the attention core, Korthikanti et al.) or "
        "full (per block)",
        choices=RECOMPUTE,
    ),
    "dtype": Field(str, "compute dtype", choices=DTYPES),
    "tp_overlap": Field(
        str,
        "tensor-parallel communication: exposed, or overlapped with the "
        "adjacent GEMMs (Megatron's --tp-comm-overlap)",
        choices=TP_OVERLAP,
    ),  # fmt: skip
    "attention": Field(
        str,
        "fused attention kernel: FlashAttention-2 (flash), cuDNN's (cudnn) or separate kernels "
        "(unfused), as the GPU domain costs them",
        choices=("flash", "cudnn", "unfused"),
    ),  # fmt: skip
    "dp_overlap": Field(
        str,
        "data-parallel overlap: the gradient reduction under the last backward pass (grad), and "
        "with a sharded optimizer the weight all-gather under the next first forward "
        "(grad_param, Megatron's --overlap-param-gather)",
        choices=("grad", "grad_param"),
    ),  # fmt: skip
    "dp_algorithm": Field(
        str,
        "all-reduce algorithm of the data-parallel gradients across NVLink domains: ring, "
        "double binary tree or recursive halving-doubling (rhd)",
        choices=("ring", "tree", "rhd"),
    ),  # fmt: skip
    "nvlink_domain": Field(int, "GPUs per NVLink domain (node or rack)", low=1, high=576),
    "nic_gbps": Field(float, "scale-out bandwidth per GPU per direction, Gb/s", low=1.0, high=1e5),
    "topology": Field(
        str,
        "scale-out fabric between NVLink domains: fat_tree, switch, ring, torus2d or torus3d",
        choices=TOPOLOGIES,
    ),  # fmt: skip
    "oversubscription": Field(
        float,
        "leaf-to-spine oversubscription of the fat tree (1: non-blocking)",
        low=1.0,
        high=64.0,
    ),  # fmt: skip
    "checkpoint_interval_min": Field(
        float, "minutes of training between checkpoints", low=0.1, high=1e5
    ),  # fmt: skip
}

CONSTANTS: dict[str, Field] = {
    "gpu": Field(str, "the GPU: a spec name of the GPU domain (arch_specs/gpu/arch)"),
    "gpus": Field(int, "GPUs in the cluster", low=1, high=1 << 20),
    "nic_step_us": Field(float, "latency of one collective step over the fabric, us", low=0.0),
    "nic_efficiency": Field(
        float, "achieved share of the fabric's per-GPU bandwidth", low=0.01, high=1.0
    ),  # fmt: skip
    "overlap_slowdown": Field(
        float,
        "slowdown of compute while communication overlaps it (0.2: 20% slower)",
        low=0.0,
        high=1.0,
    ),  # fmt: skip
    "gpu_hour_usd": Field(float, "price of one GPU-hour", low=0.0),
    "leaf_gpus": Field(
        int, "GPUs under one rail-optimised leaf group (a scalable unit)", low=1, high=1 << 20
    ),  # fmt: skip
    "host_power_w": Field(
        float, "node power besides the GPUs (CPUs, NICs, switches, fans) per GPU, W", low=0.0
    ),  # fmt: skip
    "gpu_failures_per_hour": Field(
        float, "job-interrupting failures per GPU-hour", low=0.0, high=1.0
    ),  # fmt: skip
    "checkpoint_gbs": Field(
        float, "storage write bandwidth for checkpoints, whole cluster, GB/s", low=1e-3
    ),  # fmt: skip
    "restart_s": Field(float, "time to restart a failed job and reload its checkpoint, s", low=0.0),
    "host_memory_gbps": Field(
        float, "host DRAM bandwidth per GPU (the node's, shared), GB/s", low=0.1
    ),  # fmt: skip
    "host_link_gbps": Field(
        float, "GPU-to-host bandwidth per direction (PCIe or NVLink-C2C), GB/s", low=0.1
    ),  # fmt: skip
}


class ClusterArch(Arch):
    """A validated cluster and job layout (see the module docstring)."""

    family = "cluster"
    what = "cluster architecture"
    tunable = TUNABLE
    constants = CONSTANTS
    derived = ()
    knob = "cluster knob"

    @classmethod
    def gpu_specs(cls) -> tuple[str, list[str]]:
        """What the ``gpu`` field names, and the shipped names it may take: GPU specs."""
        from ..gpu import TRAINING_DOMAIN

        return "one of", TRAINING_DOMAIN.arch_names()

    def check(self, *, path: str = "arch.architecture") -> None:
        """The GPU spec exists; the default layout fits the cluster."""
        what, names = self.gpu_specs()
        if self.gpu not in names:
            raise SpecError(f"{path}.gpu: got {self.gpu!r}; expected {what} {names}")
        if self.gpus % (self.tp * self.pp * self.cp):
            raise SpecError(
                f"{path}: tp x pp x cp ({self.tp * self.pp * self.cp}) must divide gpus ({self.gpus})"
            )
