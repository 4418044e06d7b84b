"""Speed of the accelerator domain: batched layer-design evaluations and env steps per second.

Run: ``python benchmarks/bench_accelerator.py`` (add ``--quick`` for a shorter run).
Targets (issue 2): >= 10,000 layer-design evaluations/s on one core, mapping included;
>= 5,000 single-env steps/s. Issue 12: >= 10^5 layer-design evaluations/s per core with the
loop-nest model and its mapping (the last lines: the random-pruned mapper's mappings/s, the
co-design env's simulator, whose mapping comes from its knobs, and the mapped env's, which
searches the 81 knob mappings per layer with the compiled kernel and, for the ratio, in numpy). ``--zigzag-python PATH`` (a
Python with ``zigzag-dse`` and ``six``) also times ZigZag's mapper against this model's on the
same layers x hardware.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the targets say

import gymnasium as gym  # noqa: E402

import archgym_py  # noqa: E402, F401
from archgym_py.envs.accelerator import DOMAIN  # noqa: E402


def best_rate(fn, work: int, repeat: int) -> float:
    """Best of ``repeat`` timings, in units of work per second."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return work / best


def main(args: argparse.Namespace) -> None:
    """The compact model's batched evaluations and env steps."""
    repeat = 2 if args.quick else 5

    env = gym.make("archgym/Accelerator-v0").unwrapped
    space, sim = env.space, env.simulator
    print(f"{'workload':<16} {'batch':>7} {'layers':>6} {'layer-designs/s':>16} {'designs/s':>11}")
    for name in ("resnet18", "mobilenet_v2", "bert_base_layer"):
        net = DOMAIN.load_workload(name)
        for n in (1, 64, 4096):
            batch = space.sample(n, seed=0)
            rate = best_rate(lambda: sim.evaluate(batch, net), n, repeat)  # noqa: B023
            print(
                f"{name:<16} {n:>7} {len(net.layers):>6} {rate * len(net.layers):>16,.0f} {rate:>11,.0f}"
            )

    steps = 500 if args.quick else 3000
    for label, make in (("gym.make (checker + order wrappers)", lambda: gym.make("archgym/Accelerator-v0")),
                        ("unwrapped ArchEnv", lambda: gym.make("archgym/Accelerator-v0").unwrapped)):  # fmt: skip
        e = make()
        e.reset(seed=0)
        actions = [e.action_space.sample() for _ in range(steps)]

        def run(e=e, actions=actions):
            for a in actions:
                e.step(a)

        print(f"env steps/s, resnet18, {label}: {best_rate(run, steps, max(1, repeat - 2)):,.0f}")

    venv = gym.make_vec(
        "archgym/Accelerator-v0", num_envs=64, vectorization_mode="vector_entry_point"
    )
    venv.reset(seed=0)
    vsteps = 50 if args.quick else 200
    acts = [venv.action_space.sample() for _ in range(vsteps)]

    def vrun():
        for a in acts:
            venv.step(a)

    print(
        f"vector env (64 envs) env-steps/s, resnet18: {best_rate(vrun, vsteps * 64, max(1, repeat - 2)):,.0f}"
    )


def loopnest(repeat: int) -> None:
    """The N-level fixed-mapping evaluator and its random-pruned mapper (issue 12's first
    piece): mappings evaluated per second, one ResNet-style 3x3 layer on a 3-level hierarchy."""
    from archgym_py.envs.accelerator.loopnest import Level, Problem, search

    every = frozenset("WIO")
    levels = [
        Level("RF", frozenset("WO"), instances=256, capacity_words={"W": 64, "O": 16},
              read_pj={"W": 1, "O": 1}, write_pj={"W": 1, "O": 1}, bandwidth_words=2),
        Level("GLB", every, capacity_words=65536, read_pj=dict.fromkeys("WIO", 6.0),
              write_pj=dict.fromkeys("WIO", 6.0), bandwidth_words=32),
        Level("DRAM", every, read_pj=dict.fromkeys("WIO", 200.0),
              write_pj=dict.fromkeys("WIO", 200.0), bandwidth_words=8),
    ]  # fmt: skip
    layer = Problem(K=128, C=64, P=28, Q=28, R=3, S=3)
    spatial = [{}, {"K": 16, "C": 16}, {}]
    for samples in (4096, 16384):
        rate = best_rate(
            lambda s=samples: search(layer, levels, spatial, samples=s), samples, repeat
        )
        print(f"loop-nest mapper, {samples} sampled mappings of one layer: {rate:,.0f} mappings/s")


def env_steps(env_id: str, n: int, repeat: int) -> float:
    """Single-env steps per second of ``env_id`` through ``gym.make`` (``n`` random actions)."""
    env = gym.make(env_id)
    env.reset(seed=0)
    actions = [env.action_space.sample() for _ in range(n)]

    def run():
        for a in actions:
            env.step(a)

    return best_rate(run, n, repeat)


