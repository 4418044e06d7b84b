"""Every registered archgym env passes the shipped contract (archgym_py.testing)."""

from __future__ import annotations

import pytest

from archgym_py.envs import ENVS
from archgym_py.testing import ENV_CHECKS


@pytest.mark.parametrize("check", ENV_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_env_contract(env_id, check):
    check(env_id)
