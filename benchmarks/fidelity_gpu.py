"""Fidelity of the GPU kernel model against measured GEMM tables, next to a plain roofline.

Run: ``python benchmarks/fidelity_gpu.py``

Source (allowed for calibration and validation by issue 13): the Azure/AI-benchmarking-guide
results pages for ND A100 v4 (A100 SXM4 80 GB, cuBLASLt FP16), ND H100 v5 (H100 SXM5, FP8) and
ND H200 v5 (H200, FP8), "GEMM CuBLASLt" tables (TFLOPS, random init, 10,000 warm-up
iterations). The largest square GEMM of each table calibrated the spec's ``tensor_efficiency``;
every other shape is held out and reported separately. The plain roofline is
``max(FLOPs / dense peak, compulsory bytes / peak HBM bandwidth)``.
"""

from __future__ import annotations

import numpy as np

from archgym_py.envs.gpu import DOMAIN
from archgym_py.envs.gpu import kernels as K

# (gpu spec, dtype, output bytes): {(m, n, k): measured TFLOPS}
AZURE_GEMM = {
    ("a100_sxm_80gb", "fp16", 2.0): {
        (1024, 1024, 1024): 119.4, (2048, 2048, 2048): 221.8, (4096, 4096, 4096): 228.0,
        (8192, 8192, 8192): 253.7, (16384, 16384, 16384): 256.5, (1024, 2145, 1024): 132.8,
        (6144, 12288, 12288): 250.8, (802816, 192, 768): 157.8,
    },
    ("h100_sxm", "fp8", 2.0): {
        (1024, 1024, 1024): 274.1, (2048, 2048, 2048): 1011.3, (4096, 4096, 4096): 1216.9,
        (8192, 8192, 8192): 1290.1, (16384, 16384, 16384): 1377.3,
        (32768, 32768, 32768): 1382.2, (1024, 2145, 1024): 410.7,
        (6144, 12288, 12288): 1351.4, (802816, 192, 768): 663.8,
    },
    ("h200", "fp8", 2.0): {
        (1024, 1024, 1024): 290.8, (2048, 2048, 2048): 1013.4, (4096, 4096, 4096): 1249.1,
        (8192, 8192, 8192): 1300.6, (16384, 16384, 16384): 1366.3,
        (32768, 32768, 32768): 1349.5, (1024, 2145, 1024): 407.9,
        (6144, 12288, 12288): 1318.0, (802816, 192, 768): 717.5,
    },
}  # fmt: skip
CALIBRATION = {"a100_sxm_80gb": (16384,) * 3, "h100_sxm": (32768,) * 3, "h200": (32768,) * 3}


def main() -> None:
    print("GEMM throughput, model and plain roofline vs Azure's measured cuBLASLt tables\n")
    print(f"{'gpu':<14} {'dtype':<5} {'m x n x k':<22} {'measured':>9} {'model':>8} {'err':>7} "
          f"{'roofline':>9} {'err':>7}  set")  # fmt: skip
    held: dict[str, list[tuple[float, float]]] = {}
    for (gpu, dtype, c_bytes), table in AZURE_GEMM.items():
        sim = DOMAIN.simulator(DOMAIN.load_arch(gpu))
        dev = sim.device(sim.arch.fill({"dtype": [dtype]}))
        elem = 1.0 if dtype == "fp8" else 2.0
        peak = sim.arch.peak_flops(dtype)
        bw = sim.arch.hbm_bw_gbps * 1e9
        for (m, n, k), measured in table.items():
            flops = 2.0 * m * n * k
            t = K.gemm(dev, m, n, k, a_bytes=elem, b_bytes=elem, c_bytes=c_bytes).time_s[0, 0]
            roof = max(flops / peak, ((m * k + k * n) * elem + m * n * c_bytes) / bw)
            model, plain = flops / t / 1e12, flops / roof / 1e12
            e_model, e_roof = model / measured - 1, plain / measured - 1
            which = "calibration" if (m, n, k) == CALIBRATION[gpu] else "held out"
            if which == "held out":
                held.setdefault(gpu, []).append((abs(e_model), abs(e_roof)))
            print(f"{gpu:<14} {dtype:<5} {f'{m} x {n} x {k}':<22} {measured:>9.1f} {model:>8.1f} "
                  f"{e_model:>+7.1%} {plain:>9.1f} {e_roof:>+7.1%}  {which}")  # fmt: skip
    print("\nheld-out shapes, median |error|: model vs roofline")
    all_model, all_roof = [], []
    for gpu, errors in held.items():
        em, er = np.array(errors).T
        all_model += list(em)
        all_roof += list(er)
        print(f"  {gpu:<14} {np.median(em):6.1%}  vs {np.median(er):6.1%}  ({len(em)} shapes)")
    print(f"  {'all':<14} {np.median(all_model):6.1%}  vs {np.median(all_roof):6.1%}  "
          f"({len(all_model)} shapes)")  # fmt: skip


if __name__ == "__main__":
    main()
