"""Shared fixtures."""

from __future__ import annotations

import pytest

import archgym_py  # noqa: F401  (registers the envs)


@pytest.fixture
def acc_env():
    import gymnasium as gym

    env = gym.make("archgym/Accelerator-v0")
    yield env
    env.close()
