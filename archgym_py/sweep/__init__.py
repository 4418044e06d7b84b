"""Sweeps of envs x agents x hyperparameters x seeds, their store, statistics and report.

The hyperparameter lottery (ArchGym, ISCA 2023): how much an agent's result depends on its
hyperparameters and seed, measured with sound statistics.
"""

from __future__ import annotations

from ._runner import SweepSummary, run_cell, run_sweep
from ._spec import Cell, SweepSpec, load_sweep, preset_names, sweep_from_dict
from ._store import ResultStore, open_store

__all__ = [
    "Cell",
    "ResultStore",
    "SweepSpec",
    "SweepSummary",
    "load_sweep",
    "open_store",
    "preset_names",
    "run_cell",
    "run_sweep",
    "sweep_from_dict",
]
