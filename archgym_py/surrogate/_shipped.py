"""Surrogates shipped with the package: ``arch_specs/<family>/surrogates/<Name>-v<N>/``.

Each folder holds ``model.json`` and ``card.yaml`` for one registered env, trained on its default
workload and base architecture by ``python benchmarks/bench_surrogate.py --ship`` (the card names
the data, the seed and the held-out scores).
"""

from __future__ import annotations

from pathlib import Path

from .._errors import ArchGymError, unknown_name


def shipped_surrogate_dir(env_id: str) -> Path:
    """Where the shipped surrogate of ``env_id`` lives (whether or not it exists)."""
    from .._spec import shipped_spec_dir
    from ..envs import ENVS

    if env_id not in ENVS:
        raise ArchGymError(unknown_name("env id", env_id, ENVS))
    family = ENVS[env_id].split("/")[0]
    return shipped_spec_dir(family) / "surrogates" / env_id.split("/")[-1]


def shipped_surrogate(env_id: str):
    """The shipped surrogate of ``env_id``; a clear error when none ships."""
    from ._surrogate import load_surrogate

    folder = shipped_surrogate_dir(env_id)
    if not (folder / "model.json").exists():
        raise ArchGymError(
            f"backend='surrogate': no surrogate ships for {env_id}; train one and pass its folder: "
            f"archgym collect {env_id} -n 4000 -o trace.csv && archgym surrogate fit trace.csv -o model/ "
            "then surrogate='model/'"
        )
    return load_surrogate(folder)
