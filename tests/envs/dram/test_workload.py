"""Trace generators, trace-file readers (with line-numbered errors), specs and address mappings."""

from __future__ import annotations

import numpy as np
import pytest

from archgym_py import SpecError, WorkloadError
from archgym_py.envs.dram import (
    BUILTIN_WORKLOADS,
    DOMAIN,
    decode,
    encode,
    hotspot,
    load_workload,
    mixed,
    read_trace,
    sequential,
)
from archgym_py.envs.dram.arch import load_arch


def test_rate_sets_the_mean_interarrival_and_zero_saturates():
    trace = sequential(50000, rate_gbps=8.0, seed=1)
    assert np.mean(np.diff(trace.time_ns)) == pytest.approx(64 / 8.0, rel=0.02)  # 8 ns per 64 B
    assert np.all(sequential(100, rate_gbps=0).time_ns == 0)
    uniform = sequential(100, rate_gbps=16.0, arrival="uniform")
    assert np.allclose(np.diff(uniform.time_ns), 4.0)


def test_generators_are_reproducible_and_seeded():
    a, b, c = mixed(5000, seed=3), mixed(5000, seed=3), mixed(5000, seed=4)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.read_fraction == pytest.approx(2 / 3, abs=0.03)


def test_hotspot_concentrates_accesses():
    trace = hotspot(20000, hot_bytes=1 << 16, hot_fraction=0.8)
    assert np.mean(trace.address < (1 << 16)) == pytest.approx(0.8, abs=0.02)


def test_every_builtin_workload_loads():
    for name in BUILTIN_WORKLOADS:
        trace = load_workload(name)
        assert trace.name == name and len(trace) > 0


def test_bad_generator_parameters_are_named():
    with pytest.raises(WorkloadError, match="read_fraction: got 1.5"):
        sequential(10, read_fraction=1.5)
    with pytest.raises(WorkloadError, match="n_requests"):
        sequential(0)
    with pytest.raises(WorkloadError, match="unknown generator 'randm'.*did you mean 'random'"):
        load_workload({"generator": "randm"})
    with pytest.raises(WorkloadError, match="unknown key 'rate'.*did you mean 'rate_gbps'"):
        load_workload({"generator": "random", "rate": 3})
    with pytest.raises(WorkloadError, match="unknown DRAM workload 'mixd'.*did you mean 'mixed'"):
        load_workload("mixd")


def test_stl_reader(tmp_path):
    path = tmp_path / "t.stl"
    path.write_text("# DRAMSys trace\n0: read 0x40\n10:\twrite\t0x80\t00ff\n25: read 192\n")
    trace = read_trace(path)
    assert trace.time_ns.tolist() == [0.0, 10.0, 25.0]  # 1000 MHz player clock
    assert trace.address.tolist() == [64, 128, 192]
    assert trace.is_write.tolist() == [False, True, False]
    slow = read_trace(path, clock_mhz=500.0)
    assert slow.time_ns.tolist() == [0.0, 20.0, 50.0]


def test_dramsim3_and_ramulator_readers(tmp_path):
    ds3 = tmp_path / "ds3.trace"
    ds3.write_text("0x1000 READ 0\n0x2000 WRITE 12\n")
    trace = read_trace(ds3)
    assert trace.source["format"] == "dramsim3"
    assert trace.time_ns == pytest.approx([0.0, 10.0])  # 12 cycles at 1200 MHz
    dram_mode = tmp_path / "ram.trace"
    dram_mode.write_text("0x40 R\n0x80 W\n")
    trace = read_trace(dram_mode)
    assert trace.is_write.tolist() == [False, True] and np.all(trace.time_ns == 0)
    cpu_mode = tmp_path / "cpu.trace"
    cpu_mode.write_text("3 0x40\n0 0x80 0x1000\n")
    trace = read_trace(cpu_mode)
    assert trace.time_ns.tolist() == [4.0, 5.0, 5.0]
    assert trace.is_write.tolist() == [False, False, True]


