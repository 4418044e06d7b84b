"""TraceStore: CSV and Parquet appends, concurrent writers, column checks."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from archgym_py import ArchGymError, TraceStore


def _batch(n, offset=0):
    return ({"a": np.arange(offset, offset + n), "df": np.array(["WS"] * n)},
            {"latency_s": np.linspace(1, 2, n)}, np.ones(n, dtype=bool))  # fmt: skip


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_append_and_read(tmp_path, suffix):
    store = TraceStore(
        tmp_path / f"t{suffix}", meta={"simulator_version": "v1", "space_hash": "abc"}
    )
    for i in range(3):
        batch, metrics, feasible = _batch(4, offset=4 * i)
        store.append(batch, metrics, feasible, workload="w", wall_time_s=0.004)
    data = store.read()
    assert sorted(data["a"].tolist()) == list(range(12))
    assert data["feasible"].all() and set(data["df"].tolist()) == {"WS"}
    assert np.allclose(data["wall_time_s"], 0.001) and set(data["simulator_version"].tolist()) == {
        "v1"
    }
    assert len(store) == 12


def _writer(path, offset):
    store = TraceStore(path)
    for i in range(50):
        batch, metrics, feasible = _batch(3, offset=offset + 3 * i)
        store.append(batch, metrics, feasible, workload="w", wall_time_s=0.0)


def test_concurrent_csv_writers_never_interleave(tmp_path):
    path = tmp_path / "shared.csv"
    procs = [
        mp.get_context("spawn").Process(target=_writer, args=(path, k * 1000)) for k in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    data = TraceStore(path).read()
    assert sorted(data["a"].tolist()) == sorted(list(range(150)) + list(range(1000, 1150)))
    assert path.read_text().count("a,df,latency_s") == 1  # one header


def test_mismatched_columns_are_refused(tmp_path):
    store = TraceStore(tmp_path / "t.csv")
    batch, metrics, feasible = _batch(2)
    store.append(batch, metrics, feasible, workload="w", wall_time_s=0.0)
    with pytest.raises(ArchGymError, match="do not match the file's"):
        store.append({"b": np.arange(2)}, metrics, feasible, workload="w", wall_time_s=0.0)


def test_bad_suffix():
    with pytest.raises(ArchGymError, match="expected a .csv or .parquet path"):
        TraceStore("trace.txt")


def test_a_truncated_csv_trace_is_a_typed_error(tmp_path):
    # Issue 15: a truncated trace broke `surrogate fit` with an IndexError.
    import archgym_py
    from archgym_py import ArchGymError, TraceStore

    path = tmp_path / "t.csv"
    core = archgym_py.make_core("archgym/AcceleratorSmall-v0", trace=str(path))
    core.evaluate(core.space.sample(20, seed=0))
    text = path.read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: len(text) // 2])
    lines = cut.read_text().count("\n") + 1
    with pytest.raises(
        ArchGymError, match=rf"cut.csv':{lines}: \d+ fields where the header has \d+"
    ):
        TraceStore(cut).read()
