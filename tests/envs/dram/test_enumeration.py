"""Enumerating DRAM-v0: runs reused where a larger limit cannot matter must equal running every
configuration; the exact optimum is cached on disk under a key of everything it depends on."""

from __future__ import annotations

import numpy as np

from archgym_py import make_core
from archgym_py._cache import cache_dir
from archgym_py.envs.dram import DOMAIN, load_workload
from archgym_py.envs.dram import kernel as K
from archgym_py.sweep import load_sweep
from archgym_py.sweep._runner import ENUMERATE_LIMIT

SHORT = {"generator": "mixed", "n_requests": 800, "rate_gbps": 8.0, "seed": 2}


def limit_variants(sim, n_base=40, seed=0):
    """Distinct DRAM-v0 configurations: random bases, each with every buffer size and refresh
    postpone / pull-in limit (the three knobs whose runs are reused)."""
    core = make_core("archgym/DRAM-v0")
    cfg, _, _ = sim.configs(core.space.sample(n_base, seed=seed, method="uniform"))
    rows = []
    for base in cfg:
        for size in (1, 2, 4, 8, 16, 32, 64, 128):
            for postponed in (1, 2, 4, 8):
                for pulled in (1, 2, 4, 8):
                    r = base.copy()
                    if r[K.BUF] == 1:  # ReadWrite: the per-direction sizes carry the capacity
                        r[K.RBS_RD] = r[K.RBS_WR] = size
                    else:
                        r[K.RBS] = size
                    if r[K.REFP] != 0:
                        r[K.MAXPOST], r[K.MAXPULL] = postponed, pulled
                    rows.append(r)
    return np.unique(np.array(rows), axis=0)


def test_reused_runs_equal_running_every_configuration():
    sim = DOMAIN.simulator(DOMAIN.load_arch("ddr4_2400"))
    cfg = limit_variants(sim)
    trace = sim._decode(load_workload(SHORT), "RoBaRaCoCh")
    lat = np.zeros((1, 800))
    reused = np.zeros((len(cfg), K.N_STATS))
    sim._simulate_unique(trace, cfg, reused, lat, False)
    simulated = sim.last_simulated
    every = np.zeros((len(cfg), K.N_STATS))
    sim._simulate(trace, cfg, every, lat, False)
    assert np.array_equal(reused, every)
    assert simulated < len(cfg) / 3  # and it saves most of the runs


def test_a_sparse_batch_never_copies_a_neighbour_not_yet_run():
    sim = DOMAIN.simulator(DOMAIN.load_arch("ddr4_2400"))
    cfg = limit_variants(sim, n_base=6, seed=4)
    rng = np.random.default_rng(1)
    cfg = cfg[rng.permutation(len(cfg))[: len(cfg) // 3]]  # holes along every limit
    trace = sim._decode(load_workload(SHORT), "RoBaRaCoCh")
    lat = np.zeros((1, 800))
    reused = np.zeros((len(cfg), K.N_STATS))
    every = np.zeros((len(cfg), K.N_STATS))
    sim._simulate_unique(trace, cfg, reused, lat, False)
    sim._simulate(trace, cfg, every, lat, False)
    assert np.array_equal(reused, every)


def test_latencies_of_reused_runs_are_copied_too():
    sim = DOMAIN.simulator(DOMAIN.load_arch("ddr4_2400"))
    trace = load_workload(SHORT)
    sizes = [1, 2, 4, 8, 16, 32, 64, 128]
    batch = {"request_buffer_size": sizes, "refresh_max_postponed": [1] * 8}
    _, together, _ = sim.run(batch, trace, keep_latency=True)
    for i, size in enumerate(sizes):
        alone = sim.latencies_s({"request_buffer_size": size, "refresh_max_postponed": 1}, trace)
        assert np.array_equal(together[i] * sim.arch.tck_ns * 1e-9, alone)


def test_the_exact_optimum_is_cached_under_what_it_depends_on():
    core = make_core("archgym/DRAM-v0", workload=SHORT)
    design, reward = core.optimum()
    stored = list((cache_dir() / "optimum").glob("*.json"))
    assert len(stored) == 1
    # a fresh core reads it back instead of enumerating
    again = make_core("archgym/DRAM-v0", workload=SHORT)
    again.simulator.evaluate = None  # would fail if called
    assert again.optimum() == (design, reward)
    # brute force over a random sample never beats it
    sample = core.space.sample(3000, seed=7, method="uniform")
    _, rewards, feasible, _ = core.evaluate(sample)
    assert np.max(np.where(feasible, rewards, -np.inf)) <= reward + 1e-12
    # another workload is another entry
    make_core("archgym/DRAM-v0", workload={**SHORT, "seed": 3}).optimum()
    assert len(list((cache_dir() / "optimum").glob("*.json"))) == 2


def test_the_dram_preset_is_scored_against_the_exact_optimum():
    spec = load_sweep("dram")
    assert [e.id for e in spec.envs] == ["archgym/DRAM-v0"]
    assert make_core("archgym/DRAM-v0").space.size <= ENUMERATE_LIMIT
