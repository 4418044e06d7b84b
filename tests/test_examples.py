"""The example scripts run (at small sizes) and print what they promise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        ("random_search", {"steps": 50}, "best reward"),
        ("optuna_design_study", {"n_trials": 15}, "best reward"),
        ("optuna_multiobjective", {"n_trials": 40}, "Pareto front"),
        ("ppo_accelerator", {"steps": 256}, "best reward"),
        ("surrogate_search", {"n_train": 200, "n_candidates": 2000}, "best reward"),
    ],
)
def test_example_runs(name, kwargs, expected, capsys):
    _load(name).main(**kwargs)
    assert expected in capsys.readouterr().out


def test_custom_workload_yaml_evaluates():
    import gymnasium as gym

    env = gym.make("archgym/Accelerator-v0", workload=str(EXAMPLES / "custom_workload.yaml"))
    _, info = env.reset(seed=0)
    assert env.unwrapped.workload.name == "tiny_cnn" and info["metrics"]["latency_s"] > 0
    # MACs by hand: stem 32x32 outputs x 32 x 27, depthwise 32 x 1024 x 9, pointwise 2 x 1024 x 64
    # x 32, attention 4 x 64 x 64 x 16, head 10 x 64.
    assert env.unwrapped.workload.macs == 884_736 + 294_912 + 4_194_304 + 262_144 + 640