@pytest.mark.parametrize(
    "fmt,text,line",
    [
        ("stl", "0: read 0x40\n5: raed 0x80\n", 2),
        ("dramsim3", "0x40 READ 0\n0x80 READ\n", 2),
        ("ramulator", "0x40 R\n0x80 X\n", 2),
        ("stl", "# header\n\n0: read 0x40\n1: read zz\n", 4),
    ],
)
def test_malformed_lines_name_file_line_and_form(tmp_path, fmt, text, line):
    path = tmp_path / f"bad.{fmt}"
    path.write_text(text)
    with pytest.raises(
        WorkloadError, match=rf"bad\.{fmt}:{line}: this line does not match the format "
    ):
        read_trace(path, format=fmt)


def test_trace_going_back_in_time_is_rejected(tmp_path):
    path = tmp_path / "t.stl"
    path.write_text("10: read 0x40\n5: read 0x80\n")
    with pytest.raises(WorkloadError, match="goes back in time"):
        read_trace(path)


def test_workload_yaml_and_trace_mapping(tmp_path):
    (tmp_path / "w.yaml").write_text(
        "generator: random\nn_requests: 100\nrate_gbps: 2.0\nseed: 7\n"
    )
    assert len(load_workload(tmp_path / "w.yaml")) == 100
    (tmp_path / "t.stl").write_text("0: read 0x40\n")
    assert len(load_workload({"trace": str(tmp_path / "t.stl"), "format": "stl"})) == 1


@pytest.mark.parametrize("name", ["ddr4_2400", "lpddr4_3200", "hbm2_2000"])
def test_shipped_systems_move_a_cache_line_per_burst(name):
    assert load_arch(name).burst_bytes == 64  # what the generators' 64-byte requests assume


def test_ddr4_peak_bandwidth_and_capacity():
    arch = load_arch("ddr4_2400")
    assert arch.peak_bandwidth_bps == pytest.approx(2400e6 * 8, rel=1e-3)  # 2400 MT/s x 8 bytes
    assert arch.capacity_bytes == 8 << 30  # 8 x 8 Gb devices


def _ddr4_dict():
    return load_arch("ddr4_2400").to_dict()


def test_spec_errors_name_the_field():
    data = _ddr4_dict()
    data["architecture"]["trc_ck"]["value"] = 40
    with pytest.raises(SpecError, match=r"trc_ck: got 40; expected >= tras_ck \+ trp_ck \(55\)"):
        load_arch(data)
    data = _ddr4_dict()
    data["architecture"]["tRCD"] = {"value": 1, "source": "x"}
    with pytest.raises(SpecError, match="unknown key 'tRCD'.*did you mean 'trcd_ck'"):
        load_arch(data)
    data = _ddr4_dict()
    data["architecture"]["page_policy"]["value"] = "Opne"
    with pytest.raises(SpecError, match="page_policy.*did you mean 'Open'"):
        load_arch(data)
    data = _ddr4_dict()
    data["architecture"]["address_mapping"]["value"] = "RoBaCoCh"
    with pytest.raises(
        SpecError, match=r"address_mapping: 'RoBaCoCh': missing token\(s\) \['Ra'\]"
    ):
        load_arch(data)
    data = _ddr4_dict()
    data["architecture"]["refresh_policy"]["value"] = "PerBank"
    with pytest.raises(SpecError, match="no per-bank refresh timings"):
        load_arch(data)


