"""Shared fixtures."""

from __future__ import annotations

import pytest

import archgym_py  # noqa: F401  (registers the envs)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or fill the user's cache (an exact optimum cached by a developer's run
    would hide a regression)."""
    import os

    folder = tmp_path_factory.mktemp("archgym_cache")
    old = os.environ.get("ARCHGYM_CACHE_DIR")
    os.environ["ARCHGYM_CACHE_DIR"] = str(folder)
    yield
    if old is None:
        os.environ.pop("ARCHGYM_CACHE_DIR", None)
    else:
        os.environ["ARCHGYM_CACHE_DIR"] = old


@pytest.fixture
def acc_env():
    import gymnasium as gym

    env = gym.make("archgym/Accelerator-v0")
    yield env
    env.close()
