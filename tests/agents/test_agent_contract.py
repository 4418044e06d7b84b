"""Every registered agent passes the shipped agent contract (archgym_py.testing) on the
enumerable archgym/AcceleratorSmall-v0."""

from __future__ import annotations

import pytest

from archgym_py._agent import agent_class
from archgym_py.agents import AGENTS
from archgym_py.testing import (
    check_beats_random,
    check_budget_is_exact,
    check_different_seeds_differ,
    check_invalid_hyperparameters,
    check_same_seed_same_run_in_two_processes,
)

ENV = "archgym/AcceleratorSmall-v0"
RL = {"ppo", "a2c", "dqn"}
# GP costs ~0.3 s per trial (a torch GP fit), so its runs are kept short.
FAST_HP = {"gp": {"n_startup_trials": 5}}


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_budget_is_exact(agent):
    check_budget_is_exact(
        agent, ENV, budget=12 if agent == "gp" else 23, hyperparameters=FAST_HP.get(agent)
    )


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_same_seed_same_run_in_two_processes(agent):
    check_same_seed_same_run_in_two_processes(agent, ENV, budget=8 if agent == "gp" else 20,
                                              hyperparameters=FAST_HP.get(agent))  # fmt: skip


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_different_seeds_differ(agent):
    check_different_seeds_differ(
        agent, ENV, budget=8 if agent == "gp" else 20, hyperparameters=FAST_HP.get(agent)
    )


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_invalid_hyperparameters(agent):
    check_invalid_hyperparameters(agent, ENV)


@pytest.mark.parametrize("agent", sorted(a for a in AGENTS if not agent_class(a).baseline))
def test_learning_agents_beat_random(agent):
    budget = 300 if agent in RL else 30 if agent == "gp" else 100
    check_beats_random(agent, ENV, budget=budget, hyperparameters=FAST_HP.get(agent))


#: The GPU and cluster envs: the agent contract's cheap checks with a genetic and a TPE agent,
#: and a learner beating random search on the largest space of the two families.
NEW_ENVS = ("archgym/GPU-v0", "archgym/GPUTraining-v0", "archgym/GPUDesign-v0",
            "archgym/Cluster-v0", "archgym/ClusterMoE-v0")  # fmt: skip


@pytest.mark.parametrize("env_id", NEW_ENVS)
@pytest.mark.parametrize("agent", ["ga", "tpe"])
def test_gpu_and_cluster_envs_run_agents_to_their_exact_budget(agent, env_id):
    check_budget_is_exact(agent, env_id)
    check_different_seeds_differ(agent, env_id)


@pytest.mark.parametrize("env_id", ["archgym/GPUDesign-v0", "archgym/ClusterMoE-v0"])
def test_a_genetic_search_beats_random_on_the_gpu_and_cluster_spaces(env_id):
    learned, random_ = check_beats_random("ga", env_id, budget=60)
    assert learned > random_
