"""The package layout (top-level folders mapped into one import root) and import hygiene."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import archgym_py

ROOT = Path(__file__).resolve().parents[1]


def test_package_dir_mapping_resolves():
    import archgym_py.agents
    import archgym_py.arch_specs
    import archgym_py.envs
    import archgym_py.envs.accelerator

    assert Path(archgym_py.envs.__file__).resolve().parent == ROOT / "envs"
    assert (
        Path(archgym_py.envs.accelerator.__file__).resolve().parent == ROOT / "envs" / "accelerator"
    )
    assert Path(archgym_py.agents.__file__).resolve().parent == ROOT / "agents"
    assert Path(archgym_py.arch_specs.__file__).resolve().parent == ROOT / "arch_specs"


def test_no_generic_top_level_modules_are_importable():
    # The wheel installs only archgym_py; `envs`/`agents` must not resolve to this project.
    code = "import importlib.util as u; print(u.find_spec('envs'), u.find_spec('agents'))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True
    )
    for found in out.stdout.split():
        assert str(ROOT) not in found


def test_import_loads_no_torch_sb3_or_optuna():
    code = (
        "import sys, archgym_py, gymnasium as gym; gym.make('archgym/Accelerator-v0').reset(seed=0);"
        "print(sorted(m for m in ('torch', 'stable_baselines3', 'optuna', 'dask', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_absolute_envs_or_agents_imports():
    # `envs` and `agents` are names taken on PyPI: inside the project, import relatively or through archgym_py.
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(envs|agents)(\.|\s|$)", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for folder in ("archgym_py", "envs", "agents", "tests", "benchmarks")
                 for p in (ROOT / folder).rglob("*.py") if pattern.search(p.read_text())]  # fmt: skip
    assert offenders == []


def test_public_api_is_exported():
    for name in archgym_py.__all__:
        assert hasattr(archgym_py, name), name


_IMPORT_EVERY_DOMAIN = """
import sys, archgym_py
from pathlib import Path
from archgym_py import load_env_spec
from archgym_py._env import resolve_spec
from archgym_py.envs import ENVS
assert Path(archgym_py.__file__).is_relative_to(sys.argv[1]), archgym_py.__file__
for env_id, spec in ENVS.items():
    resolve_spec(spec).domain.load_arch(resolve_spec(spec).default_arch)
from archgym_py.envs.workloads import load_model, model_names
assert len(model_names()) >= 8, model_names()
from archgym_py.agents import AGENTS
from archgym_py._agent import agent_class
for name in AGENTS:
    agent_class(name)
from archgym_py.surrogate import shipped_surrogate_dir
for env_id in ENVS:
    assert (shipped_surrogate_dir(env_id) / "model.json").exists(), env_id
print(len(ENVS), "envs")
"""


def test_the_wheel_holds_every_domain_spec_and_agent(tmp_path):
    # Build the wheel as pip would, from a clean copy of the project's files (no stale build/),
    # and import from it alone: a module or a data file that packaging forgets fails here.
    import shutil
    import sysconfig
    import zipfile

    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    src = tmp_path / "src"
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, capture_output=True)  # fmt: skip
    (wheel,) = tmp_path.glob("archgym_py-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # -S: no site hooks, so the editable install's finder cannot serve this checkout instead.
    path = f"{site}:{sysconfig.get_paths()['purelib']}:{sysconfig.get_paths()['platlib']}"
    out = subprocess.run([sys.executable, "-S", "-c", _IMPORT_EVERY_DOMAIN, str(site)], cwd=tmp_path,
                         env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"}, capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == f"{len(archgym_py.ENVS)} envs"


def test_a_missing_extra_names_it(monkeypatch):
    import pytest

    from archgym_py._imports import optional_import

    monkeypatch.setitem(sys.modules, "stable_baselines3", None)  # import fails as if not installed
    with pytest.raises(
        ImportError, match=r"RL agents needs stable_baselines3: pip install 'archgym_py\[rl\]'"
    ):
        optional_import("stable_baselines3", "RL agents")
