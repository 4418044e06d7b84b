"""One way to import an optional dependency: loaded where it is used, never at
``import archgym_py``, with an ImportError that names the extra to install.

Example:
    >>> from archgym_py._imports import optional_import
    >>> optional_import("numpy", "arrays").__name__
    'numpy'
"""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType

#: Top-level module -> the extra of ``pyproject.toml`` that installs it.
EXTRAS = {
    "stable_baselines3": "rl",
    "torch": "rl",
    "distributed": "dask",
    "pyarrow": "parquet",
    "psycopg2": "postgres",
    "zigzag": "fidelity",
    "onnx": "onnx",
    "onnxruntime": "onnx",
}


#: The libraries a result depends on (recorded with sweep results and in reports).
VERSIONED = ("archgym_py", "numpy", "scipy", "scikit-learn", "optuna", "gymnasium", "torch",
             "stable-baselines3", "numba")  # fmt: skip


def library_versions() -> dict[str, str]:
    """Installed versions of :data:`VERSIONED` and Python (from package metadata: nothing is
    imported); a library that is not installed is left out."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


@contextlib.contextmanager
def quiet_optuna():
    """Optuna at WARNING level inside the block (an agent's hundreds of internal trials), and the
    user's own level restored after: archgym_py never changes Optuna's global log level."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield optuna
    finally:
        optuna.logging.set_verbosity(level)


def optional_import(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise ImportError: ``"<purpose> needs <package>: pip install
    'archgym_py[<extra>]'"``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top)
        how = f"pip install 'archgym_py[{extra}]'" if extra else f"pip install {top}"
        if extra == "rl":
            how += " (install a CPU torch first to skip the multi-GB CUDA build; see the README)"
        raise ImportError(f"{purpose} needs {top}: {how}") from exc
