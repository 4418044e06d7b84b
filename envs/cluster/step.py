"""A training step of a transformer on a cluster, batched over designs.

The layout: ``tp`` x ``pp`` x ``dp`` GPUs, ``dp`` the GPUs left after tensor and pipeline
parallelism. A step trains ``global_batch`` sequences in ``m = global_batch / (dp x
microbatch)`` micro-batches per data-parallel rank.

* **Compute** per micro-batch and stage: the GPU domain's training step
  (:func:`archgym_py.envs.gpu.llm.block_phase`, forward and backward of every kernel, Megatron's
  tensor-parallel all-reduces on NVLink) for the micro-batch, over ``pp`` balanced stages.
  Full recomputation adds the forward pass again; selective recomputation (Korthikanti et al.,
  MLSys 2023) only the attention core's forward (the flash kernel, or the unfused score GEMM,
  softmax and context GEMM), and saves only unfused attention's score matrices (flash attention
  keeps none, so there it costs time and saves nothing). With ``tp_overlap`` the tensor-parallel
  all-reduces hide under the projection GEMMs next to them (what those cannot cover stays).
  Every overlap (tensor-parallel, context ring, data-parallel gradients) slows the compute it
  hides under by ``overlap_slowdown`` (see :func:`overlapped_cost`).
* **Pipeline** (1F1B, Narayanan et al., SC 2021): ``(m + pp - 1)`` stage slots, of which
  ``pp - 1`` are the bubble (``(pp - 1) / v`` interleaving ``v`` model chunks per stage, with
  ``v`` times the boundary transfers); the activations crossing each stage boundary (scattered over the
  tensor-parallel ranks) are exposed while the pipeline fills and drains. GPipe has 1F1B's
  bubble but keeps all ``m`` micro-batches' activations; zero-bubble ZB-H1 (Qi et al., ICLR
  2024) splits the backward pass into its input- and weight-gradient halves and fills the bubble
  with the latter: ``(pp - 1) (T_F + T_B - T_W)`` instead of ``(pp - 1) (T_F + T_B + T_W)``, at
  1F1B's activation memory (``T_W`` is the stage's weight-gradient GEMMs); ZB-H2 (same paper,
  its Table 1) warms up with ``pp - 1`` more forwards: ``(pp - 1) max(0, T_F + T_B - 2 T_W)``,
  holding up to ``2 pp - 1`` micro-batches' activations. Stages are equal shares of the
  micro-batch's work; ``pp_split`` says what must divide evenly: the layers, or with
  ``embedding_loss`` the layers plus the embedding and the loss as one layer each (Megatron-Core's
  asymmetric split, as MLPerf's Llama 3.1 405B runs use: 126 + 2 = 128 over 8 x 8 chunks).
* **Context parallel** (ring attention, load-balanced causal chunks): each of ``cp`` ranks
  holds ``seq / cp`` tokens of every sequence; its queries attend to all keys (``cp`` times its
  chunk's attention) while K and V, and in the backward pass their gradients, go round the ring
  under that attention (what it cannot cover is exposed); weights are replicated over
  ``dp x cp`` ranks.
* **Data parallel** gradient reduction (bf16), hierarchical over the NVLink domain and the
  fabric: an all-reduce for ZeRO 0, reduce-scatter + all-gather for ZeRO 1-2 (the same volume),
  and for ZeRO 3 also two weight all-gathers per micro-batch. It hides under the backward pass
  of the last micro-batch; the rest is exposed. With ``dp_overlap`` grad_param (Megatron's
  ``--overlap-param-gather``) and ZeRO >= 1, the all-gather of the updated weights hides under
  the next step's first forward pass instead.
* **Expert parallelism** (MoE): the experts spread over ``ep`` data-parallel ranks; each MoE
  layer's routed tokens go to their experts and back in the forward and the backward pass (four
  all-to-alls per layer and micro-batch, on the pipeline's critical path), on NVLink while the
  ``tp x ep`` group fits the domain; expert weights and their optimizer state divide by ``ep``.
  With expert tensor parallelism ``etp`` below ``tp`` each expert splits over ``etp`` ranks
  (serving ``etp / tp`` of the group's tokens), its weights divide by ``etp`` instead of ``tp``.
* **Optimizer**: Adam's 30 bytes per parameter through HBM, over the rank's shard; with
  ``offload`` cpu (ZeRO-Offload, Ren et al., USENIX ATC 2021) the shard's bf16 gradients cross
  to the host, Adam streams there at the host's memory bandwidth and the weights come back
  (exposed), and the 12 bytes per parameter of fp32 master weights and moments leave the GPU.
  ``zero_scope`` domain (HSDP) shards inside the NVLink domain only: ZeRO-3's weight gathers
  stay on NVLink, the state divides by the domain's replicas.
* **Memory** per GPU (Rajbhandari et al., ZeRO, SC 2020): with ``P`` the parameters per
  tensor-pipeline rank, 16 P (stage 0), 4 P + 12 P / dp (1), 2 P + 14 P / dp (2), 16 P / dp (3);
  plus the activations of the micro-batches in flight on the first stage (``min(pp, m)`` under
  1F1B), only block inputs with full recomputation, all but the score matrices with selective,
  plus the last stage's logits; with TP,
  sequence parallelism splits the per-token tensors a block would otherwise keep whole.

* **Fabric** (:mod:`.fabric`): traffic that leaves a leaf group of the rail-optimised fat tree
  shares the spine's uplinks; pipeline transfers, expert all-to-alls and rings slow down by
  what their crossing share asks of an oversubscribed spine. On a ring or a 2-D or 3-D torus of
  NVLink domains (``topology``), pipeline transfers pay their hop count on a ``1 / 2D`` link
  share, all-to-alls the grid's bisection, and rings run multi-dimensionally at the full rate;
  on a single switch every pattern runs at the NIC rate.
  **Contention** (a documented approximation): all of a step's fabric traffic (pipeline, gradient reduction, ZeRO-3 gathers,
  expert all-to-alls, context rings) shares each GPU's NIC, so a step takes at least that
  traffic's time at the NIC rate; what the other terms leave uncovered is
  ``fabric_contention_s``.
* **Energy**: each GPU draws the GPU model's load-scaled power over its compute (and Adam's over
  the optimizer) and its idle power the rest of the step; hosts add ``host_power_w`` per GPU.
* **Goodput** (Young, 1974; Daly, 2006, first order): with a job failure rate ``F = gpus x
  gpu_failures_per_hour``, checkpoints of 14 bytes per parameter written at ``checkpoint_gbs``
  every ``checkpoint_interval_min``, and ``restart_s`` per failure, the lost share of wall time is
  ``write / interval + F x (interval / 2 + restart)``.

The step-time breakdown (compute, bubble, pipeline transfers, exposed data-parallel
communication, fabric contention, optimizer) sums exactly to ``step_time_s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..._simulator import Evaluation, MetricSpec, check_feasibility
from ..._space import Batch
from ..gpu.llm import nvlink_nccl
from ..gpu.training import (
    ADAM_BYTES_PER_PARAM,
    GpuTrainingSimulator,
    TrainingStep,
)
from ..workloads import (
    TransformerConfig,
    check_positive,
    model_workload_from_dict,
    model_workload_to_dict,
)
from .arch import ClusterArch
from .collectives import Link, all_gather, all_to_all, hierarchical_all_reduce
from .fabric import (
    TORUS_DIMS,
    group_crossing,
    neighbour_crossing,
    ring_crossing,
    torus_all_to_all_rate,
    torus_shape,
    torus_shift_rate,
    uplink_limited_rate,
)

METRICS = (
    MetricSpec("step_time_s", "s", "minimize", "time of one training step of the global batch"),
    MetricSpec("tokens_per_s", "1/s", "maximize", "tokens trained per second by the cluster"),
    MetricSpec("tokens_per_s_per_gpu", "1/s", "maximize", "tokens trained per second per GPU"),
    MetricSpec("mfu", "1", "maximize", "model FLOPs / (step time x GPUs x dense peak)"),
    MetricSpec("memory_gib", "GiB", "minimize", "largest per-GPU memory (first or last stage)"),
    MetricSpec("cost_per_step_usd", "USD", "minimize", "GPU-hours of one step at the hourly price"),
    MetricSpec("energy_j", "J", "minimize", "energy of one step: GPUs (load-scaled) and hosts"),
    MetricSpec(
        "goodput", "1", "maximize", "share of wall time that trains, after checkpoints and failures"
    ),
    MetricSpec("goodput_tokens_per_s", "1/s", "maximize", "tokens per second x goodput"),
)


def overlapped_cost(comm, window, slowdown) -> np.ndarray:
    """Seconds a transfer of ``comm`` seconds adds to ``window`` seconds of compute it runs
    under. Compute that shares the GPU with communication kernels runs ``1 + slowdown`` times
    slower (they take SMs and memory bandwidth), so the transfer costs at least
    ``slowdown / (1 + slowdown)`` of its time, and all it outlasts the stretched window by:
    ``max(comm x s / (1 + s), comm - window)``."""
    return np.maximum(comm * slowdown / (1.0 + slowdown), comm - window)


BREAKDOWN = ("compute_s", "bubble_s", "pp_transfer_s", "dp_exposed_s", "fabric_contention_s",
             "optimizer_s")  # fmt: skip
#: Bytes per parameter a checkpoint saves: bf16 weights plus fp32 master weights and Adam's two
#: moments (Rajbhandari et al., ZeRO, SC 2020: 16 bytes of model state less the 2 of gradients).
CHECKPOINT_BYTES_PER_PARAM = 14.0
_BACKWARD = ("_dgrad", "_wgrad", "_bwd")
_GIB = float(1 << 30)


@dataclass(frozen=True)
class TrainingJob:
    """A training job: a model, its sequence length and the global batch in sequences."""

    model: TransformerConfig
    seq_len: int = 2048
    global_batch: int = 1024
    name: str = ""
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        check_positive(seq_len=self.seq_len, global_batch=self.global_batch)
        if not self.name:
            name = f"{self.model.name}_seq{self.seq_len}_gbs{self.global_batch}"
            object.__setattr__(self, "name", name)

    def to_dict(self) -> dict[str, Any]:
        """The mapping :func:`job_from_dict` reads back (the model in full)."""
        return model_workload_to_dict(self)

    def features(self) -> dict[str, float]:
        """The workload as surrogate features: the model's shape and the run's lengths (log2)."""
        return {
            **self.model.features(),
            "log2_seq_len": float(np.log2(self.seq_len)),
            "log2_global_batch": float(np.log2(self.global_batch)),
        }

    def scalars(self) -> dict[str, Any]:
        """Numbers a design-space constraint may name."""
        m = self.model
        return {"seq_len": self.seq_len, "global_batch": self.global_batch, "layers": m.layers,
                "heads": m.heads, "ffn_hidden": m.ffn_hidden}  # fmt: skip


def job_from_dict(data: Mapping[str, Any], *, path: str = "workload") -> TrainingJob:
    """``{model: gpt3_175b, seq_len: 2048, global_batch: 1024}``."""
    return model_workload_from_dict(TrainingJob, data, path=path)


def nvlink_link(gpu, n: int = 1) -> Link:
    """The NVLink level of a node of ``gpu`` (a GPU spec) for ``n`` designs, from the GPU
    spec's NCCL figures (:func:`archgym_py.envs.gpu.llm.nvlink_nccl`): the ring's bulk rate,
    the step latency and start, the protocol constants, the ring's fill and the measured
    whole-domain all-reduce rate."""
    f = nvlink_nccl(np.full(n, float(gpu.nvlink_gbps)), gpu)
    return Link(f["ring_bps"], np.full(n, f["step_s"]), f["simple_s"], f["ll_fraction"],
                f["start_s"], f["fill_steps"], f["reduce_bps"], f["reduce_start_s"])  # fmt: skip


def expert_tp(full) -> np.ndarray:
    """Each design's expert tensor-parallel degree (``etp`` 0: the TP degree)."""
    tp = np.asarray(full["tp"], dtype=np.int64)
    etp = np.asarray(full["etp"], dtype=np.int64)
    return np.where(etp == 0, tp, etp)