def codesign(repeat: int) -> None:
    """The co-design env's simulator (the loop-nest model with knob mappings, vectorised over
    designs x layers, compiled): layer-design evaluations per second on one core and, for the
    largest batches, on every core (the kernel's slices on the thread pool); its single-env
    steps; the mapped env's mapper in both engines."""
    from archgym_py import make_core
    from archgym_py._threads import WORKERS
    from archgym_py.envs.accelerator import codesign as cd

    core = make_core("archgym/AcceleratorCoDesign-v0")
    net = DOMAIN.load_workload("resnet18")
    cd.THREADS = 1  # the per-core figures
    for n in (1, 64, 1024, 4096):
        batch = core.space.sample(n, seed=0)
        rate = best_rate(lambda b=batch: core.simulator.evaluate(b, net), n, repeat)
        print(f"co-design loop-nest model, resnet18, batch {n:>5}, one core: "
              f"{rate * len(net.layers):>10,.0f} layer-designs/s {rate:>8,.0f} designs/s")  # fmt: skip
    mapped = make_core("archgym/AcceleratorMapped-v0")  # every layer mapped by map_pairs
    k = len(cd.KNOB_CANDIDATES)
    rates = {}
    for engine in ("compiled", "numpy"):
        sim = cd.MappedSimulator(mapped.simulator.arch)
        sim.engine = engine
        n = 1024 if engine == "compiled" else 128
        batch = mapped.space.sample(n, seed=0)
        sim.evaluate(batch, net)  # the kernel compiles (or loads from its cache) once
        rates[engine] = best_rate(lambda s=sim, b=batch: s.evaluate(b, net), n, repeat)
        rates[engine] *= len(net.layers)
        print(f"mapper ({engine}: best of {k} knob mappings per layer-design, EDP), resnet18, "
              f"batch {n}, one core: {rates[engine]:,.0f} layer-designs/s, "
              f"{rates[engine] * k:,.0f} mappings/s")  # fmt: skip
    print(f"compiled / numpy: {rates['compiled'] / rates['numpy']:.1f}x")
    for name, env_id in (("mapped", "archgym/AcceleratorMapped-v0"),
                         ("co-design", "archgym/AcceleratorCoDesign-v0")):  # fmt: skip
        print(f"{name} env steps/s, resnet18, gym.make: {env_steps(env_id, 200, repeat):,.0f}")
    cd.THREADS = WORKERS
    for label, sim, n in (
        ("co-design model", core.simulator, 4096),
        ("mapper", mapped.simulator, 1024),
    ):
        batch = (core if sim is core.simulator else mapped).space.sample(n, seed=0)
        rate = best_rate(lambda s=sim, b=batch: s.evaluate(b, net), n, repeat) * len(net.layers)
        print(f"{label}, resnet18, batch {n}, {WORKERS} cores: {rate:,.0f} layer-designs/s")


#: ZigZag's search on one layer, timed inside its own process (imports excluded).
ZIGZAG_TIMER = """
import json, sys, tempfile, time
from zigzag.api import get_hardware_performance_zigzag
start = time.perf_counter()
with tempfile.TemporaryDirectory() as out:
    get_hardware_performance_zigzag(sys.argv[1], sys.argv[2], sys.argv[3], opt="latency",
                                    dump_folder=out, loma_show_progress_bar=False)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def against_zigzag(python: str, repeat: int) -> None:
    """Layer-design evaluations per second of this model's mappers and of ZigZag's (LOMA, its
    default) on the same layers x hardware: the Eyeriss hierarchy and the four layers of
    ``fidelity_zigzag.py``, both mapping for latency."""
    import json
    import subprocess
    import tempfile
    from pathlib import Path

    import yaml
    from fidelity_zigzag import LAYERS, to_zigzag

    from archgym_py.envs.accelerator.hierarchy import load_hierarchy

    h = load_hierarchy("eyeriss")
    zz = ours = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for problem in LAYERS.values():
            files = []
            for name, data in zip(("hw", "map", "wl"), to_zigzag(h, problem), strict=True):
                files.append(Path(tmp) / f"{name}.yaml")
                files[-1].write_text(yaml.safe_dump(data, sort_keys=False))
            run = subprocess.run([python, "-c", ZIGZAG_TIMER, str(files[2]), str(files[0]),
                                  str(files[1])], capture_output=True, text=True, check=True)  # fmt: skip
            zz += json.loads(run.stdout.strip().splitlines()[-1])["seconds"]
            ours += 1 / best_rate(lambda p=problem: h.map(p, objective="latency", samples=8192),
                                  1, repeat)  # fmt: skip
    n = len(LAYERS)
    print(f"same {n} layers on the Eyeriss hierarchy, mapping for latency: ZigZag (LOMA) "
          f"{n / zz:.2f} layer-designs/s, this model's random-pruned mapper (8,192 samples) "
          f"{n / ours:.1f} ({zz / ours:.0f}x)")  # fmt: skip


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--quick", action="store_true", help="fewer repetitions")
    cli.add_argument("--zigzag-python", help="a Python with zigzag-dse: also time ZigZag")
    args = cli.parse_args()
    main(args)
    loopnest(3)
    codesign(3)
    if args.zigzag_python:
        against_zigzag(args.zigzag_python, 3)
