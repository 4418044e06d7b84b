"""Small, fast data for surrogate tests: the enumerable accelerator env (3,500 designs)."""

from __future__ import annotations

import pytest

from archgym_py import make_core
from archgym_py.surrogate import dataset_from_env


@pytest.fixture(scope="session")
def small_core():
    return make_core("archgym/AcceleratorSmall-v0")


@pytest.fixture(scope="session")
def small_data(small_core):
    return dataset_from_env(small_core, 1200, seed=0, method="uniform")
