"""Objectives: hand-computed rewards, penalties, targets and validation errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archgym_py import MetricSpec, Objective, ObjectiveError

METRICS = (
    MetricSpec("latency_s", "s", "minimize"),
    MetricSpec("energy_j", "J", "minimize"),
    MetricSpec("area_mm2", "mm^2", "minimize"),
    MetricSpec("utilization", "1", "maximize"),
)


def arr(*values):
    return np.array(values, dtype=float)


def test_weighted_log_reward_hand_computed():
    obj = Objective.from_spec({"kind": "weighted_log", "weights": {"latency_s": 1.0, "energy_j": 0.5,
                                                                     "utilization": 2.0}}, METRICS)  # fmt: skip
    ref = {"latency_s": 1e-3, "energy_j": 2e-3, "utilization": 0.5}
    metrics = {
        "latency_s": arr(5e-4, 1e-3),
        "energy_j": arr(2e-3, 8e-3),
        "utilization": arr(0.5, 0.25),
    }
    reward = obj.reward(metrics, np.array([True, True]), ref)
    # design 0: 2x faster -> +ln 2; design 1: 4x the energy (x0.5) and half the utilisation (x2).
    assert reward[0] == pytest.approx(math.log(2))
    assert reward[1] == pytest.approx(-0.5 * math.log(4) - 2.0 * math.log(2))
    assert obj.pareto_directions() == {
        "latency_s": "minimize",
        "energy_j": "minimize",
        "utilization": "maximize",
    }


def test_constraint_penalty_and_infeasible_designs():
    obj = Objective.from_spec({"weights": {"latency_s": 1.0}, "penalty": 10.0,
                               "constraints": [{"metric": "area_mm2", "max": 4.0}]}, METRICS)  # fmt: skip
    metrics = {"latency_s": arr(1.0, 1.0, 1.0), "area_mm2": arr(2.0, 8.0, 2.0)}
    sim_ok = np.array([True, True, False])
    reward = obj.reward(metrics, sim_ok, {"latency_s": 1.0})
    assert reward[0] == 0.0
    assert reward[1] == pytest.approx(-10.0 * (1 + math.log(2)))
    assert reward[2] == pytest.approx(-20.0)
    assert obj.feasible(metrics, sim_ok).tolist() == [True, False, False]


def test_target_objective_distance_and_termination():
    obj = Objective.from_spec({"kind": "target", "targets": {"latency_s": 1e-3, "energy_j": 1e-2},
                               "tolerance": 0.1, "one_sided": True}, METRICS)  # fmt: skip
    metrics = {"latency_s": arr(0.5e-3, 1.05e-3, 2e-3), "energy_j": arr(1e-2, 1e-2, 1e-2)}
    feasible = np.array([True, True, True])
    reward = obj.reward(metrics, feasible)
    assert reward.tolist() == pytest.approx([0.0, -0.05, -1.0])
    assert obj.target_met(metrics, feasible).tolist() == [True, True, False]
    two_sided = Objective.from_spec(
        {"kind": "target", "targets": {"latency_s": 1e-3}, "one_sided": False}, METRICS
    )
    assert two_sided.reward({"latency_s": arr(0.5e-3)}, np.array([True]))[0] == pytest.approx(-0.5)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"kind": "pareto", "weights": {"latency_s": 1}}, "unknown objective kind 'pareto'"),
        ({"weights": {"latncy_s": 1}}, "unknown metric 'latncy_s' (did you mean 'latency_s'?)"),
        (
            {"weights": {"latency_s": "high"}},
            "objective.weights.latency_s: expected a number, got 'high'",
        ),
        (
            {"kind": "target", "targets": {"latency_s": -1}},
            "objective.targets.latency_s: expected a positive number",
        ),
        (
            {"weights": {"latency_s": 1}, "constraints": [{"metric": "area_mm2"}]},
            "give 'max' and/or 'min'",
        ),
        ({"weights": {"latency_s": 1}, "budget": 3}, "unknown key 'budget'"),
    ],
)
def test_objective_errors(spec, message):
    with pytest.raises(ObjectiveError) as err:
        Objective.from_spec(spec, METRICS)
    assert message in str(err.value)