@pytest.mark.parametrize("mapping", ["RoBaRaCoCh", "RoRaBaChCo", "RoCoRaBaCh", "ChRaBgBaRoCo"])
@pytest.mark.parametrize("name", ["ddr4_2400", "hbm2_2000", "lpddr4_3200"])
def test_encode_inverts_decode(name, mapping):
    arch = load_arch(name)
    rng = np.random.default_rng(0)
    fields = {
        "channel": rng.integers(0, arch.channels, 50),
        "bank_group": rng.integers(0, arch.bank_groups, 50),
        "bank": rng.integers(0, arch.banks_per_group, 50),
        "row": rng.integers(0, arch.rows, 50),
        "column": rng.integers(0, arch.columns // arch.burst_length, 50),
    }
    decoded = decode(encode(arch, mapping, **fields), arch, mapping)
    for key in ("channel", "bank_group", "row", "column"):
        assert np.array_equal(decoded[key], fields[key])
    flat = fields["bank_group"] * arch.banks_per_group + fields["bank"]
    assert np.array_equal(decoded["bank"], flat)


def test_mappings_place_consecutive_lines_as_named():
    arch = load_arch("hbm2_2000")
    lines = np.arange(8, dtype=np.uint64) * np.uint64(64)
    assert decode(lines, arch, "RoBaRaCoCh")["channel"].tolist() == list(range(8))  # Ch lowest
    assert decode(lines, arch, "RoRaBaChCo")["column"].tolist() == list(range(8))  # Co lowest


def test_env_with_per_bank_refresh_on_ddr4_is_refused():
    import gymnasium as gym

    with pytest.raises(SpecError, match="'PerBank' needs per-bank refresh timings"):
        gym.make("archgym/DRAMLPDDR4-v0", arch="ddr4_2400")


def test_traces_round_trip_through_to_dict():
    # a generated trace is rebuilt from its generator, one built from arrays from its requests
    for trace in (mixed(300, seed=2), load_workload("stream").head(50)):
        assert load_workload(trace.to_dict()).fingerprint() == trace.fingerprint()


def test_domain_lists_names():
    assert set(DOMAIN.arch_names()) >= {"ddr4_2400", "lpddr4_3200", "hbm2_2000"}
    assert "mixed" in DOMAIN.workload_names()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_requests": 10**11}, "n_requests: got 1e\\+11; expected at most 50,000,000"),
        ({"rate_gbps": float("inf")}, "rate_gbps: got inf; expected a finite number"),
        ({"rate_gbps": float("nan")}, "rate_gbps: got nan; expected a finite number"),
    ],
)
def test_generators_bound_their_size_and_rate(kwargs, message):
    # Issue 15: 10^11 requests exhausted memory; a rate of inf was accepted.
    from archgym_py import WorkloadError
    from archgym_py.envs.dram import uniform_random

    with pytest.raises(WorkloadError, match=message):
        uniform_random(**{"n_requests": 100, **kwargs})


def test_trace_inputs_that_would_overflow_or_crash_are_typed_errors(tmp_path):
    # Issue 15: a cycle of 1e23 gave a mean latency of -3.8e9 s with exit 0; a negative inline
    # address raised OverflowError; clock_mhz 0 ZeroDivisionError; non-UTF-8 UnicodeDecodeError.
    from archgym_py import WorkloadError
    from archgym_py.envs.dram import load_workload, read_trace

    far = tmp_path / "far.stl"
    far.write_text("0: read 0x0\n100000000000000000000000: read 0x40\n")
    with pytest.raises(WorkloadError, match=r"arrival times must be finite, >= 0 and <= 1e\+15 ns"):
        load_workload(str(far))
    with pytest.raises(
        WorkloadError,
        match=r"address -64; expected an integer in \[0, 2\^64\)|addresses must be integers",
    ):
        load_workload({"time_ns": [0, 1], "address": [0, -64], "is_write": [False, True]})
    ok = tmp_path / "ok.stl"
    ok.write_text("0: read 0x0\n")
    with pytest.raises(WorkloadError, match=r"clock_mhz: got 0; expected a trace clock"):
        read_trace(ok, clock_mhz=0)
    binary = tmp_path / "bin.stl"
    binary.write_bytes(b"0: read 0x0\n\xff\xfe: read\n")
    with pytest.raises(WorkloadError, match=r"bin.stl:2: not UTF-8 text \(byte 0 of the line"):
        load_workload(str(binary))


def test_a_trace_error_shows_a_position_not_the_file_content(tmp_path):
    # Issue 15: /etc/passwd given as a trace had its first line echoed in the error.
    from archgym_py import WorkloadError
    from archgym_py.envs.dram import load_workload

    secret = tmp_path / "secret.stl"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(WorkloadError) as info:
        load_workload(str(secret))
    assert "secret.stl:1:" in str(info.value) and "root" not in str(info.value).replace(
        str(tmp_path), ""
    )


