"""Golden tests of the collective models: the alpha-beta costs by hand and nccl-tests' bus
bandwidth factors (doc/PERFORMANCE.md)."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py.envs.cluster import (
    DOMAIN,
    Link,
    all_gather,
    all_reduce,
    all_to_all,
    bus_bandwidth,
    hierarchical_all_reduce,
    reduce_scatter,
    send_recv,
)
from archgym_py.envs.cluster.collectives import broadcast

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


def test_a_small_message_takes_the_low_latency_protocol_and_a_large_one_the_bulk_one():
    # LL at 60% of the bulk bandwidth, bulk after a 40 us start: the bulk protocol wins above
    # b* = 40 us x B x 0.6 / 0.4 = 12 MB moved per link
    two = Link(np.array([B]), np.array([ALPHA]), simple_s=40e-6, ll_fraction=0.6)
    small, large = 1e6, 100e6
    assert two.transfer_s(small) == pytest.approx(small / (0.6 * B))
    assert two.transfer_s(large) == pytest.approx(40e-6 + large / B)
    crossover = 40e-6 * B * 0.6 / 0.4
    assert two.transfer_s(crossover) == pytest.approx(crossover / (0.6 * B))
    # a ring all-reduce pays its step latencies on top of the faster protocol
    n, size = 8, 64e6
    moved = 2 * (n - 1) / n * size
    expected = 2 * (n - 1) * ALPHA + min(moved / (0.6 * B), 40e-6 + moved / B)
    assert all_reduce(n, size, two, "ring") == pytest.approx(expected)
    # the defaults are the one-protocol alpha-beta model
    assert Link(np.array([B]), np.array([ALPHA])).transfer_s(small) == pytest.approx(small / B)


# ai-dynamo/aiconfigurator (Apache-2.0) nccl_perf tables at 095f58a5, H100 SXM, NCCL 2.29.2:
# nccl-tests time (us) of a 256 MiB collective on 2, 4 and 8 GPUs; held out (the NCCL shape was
# fitted on the H200 tables; the h100_sxm spec's own figures are its small 8-GPU all-reduce and
# Azure's 8 GiB all-reduce bandwidth)
H100_256MIB_US = {
    ("all_reduce", 2): 881.3, ("all_reduce", 4): 1181.0, ("all_reduce", 8): 1092.1,
    ("all_gather", 2): 548.5, ("all_gather", 4): 660.7, ("all_gather", 8): 728.8,
    ("reduce_scatter", 2): 585.1, ("reduce_scatter", 4): 678.4, ("reduce_scatter", 8): 721.7,
    ("all_to_all", 2): 494.7, ("all_to_all", 4): 702.3, ("all_to_all", 8): 763.9,
}  # fmt: skip


def test_the_h100_spec_reproduces_nccl_tests_collectives_on_2_to_8_h100s():
    from archgym_py.envs.cluster.step import nvlink_link
    from archgym_py.envs.gpu import DOMAIN as GPU

    nvlink = nvlink_link(GPU.load_arch(DOMAIN.load_arch("dgx_h100_1024").gpu))
    run = {"all_reduce": lambda n, s: all_reduce(n, s, nvlink, "ring"),
           "all_gather": lambda n, s: all_gather(n, s, nvlink),
           "reduce_scatter": lambda n, s: reduce_scatter(n, s, nvlink),
           "all_to_all": lambda n, s: all_to_all(n, s, nvlink)}  # fmt: skip
    errors = [run[c](n, 256 << 20)[0] / (us * 1e-6) - 1 for (c, n), us in H100_256MIB_US.items()]
    assert max(np.abs(errors)) < 0.15  # worst: reduce-scatter on 2 GPUs, -14%
    assert np.median(np.abs(errors)) < 0.06
    bus = {key: bus_bandwidth(key[0], key[1], 256 << 20, run[key[0]](key[1], 256 << 20))[0]
           for key in H100_256MIB_US}  # fmt: skip
    one_way = 450e9
    # the switch reduces only a whole domain's all-reduce past the link rate; rings fill slower
    # on fewer GPUs
    ring_best = max(bus[("all_reduce", 4)], bus[("all_gather", 8)])
    assert bus[("all_reduce", 8)] > one_way * 0.9 > ring_best
    assert bus[("all_gather", 2)] < bus[("all_gather", 4)] < bus[("all_gather", 8)] < one_way


def test_rings_fill_their_pipeline_and_a_whole_domain_reduces_in_the_switch_by_hand():
    # start 4 us, 1 us a step, ring at B with a 0.5-step fill, whole-domain rate 2B after 50 us
    link = Link(np.array([B]), np.array([1e-6]), 0.0, 1.0, 4e-6, 0.5, np.array([2 * B]), 50e-6)
    size = 64 << 20
    # an all-gather over 2 GPUs: one step moving half the buffer, 1.5 steps' worth with the fill
    assert all_gather(2, size, link)[0] == pytest.approx(4e-6 + 1e-6 + 1.5 * (size / 2) / B)
    assert all_to_all(4, size, link)[0] == pytest.approx(4e-6 + 1e-6 + 1.5 * (3 / 4 * size) / B)
    # 4 GPUs: a ring of 6 steps, below the switch path's threshold of 8
    bus4 = 6 / 4 * size
    assert all_reduce(4, size, link)[0] == pytest.approx(4e-6 + 6e-6 + bus4 * 6.5 / 6 / B)
    # 8 GPUs: the switch path, bulk protocol after its own start, when faster than the ring
    bus8 = 14 / 8 * size
    ring8 = 4e-6 + 14e-6 + bus8 * 14.5 / 14 / B
    switch8 = 4e-6 + 14e-6 + 50e-6 + bus8 / (2 * B)
    assert switch8 < ring8
    assert all_reduce(8, size, link)[0] == pytest.approx(switch8)
    small = 14 / 8 * 1024  # a 1 KiB all-reduce stays on the ring
    assert all_reduce(8, 1024, link)[0] == pytest.approx(4e-6 + 14e-6 + small * 14.5 / 14 / B)


def test_recursive_halving_doubling_pays_two_log_n_latencies_and_folds_extra_ranks():
    # 8 ranks: the ring's 7/4 S / B with 6 latency steps instead of 14
    assert all_reduce(8, S, LINK, "rhd")[0] == pytest.approx(2 * 7 / 8 * S / B + 6 * ALPHA)
    # 6 ranks: two extra ranks fold into partners (S / B + alpha there and back), then 4 run it
    folded = 2 * 3 / 4 * S / B + 4 * ALPHA + 2 * (S / B + ALPHA)
    assert all_reduce(6, S, LINK, "rhd")[0] == pytest.approx(folded)
    # fewer latency steps than the ring: faster on a small message, equal bandwidth on a large one
    assert all_reduce(64, 4096, LINK, "rhd")[0] < all_reduce(64, 4096, LINK, "ring")[0]


def test_a_send_is_its_bytes_plus_one_latency_and_its_bus_bandwidth_the_link():
    assert send_recv(S, LINK)[0] == pytest.approx(S / B + ALPHA)
    free = Link(np.array([B]), np.array([0.0]))
    assert bus_bandwidth("send_recv", 2, S, send_recv(S, free))[0] == pytest.approx(B)


def test_a_chunked_broadcast_trades_hops_against_latencies():
    n = 8
    # one chunk is store-and-forward: n - 1 hops of the whole buffer
    assert broadcast(n, S, LINK, chunks=1)[0] == pytest.approx((n - 1) * (S / B + ALPHA))
    # the best chunk count, sqrt((n - 2) S / (alpha B)) = 53.5, gives
    # (sqrt((n - 2) alpha) + sqrt(S / B))^2 = 2.95 ms, above the unchunked bound's 2.42 ms
    best = np.sqrt((n - 2) * S / (ALPHA * B))
    times = broadcast(n, S, LINK, chunks=np.array([best / 4, best, 4 * best]).round())
    assert times[1] < times[0] and times[1] < times[2]
    least = (np.sqrt((n - 2) * ALPHA) + np.sqrt(S / B)) ** 2
    assert times[1] == pytest.approx(least, rel=1e-3)
    assert broadcast(n, S, LINK)[0] == pytest.approx(S / B + (n - 1) * ALPHA)


def test_the_algorithm_across_domains_is_chosen_per_design():
    nvlink, nic = Link(np.array([B]), np.array([2e-6])), Link(np.array([50e9]), np.array([10e-6]))
    names = np.array(["ring", "tree", "rhd"])
    mixed = hierarchical_all_reduce(8, 128, 1e6, nvlink, nic, outer_algorithm=names)
    alone = [hierarchical_all_reduce(8, 128, 1e6, nvlink, nic, outer_algorithm=a)[0] for a in names]
    np.testing.assert_allclose(mixed, alone)
    # 128 domains: the ring pays 254 latency steps across, tree and rhd 14
    assert alone[0] - alone[2] == pytest.approx((254 - 14) * 10e-6)
    assert alone[1] == pytest.approx(alone[2])
