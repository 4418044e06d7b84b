"""Sweep statistics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archgym_py.sweep._stats import (
    expected_best_of_k,
    iqm,
    probability_of_improvement,
    stratified_bootstrap_ci,
    variance_shares,
)


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm(np.array([0, 1, 2, 3, 4, 5, 6, 100])) == pytest.approx(np.mean([2, 3, 4, 5]))


def test_expected_best_of_k_hand_computed():
    # values 1, 2, 3: k=1 -> mean 2; k=2 -> pairs (1,2),(1,3),(2,3) maxima 2,3,3 -> 8/3; k=3 -> 3.
    assert expected_best_of_k(np.array([3.0, 1.0, 2.0])).tolist() == pytest.approx(
        [2.0, 8 / 3, 3.0]
    )


def test_variance_shares_hand_computed():
    scores = np.array([1.0, 1.0, 3.0, 3.0])
    configs = np.array([0, 0, 1, 1])
    assert variance_shares(scores, configs) == (1.0, 0.0)  # all variance between configurations
    scores = np.array([0.0, 2.0, 0.0, 2.0])
    assert variance_shares(scores, configs) == (0.0, 1.0)  # all between seeds


def test_probability_of_improvement_hand_computed():
    # x beats y in 3 of 4 pairs, ties count half: x=[1,3], y=[2,3]: (1>2 no, 1>3 no, 3>2 yes, 3=3 half) -> 1.5/4
    p, lo, hi = probability_of_improvement([np.array([1.0, 3.0])], [np.array([2.0, 3.0])], reps=200)
    # Resampling x to (1, 1) gives P = 0 (probability 1/4); x = (3, 3) with y = (2, 2) gives
    # P = 1 (1/16): both beyond the 2.5% tails, so the 95% interval is [0, 1] exactly.
    assert (p, lo, hi) == pytest.approx((1.5 / 4, 0.0, 1.0))
    # Strata are averaged, not pooled.
    p, _, _ = probability_of_improvement(
        [np.array([1.0]), np.array([0.0])], [np.array([0.0]), np.array([1.0])], reps=50
    )
    assert p == pytest.approx(0.5)


def test_stratified_bootstrap_ci_contains_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    groups = [rng.normal(0, 1, 30), rng.normal(1, 1, 20)]
    a = stratified_bootstrap_ci(groups, reps=500, seed=1)
    b = stratified_bootstrap_ci(groups, reps=500, seed=1)
    assert a == b
    # For the mean, the stratified bootstrap's 95% interval is +-1.96 standard errors of the
    # stratified mean, sum over strata of (n_g / N)^2 var_g / n_g.
    point, lo, hi = stratified_bootstrap_ci(groups, np.mean, reps=4000, seed=2)
    se = math.sqrt(sum((len(g) / 50) ** 2 * g.var() / len(g) for g in groups))
    assert point == pytest.approx(np.concatenate(groups).mean())
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.1)
    constant = stratified_bootstrap_ci([np.full(10, 2.0)], reps=100)
    assert constant == (2.0, 2.0, 2.0)
    assert not math.isnan(a[0])


def _cell(agent, config, seed, reward, hp=None):
    return {"env_label": "e", "agent": agent, "config_index": config, "seed": seed,
            "best_reward": reward, "hyperparameters": hp or {},
            "curve": {"evals": [1, 2], "best": [reward - 1.0, reward]}, "pareto": None}  # fmt: skip


def test_analysis_of_a_hand_computed_table():
    from archgym_py.sweep._stats import analyse

    # optimum 10; random's median best 5 -> score = (r - 5) / 5, regret = 10 - r.
    cells = [_cell("random", 0, 0, 4.0), _cell("random", 0, 1, 6.0),
             _cell("ga", 0, 0, 10.0), _cell("ga", 0, 1, 8.0),
             _cell("ga", 1, 0, 5.0), _cell("ga", 1, 1, 7.0)]  # fmt: skip
    a = analyse(cells, {"e": {"optimum": 10.0}}, reps=200)
    scores = {(r["agent"], r["config_index"], r["seed"]): r["score"] for r in a.runs}
    assert scores == pytest.approx({("random", 0, 0): -0.2, ("random", 0, 1): 0.2, ("ga", 0, 0): 1.0,
                                    ("ga", 0, 1): 0.6, ("ga", 1, 0): 0.0, ("ga", 1, 1): 0.4})  # fmt: skip
    ga = next(s for s in a.summary if s["agent"] == "ga")
    # iqm of (0, 0.4, 0.6, 1.0) is the mean of the middle two; config means 0.8 and 0.2;
    # between-config sum of squares 2 (0.3^2 + 0.3^2) = 0.36 of a total 0.52.
    assert ga["iqm_score"] == pytest.approx(0.5) and ga["median_score"] == pytest.approx(0.5)
    assert (ga["default_config_mean"], ga["worst_config_mean"]) == pytest.approx((0.8, 0.2))
    assert ga["config_spread"] == pytest.approx(0.6)
    assert ga["hyperparameter_share"] == pytest.approx(0.36 / 0.52)
    assert ga["seed_share"] == pytest.approx(0.16 / 0.52)
    assert ga["median_regret"] == pytest.approx(2.5)  # regrets 0, 2, 5, 3
    (lottery,) = a.lottery  # ga's configs spread 0.6; agents at their best: 0.8 - 0.0
    assert lottery["ratio"] == pytest.approx(0.75)
    poi = next(r for r in a.improvement if r["agent"] == "ga" and r["versus"] == "random")
    assert poi["p_improvement"] == pytest.approx(7 / 8)  # 7 of 8 pairs: only 0.0 < 0.2 loses
    assert {r["agent"]: r["rank_iqm"] for r in a.rankings} == {"ga": 1, "random": 2}
    tau = a.profiles["tau"].index(0.5)
    assert a.profiles["ga"][tau] == pytest.approx(0.5)  # 1.0 and 0.6 of four runs reach 0.5
    # rliable counts runs strictly above tau: ga's optimal run (score 1.0) is not above 1.0.
    assert a.profiles["ga"][a.profiles["tau"].index(1.0)] == 0.0


def test_fanova_importance_finds_the_one_hyperparameter_that_matters():
    from archgym_py import agent_class
    from archgym_py.sweep._stats import analyse

    # Six ga configurations that differ only in mutation_rate, whose score rises with it.
    defaults = agent_class("ga").hyperparameter_space.default()
    cells = []
    for config, rate in enumerate((0.0, 0.1, 0.2, 0.3, 0.4, 0.5)):
        for seed in (0, 1):
            cells.append(_cell("ga", config, seed, 1.0 + 10 * rate + 0.01 * seed,
                               {**defaults, "mutation_rate": rate}))  # fmt: skip
    importance = {r["hyperparameter"]: r["importance"] for r in analyse(cells, {}, reps=50).importance
                  if r["agent"] == "ga"}  # fmt: skip
    assert max(importance, key=importance.get) == "mutation_rate"
    assert importance["mutation_rate"] == pytest.approx(1.0, abs=0.01)


def test_aggregates_follow_rliables_definitions_by_hand():
    # Issue 17: the median was pooled over runs; rliable takes the median over tasks (envs) of
    # each task's mean score. Means 2.5, 1.0, 0.5 -> 1.0, where the pooled median is 0.5.
    from archgym_py.sweep._stats import median_of_means_ci

    groups = [np.array([0.0, 0.0, 0.0, 10.0]), np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.5] * 4)]
    point, lo, hi = median_of_means_ci(groups, reps=500, seed=0)
    assert point == pytest.approx(1.0) and np.median(np.concatenate(groups)) == pytest.approx(0.5)
    assert lo <= 1.0 <= hi


def test_aggregates_match_the_rliable_library():
    # The real client: rliable's own functions on the same score matrix (runs x tasks).
    rliable_metrics = pytest.importorskip("rliable.metrics", reason="rliable is a test extra")
    from archgym_py.sweep._stats import median_of_means_ci

    rng = np.random.default_rng(3)
    x, y = rng.normal(0.4, 0.3, (5, 3)), rng.normal(0.2, 0.3, (5, 3))  # 5 runs x 3 envs
    groups = [x[:, j] for j in range(3)]
    assert iqm(x.ravel()) == pytest.approx(rliable_metrics.aggregate_iqm(x))
    assert median_of_means_ci(groups, reps=10)[0] == pytest.approx(
        rliable_metrics.aggregate_median(x)
    )
    p, _, _ = probability_of_improvement(groups, [y[:, j] for j in range(3)], reps=10)
    assert p == pytest.approx(rliable_metrics.probability_of_improvement(x, y))


def test_regret_in_the_metrics_own_terms_by_hand():
    # Issue 17: scores alone could not be read as metric: a regret r of the EDP objective
    # (weights 1 and 1 on latency and energy) is a geometric-mean excess of exp(r / 2) - 1.
    from archgym_py.sweep._report import _add_metric_gaps
    from archgym_py.sweep._stats import Analysis

    a = Analysis(["e"], ["ga"], [], [{"env": "e", "agent": "ga", "median_regret": math.log(1.21)}],
                 [], [], [], [], [])  # fmt: skip
    _add_metric_gaps(
        a, {"e": {"env_id": "archgym/AcceleratorSmall-v0", "env_kwargs": {"objective": "edp"}}}
    )
    assert a.summary[0]["median_gap_pct"] == pytest.approx(10.0)  # sqrt(1.21) = 1.10
    assert a.gaps == {"e": ["latency_s", "energy_j"]}


def test_a_stuck_configuration_is_reported_apart_not_made_the_lottery():
    # Issue 17: one stuck ACO setting (score -5.48) made its spread, ratio and 93% variance share.
    from archgym_py.sweep._stats import analyse

    cells = [_cell("random", 0, s, r) for s, r in ((0, 4.0), (1, 6.0))]
    for config, rewards in enumerate(
        ((9.0, 9.0), (8.0, 8.0), (-25.0, -20.0))
    ):  # scores 0.8, 0.6, -5.5
        cells += [_cell("aco", config, s, r) for s, r in enumerate(rewards)]
    row = next(
        s for s in analyse(cells, {"e": {"optimum": 10.0}}, reps=50).summary if s["agent"] == "aco"
    )
    assert row["stuck_configs"] == 1
    assert row["config_spread"] == pytest.approx(0.2) and row["config_spread_all"] == pytest.approx(
        6.3
    )
    assert row["hyperparameter_share"] == pytest.approx(1.0)  # between the two working configs only
