"""archgym_py.optuna: objectives over design points, tuning the tuner, and shared storages
(a journal file, and a real PostgreSQL server started here on loopback), each with two workers."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import optuna
import pytest

import archgym_py
from archgym_py import ArchGymError
from archgym_py.optuna import create_study, storage, tune_agent

ENV = "archgym/AcceleratorSmall-v0"

WORKER = (
    "import sys, optuna, archgym_py; from archgym_py.optuna import create_study;"
    "study, obj = create_study(sys.argv[1], storage_url=sys.argv[2], study_name='shared',"
    " sampler=optuna.samplers.RandomSampler(seed=int(sys.argv[3])));"
    "study.optimize(obj, n_trials=6)"
)


def _two_workers(url: str) -> None:
    # Create the study (and an RDB's schema) once, then start the workers: two processes creating
    # a fresh schema at the same instant race in SQLAlchemy.
    optuna.create_study(study_name="shared", storage=storage(url), load_if_exists=True)
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, ENV, url, str(seed)]) for seed in (1, 2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0


def test_single_objective_study_matches_the_env():
    study, obj = create_study(ENV, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(obj, n_trials=20)
    best = study.best_trial
    core = archgym_py.make_agent("random", ENV).core
    design = core.space.from_optuna_params(best.params)
    _, reward, _, _ = core.evaluate(core.space.batch([design]))
    assert best.value == pytest.approx(float(reward[0]))
    assert set(best.user_attrs) >= {
        "latency_s",
        "energy_j",
        "area_mm2",
        "feasible",
        "constraint_names",
    }
    assert best.user_attrs["latency_s"] == pytest.approx(
        core.evaluate(core.space.batch([design]))[0].row(0)["latency_s"]
    )


def test_multi_objective_study_with_constraints():
    study, obj = create_study(
        ENV, multi_objective=True, sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=8)
    )
    assert obj.directions == ["minimize", "minimize"]
    study.optimize(obj, n_trials=32)
    front = study.best_trials
    assert front and all(
        t.user_attrs["feasible"] for t in front
    )  # infeasible trials never make the front


def test_tune_agent_runs_one_cell_per_seed():
    study = tune_agent(
        "ga",
        ENV,
        budget=40,
        seeds=(0, 1),
        n_trials=3,
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert done and all(len(t.user_attrs["rewards"]) == 2 for t in done)
    assert all(t.value == pytest.approx(sum(t.user_attrs["rewards"]) / 2) for t in done)


def test_storage_errors():
    with pytest.raises(ArchGymError, match="expected an RDB URL"):
        storage("study.txt")
    assert storage(None) is None


def test_journal_storage_with_two_processes(tmp_path):
    path = tmp_path / "study.journal"
    _two_workers(str(path))
    study = optuna.load_study(study_name="shared", storage=storage(path))
    assert len(study.trials) == 12


def test_fresh_sqlite_storage_with_four_workers_starting_at_once(tmp_path):
    # Issue 15: on a fresh SQLite URL, two workers creating the schema at the same instant
    # crashed one of them (IntegrityError on alembic_version) in 2 of 4 tries, losing its trials.
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, ENV, url, str(seed)], stderr=subprocess.PIPE)
             for seed in range(4)]  # fmt: skip
    errors = [p.communicate(timeout=180)[1].decode()[-1500:] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert len(optuna.load_study(study_name="shared", storage=url).trials) == 24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url():
    initdb = shutil.which("initdb") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), None
    )
    if initdb is None:
        pytest.skip(
            "PostgreSQL server binaries are not installed (.ci/run installs Debian's postgresql)"
        )
    pytest.importorskip("psycopg2", reason="the postgres extra (psycopg2-binary) is not installed")
    bindir = os.path.dirname(os.path.realpath(initdb))
    run_as = []
    root = tempfile.mkdtemp(prefix="archgym-pg-", dir="/tmp")
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        if (
            shutil.which("runuser") is None
            or subprocess.run(["id", "postgres"], capture_output=True).returncode
        ):
            pytest.skip("running as root without a 'postgres' user to start the server as")
        shutil.chown(root, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), _free_port()
    subprocess.run([*run_as, f"{bindir}/initdb", "-D", data, "-U", "archgym", "--auth=trust"], check=True,
                   capture_output=True)  # fmt: skip
    server = subprocess.Popen([*run_as, f"{bindir}/postgres", "-D", data, "-p", str(port), "-h", "127.0.0.1",
                               "-k", root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    import psycopg2

    try:
        for _ in range(100):
            try:
                conn = psycopg2.connect(
                    host="127.0.0.1", port=port, user="archgym", dbname="postgres"
                )
                break
            except psycopg2.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail("PostgreSQL did not start")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE optuna")
        conn.close()
        yield f"postgresql+psycopg2://archgym@127.0.0.1:{port}/optuna"
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_storage_with_two_workers(postgres_url):
    _two_workers(postgres_url)
    # optuna-dashboard opens a storage URL with optuna.storages.get_storage, as here.
    rdb = optuna.storages.get_storage(postgres_url)
    studies = rdb.get_all_studies()
    assert [s.study_name for s in studies] == ["shared"]
    study = optuna.load_study(study_name="shared", storage=postgres_url)
    assert len(study.trials) == 12 and all(
        t.state == optuna.trial.TrialState.COMPLETE for t in study.trials
    )


def test_optuna_dashboard_reads_constraints_metric_names_params_and_attrs(tmp_path):
    # Issue 17: the dashboard (the real client, through its HTTP API) showed constraints [] for
    # every trial, "Objective 0/1", parameters as log2_glb_kib: 10 and one unplottable dict.
    import io
    import wsgiref.util

    optuna_dashboard = pytest.importorskip(
        "optuna_dashboard", reason="optuna-dashboard is a test extra"
    )
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study, obj = create_study("archgym/Accelerator-v0", multi_objective=True, storage_url=url, study_name="s",
                              sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=8))  # fmt: skip
    study.optimize(obj, n_trials=24)
    app = optuna_dashboard.wsgi(url)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/api/studies/{study._study_id}",
        "wsgi.input": io.BytesIO(),
    }
    wsgiref.util.setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    assert status[0].startswith("200"), status
    detail = json.loads(body)
    assert detail["objective_names"] == ["latency_s", "energy_j"]
    trials = detail["trials"]
    assert all(len(t["constraints"]) == 2 for t in trials)
    infeasible = [t for t in trials if any(c > 0 for c in t["constraints"])]
    assert infeasible, "the 4 mm^2 / 2 W budgets should rule some random designs out"
    # Optuna's own front and the dashboard agree: no front trial breaks a constraint.
    front = {t.number for t in study.best_trials}
    assert all(all(c <= 0 for c in t["constraints"]) for t in trials if t["number"] in front)
    params = {p["name"]: p["param_external_value"] for p in trials[0]["params"]}
    assert "glb_kib" in params and "log2_glb_kib" not in params
    design = study.trials[0].params
    assert (
        str(design["glb_kib"]) == params["glb_kib"]
        and design["glb_kib"] in obj.space["glb_kib"].choices
    )
    attrs = {a["key"]: a["value"] for a in trials[0]["user_attrs"]}
    assert {"latency_s", "energy_j", "area_mm2", "power_w"} <= set(attrs)
    float(attrs["latency_s"])  # a number the dashboard can sort and plot
