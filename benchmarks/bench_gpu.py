"""Speed of the GPU domain: kernel-design evaluations per second and LLM designs per second.

Run: ``python benchmarks/bench_gpu.py`` (one core: set ``OMP_NUM_THREADS=1``).
Targets (issue 13): >= 1e5 kernel-design evaluations/s per core batched; a whole Llama-3-8B
decode step (all layers: one block costed, times the layer count) >= 1e4 designs/s.
"""

from __future__ import annotations

import numpy as np
from _timing import best_time

from archgym_py.envs.gpu import DOMAIN
from archgym_py.envs.gpu import kernels as K


def main() -> None:
    rng = np.random.default_rng(0)
    sim = DOMAIN.simulator(DOMAIN.load_arch("h100_sxm"))
    designs = 4096
    batch = {
        "sms": rng.integers(64, 256, designs),
        "clock_mhz": rng.uniform(1000, 2200, designs),
        "hbm_bw_gbps": rng.uniform(1000, 8000, designs),
        "l2_mib": rng.uniform(20, 200, designs),
    }
    dev = sim.device(sim.arch.fill(batch))
    shapes = rng.integers(1, 16384, (3, 64))
    t = best_time(lambda: K.gemm(dev, shapes[0], shapes[1], shapes[2]))
    print(f"GEMM: {designs * 64 / t:,.0f} kernel-design evaluations/s "
          f"({designs} designs x 64 shapes, {len(K.TILES) * len(K.SPLITS)} candidates each)")  # fmt: skip
    work = DOMAIN.load_workload("llama3_8b_chat")
    full = sim.arch.fill({**batch, "batch": rng.choice([1, 8, 64], designs)})
    dev, net = sim.device(full), sim.network(full)
    from archgym_py.envs.gpu.llm import block_phase

    step = lambda: block_phase(work.model, dev, net, batch=np.asarray(full["batch"])[:, None],  # noqa: E731
                               q_len=1, kv_len=1088, decode=True, moe_imbalance=1.0)  # fmt: skip
    t = best_time(step)
    print(f"Llama-3-8B decode step (32 layers, 13 kernels): {designs / t:,.0f} designs/s")
    t = best_time(lambda: sim.evaluate(batch, work))
    print(f"whole generation run (prefill + decode, metrics): {designs / t:,.0f} designs/s")


if __name__ == "__main__":
    main()
