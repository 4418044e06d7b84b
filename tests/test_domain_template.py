"""A third domain defined in tests/toy_domain (a few lines of physics, a YAML spec), registered at
test time, passes the same env and agent contracts as the shipped domains: the proof that a new
domain needs no boilerplate copied from envs/."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import archgym_py
from archgym_py.envs import ENVS
from archgym_py.testing import (
    ENV_CHECKS,
    check_budget_is_exact,
    check_same_seed_same_run_in_two_processes,
)

ROOT = Path(__file__).resolve().parents[1]
SPEC = str(ROOT / "tests" / "toy_domain" / "env.yaml")
ENV = "archgym/Toy-v0"


@pytest.fixture(scope="module", autouse=True)
def toy_env(tmp_path_factory):
    # Installed as a plug-in would be: a distribution whose entry point names the domain
    # (group archgym_py.domains), found by this process and by the child processes below.
    site = tmp_path_factory.mktemp("site")
    info = site / "archgym_toy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: archgym-toy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[archgym_py.domains]\ntoy = tests.toy_domain:DOMAIN\n")
    sys.path.insert(0, str(site))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), str(ROOT), old) if p)
    archgym_py.register_env(ENV, SPEC)
    yield
    del ENVS[ENV]
    del gym.registry[ENV]
    sys.path.remove(str(site))
    if old is None:
        del os.environ["PYTHONPATH"]
    else:
        os.environ["PYTHONPATH"] = old


@pytest.mark.parametrize("check", ENV_CHECKS, ids=lambda c: c.__name__)
def test_env_contract(check):
    check(ENV)


def test_constraints_read_the_architecture_and_the_workload():
    core = archgym_py.make_core(ENV)
    assert core.space.constants == {"gpus": 64, "heads": 32, "layers": 32}
    grid = core.space.grid()
    # dp * tp * pp == 64 with powers of two up to 64: 28 triples; heads % tp == 0 drops
    # (1, 64, 1) and layers % pp == 0 drops (1, 1, 64): 26 triples, x 7 microbatch levels.
    assert len(grid["dp"]) == 26 * 7
    assert np.all(grid["dp"] * grid["tp"] * grid["pp"] == 64)
    # Another model changes the constants, so the feasible set and the space hash follow it.
    small = archgym_py.make_core(ENV, workload="gpt2")  # 12 heads, 12 layers
    assert small.space.constants == {"gpus": 64, "heads": 12, "layers": 12}
    assert set(small.space.grid()["tp"].tolist()) == {1, 2, 4}
    assert small.space.hash() != core.space.hash()


@pytest.mark.parametrize("agent", ["random", "random_walk", "ga", "aco", "tpe", "ppo", "dqn"])
def test_agents_propose_only_feasible_designs(agent):
    result = check_budget_is_exact(agent, ENV, budget=40)
    space = archgym_py.make_core(ENV).space
    batch = space.batch(result.designs)
    assert space.feasible(batch).all(), f"{agent} proposed designs that break a constraint"


def test_agent_runs_are_reproducible_in_another_process():
    check_same_seed_same_run_in_two_processes("ga", SPEC, budget=24)  # the child finds the plug-in


def test_a_spec_cannot_import_a_module_that_is_not_an_installed_domain(tmp_path):
    # Issue 15: `domain:` named any importable module, which was imported (its side effects ran).
    from archgym_py import SpecError, load_env_spec

    text = Path(SPEC).read_text().replace("domain: toy", "domain: os.path:join")
    (tmp_path / "env.yaml").write_text(text)
    with pytest.raises(
        SpecError, match=r"unknown domain 'os.path:join'.*'archgym_py.domains' entry-point group"
    ):
        load_env_spec(str(tmp_path / "env.yaml"))
