"""Every docstring example in the installed package runs and is true (imported by module name, so
``envs/`` and ``agents/`` run as ``archgym_py.envs`` and ``archgym_py.agents``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

#: The import roots (pyproject's package-dir maps envs/ and agents/ under archgym_py; an
#: editable install does not show them inside archgym_py's own folder).
ROOTS = ("archgym_py", "archgym_py.envs", "archgym_py.agents")


def _modules() -> list[str]:
    names = set(ROOTS)
    for root in ROOTS:
        package = importlib.import_module(root)
        names |= {m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{root}.")}
    return sorted(n for n in names if not n.startswith("archgym_py.arch_specs"))


MODULES = _modules()


def test_the_walk_finds_every_layer_of_the_package():
    assert {"archgym_py._space", "archgym_py.envs.workloads.transformer",
            "archgym_py.agents.genetic", "archgym_py.surrogate"} <= set(MODULES)  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
