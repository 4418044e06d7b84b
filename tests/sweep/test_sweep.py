"""Sweeps: spec validation, deterministic cells, resume after kill -9, the report and the CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from archgym_py import ArchGymError, SpecError
from archgym_py.cli import main
from archgym_py.sweep import (
    load_sweep,
    open_store,
    preset_names,
    run_cell,
    run_sweep,
    sweep_from_dict,
)

ENV = "archgym/AcceleratorSmall-v0"


ROOT = Path(__file__).resolve().parents[2]


def spec_dict(**over):
    data = {
        "spec_version": 1, "name": "t", "budget": 40, "seeds": 2,
        "envs": [{"id": ENV, "label": "small", "kwargs": {"workload": "alexnet"}}],
        "agents": [{"name": "random"}, {"name": "ga", "configs": 3}, {"name": "aco", "grid": {"evaporation": [0.1, 0.5]}}],
    }  # fmt: skip
    data.update(over)
    return data


def test_cells_are_deterministic_and_complete():
    spec = sweep_from_dict(spec_dict())
    cells = spec.cells()
    # random: 1 config; ga: defaults + 2 Sobol samples; aco: defaults + 2 grid points; 2 seeds each
    assert len(cells) == (1 + 3 + 3) * 2
    assert [c.id for c in cells] == [c.id for c in sweep_from_dict(spec_dict()).cells()]
    assert len({c.id for c in cells}) == len(cells)
    aco = [c.hyperparameters["evaporation"] for c in cells if c.agent == "aco" and c.seed == 0]
    assert aco == [0.3, 0.1, 0.5]


@pytest.mark.parametrize(
    "over, message",
    [
        ({"budget": 0}, "budget: got 0"),
        ({"seeds": []}, "seeds: got []"),
        ({"agents": [{"name": "gaa"}]}, "unknown agent 'gaa' (did you mean 'ga'?)"),
        ({"agents": [{"name": "ga", "fixed": {"populaton": 8}}]}, "did you mean 'population'?"),
        ({"envs": [{"id": "archgym/Acelerator-v0"}]}, "unknown env id 'archgym/Acelerator-v0'"),
        ({"agents": [{"name": "ga", "sampling": "grid", "configs": 3}]}, "unknown sampling 'grid'"),
        ({"budgets": 3}, "unknown key 'budgets' (did you mean 'budget'?)"),
    ],
)
def test_bad_specs_name_the_field(over, message):
    with pytest.raises(SpecError) as err:
        sweep_from_dict(spec_dict(**over))
    assert message in str(err.value)


def test_shipped_presets_load():
    assert {"quick", "accelerator_full"} <= set(preset_names())
    for name in preset_names():
        assert load_sweep(name).cells()


def test_run_resume_refuses_mixing_and_report(tmp_path):
    spec = sweep_from_dict(spec_dict())
    db = tmp_path / "r.db"
    summary = run_sweep(spec, db, workers=0, progress=False)
    assert summary.ran == len(spec.cells()) and len(open_store(db)) == summary.ran
    with pytest.raises(ArchGymError, match="pass --resume"):
        run_sweep(spec, db, workers=0, progress=False)
    again = run_sweep(spec, db, workers=0, progress=False, resume=True)
    assert again.ran == 0 and again.already_done == len(spec.cells())
    from archgym_py.sweep._report import write_report

    path = write_report(db, tmp_path / "report", reps=200)
    text = path.read_text()
    assert "Hyperparameter lottery report" in text and "data:image/png;base64," in text
    for name in ("runs.csv", "summary.csv", "aggregate.csv", "lottery.png", "report.md"):
        assert (tmp_path / "report" / name).exists()


def test_report_spec_filter_drops_cells_of_other_sweeps(tmp_path):
    from archgym_py.sweep._report import write_report

    db = tmp_path / "r.db"
    old = sweep_from_dict(spec_dict(agents=[{"name": "random"}]))
    new = sweep_from_dict(spec_dict(agents=[{"name": "ga"}]))
    run_sweep(old, db, workers=0, progress=False)
    run_sweep(new, db, workers=0, progress=False, resume=True)
    out = tmp_path / "rep"
    write_report(db, out, spec=new, reps=100)
    agents = {line.split(",")[1] for line in (out / "runs.csv").read_text().splitlines()[1:]}
    assert agents == {"ga"}
    assert (
        main(["report", str(db), "-o", str(tmp_path / "all"), "--spec", "quick"]) == 2
    )  # no quick cells


def _cell_count(db):
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_kill_9_then_resume_runs_every_cell_exactly_once(tmp_path, monkeypatch):
    # The first three cells run at once; the other three wait at a gate (tests/sweep/gate_agent.py)
    # that stays shut until the kill, so the kill lands mid-sweep on any machine.
    gate = tmp_path / "gate"
    monkeypatch.setenv("ARCHGYM_TEST_GATE", str(gate))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the CLI's workers import tests.sweep.gate_agent
    agent = {"name": "tests.sweep.gate_agent:GateAgent", "grid": {"hold": [0, 1]},
             "include_default": False}  # fmt: skip
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec_dict(budget=20, seeds=3, agents=[agent])))
    spec = load_sweep(spec_path)
    free = [c for c in spec.cells() if c.hyperparameters["hold"] == 0]
    assert len(free) == 3 and len(spec.cells()) == 6
    db = tmp_path / "killed.db"
    cmd = [sys.executable, "-m", "archgym_py.cli", "sweep", str(spec_path), "-o", str(db),
           "--workers", "2", "-q"]  # fmt: skip
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 120
    while _cell_count(db) < len(free) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # still waiting at the gate
    os.killpg(proc.pid, signal.SIGKILL)  # the whole sweep: parent and workers, no cleanup
    proc.wait()
    proc.stderr.close()
    store = open_store(db)
    assert sorted(c["cell_id"] for c in store.cells()) == sorted(c.id for c in free)
    gate.touch()
    assert main(["sweep", str(spec_path), "-o", str(db), "--workers", "2", "--resume", "-q"]) == 0
    cells = open_store(db).cells()
    assert sorted(c["cell_id"] for c in cells) == sorted(c.id for c in spec.cells())  # each once
    # A resumed cell equals the same cell run from scratch.
    again = run_cell(spec.cells()[-1].to_dict() | {"sweep": spec.name})
    stored = next(c for c in cells if c["cell_id"] == again["cell_id"])
    assert (stored["best_reward"], stored["best_design"]) == (
        again["best_reward"],
        again["best_design"],
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_stops_the_workers_and_keeps_the_stored_cells(tmp_path, monkeypatch, sig):
    # Issue 17: Ctrl-C printed a traceback after 12-17 s; SIGTERM left the workers running.
    gate = tmp_path / "gate"  # never opened: the held cells run until the signal
    monkeypatch.setenv("ARCHGYM_TEST_GATE", str(gate))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    agent = {
        "name": "tests.sweep.gate_agent:GateAgent",
        "grid": {"hold": [0, 1]},
        "include_default": False,
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec_dict(budget=20, seeds=3, agents=[agent])))
    db = tmp_path / "stopped.db"
    proc = subprocess.Popen([sys.executable, "-m", "archgym_py.cli", "sweep", str(spec_path), "-o", str(db),
                             "--workers", "2", "-q"], start_new_session=True, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 120
    while _cell_count(db) < 3 and time.time() < deadline:
        time.sleep(0.05)
    children = subprocess.run(
        ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert children, "the sweep's workers should be running"
    start = time.time()
    proc.send_signal(sig)
    err = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == 130 and time.time() - start < 10, err
    assert "interrupted: 3 of 6 cells of 't' are stored" in err and "--resume" in err
    assert "Traceback" not in err
    time.sleep(0.2)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert alive == [], f"orphan workers {alive}"


def test_a_cell_with_a_nan_reward_fails_loudly_and_the_others_are_kept(tmp_path):
    # Issue 15: SQLite stored NaN as NULL, INSERT OR IGNORE skipped the row and the sweep said
    # "12 cells, 12 run" with 6 stored.
    agents = [{"name": "random"}, {"name": "tests.sweep.gate_agent:NaNAgent"}]
    spec = sweep_from_dict(spec_dict(budget=10, seeds=2, agents=agents))
    db = tmp_path / "nan.db"
    with pytest.raises(ArchGymError, match=r"2 cells failed .*best reward is nan"):
        run_sweep(spec, db, workers=0, progress=False)
    assert {c["agent"] for c in open_store(db).cells()} == {"random"} and len(open_store(db)) == 2


def test_a_sweep_writes_into_a_folder_that_does_not_exist_yet(tmp_path):
    # `archgym demo` writes archgym-demo/results.db: the lock beside it needs the folder first.
    db = tmp_path / "new" / "folder" / "r.db"
    spec = sweep_from_dict(spec_dict(seeds=1, budget=5))
    run_sweep(spec, db, workers=0, progress=False)
    assert len(open_store(db)) == len(spec.cells()) == 7


def test_a_second_sweep_on_the_same_results_file_is_refused(tmp_path):
    # Issue 15: two --resume processes on one file both ran the missing cells.
    import fcntl

    db = tmp_path / "busy.db"
    with open(f"{db}.lock", "a") as held:  # as a running sweep holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ArchGymError, match="another sweep is writing this file"):
            run_sweep(sweep_from_dict(spec_dict(seeds=1)), db, workers=0, progress=False)
    assert not db.exists() or len(open_store(db)) == 0


def test_a_lock_released_moments_later_is_waited_for_not_refused(tmp_path):
    # The workers of a sweep killed with kill -9 exit a moment after it: a --resume right away
    # waits for them (a few seconds of patience) instead of refusing.
    import fcntl
    import threading

    from archgym_py._lock import file_lock

    path = tmp_path / "r.db"
    held = open(f"{path}.lock", "a")
    fcntl.flock(held, fcntl.LOCK_EX)
    threading.Timer(0.3, held.close).start()  # closing releases the lock
    with file_lock(path, wait=False, patience_s=5.0):
        pass
    with open(f"{path}.lock", "a") as again:
        fcntl.flock(again, fcntl.LOCK_EX)
        with pytest.raises(BlockingIOError), file_lock(path, wait=False, patience_s=0.2):
            pass


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seeds": [1, 1]}, r"seeds \[1\] are repeated"),
        (
            {
                "envs": [
                    {"id": "archgym/AcceleratorSmall-v0", "label": "a"},
                    {"id": "archgym/AcceleratorSmall-v0", "label": "b"},
                ]
            },  # fmt: skip
            "env 'b' runs the same cells as 'a'",
        ),
        ({"agents": [{"name": "random"}, {"name": "random"}]}, "'random' is listed twice"),
        ({"name": "../escaped"}, r"name: got '../escaped'; expected a plain name"),
        ({"envs": [{"id": ENV, "kwargs": {"spec": "other.yaml"}}]}, "kwargs: unknown key 'spec'"),
        (
            {"envs": [{"id": ENV, "kwargs": {"trace": "../x/t.csv"}}]},
            "kwargs.trace: got '../x/t.csv'; expected a relative path",
        ),
        (
            {"envs": [{"id": ENV, "kwargs": {"trace": "/tmp/t.csv"}}]},
            "kwargs.trace: got '/tmp/t.csv'",
        ),
        (
            {"agents": [{"name": "ga", "configs": 1_000_000}]},
            r"configs: got 1000000; expected an integer in \[1, 10,000\]",
        ),
    ],
)
def test_cells_that_would_collapse_into_one_are_refused(change, message):
    # Issue 15: identical cells ran twice and were stored once; a label vanished from the report.
    with pytest.raises(SpecError, match=message):
        sweep_from_dict(spec_dict(**change))


def test_the_report_escapes_labels_and_spreadsheet_formulas(tmp_path):
    # Issue 15: report.md wrote user labels raw; CSV cells starting with = ran as formulas.
    import csv

    from archgym_py.sweep._report import write_report

    label = "=cmd|<script>alert(1)</script>"
    spec = sweep_from_dict(spec_dict(budget=10, seeds=2, agents=[{"name": "random"}, {"name": "ga"}],
                                     envs=[{"id": ENV, "label": label}]))  # fmt: skip
    db = tmp_path / "r.db"
    run_sweep(spec, db, workers=0, progress=False)
    out = write_report(db, tmp_path / "report", reps=50, spec=spec).parent
    md = (out / "report.md").read_text()
    assert "<script>" not in md and "=cmd\\|&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "<script>" not in (out / "report.html").read_text()
    with open(out / "runs.csv", newline="") as fh:
        labels = {row["env_label"] for row in csv.DictReader(fh)}
    assert labels == {"'" + label}  # a spreadsheet shows the text instead of running it


def test_cli_report_and_demo_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path / "none.db"), "-o", str(tmp_path / "r")]) == 2
    assert "does not exist (run the sweep first)" in capsys.readouterr().err
    assert main(["sweep", "quik"]) == 2
    assert "did you mean 'quick'?" in capsys.readouterr().err


def test_sweep_on_a_dask_cluster(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="the dask extra (distributed) is not installed"
    )
    spec = sweep_from_dict(
        spec_dict(seeds=2, agents=[{"name": "random"}, {"name": "ga", "configs": 2}])
    )
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        summary = run_sweep(
            spec, tmp_path / "dask.db", executor=client.get_executor(), progress=False
        )
    assert summary.ran == len(spec.cells()) == 6
    local = run_sweep(spec, tmp_path / "local.db", workers=0, progress=False)
    assert local.ran == 6
    by_id = {c["cell_id"]: c["best_reward"] for c in open_store(tmp_path / "local.db").cells()}
    assert {
        c["cell_id"]: c["best_reward"] for c in open_store(tmp_path / "dask.db").cells()
    } == by_id


def test_demo_runs_the_quick_lottery_and_writes_the_report(tmp_path, monkeypatch, capsys):
    # The real preset takes ~2 minutes; here the same command runs a two-env, four-family miniature.
    import archgym_py.sweep as sweep_pkg

    tiny = sweep_from_dict(spec_dict(
        budget=30, seeds=2,
        envs=[{"id": ENV, "label": "a", "kwargs": {"workload": "alexnet"}},
              {"id": ENV, "label": "b", "kwargs": {"workload": "bert_base_layer"}}],
        agents=[{"name": "random"}, {"name": "ga", "configs": 2}, {"name": "aco", "configs": 2},
                {"name": "tpe", "configs": 2}, {"name": "nsga2"}],
    ))  # fmt: skip
    monkeypatch.setattr(sweep_pkg, "load_sweep", lambda name: tiny)
    assert main(["demo", "-o", str(tmp_path), "--workers", "0", "-q"]) == 0
    assert "report:" in capsys.readouterr().out
    html = (tmp_path / "report.html").read_text()
    for fig in (
        "lottery",
        "iqm",
        "profiles",
        "best_of_k",
        "variance",
        "convergence",
        "improvement",
        "pareto",
    ):
        assert f"alt='{fig}'" in html, fig
    assert len(open_store(tmp_path / "results.db")) == len(tiny.cells())


def test_the_report_renders_in_a_real_browser_without_overflow(tmp_path, capsys):
    # Issue 17: the per-env table overflowed a 1400 px page. Headless Chromium (Debian's package;
    # .ci/run installs it) loads the report; the page measures itself.
    from archgym_py.sweep._report import write_report
    from tests.sweep.browser import chromium, measure

    if chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    spec = sweep_from_dict(spec_dict(budget=20, seeds=2))
    db = tmp_path / "r.db"
    run_sweep(spec, db, workers=0, progress=False)
    report = write_report(db, tmp_path / "report", reps=50, spec=spec)
    shot = Path(os.environ.get("ARCHGYM_ARTIFACTS", tmp_path)) / "report-1400px.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page = measure(report, shot, width=1400)
    with capsys.disabled():
        print(f"\nreport screenshot: {shot}")
    figures = len(list(report.parent.glob("*.png")))
    assert page["images"] == figures and page["broken"] == 0, page
    assert page["scroll_width"] <= page["width"] and page["cut_tables"] == 0, page
    assert shot.stat().st_size > 10_000