def test_reading_a_long_trace_takes_about_its_final_size_in_memory(tmp_path):
    # Issue 15: a 10M-line trace was read at 12x its final size (lists of Python ints and the
    # whole text). Streamed into compact columns, a 200k-request trace (3.4 MB as arrays, 5 MB of
    # text) peaks well under 5x its arrays.
    import tracemalloc

    from archgym_py.envs.dram import read_trace

    n = 200_000
    path = tmp_path / "long.trace"
    path.write_text(
        "".join(f"0x{64 * i:x} {'READ' if i % 3 else 'WRITE'} {4 * i}\n" for i in range(n))
    )
    tracemalloc.start()
    trace = read_trace(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(trace) == n and trace.address[-1] == 64 * (n - 1)
    assert peak < 5 * 17 * n, f"peak {peak / 1e6:.1f} MB for {17 * n / 1e6:.1f} MB of arrays"


# ----------------------------------------------------------------------------- plain, gzip, clock
FORMAT_LINES = {
    "stl": "0: read 0x40\n12: write 0x80\n",
    "dramsim3": "0x40 READ 0\n0x80 WRITE 12\n",
    "plain": "0 R 0x40\n12 W 0x80\n",
    "ramulator": "0x40 R\n0x80 W\n",
}


@pytest.mark.parametrize("fmt", sorted(FORMAT_LINES))
def test_every_format_reads_the_same_gzip_compressed(tmp_path, fmt):
    import gzip

    text = FORMAT_LINES[fmt]
    plain_file = tmp_path / f"t.{fmt}.txt"
    plain_file.write_text(text)
    packed = tmp_path / f"t.{fmt}.txt.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    a, b = read_trace(plain_file), read_trace(packed)
    assert a.source["format"] == b.source["format"] == fmt
    assert a.address.tolist() == b.address.tolist() == [0x40, 0x80]
    assert a.is_write.tolist() == b.is_write.tolist() == [False, True]
    assert a.time_ns.tolist() == b.time_ns.tolist()


def test_plain_format_and_its_errors(tmp_path):
    path = tmp_path / "p.trace"
    path.write_text("0 R 0x1000\n7 W 4096\n9 READ 0x40\n")
    trace = read_trace(path, clock_mhz=500.0)
    assert trace.source["format"] == "plain"
    assert trace.time_ns.tolist() == [0.0, 14.0, 18.0]
    assert trace.address.tolist() == [0x1000, 4096, 0x40]
    assert trace.is_write.tolist() == [False, True, False]
    path.write_text("0 R 0x1000\n7 X 0x40\n")
    with pytest.raises(WorkloadError, match=r"p.trace:2: .*'<cycle> R\|W <address>'"):
        read_trace(path, format="plain")


def test_a_corrupt_gzip_trace_is_a_typed_error(tmp_path):
    import gzip

    path = tmp_path / "bad.trace.gz"
    path.write_bytes(gzip.compress(b"0 R 0x40\n" * 1000)[:40])
    with pytest.raises(WorkloadError, match="corrupt gzip"):
        read_trace(path, format="plain")


def test_a_trace_in_the_device_clock_plays_cycle_for_cycle(tmp_path):
    # 1200 MHz cycles on DDR4-2400, whose spec rounds tCK to 0.833 ns: converting through time
    # would drift by 0.04% (400 cycles per million); the trace's own cycles are kept
    arch = DOMAIN.load_arch("ddr4_2400")
    path = tmp_path / "long.trace"
    path.write_text(
        "".join(f"{c} R 0x{64 * i:x}\n" for i, c in enumerate(range(0, 5_000_000, 1_000_000)))
    )
    sim = DOMAIN.simulator(arch)
    cycles = sim.arrival_cycles(read_trace(path, clock_mhz=1200.0))
    assert cycles.tolist() == [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]
    # another clock converts through nanoseconds: 1000 MHz cycles are 1 ns each
    other = sim.arrival_cycles(read_trace(path, clock_mhz=1000.0))
    assert other[1] == int(np.ceil(1_000_000 / arch.tck_ns))


# ----------------------------------------------------------------------------- bit-list mappings
def test_bit_lists_equal_the_field_order_they_spell():
    arch = load_arch("ddr4_2400")
    rng = np.random.default_rng(0)
    addresses = rng.integers(0, 1 << 33, 5000, dtype=np.uint64) & ~np.uint64(63)
    order = decode(addresses, arch, "RoBaRaCoCh")
    bits = decode(addresses, arch, "Ro[32:17] Ba[16:13] Co[12:6]")
    for key in order:
        assert np.array_equal(order[key], bits[key]), key


def test_xor_bank_hashing_spreads_a_row_stride_over_bank_groups():
    arch = load_arch("ddr4_2400")
    stride = 1 << 17  # one row of every bank: the same bank group under a plain mapping
    addresses = np.arange(64, dtype=np.uint64) * np.uint64(stride)
    plain = "Ro[32:17] Ba[16:15] Bg[14:13] Co[12:6]"
    hashed = plain + " Bg0^17 Bg1^18"
    assert set(decode(addresses, arch, plain)["bank_group"].tolist()) == {0}
    groups = decode(addresses, arch, hashed)["bank_group"]
    assert np.bincount(groups).tolist() == [16, 16, 16, 16]
    fields = {"bank_group": 3, "bank": 2, "row": 12345, "column": 77}
    back = decode(encode(arch, hashed, **fields), arch, hashed)
    assert {k: int(back[k]) for k in fields} == {**fields, "bank": 3 * 4 + 2}


@pytest.mark.parametrize(
    "mapping, message",
    [
        ("Ro[32:18] Ba[16:13] Co[12:6]", "field Ro takes 15 bit.*needs 16"),
        ("Ro[32:17] Ba[16:13] Co[12:5]", "field Co takes 8 bit"),
        ("Ro[32:17] Ba[16:13] Co[11:5]", "bit 5, inside the 64-byte burst offset"),
        ("Ro[32:17] Ba[16:13] Co[12:7,17]", "cannot read"),
        ("Ro[32:17] Ba[16,15,14,17] Co[12:6]", "bit 17 is used by both Ro and Ba"),
        ("Ro[32:17] Ba[16:13] Co[12:6] Ba5^20", "XOR term Ba5\\^20: field Ba has 4 bit"),
        ("Ro[32:17] Ba[16:13] Co[12:6] Ba0^17 Ro0^14", "bit 13 is itself hashed|is itself hashed"),
        ("Ro[17:32] Ba[16:13] Co[12:6]", "MSB first"),
        ("Rx[32:17] Ba[16:13] Co[12:6]", "unknown field 'Rx'"),
    ],
)
def test_bad_bit_lists_name_what_is_wrong(mapping, message):
    from archgym_py.envs.dram import compile_mapping

    with pytest.raises(SpecError, match=message):
        compile_mapping(mapping, load_arch("ddr4_2400"))


def test_a_bit_list_mapping_is_a_design_knob_value():
    arch = load_arch("ddr4_2400")
    sim = DOMAIN.simulator(arch)
    trace = load_workload(
        {"generator": "strided", "n_requests": 2000, "stride": 1 << 17, "rate_gbps": 0}
    )
    plain = sim.evaluate({"address_mapping": ["Ro[32:17] Ba[16:13] Co[12:6]"]}, trace)
    hashed = sim.evaluate(
        {"address_mapping": ["Ro[32:17] Ba[16:13] Co[12:6] Ba0^17 Ba1^18"]}, trace
    )
    # the stride hits one bank under the plain mapping, four banks hashed: faster
    assert hashed.metrics["bandwidth_bps"][0] > 2 * plain.metrics["bandwidth_bps"][0]


def test_trace_features_are_the_hand_counted_statistics():
    from archgym_py.envs.dram import Trace

    # four requests 64 B apart in one 8 KiB page, then a jump to another page; one write
    trace = Trace("t", time_ns=[0.0, 10.0, 20.0, 30.0, 40.0],
                  address=[0, 64, 128, 192, 1 << 20], is_write=[0, 0, 1, 0, 0])  # fmt: skip
    f = trace.features()
    assert f["read_fraction"] == 0.8
    assert f["log2_rate_gbps"] == pytest.approx(np.log2(5 * 64 / 40.0))  # bytes per ns = GB/s
    assert f["page_locality"] == 0.6  # requests 2-4 revisit the first page; 1 and 5 open one
    assert f["stride_regularity"] == 0.75  # three of the four deltas are the commonest, 64
    assert f["log2_footprint_pages"] == 1.0  # two distinct 4 KiB pages
    assert f["burstiness"] == 0.0 and f["log2_requests"] == pytest.approx(np.log2(5))
