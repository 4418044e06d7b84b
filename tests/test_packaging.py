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
