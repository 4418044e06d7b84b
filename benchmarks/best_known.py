"""Reference searches for the envs that cannot be enumerated: the best design each finds is
recorded in ``arch_specs/<family>/best_known.yaml``, and sweeps score runs against it.

Run: ``python benchmarks/best_known.py`` (``--budget`` per search, default 20,000; ``--write`` to
update the YAML). A design is recorded, not a reward, so a sweep re-evaluates it with the
simulator it runs (a model change cannot leave a stale number behind).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

import archgym_py
from archgym_py import make_agent

#: (env id, kwargs) of the sweeps whose spaces are too large to enumerate.
TARGETS = [
    ("archgym/Accelerator-v0", {"workload": "resnet18"}),
    ("archgym/Accelerator-v0", {"workload": "mobilenet_v2"}),
]
#: The searches: a generational GA and TPE, each with a large budget, several seeds.
SEARCHES = [
    ("ga", {"population": 64}, (0, 1), "GA (population 64)"),
    (
        "tpe",
        {"n_startup_trials": 50, "batch_size": 16},
        (0,),
        "TPE (50 startup trials, batches of 16)",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20_000)
    parser.add_argument(
        "--write", action="store_true", help="write arch_specs/<family>/best_known.yaml"
    )
    args = parser.parse_args()
    entries = {}
    for env_id, kwargs in TARGETS:
        core = archgym_py.make_core(env_id, **kwargs)
        best = None
        for agent, hp, seeds, label in SEARCHES:
            for seed in seeds:
                budget = args.budget if agent == "ga" else min(args.budget, 2000)
                start = time.perf_counter()
                result = make_agent(agent, core, hp, seed=seed).run(budget)
                print(f"{env_id} {kwargs} {agent} seed {seed}: {result.best_reward:.4f} "
                      f"({budget} evaluations, {time.perf_counter() - start:.0f} s)")  # fmt: skip
                if best is None or result.best_reward > best[0]:
                    best = (
                        result.best_reward,
                        result.best_design,
                        f"{label}, seed {seed}, {budget:,} evaluations",
                    )
        reward, design, search = best
        family = Path(core.spec.path).parent
        entries.setdefault(family, []).append({
            "env": env_id, "arch": core.arch.name, "workload": core.workload.name,
            "objective": core.objective.name, "design": design, "reward_when_found": round(reward, 6),
            "search": search,
        })  # fmt: skip
    for family, rows in entries.items():
        text = yaml.safe_dump({"spec_version": 1, "entries": rows}, sort_keys=False)
        header = ("# Best designs found by reference searches (python benchmarks/best_known.py --write):\n"
                  "# sweeps on envs too large to enumerate score runs against the best of these and\n"
                  "# their own best run. The design is re-evaluated when used.\n")  # fmt: skip
        if args.write:
            (family / "best_known.yaml").write_text(header + text)
            print(f"wrote {family / 'best_known.yaml'}")
        else:
            print(header + text)


if __name__ == "__main__":
    main()
