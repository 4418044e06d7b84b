"""Contract tests that every archgym environment must pass, shipped with the package.

Use them on your own env ids (e.g. a new domain registered by a plugin)::

    import pytest
    from archgym_py.testing import ENV_CHECKS

    @pytest.mark.parametrize("check", ENV_CHECKS, ids=lambda c: c.__name__)
    def test_my_env(check):
        check("archgym/MyDomain-v0")
"""

from __future__ import annotations

from ._agent_contract import (
    check_beats_random,
    check_budget_is_exact,
    check_different_seeds_differ,
    check_invalid_hyperparameters,
    check_same_seed_same_run_in_two_processes,
)
from ._env_contract import (
    ENV_CHECKS,
    check_determinism,
    check_gymnasium_env_checker,
    check_invalid_actions,
    check_replay,
    check_sb3_env_checker,
    check_vector_env_matches,
)

__all__ = [
    "ENV_CHECKS",
    "check_beats_random",
    "check_budget_is_exact",
    "check_different_seeds_differ",
    "check_invalid_hyperparameters",
    "check_same_seed_same_run_in_two_processes",
    "check_determinism",
    "check_gymnasium_env_checker",
    "check_invalid_actions",
    "check_replay",
    "check_sb3_env_checker",
    "check_vector_env_matches",
]