def _expert_params(cfg: TransformerConfig) -> float:
    """Weights of the routed experts (0 for a dense model)."""
    if not cfg.is_moe:
        return 0.0
    per_expert = (3 if cfg.ffn_gated else 2) * cfg.hidden * cfg.moe_ffn_hidden
    return float((cfg.layers - cfg.dense_layers) * cfg.experts * per_expert)


@lru_cache(maxsize=8)
def _gpu_simulator(name: str) -> GpuTrainingSimulator:
    from ..gpu import TRAINING_DOMAIN

    return TRAINING_DOMAIN.simulator(TRAINING_DOMAIN.load_arch(name))


class ClusterSimulator:
    """Training steps of a job on a cluster (see the module docstring), batched over designs.

    Args:
        arch: the cluster; a design overrides its tunable fields (``tp, pp, pp_interleave, pp_schedule, pp_split, cp, ep, microbatch,
            zero_stage, zero_scope, offload, recompute, dtype, tp_overlap, nvlink_domain, nic_gbps, topology,
            oversubscription, checkpoint_interval_min``).
    """

    metrics = METRICS
    version = "cluster-model/18"

    def __init__(self, arch: ClusterArch):
        self.arch = arch
        self.gpu = _gpu_simulator(arch.gpu)

    def evaluate(
        self, designs: Batch, workload: TrainingJob, *, details: bool = False
    ) -> Evaluation:
        """Metrics of one step for a batch of designs; ``details`` adds the breakdown
        (``compute_s``, ``bubble_s``, ``pp_transfer_s``, ``dp_exposed_s``,
        ``fabric_contention_s``, ``optimizer_s``), ``fabric_busy_s`` (the step's fabric bytes at
        the NIC rate), ``dp``, ``microbatches``, ``achieved_tflops_per_gpu`` (model FLOPs per
        GPU-second, recomputation not counted), ``gpu_hours`` (of one step) and
        ``infeasible_reason``."""
        a, cfg = self.arch, workload.model
        full = a.fill(designs)
        n = len(np.asarray(full["tp"]))
        tp = np.asarray(full["tp"], dtype=np.int64)
        pp = np.asarray(full["pp"], dtype=np.int64)
        mb = np.asarray(full["microbatch"], dtype=np.int64)
        zero = np.asarray(full["zero_stage"], dtype=np.int64)
        recompute = np.asarray(full["recompute"])
        domain = np.asarray(full["nvlink_domain"], dtype=np.int64)
        cp = np.asarray(full["cp"], dtype=np.int64)
        dp = np.maximum(a.gpus // (tp * pp * cp), 1)
        micro = np.maximum(workload.global_batch // (dp * mb), 1)
        seq = np.maximum(workload.seq_len // cp, 1)  # each context-parallel rank's share

        gpu_full = self._gpu_full(full, tp, mb)
        ep = np.asarray(full["ep"], dtype=np.int64)
        etp = expert_tp(full)
        phase, _ = self.gpu._step(gpu_full, TrainingStep(cfg, workload.seq_len), seq_len=seq,
                                  ep=ep, etp=etp)  # fmt: skip
        per_kernel = phase.time_s * phase.calls
        # context parallelism (ring attention, load-balanced causal chunks): a rank's queries
        # attend to every rank's keys, cp times the attention of its own chunk; K and V (and in
        # the backward pass their gradients) travel round the ring under that attention
        attention = np.array([name in ("attention", "attention_bwd") for name in phase.names])
        attn_s = per_kernel[:, attention].sum(1)
        attn_flops = (phase.flops * phase.calls)[:, attention].sum(1)
        kv_heads = np.maximum(1, cfg.kv_heads // tp)
        kv_chunk = mb * seq * 2 * kv_heads * cfg.head_dim * 2.0 * cfg.layers
        oversub = np.asarray(full["oversubscription"], dtype=np.float64)
        nic_rate = np.asarray(full["nic_gbps"], float) * 1e9 / 8 * a.nic_efficiency
        cp_fabric = tp * cp > np.asarray(full["nvlink_domain"])
        # every topology but the fat tree runs a ring at the full rate (a torus as one ring per
        # dimension, a single switch without a spine)
        torus = np.asarray(full["topology"]) != "fat_tree"

        def ring_rate(span, members):
            """A ring of ``members`` ranks over ``span`` consecutive ranks: it crosses the fat
            tree's spine once per leaf group, and runs at the full rate elsewhere."""
            crossing = ring_crossing(span, members, a.leaf_gpus)
            return np.where(torus, nic_rate, uplink_limited_rate(nic_rate, crossing, oversub))

        ring_link_bw = np.where(cp_fabric, ring_rate(tp * cp, cp),
                                self.gpu.arch.nvlink_gbps * 1e9 / 2)  # fmt: skip
        ring = 3 * (cp - 1) * kv_chunk / ring_link_bw
        slowdown = a.overlap_slowdown
        cp_exposed = overlapped_cost(ring, cp * attn_s, slowdown)
        per_kernel_total = per_kernel.sum(axis=1) + (cp - 1) * attn_s + cp_exposed
        backward = np.array([name.endswith(_BACKWARD) for name in phase.names])
        reduce = np.array(["allreduce" in name for name in phase.names])
        forward_s = (
            per_kernel[:, ~backward & ~reduce].sum(axis=1) + per_kernel[:, reduce].sum(1) / 2
        )
        # Megatron's --tp-comm-overlap pipelines each all-reduce with the projection GEMMs
        # next to it (forward and input-gradient); what those GEMMs cannot cover stays exposed
        projections = np.array([name.split("_")[0] in ("qkv", "out", "ffn")
                                and not name.endswith(("_wgrad", "_act", "_act_bwd", "_cast",
                                                       "_cast_bwd"))
                                for name in phase.names]) & ~reduce  # fmt: skip
        tp_comm = per_kernel[:, reduce].sum(1)
        hidden = tp_comm - overlapped_cost(tp_comm, per_kernel[:, projections].sum(1), slowdown)
        overlap = np.asarray(full["tp_overlap"]) == "overlap"
        # recomputation in the backward pass: full, every block's forward pass; selective
        # (Korthikanti et al., MLSys 2023), the attention core's forward only (cp times its
        # chunk's, as the pass itself)
        attn_fwd_s = per_kernel[:, np.array([name == "attention" for name in phase.names])].sum(1)
        again = np.select([recompute == "full", recompute == "selective"],
                          [forward_s, cp * attn_fwd_s], 0.0)  # fmt: skip
        micro_s = per_kernel_total - np.where(overlap, hidden, 0.0) + again
        stage_s = micro_s / pp
        # interleaved 1F1B (Narayanan et al., SC 2021): v chunks per stage cut the bubble to
        # (p - 1) / v stage slots and multiply the stage-boundary transfers by v
        v = np.asarray(full["pp_interleave"], dtype=np.int64)
        compute = micro * stage_s
        wgrad = np.array([name.endswith("_wgrad") for name in phase.names])
        wgrad_stage = per_kernel[:, wgrad].sum(axis=1) / pp
        # weight-gradient slots each zero-bubble schedule moves into its bubble: a stage's slot
        # T_F + T_B + T_W becomes T_F + T_B - T_W (ZB-H1) or T_F + T_B - 2 T_W (ZB-H2)
        schedule = np.asarray(full["pp_schedule"])
        moved = np.select([schedule == "zb_h1", schedule == "zb_h2"], [2.0, 3.0], 0.0)
        slot = np.maximum(stage_s - moved * wgrad_stage, 0.0)
        # ZB-V (Qi et al., NeurIPS 2024: two model chunks per stage in a V) has no bubble where
        # its condition holds (checked with the reasons), and twice 1F1B's stage transfers
        zb_v = schedule == "zb_v"
        bubble = np.where(zb_v, 0.0, (pp - 1) * slot / v)
        v = np.where(zb_v, 2, v)
        # a stage's forward, input-gradient and weight-gradient time per micro-batch
        stage_fbw = (forward_s / pp, stage_s - wgrad_stage - forward_s / pp, wgrad_stage)

        nvlink_rate = np.full(n, self.gpu.arch.nvlink_gbps * 1e9 / 2)
        nvlink = nvlink_link(self.gpu.arch, n)
        nic = Link(nic_rate, np.full(n, a.nic_step_us * 1e-6))
        act_bytes = 2.0
        boundary = mb * seq * cfg.hidden * act_bytes / tp
        # stage s + 1 sits gpus / pp ranks away (pipeline is Megatron's slowest rank dimension),
        # in another NVLink domain once that stride reaches the domain's size
        stride = a.gpus // pp
        cross = stride >= domain
        pp_rate = uplink_limited_rate(nic_rate, neighbour_crossing(stride, a.leaf_gpus), oversub)
        pp_rate = self._on_torus(full, pp_rate, nic_rate, lambda r, shape, nodes: torus_shift_rate(
            r, np.maximum(stride // nodes, 1), shape))  # fmt: skip
        # a point-to-point send gains nothing from in-switch reduction: the raw NVLink rate
        p2p = boundary / np.where(cross, pp_rate, nvlink_rate) + np.where(
            cross, nic.latency_s, nvlink.latency_s
        )
        pp_transfer = np.where(pp > 1, 2 * (pp - 1) * v * p2p, 0.0)

        # expert parallelism: each MoE layer's tokens go to their experts' ranks and back, in
        # the forward and the backward pass: four all-to-alls per layer and micro-batch, on
        # NVLink while the ep group (tp x ep GPUs) stays inside the domain
        moe_layers = cfg.layers - cfg.dense_layers if cfg.is_moe else 0
        routed = mb * seq * cfg.experts_per_token * cfg.hidden * act_bytes / tp
        inside = tp * ep <= domain
        ep_span = tp * cp * ep  # the expert group: consecutive data-parallel ranks
        ep_rate = uplink_limited_rate(nic_rate, group_crossing(ep_span, a.leaf_gpus), oversub)
        ep_rate = self._on_torus(full, ep_rate, nic_rate, lambda r, shape, nodes: torus_all_to_all_rate(
            r, np.ceil(ep_span / nodes), shape))  # fmt: skip
        ep_nic = Link(ep_rate, nic.latency_s)
        a2a = np.where(inside, all_to_all(ep, routed, nvlink), all_to_all(ep, routed, ep_nic))
        compute = compute + micro * 4 * moe_layers / pp * a2a
        bubble = bubble + (pp - 1) / v * 4 * moe_layers / pp * a2a

        experts = _expert_params(cfg)
        params_rank = (cfg.params - experts) / (tp * pp) + experts / (etp * ep * pp)
        replicas = dp * cp  # context-parallel ranks hold the same weights
        # weight replicas in one NVLink domain: Megatron's rank order (tp, cp, dp, pp) makes the
        # pipeline the outermost dimension, so a domain's GPUs share a stage
        local = np.clip(domain // tp, 1, replicas)
        groups = np.maximum(replicas // local, 1)
        # one ring per rail across the domains of a stage's block of gpus / pp ranks
        dp_nic = Link(ring_rate(stride, groups), nic.latency_s)
        grads = hierarchical_all_reduce(local, groups, params_rank * 2.0, nvlink, dp_nic,
                                        outer_algorithm=np.asarray(full["dp_algorithm"]))  # fmt: skip
        # HSDP (zero_scope domain) shards inside the NVLink domain only: weights gather there
        hsdp = np.asarray(full["zero_scope"]) == "domain"
        gather = np.where(
            (groups > 1) & ~hsdp,
            all_gather(local, params_rank * 2.0, nvlink)
            + all_gather(groups, params_rank * 2.0 / local, dp_nic),
            all_gather(local, params_rank * 2.0, nvlink),
        )
        weights = np.where(zero == 3, 2 * micro * gather, 0.0)
        backward_window = stage_s * 2.0 / 3.0  # the last micro-batch's backward on a stage
        # with a sharded optimizer (ZeRO >= 1) the reduction is a reduce-scatter and an
        # all-gather of the updated weights, half the time each in the ring model; Megatron's
        # --overlap-param-gather moves the gather under the next step's first forward pass
        param_overlap = (np.asarray(full["dp_overlap"]) == "grad_param") & (zero >= 1)
        later = np.where(param_overlap, grads / 2.0, 0.0)
        dp_exposed = np.where(
            replicas > 1,
            overlapped_cost(grads - later + weights, backward_window, slowdown)
            + np.where(param_overlap, overlapped_cost(later, stage_s / 3.0, slowdown), 0.0),
            0.0,
        )

        shard = params_rank / np.where(zero >= 1, np.where(hsdp, local, replicas), 1)
        hbm = np.asarray(gpu_full["hbm_bw_gbps"], float) * 1e9 * self.gpu.arch.hbm_efficiency
        # ZeRO-Offload (Ren et al., USENIX ATC 2021): the shard's bf16 gradients go to the host,
        # Adam runs there at the host's memory bandwidth, the bf16 weights come back; exposed
        offloaded = np.asarray(full["offload"]) == "cpu"
        host = (2 * shard * 2.0 / (a.host_link_gbps * 1e9)
                + shard * ADAM_BYTES_PER_PARAM / (a.host_memory_gbps * 1e9))  # fmt: skip
        optimizer = np.where(offloaded, host, shard * ADAM_BYTES_PER_PARAM / hbm)

        # contention: every fabric transfer of the step goes through the GPU's NIC, so the step
        # lasts at least their bytes at the NIC rate (a bound, not a schedule)
        across = np.where(groups > 1, (groups - 1) / groups * params_rank * 2.0 / local, 0.0)
        fabric_bytes = (
            np.where(cross & (pp > 1), 2.0 * micro * v * boundary, 0.0)
            + 2.0 * across * np.where((zero == 3) & ~hsdp, 1.0 + micro, 1.0)
            + np.where(inside, 0.0, micro * 4 * moe_layers / pp * routed * (ep - 1) / ep)
            + np.where(cp_fabric, micro * 3 * (cp - 1) * kv_chunk / pp, 0.0)
        )
        before = compute + bubble + pp_transfer + dp_exposed + optimizer
        contention = np.maximum(fabric_bytes / nic_rate - before, 0.0)
        step = before + contention
        tokens = workload.global_batch * workload.seq_len / step
        memory = self.memory_bytes(cfg, workload, full, replicas, micro, gpu_full)
        flops = (phase.flops @ phase.calls + (cp - 1) * attn_flops) * tp * dp * cp * micro
        peak = self.gpu.peak(gpu_full)
        metrics = {
            "step_time_s": step,
            "tokens_per_s": tokens,
            "tokens_per_s_per_gpu": tokens / a.gpus,
            "mfu": flops / (step * a.gpus * peak),
            "memory_gib": memory / _GIB,
            "cost_per_step_usd": step / 3600.0 * a.gpus * a.gpu_hour_usd,
        }
        # an offloaded optimizer runs on the host: the GPU idles through it
        gpu_optimizer = np.where(offloaded, 0.0, optimizer)
        metrics["energy_j"] = self._energy(gpu_full, phase, per_kernel.sum(axis=1), compute,
                                           gpu_optimizer, step)  # fmt: skip
        metrics["goodput"] = self._goodput(cfg, np.asarray(full["checkpoint_interval_min"], float))
        metrics["goodput_tokens_per_s"] = tokens * metrics["goodput"]
        capacity = np.broadcast_to(
            np.asarray(gpu_full["hbm_gib"], float) * _GIB * self.gpu.arch.memory_usable_fraction, n
        )
        checks = self._checks(cfg, workload, full, dp, memory, capacity, stage_fbw)
        feasible, reasons = check_feasibility(checks, n, details)
        extra: dict[str, Any] = {}
        if details:
            extra.update(compute_s=compute, bubble_s=bubble, pp_transfer_s=pp_transfer,
                         dp_exposed_s=dp_exposed, fabric_contention_s=contention,
                         fabric_busy_s=fabric_bytes / nic_rate,
                         optimizer_s=optimizer, dp=dp, microbatches=micro,
                         achieved_tflops_per_gpu=flops / (step * a.gpus) / 1e12,
                         gpu_hours=step * a.gpus / 3600.0, infeasible_reason=reasons)  # fmt: skip
        return Evaluation(metrics=metrics, feasible=feasible, details=extra)

    @staticmethod
    def _gpu_design(full, tp, microbatch) -> dict[str, np.ndarray]:
        """The GPU domain's knobs each cluster design sets: a rank's TP degree, micro-batch,
        dtype and attention kernel."""
        return {"tp": tp, "batch": microbatch, "dtype": np.asarray(full["dtype"]),
                "attention": np.asarray(full["attention"])}  # fmt: skip

    def _gpu_full(self, full, tp, microbatch) -> dict[str, np.ndarray]:
        """The GPU domain's full design of each cluster design, on the cluster's GPU."""
        return self.gpu.arch.fill(self._gpu_design(full, tp, microbatch))

    def _on_torus(self, full, fat_tree_rate, nic_rate, torus_rate) -> np.ndarray:
        """``fat_tree_rate`` where the design's fabric is the fat tree, the NIC rate on a single
        switch, and on a ring or torus ``torus_rate(nic_rate, shape, gpus_per_domain)`` per
        (domain count, dimensions) group."""
        topology = np.asarray(full["topology"])
        out = np.array(fat_tree_rate, dtype=float, copy=True)
        if (topology == "fat_tree").all():
            return out
        switch = topology == "switch"
        out[switch] = np.broadcast_to(np.asarray(nic_rate, dtype=float), out.shape)[switch]
        a = self.arch
        domain = np.asarray(full["nvlink_domain"], dtype=np.int64)
        for kind, dims in TORUS_DIMS.items():
            for size in np.unique(domain[topology == kind]):
                rows = (topology == kind) & (domain == size)
                shape = torus_shape(max(a.gpus // int(size), 1), dims)
                rate = torus_rate(nic_rate, shape, int(size))
                out[rows] = np.broadcast_to(rate, out.shape)[rows]
        return out

    def _energy(self, gpu_full, phase, phase_s, compute, optimizer, step) -> np.ndarray:
        """Joules of one step over the cluster: each GPU at the kernels' load-scaled power while
        it computes (their mean over one micro-batch), Adam's streaming power over the
        optimizer, idle power the rest of the step; hosts at ``host_power_w`` per GPU."""
        g, a = self.gpu.arch, self.arch
        busy_w = self.gpu.phase_energy(gpu_full, phase) / np.maximum(phase_s, 1e-30)
        full_load = self.gpu.full_load_power(gpu_full)
        adam_w = g.idle_power_w + (full_load - g.idle_power_w) * g.hbm_efficiency
        idle_s = step - compute - optimizer
        per_gpu = busy_w * compute + adam_w * optimizer + g.idle_power_w * idle_s
        return a.gpus * (per_gpu + a.host_power_w * step)

    def _goodput(self, cfg: TransformerConfig, interval_min: np.ndarray) -> np.ndarray:
        """Share of wall time spent training (see the module docstring), clipped at 0."""
        a = self.arch
        interval = interval_min * 60.0
        write = cfg.params * CHECKPOINT_BYTES_PER_PARAM / (a.checkpoint_gbs * 1e9)
        failures_per_s = a.gpus * a.gpu_failures_per_hour / 3600.0
        lost = write / interval + failures_per_s * (interval / 2.0 + a.restart_s)
        return np.clip(1.0 - lost, 0.0, 1.0)

    def memory_bytes(self, cfg, work, full, dp, micro, gpu_full) -> np.ndarray:
        """Per-GPU bytes: ZeRO-staged model state (sharded over ``dp`` weight replicas) plus the
        activations in flight (a context-parallel rank keeps its share of each sequence)."""
        tp = np.asarray(full["tp"], dtype=np.float64)
        pp = np.asarray(full["pp"], dtype=np.float64)
        zero = np.asarray(full["zero_stage"])
        ep = np.asarray(full["ep"], dtype=np.float64)
        etp = expert_tp(full)
        experts = _expert_params(cfg)
        dense = (cfg.params - experts) / (tp * pp)
        # each expert splits over etp ranks; its replicas are (dp x tp / etp) / ep ranks
        expert = experts / (etp * pp * ep)

        offloaded = np.asarray(full["offload"]) == "cpu"

        def zero_state(p, ranks):
            state = np.select([zero == 0, zero == 1, zero == 2],
                              [16 * p, 4 * p + 12 * p / ranks, 2 * p + 14 * p / ranks],
                              16 * p / ranks)  # fmt: skip
            # offloaded: the 12 bytes of fp32 master weights and Adam moments live on the host
            return state - np.where(offloaded, 12 * p / np.where(zero >= 1, ranks, 1), 0.0)

        # HSDP shards only over the weight replicas inside one NVLink domain
        domain = np.asarray(full["nvlink_domain"], dtype=np.float64)
        local = np.clip(domain // tp, 1, dp)
        ranks = np.where(np.asarray(full["zero_scope"]) == "domain", local, dp)
        expert_ranks = np.maximum(ranks * tp / etp / ep, 1)
        state = zero_state(dense, ranks) + zero_state(expert, expert_ranks)
        net = self.gpu.network(gpu_full)
        step = TrainingStep(cfg, work.seq_len)
        mb = np.asarray(full["microbatch"], dtype=np.float64)
        full_act = GpuTrainingSimulator.activation_bytes(cfg, step, net, mb)
        logits = mb * work.seq_len * cfg.vocab / tp * 4.0
        # sequence parallelism (Korthikanti et al., 2022) splits the per-token tensors a block
        # keeps whole (the norms' inputs, the QKV and up-projection inputs) over the TP ranks
        whole = mb * work.seq_len * 4.0 * cfg.hidden * 2.0 * cfg.layers
        full_act = full_act - whole * (1 - 1 / tp)
        blocks = (full_act - logits) / pp  # one micro-batch, one stage
        inputs = mb * work.seq_len * cfg.hidden * 2.0 * cfg.layers / pp
        one_layer = (full_act - logits) / cfg.layers
        # selective recomputation keeps everything but the attention core's score matrices
        scores = GpuTrainingSimulator.score_bytes(cfg, step, net, mb) / pp
        recompute = np.asarray(full["recompute"])
        per_micro = np.select([recompute == "full", recompute == "selective"],
                              [inputs, blocks - scores], blocks)  # fmt: skip
        # GPipe keeps every micro-batch's activations; 1F1B, ZB-H1 and ZB-V at most pp of them,
        # ZB-H2 2 pp - 1 (Qi et al., ICLR 2024, Table 1; ZB-V: NeurIPS 2024)
        schedule = np.asarray(full["pp_schedule"])
        in_flight = np.minimum(np.select([schedule == "gpipe", schedule == "zb_h2"],
                                         [micro, 2 * pp - 1], pp), micro)  # fmt: skip
        first = per_micro * in_flight + np.where(recompute == "full", one_layer, 0)
        last = per_micro + logits
        cp = np.asarray(full["cp"], dtype=np.float64)
        return state + np.maximum(first, last) / cp

    def _checks(self, cfg, work, full, dp, memory, capacity,
                stage_fbw) -> list[tuple[np.ndarray, Any]]:  # fmt: skip
        """The feasibility checks in order: per check, the mask of designs that fail it and a
        function of the row that says why (``check_feasibility`` takes the first failed one).
        ``stage_fbw``: a stage's forward, input-gradient and weight-gradient seconds."""
        a = self.arch
        col = lambda key: np.asarray(full[key], dtype=np.int64)  # noqa: E731
        tp, pp, mb, cp, ep = col("tp"), col("pp"), col("microbatch"), col("cp"), col("ep")
        domain, v, dp = col("nvlink_domain"), col("pp_interleave"), np.asarray(dp, np.int64)
        etp = expert_tp(full)
        schedule = np.asarray(full["pp_schedule"])
        # the pipeline's equal shares: the layers, or with the embedding and the loss as two more
        split = np.broadcast_to(np.asarray(full["pp_split"]) == "embedding_loss", tp.shape)
        slots = cfg.layers + 2 * split.astype(np.int64)
        f, b, w = (np.broadcast_to(t, tp.shape) for t in stage_fbw)
        checks = [
            (a.gpus % (tp * pp * cp) != 0,
             lambda i: f"tp x pp x cp ({tp[i] * pp[i] * cp[i]}) does not divide the {a.gpus} GPUs"),
            (work.seq_len % cp != 0,
             lambda i: f"cp {cp[i]} does not divide the sequence ({work.seq_len} tokens)"),
            (tp > domain,
             lambda i: f"tp {tp[i]} spans more than the NVLink domain ({domain[i]} GPUs)"),
            ((cfg.heads % tp != 0) | (cfg.ffn_hidden % tp != 0),
             lambda i: f"tp {tp[i]} does not divide the heads ({cfg.heads}) and FFN width"),
            ((v > 1) & (schedule != "1f1b"),
             lambda i: f"pp_schedule {schedule[i]} runs one model chunk per stage "
                       f"(pp_interleave {v[i]} needs 1f1b)"),
            (slots % (pp * v) != 0,
             lambda i: f"pp {pp[i]} x interleave {v[i]} does not divide the {slots[i]} layers"
                       + (" (with the embedding and the loss)" if split[i] else "")),
            ((schedule == "zb_v") & (slots % (2 * pp) != 0),
             lambda i: f"zb_v runs two model chunks per stage: 2 x pp {pp[i]} does not divide "
                       f"the {slots[i]} layers"),
            ((schedule == "zb_v") & ((w + 2 * b < 2 * f) | (w + 2 * f < 2 * b)),
             lambda i: f"zb_v: its zero-bubble condition W + 2B >= 2F and W + 2F >= 2B fails "
                       f"(F {f[i] * 1e3:.3g}, B {b[i] * 1e3:.3g}, W {w[i] * 1e3:.3g} ms a stage)"),
            ((ep > 1) & (not cfg.is_moe),
             lambda i: f"ep {ep[i]}: {cfg.name} has no experts"),
            ((etp != tp) & (not cfg.is_moe),
             lambda i: f"etp {etp[i]}: {cfg.name} has no experts"),
            ((tp % etp != 0) | (cfg.is_moe & (cfg.moe_ffn_hidden % etp != 0)),
             lambda i: f"etp {etp[i]} does not divide tp {tp[i]} and the expert width"),
            (cfg.is_moe & ((cfg.experts % ep != 0) | (dp % ep != 0)),
             lambda i: f"ep {ep[i]} does not divide the {cfg.experts} experts and the "
                       f"data-parallel degree ({dp[i]})"),
            (work.global_batch % (dp * mb) != 0,
             lambda i: f"dp {dp[i]} x micro-batch {mb[i]} does not divide the global batch "
                       f"({work.global_batch})"),
            (memory > capacity,
             lambda i: f"needs {memory[i] / _GIB:.1f} GiB per GPU, {capacity[i] / _GIB:.1f} usable"),
        ]  # fmt: skip
        return checks
