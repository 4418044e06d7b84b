"""A GPU and how an LLM is deployed on it: schema, cross-field rules and loading from YAML.

A spec (``arch_specs/gpu/arch/*.yaml``) gives every constant with its source (NVIDIA's
whitepapers and datasheets for the hardware; the Azure AI-benchmarking-guide's measured tables for
the achievable fractions of peak)::

    spec_version: 1
    name: h100_sxm
    architecture:
      sms: {value: 132, source: "NVIDIA H100 Tensor Core GPU Architecture whitepaper"}
      ...

The *tunable* fields are the knobs a design space may vary: the hardware of a future GPU (SMs,
clock, tensor rate, HBM, L2, NVLink) and the deployment of a model on it (tensor-parallel degree,
batch, compute and KV-cache dtypes). The rest are constants of the device.

Every tensor-core rate is dense (no 2:4 sparsity). ``clock_mhz`` is the clock NVIDIA quotes the
tensor peaks at; the CUDA-core FP32 peak is quoted at ``max_boost_clock_mhz`` (for H100 the two
differ: 1830 and 1980 MHz).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..._arch import Arch
from ..._errors import SpecError
from ..._spec import Field

#: Compute dtypes, the pipe that runs each and its bytes per element. ``fp32`` runs on the CUDA
#: cores; the rest on the tensor cores (``tf32`` stores fp32).
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
}
DTYPES = tuple(DTYPE_BYTES)
#: The per-SM rate field of each compute dtype (bf16 runs at the fp16 rate on every GPU here).
RATE_FIELD: dict[str, str] = {
    "fp32": "fp32_flops_per_clk_sm",
    "tf32": "tf32_flops_per_clk_sm",
    "fp16": "fp16_flops_per_clk_sm",
    "bf16": "bf16_flops_per_clk_sm",
    "fp8": "fp8_flops_per_clk_sm",
    "int8": "int8_ops_per_clk_sm",
    "fp4": "fp4_flops_per_clk_sm",
}
#: Published dense peak (TFLOP/s, TOP/s for int8) of each compute dtype.
PEAK_FIELD: dict[str, str] = {d: f"peak_{d}_tflops" for d in DTYPES}
KV_DTYPES = ("fp16", "bf16", "fp8", "int8")
ATTENTION_IMPLS = ("flash", "cudnn", "unfused")
WEIGHT_BITS = (0, 4, 8)
#: Weights per quantisation group (one fp16 scale each): AWQ's and GPTQ's usual group size (Lin
#: et al., AWQ, MLSys 2024).
QUANT_GROUP = 128
#: How low-precision GEMM operands are scaled: one scale per tensor, or per block.
SCALINGS = ("tensor", "block")
#: Extra bytes per element that block scales add to a GEMM's (activation, weight) operands:
#: fp8/int8 as DeepSeek-V3 trains (technical report, 2024, section 3.3: one fp32 scale per 1x128
#: activation tile and per 128x128 weight block); fp4 always as NVFP4 (NVIDIA, 2025: one E4M3
#: scale per 16 values, so block-scaled whatever the knob says).
BLOCK_SCALE_BYTES: dict[str, tuple[float, float]] = {
    "fp8": (4.0 / 128, 4.0 / (128 * 128)),
    "int8": (4.0 / 128, 4.0 / (128 * 128)),
    "fp4": (1.0 / 16, 1.0 / 16),
}

#: Knobs that a design space may override, with their schema.
TUNABLE: dict[str, Field] = {
    "sms": Field(int, "streaming multiprocessors", low=1, high=4096),
    "clock_mhz": Field(
        float,
        "sustained SM clock (the clock tensor peaks are quoted at), MHz",
        low=1.0,
        high=10_000.0,
    ),  # fmt: skip
    "fp16_flops_per_clk_sm": Field(
        int,
        "dense FP16 tensor FLOP per clock per SM (other tensor dtypes scale with it)",
        low=1,
        high=1 << 20,
    ),  # fmt: skip
    "hbm_bw_gbps": Field(float, "HBM bandwidth, GB/s (1e9 B/s)", low=1.0, high=1e6),
    "hbm_gib": Field(float, "HBM capacity, GiB", low=0.1, high=1e5),
    "l2_mib": Field(float, "L2 cache, MiB", low=0.1, high=1e5),
    "l2_bytes_per_clk": Field(float, "L2 bandwidth, bytes per SM clock", low=1.0, high=1e6),
    "nvlink_gbps": Field(
        float,
        "GPU-to-GPU link bandwidth (NVLink, else PCIe), both directions, GB/s",
        low=0.1,
        high=1e6,
    ),  # fmt: skip
    "tp": Field(int, "tensor-parallel degree (GPUs in one NVLink domain)", low=1, high=576),
    "batch": Field(int, "sequences served together", low=1, high=1 << 16),
    "dtype": Field(str, "compute and weight dtype", choices=DTYPES),
    "kv_dtype": Field(str, "KV-cache dtype", choices=KV_DTYPES),
    "weight_bits": Field(
        int, "weight-only quantisation: bits per weight (0: the compute dtype)", choices=WEIGHT_BITS
    ),  # fmt: skip
    "attention": Field(
        str,
        "prefill attention: fused, FlashAttention-2 (flash) or cuDNN's (cudnn, what Transformer "
        "Engine and PyTorch's SDPA pick on Hopper), or separate kernels (unfused)",
        choices=ATTENTION_IMPLS,
    ),  # fmt: skip
    "scaling": Field(
        str,
        "fp8/int8 GEMM scaling: one scale per tensor, or per block (fp4 is always NVFP4 blocks)",
        choices=SCALINGS,
    ),  # fmt: skip
}

_CITED_RATE = {"low": 0.0, "high": 1 << 20}
#: Device constants (fixed per base architecture).
CONSTANTS: dict[str, Field] = {
    "product": Field(str, "product name"),
    "max_boost_clock_mhz": Field(float, "maximum boost clock (CUDA-core peaks), MHz", low=1.0),
    "fp32_flops_per_clk_sm": Field(
        float, "FP32 FLOP per clock per SM on the CUDA cores", **_CITED_RATE
    ),  # fmt: skip
    "tf32_flops_per_clk_sm": Field(
        float, "dense TF32 tensor FLOP/clock/SM (0: none)", **_CITED_RATE
    ),
    "bf16_flops_per_clk_sm": Field(
        float, "dense BF16 tensor FLOP/clock/SM (0: none)", **_CITED_RATE
    ),
    "fp8_flops_per_clk_sm": Field(float, "dense FP8 tensor FLOP/clock/SM (0: none)", **_CITED_RATE),
    "int8_ops_per_clk_sm": Field(float, "dense INT8 tensor OP/clock/SM (0: none)", **_CITED_RATE),
    "fp4_flops_per_clk_sm": Field(float, "dense FP4 tensor FLOP/clock/SM (0: none)", **_CITED_RATE),
    **{
        field: Field(float, f"published dense {d} peak (0: none)", low=0.0)
        for d, field in PEAK_FIELD.items()
    },  # fmt: skip
    "smem_kib_per_sm": Field(float, "shared memory per SM, KiB", low=1.0),
    "tdp_w": Field(float, "board power limit, W", low=1.0),
    "idle_power_w": Field(float, "board power with no kernel running, W", low=0.0),
    "tensor_efficiency": Field(
        float,
        "achieved fraction of the tensor peak in a large GEMM's main loop",
        low=0.01,
        high=1.0,
    ),  # fmt: skip
    "attention_efficiency": Field(
        float, "achieved fraction of the tensor peak in FlashAttention-2", low=0.01, high=1.0
    ),  # fmt: skip
    "cudnn_attention_efficiency": Field(
        float,
        "achieved fraction of the tensor peak in cuDNN's fused attention",
        low=0.01,
        high=1.0,
    ),  # fmt: skip
    "hbm_efficiency": Field(
        float, "achieved fraction of the HBM bandwidth (STREAM triad)", low=0.01, high=1.0
    ),  # fmt: skip
    "nccl_busbw_efficiency": Field(
        float, "8-GPU all-reduce bus bandwidth / one direction of NVLink", low=0.01, high=2.0
    ),  # fmt: skip
    "nccl_ring_efficiency": Field(
        float, "NCCL ring bulk bandwidth / one direction of NVLink", low=0.01, high=1.0
    ),  # fmt: skip
    "allreduce_latency_us": Field(float, "time of a tiny 8-GPU all-reduce (NCCL), us", low=0.0),
    "nccl_simple_us": Field(
        float, "extra start of NCCL's bulk (Simple) protocol over NVLink, us", low=0.0
    ),  # fmt: skip
    "nccl_ll_fraction": Field(
        float,
        "bandwidth of NCCL's low-latency protocols (LL/LL128) as a share of the bulk protocol's",
        low=0.01,
        high=1.0,
    ),  # fmt: skip
    "decode_attention_fixed_us": Field(
        float, "fixed cost of a paged decode-attention kernel, us", low=0.0
    ),  # fmt: skip
    "decode_attention_block_us": Field(
        float,
        "least time of one wave of decode-attention blocks (one per sequence and KV head), us",
        low=0.0,
    ),  # fmt: skip
    "kernel_launch_us": Field(
        float, "fixed cost per kernel (launch, prologue, epilogue), us", low=0.0
    ),  # fmt: skip
    "memory_usable_fraction": Field(
        float, "share of HBM a serving engine may fill", low=0.01, high=1.0
    ),  # fmt: skip
}


class GpuArch(Arch):
    """A validated GPU and deployment (see the module docstring)."""

    family = "gpu"
    what = "GPU architecture"
    tunable = TUNABLE
    constants = CONSTANTS
    derived = ("peak_fp16_flops", "hbm_bytes_per_s")
    knob = "GPU knob"

    @property
    def peak_fp16_flops(self) -> float:
        """Dense FP16 tensor peak, FLOP/s, at ``clock_mhz``."""
        return self.sms * self.clock_mhz * 1e6 * self.fp16_flops_per_clk_sm

    @property
    def hbm_bytes_per_s(self) -> float:
        """HBM bandwidth, B/s."""
        return self.hbm_bw_gbps * 1e9

    def rate_ratio(self, dtype: str) -> float:
        """A dtype's per-SM rate over this GPU's FP16 rate (0 when the GPU does not run it)."""
        return float(getattr(self, RATE_FIELD[dtype])) / float(self.values["fp16_flops_per_clk_sm"])

    def peak_flops(self, dtype: str) -> float:
        """Dense peak of ``dtype``, FLOP/s: SMs x clock x per-SM rate (CUDA-core FP32 at the
        maximum boost clock)."""
        clock = self.max_boost_clock_mhz if dtype == "fp32" else self.clock_mhz
        return self.sms * clock * 1e6 * float(getattr(self, RATE_FIELD[dtype]))

    def check(self, *, path: str = "arch.architecture") -> None:
        """Cross-field rules: the deployment's dtypes run on this GPU; the clocks are ordered."""
        if self.rate_ratio(self.dtype) == 0:
            raise SpecError(
                f"{path}.dtype: got {self.dtype!r}; {self.product} has no {self.dtype} pipe "
                f"(supported: {self.supported_dtypes()})"
            )
        if self.clock_mhz > self.max_boost_clock_mhz * 1.5:
            raise SpecError(
                f"{path}.clock_mhz: got {self.clock_mhz}; expected at most 1.5 x the maximum "
                f"boost clock ({self.max_boost_clock_mhz} MHz)"
            )

    def supported_dtypes(self) -> list[str]:
        """Compute dtypes this GPU runs."""
        return [d for d in DTYPES if float(getattr(self, RATE_FIELD[d])) > 0]


def load_arch(arch: str | Path | Mapping[str, Any] | GpuArch) -> GpuArch:
    """A GPU from a shipped name (``"h100_sxm"``), a YAML path, a mapping or itself."""
    return GpuArch.load(arch)
