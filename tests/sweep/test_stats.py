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
    assert p == pytest.approx(1.5 / 4) and 0 <= lo <= p <= hi <= 1
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
    assert a == b and a[1] <= a[0] <= a[2]
    constant = stratified_bootstrap_ci([np.full(10, 2.0)], reps=100)
    assert constant == (2.0, 2.0, 2.0)
    assert not math.isnan(a[0])
