"""Package discovery for the one import root (pyproject.toml holds everything else).

``envs/``, ``agents/`` and ``arch_specs/`` install as ``archgym_py.envs``, ``archgym_py.agents``
and ``archgym_py.arch_specs``; every subpackage under them is found here, so a new domain folder
(with an ``__init__.py``) is packaged without editing a list.
"""

from setuptools import find_packages, setup

ROOTS = {
    "archgym_py": "archgym_py",
    "archgym_py.envs": "envs",
    "archgym_py.agents": "agents",
    "archgym_py.arch_specs": "arch_specs",
}

packages = []
for package, folder in ROOTS.items():
    packages += [package] + [f"{package}.{sub}" for sub in find_packages(folder)]
# archgym_py's own subpackages do not include the mapped roots (they are separate folders).
packages = sorted(set(packages))

setup(package_dir=ROOTS, packages=packages)
