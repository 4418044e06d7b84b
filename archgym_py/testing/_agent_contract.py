"""The agent contract: each check takes an agent name and an env id and raises AssertionError
when the agent breaks the contract."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from .._agent import RunResult, agent_class, make_agent
from .._errors import DesignError


def check_budget_is_exact(
    agent: str, env_id: str, budget: int = 23, hyperparameters=None
) -> RunResult:
    """The run evaluates exactly ``budget`` designs and records each of them."""
    result = make_agent(agent, env_id, hyperparameters, seed=0).run(budget)
    assert result.evaluations == budget, (
        f"{agent}: {result.evaluations} evaluations for a budget of {budget}"
    )
    assert len(result.designs) == len(result.feasible) == len(result.best_curve) == budget
    assert all(len(v) == budget for v in result.metrics.values())
    assert np.all(np.diff(result.best_curve) >= 0), f"{agent}: best-so-far curve decreases"
    assert result.best_reward == max(r for r, f in zip(result.rewards, result.feasible, strict=True) if f) \
        if any(result.feasible) else True  # fmt: skip
    return result


_RUN_IN_CHILD = (
    "import json, sys; import archgym_py; from archgym_py._agent import make_agent;"
    "a, e, b, s, hp = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5]);"
    "r = make_agent(a, e, hp, seed=s).run(b);"
    "print(json.dumps({'designs': r.designs, 'rewards': r.rewards}))"
)


def check_same_seed_same_run_in_two_processes(
    agent: str, env_id: str, budget: int = 20, hyperparameters=None
) -> None:
    """Two fresh processes with the same seed evaluate the same designs with the same rewards."""
    args = [
        sys.executable,
        "-c",
        _RUN_IN_CHILD,
        agent,
        env_id,
        str(budget),
        "3",
        json.dumps(hyperparameters or {}),
    ]
    outs = [
        subprocess.run(args, capture_output=True, text=True, check=True).stdout for _ in range(2)
    ]
    assert json.loads(outs[0]) == json.loads(outs[1]), f"{agent}: two processes with seed 3 differ"


def check_different_seeds_differ(
    agent: str, env_id: str, budget: int = 20, hyperparameters=None
) -> None:
    """Different seeds explore different designs."""
    a = make_agent(agent, env_id, hyperparameters, seed=1).run(budget)
    b = make_agent(agent, env_id, hyperparameters, seed=2).run(budget)
    assert a.designs != b.designs, f"{agent}: seeds 1 and 2 evaluated the same designs"


def check_invalid_hyperparameters(agent: str, env_id: str) -> None:
    """Unknown names and out-of-range values fail with an error naming the hyperparameter."""
    space = agent_class(agent).hyperparameter_space
    first = space.params[0]
    try:
        make_agent(agent, env_id, {first.name + "x": 1})
    except DesignError as exc:
        assert f"{first.name}x" in str(exc) and agent in str(exc), str(exc)
    else:
        raise AssertionError(f"{agent}: an unknown hyperparameter was accepted")
    bad = "not-a-value" if not hasattr(first, "high") else first.high * 2 + 1
    try:
        make_agent(agent, env_id, {first.name: bad})
    except DesignError as exc:
        assert first.name in str(exc), str(exc)
    else:
        raise AssertionError(f"{agent}: {first.name}={bad!r} was accepted")


def check_beats_random(
    agent: str, env_id: str, budget: int, seeds=range(3), hyperparameters=None
) -> tuple[float, float]:
    """A learning agent improves over random search: the designs it proposes in the second half of
    its budget score better on average than uniformly random designs (median over ``seeds``).

    Best-found reward is not the criterion: on a small space, random search's best of N samples
    is a strong baseline that a learner concentrating its samples can trail; the benchmarks report
    best-found regret. Baselines (``Agent.baseline``) are exempt: they do not use rewards.

    Returns ``(agent median, random median)`` of that mean reward.
    """
    import gymnasium as gym

    core = gym.make(env_id).unwrapped.core

    def late_mean(name, hp):
        runs = [make_agent(name, core, hp, seed=s).run(budget) for s in seeds]
        return float(np.median([np.mean(r.rewards[budget // 2 :]) for r in runs]))

    mine, rand = late_mean(agent, hyperparameters), late_mean("random", None)
    assert mine > rand, (
        f"{agent}: late mean reward {mine:.3f} is not above random search's {rand:.3f}"
    )
    return mine, rand
