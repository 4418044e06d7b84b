"""Agent behaviours that follow from their definitions, the Evaluator, RunResult and the CLI."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from archgym_py import ArchGymError
from archgym_py._agent import BudgetExhausted, Evaluator, RunResult, make_agent, pareto_front
from archgym_py.agents.rl import StepwiseActionWrapper
from archgym_py.cli import main

ENV = "archgym/AcceleratorSmall-v0"


@pytest.fixture(scope="module")
def core():
    return gym.make(ENV).unwrapped.core


def test_evaluator_truncates_at_the_budget_and_then_refuses(core):
    ev = Evaluator(core, budget=5)
    rewards, metrics, feasible = ev.evaluate(np.zeros((8, len(core.space)), dtype=int))
    assert len(rewards) == 5 and ev.remaining == 0 and len(ev.designs) == 5
    with pytest.raises(BudgetExhausted):
        ev.evaluate(np.zeros(len(core.space), dtype=int))
    with pytest.raises(ArchGymError, match="budget: got 0"):
        Evaluator(core, budget=0)


def test_run_result_json_round_trip_and_best(core, tmp_path):
    result = make_agent("random", core, seed=4).run(50)
    path = tmp_path / "run.json"
    result.save(path)
    again = RunResult.load(path)
    assert again == result
    i = result.best_index
    assert result.feasible[i] and result.best_reward == max(
        r for r, f in zip(result.rewards, result.feasible, strict=True) if f
    )
    assert result.best_curve[-1] == max(result.rewards)


def test_pareto_front_hand_case():
    points = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2.5], [1, 5]])
    # [3,3] and [2,2.5] are dominated by [2,2]; the duplicate [1,5] points do not dominate each other.
    assert pareto_front(points).tolist() == [0, 1, 2, 5]


@pytest.mark.parametrize("k", [2, 3])
def test_pareto_front_matches_brute_force_with_ties(k):
    rng = np.random.default_rng(k)
    points = rng.integers(0, 6, size=(300, k)).astype(float)  # many ties and duplicates
    brute = [
        i for i, p in enumerate(points) if not any(np.all(q <= p) and np.any(q < p) for q in points)
    ]
    assert pareto_front(points).tolist() == brute


def test_nsga2_returns_the_non_dominated_feasible_designs(core):
    result = make_agent("nsga2", core, seed=0).run(96)
    lat, en = np.array(result.metrics["latency_s"]), np.array(result.metrics["energy_j"])
    feasible = np.flatnonzero(result.feasible)
    expected = [i for i in feasible if not any((lat[j] <= lat[i]) and (en[j] <= en[i]) and (lat[j] < lat[i] or en[j] < en[i])
                                               for j in feasible)]  # fmt: skip
    assert sorted(result.pareto) == expected and len(expected) >= 1


def test_ga_without_crossover_or_mutation_only_copies_its_first_generation(core):
    hp = {"population": 16, "crossover_rate": 0.0, "mutation_rate": 0.0, "elitism": 2}
    result = make_agent("ga", core, hp, seed=0).run(80)
    first = {tuple(d.values()) for d in result.designs[:16]}
    assert {tuple(d.values()) for d in result.designs} == first


def test_fully_greedy_ants_agree_within_an_iteration(core):
    result = make_agent("aco", core, {"ants": 8, "greediness": 1.0}, seed=0).run(32)
    for it in range(4):
        batch = {tuple(d.values()) for d in result.designs[8 * it : 8 * it + 8]}
        assert len(batch) == 1


def test_random_walk_moves_one_knob_per_step(core):
    result = make_agent("random_walk", core, {"n_changes": 1, "restart_prob": 0.0}, seed=0).run(60)
    for a, b in zip(result.designs, result.designs[1:], strict=False):
        assert sum(a[k] != b[k] for k in a) == 1


def test_stepwise_wrapper_moves_one_level(core):
    env = StepwiseActionWrapper(gym.make(ENV))
    env.reset(seed=0)
    _, _, _, _, info = env.step(1)  # knob 0 (pe_rows) up one level from the base design's 16
    assert info["design"]["pe_rows"] == 32
    _, _, _, _, info = env.step(2 * 4 + 1)  # dataflow: RS -> WS (categorical knobs cycle)
    assert info["design"]["dataflow"] == "WS"
    _, _, _, _, info = env.step(env.action_space.n - 1)  # keep
    assert info["design"]["dataflow"] == "WS" and info["design"]["pe_rows"] == 32


def test_unknown_agent_suggests():
    with pytest.raises(ArchGymError, match=r"unknown agent 'tpee' \(did you mean 'tpe'\?\)"):
        make_agent("tpee", ENV)


def test_cli_agents_and_run(tmp_path, capsys):
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    assert "ga " in out and "nsga2" in out and "(baseline)" in out
    path = tmp_path / "ga.json"
    args = [
        "run",
        "ga",
        ENV,
        "--budget",
        "64",
        "--seed",
        "2",
        "--hp",
        "population=16",
        "-o",
        str(path),
        "-q",
    ]
    assert main(args) == 0
    result = RunResult.load(path)
    assert (
        result.evaluations == 64 and result.hyperparameters["population"] == 16 and result.seed == 2
    )
    assert "agent overhead" in capsys.readouterr().out
    assert main(["run", "ga", ENV, "--budget", "8", "--hp", "populaton=8"]) == 2
    assert "did you mean 'population'?" in capsys.readouterr().err


def test_optuna_agents_leave_optunas_log_level_alone():
    # Issue 17: archgym_py set Optuna's global verbosity to WARNING for the whole process.
    import optuna

    from archgym_py import make_agent

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        make_agent("tpe", "archgym/AcceleratorSmall-v0", {"n_startup_trials": 2}, seed=0).run(6)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(before)


def test_rl_step_counts_are_capped_to_the_budget_and_the_result_says_so():
    # Issue 17: PPO with n_steps=512 on a budget of 200 never updated its policy, so its
    # configurations were identical runs. Rollouts are capped at half the budget (a power of two).
    from archgym_py import RunResult, make_agent

    result = make_agent(
        "ppo", "archgym/AcceleratorSmall-v0", {"n_steps": 512, "batch_size": 64}, seed=0
    ).run(100)
    assert result.adjusted == {"n_steps": [512, 32], "batch_size": [64, 32]}
    assert result.hyperparameters["n_steps"] == 512  # what was asked stays the run's identity
    assert RunResult.from_json(result.to_json()).adjusted == result.adjusted
    untouched = make_agent(
        "ppo", "archgym/AcceleratorSmall-v0", {"n_steps": 16, "batch_size": 8}, seed=0
    ).run(100)
    assert untouched.adjusted == {}


def test_an_rl_run_leaves_no_logger_folder_in_the_temporary_directory(tmp_path, monkeypatch):
    # stable-baselines3's default logger makes an empty SB3-<time> folder per learn() call
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    make_agent("a2c", ENV, {}, seed=0).run(20)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("SB3-")]
