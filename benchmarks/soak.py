"""Soak test of the sweep's durability: kills, a full disk and two writers on one results file.

Run: ``python benchmarks/soak.py`` (``--kills N``, default 10; ``--quick`` for 3).

Every scenario ends with the results file compared against a clean, uninterrupted run of the same
sweep, and prints three counts that must all be 0: cells **lost** (in the spec, not stored),
**duplicated** (stored twice) and **different** (stored with another best reward or design than
the clean run gives: a resumed cell must equal the cell run from scratch).

1. ``kill -9``: the sweep (parent and workers) is killed at a random moment, then resumed, N times.
2. Full disk: the sweep runs with a file-size limit (``RLIMIT_FSIZE``) its results cannot fit
   under; it must fail loudly (non-zero exit), then ``--resume`` without the limit completes.
3. Two writers: two ``--resume`` processes start at once on one file; one must be refused.
4. Ctrl-C: SIGINT during a 4,096-design DRAM batch; prints how long the process takes to go.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SPEC = {
    "spec_version": 1, "name": "soak", "budget": 1500, "seeds": 6,
    "envs": [{"id": "archgym/AcceleratorSmall-v0", "label": "small", "kwargs": {"workload": "alexnet"}}],
    "agents": [{"name": "random_walk", "configs": 3}, {"name": "ga", "configs": 3}, {"name": "random"}],
}  # fmt: skip


def _sweep(spec: Path, db: Path, *extra: str, preexec=None) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "archgym_py.cli",
        "sweep",
        str(spec),
        "-o",
        str(db),
        "--workers",
        "2",
        "-q",
        *extra,
    ]
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=preexec)  # fmt: skip


def _finish(spec: Path, db: Path, *extra: str) -> None:
    """Run a sweep to its end (its output is not needed)."""
    proc = _sweep(spec, db, *extra)
    proc.wait()
    proc.stderr.close()


def _rows(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute("SELECT cell_id, best_reward, best_design FROM cells").fetchall()
    except sqlite3.OperationalError:  # the file was never given its tables
        return []


def _compare(db: Path, reference: Path) -> tuple[int, int, int]:
    rows, ref = _rows(db), {r[0]: r[1:] for r in _rows(reference)}
    ids = [r[0] for r in rows]
    lost = len(set(ref) - set(ids))
    duplicated = len(ids) - len(set(ids))
    different = sum(1 for r in rows if r[0] in ref and ref[r[0]] != r[1:])
    return lost, duplicated, different


def kills(spec: Path, reference: Path, folder: Path, n: int) -> tuple[int, int, int]:
    db = folder / "killed.db"
    rng = random.Random(0)
    for i in range(n):
        proc = _sweep(spec, db, *(["--resume"] if db.exists() else []))
        time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        print(f"  kill {i + 1}: {len(_rows(db))} cells stored")
    _finish(spec, db, "--resume")
    return _compare(db, reference)


def full_disk(spec: Path, reference: Path, folder: Path) -> tuple[int, int, int]:
    db = folder / "full.db"

    def limit():  # a results file cannot grow past 64 KiB; writes then fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = _sweep(spec, db, preexec=limit)
    err = proc.communicate()[1].decode()
    print(f"  with the limit: exit {proc.returncode}, {len(_rows(db))} cells stored; "
          f"{err.strip().splitlines()[-1][:120] if err.strip() else 'no message'}")  # fmt: skip
    assert proc.returncode != 0, "a sweep that could not store its cells exited 0"
    _finish(spec, db, "--resume")
    return _compare(db, reference)


def two_writers(spec: Path, reference: Path, folder: Path) -> tuple[int, int, int]:
    db = folder / "two.db"
    _finish(spec, db)  # a complete file, then drop half its cells so there is work to race for
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM cells WHERE rowid % 2 = 0")
    a, b = _sweep(spec, db, "--resume"), _sweep(spec, db, "--resume")
    errs = [p.communicate()[1].decode() for p in (a, b)]
    refused = sum("another sweep is writing" in e for e in errs)
    print(f"  exits {a.returncode} and {b.returncode}; refused: {refused} of 2")
    return _compare(db, reference)


_BATCH = """
import time, gymnasium as gym, archgym_py
core = gym.make("archgym/DRAM-v0").unwrapped.core
designs = core.space.sample(4096, seed=0)
print("start", flush=True)
core.simulator.evaluate(designs, core.workload)
"""


def ctrl_c() -> float:
    proc = subprocess.Popen(
        [sys.executable, "-c", _BATCH], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    proc.stdout.readline()
    time.sleep(1.5)
    start = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    proc.wait()
    proc.stdout.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 3 if args.quick else args.kills
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec = folder / "soak.yaml"
        spec.write_text(yaml.safe_dump(SPEC))
        reference = folder / "reference.db"
        start = time.perf_counter()
        _finish(spec, reference)
        print(f"clean run: {len(_rows(reference))} cells in {time.perf_counter() - start:.1f} s")
        print(f"{'scenario':<12} {'lost':>5} {'duplicated':>11} {'different':>10}")
        results = {}
        print(f"kill -9 x {n}:")
        results["kill -9"] = kills(spec, reference, folder, n)
        print("full disk:")
        results["full disk"] = full_disk(spec, reference, folder)
        print("two writers:")
        results["two writers"] = two_writers(spec, reference, folder)
        print(
            f"Ctrl-C during a 4,096-design DRAM batch: the process is gone {ctrl_c():.2f} s later"
        )
        print(f"\n{'scenario':<12} {'lost':>5} {'duplicated':>11} {'different':>10}")
        for name, (lost, dup, diff) in results.items():
            print(f"{name:<12} {lost:>5} {dup:>11} {diff:>10}")


if __name__ == "__main__":
    main()
