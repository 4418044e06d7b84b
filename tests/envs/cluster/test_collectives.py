"""Golden tests of the collective models: the alpha-beta costs by hand and nccl-tests' bus
bandwidth factors (doc/PERFORMANCE.md)."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.cluster import (
    Link,
    all_gather,
    all_reduce,
    all_to_all,
    bus_bandwidth,
    hierarchical_all_reduce,
    reduce_scatter,
)

B = 450e9  # NVLink 4, one direction
ALPHA = 5e-6
LINK = Link(np.array([B]), np.array([ALPHA]))
S = 1 << 30


def test_ring_all_reduce_is_two_n_minus_one_over_n_of_the_buffer_plus_two_n_minus_one_alphas():
    for n in (2, 4, 8):
        expected = 2 * (n - 1) / n * S / B + 2 * (n - 1) * ALPHA
        assert all_reduce(n, S, LINK)[0] == pytest.approx(expected)


def test_a_ring_all_reduce_is_a_reduce_scatter_and_an_all_gather():
    n = 8
    assert all_reduce(n, S, LINK)[0] == pytest.approx(
        reduce_scatter(n, S, LINK)[0] + all_gather(n, S, LINK)[0]
    )


def test_tree_pays_log_steps_of_latency_and_wins_on_small_messages():
    n, small = 64, 1024
    assert all_reduce(n, small, LINK, "tree")[0] == pytest.approx(
        2 * (n - 1) / n * small / B + 2 * np.log2(n) * ALPHA
    )
    assert all_reduce(n, small, LINK, "tree")[0] < all_reduce(n, small, LINK, "ring")[0] / 5


def test_bus_bandwidth_of_a_latency_free_ring_is_the_link_bandwidth_for_every_collective():
    free = Link(np.array([B]), np.array([0.0]))
    n = 8
    for name, fn in (("all_reduce", all_reduce), ("all_gather", all_gather),
                     ("reduce_scatter", reduce_scatter), ("all_to_all", all_to_all)):  # fmt: skip
        t = fn(n, S, free)
        assert bus_bandwidth(name, n, S, t)[0] == pytest.approx(B), name


def test_nvls_bus_bandwidth_exceeds_the_link_as_nccl_reports():
    free = Link(np.array([B]), np.array([0.0]))
    t = all_reduce(8, S, free, "nvls")
    assert bus_bandwidth("all_reduce", 8, S, t)[0] == pytest.approx(2 * 7 / 8 * B)


def test_one_rank_communicates_nothing_and_arrays_broadcast_over_designs():
    assert all_reduce(1, S, LINK)[0] == 0 and all_to_all(1, S, LINK)[0] == 0
    links = Link(np.array([B, B / 2]), np.array([ALPHA, ALPHA]))
    t = all_reduce(np.array([8, 8]), S, links)
    assert t[1] > 1.9 * (t[0] - 14 * ALPHA)


def test_hierarchical_all_reduce_crosses_the_slow_fabric_with_one_shard_per_rank():
    nic = Link(np.array([50e9]), np.array([10e-6]))  # 400 Gb/s per GPU
    local, groups = 8, 4
    t = hierarchical_all_reduce(local, groups, S, LINK, nic)[0]
    expected = (2 * (7 / 8 * S / B + 7 * ALPHA)
                + 2 * 3 / 4 * (S / 8) / 50e9 + 2 * 3 * 10e-6)  # fmt: skip
    assert t == pytest.approx(expected)
    flat = all_reduce(local * groups, S, nic)[0]
    assert t < flat / 4
