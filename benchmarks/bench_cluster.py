"""Speed of the cluster domain: training-step designs per second, batched.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_cluster.py`` (one core).
Target (issue 14): >= 1e4 GPT-3-175B training-step designs/s batched, an MoE case beside it;
the joint GPU x layout model (``archgym/ClusterGPUDesign-v0``'s) on GPT-3 after them.
"""

from __future__ import annotations

import numpy as np
from _timing import best_time

from archgym_py.envs.cluster import DESIGN_DOMAIN, DOMAIN, TrainingJob
from archgym_py.envs.workloads import load_model


def main() -> None:
    rng = np.random.default_rng(0)
    sim = DOMAIN.simulator(DOMAIN.load_arch("dgx_h100_1024"))
    n = 4096
    designs = {
        "tp": rng.choice([1, 2, 4, 8], n),
        "pp": rng.choice([1, 2, 4, 8, 16, 32], n),
        "microbatch": rng.choice([1, 2, 4, 8], n),
        "zero_stage": rng.integers(0, 4, n),
        "recompute": rng.choice(["none", "full"], n),
    }
    jobs = {"GPT-3 175B": DOMAIN.load_workload("gpt3_175b"),
            "Mixtral 8x7B (MoE)": TrainingJob(load_model("mixtral_8x7b"), 4096, 1024)}  # fmt: skip
    for label, job in jobs.items():
        t = best_time(lambda job=job: sim.evaluate(designs, job))
        print(f"{label}: {n / t:,.0f} training-step designs/s ({n} designs per call)")
    joint = DESIGN_DOMAIN.simulator(DESIGN_DOMAIN.load_arch("hgx_h100n4_1024"))
    gpus = {"gpu_sms": rng.choice(np.arange(96, 193, 12), n),
            "gpu_clock_mhz": rng.choice(np.arange(1430, 2031, 100), n),
            "gpu_l2_mib": rng.choice(np.arange(20, 121, 20), n), "gpu_hbm_stacks": rng.integers(4, 9, n)}  # fmt: skip
    t = best_time(lambda: joint.evaluate({**designs, **gpus}, jobs["GPT-3 175B"]))
    print(f"GPT-3 175B, GPU designed too: {n / t:,.0f} designs/s ({n} designs per call)")


if __name__ == "__main__":
    main()
