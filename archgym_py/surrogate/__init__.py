"""Surrogate models: learned stand-ins for the simulators, trained on their traces.

A surrogate has the :class:`~archgym_py.Simulator` protocol, so any env takes one
(``gymnasium.make(id, backend="surrogate")`` loads the env's shipped model, ``surrogate=PATH``
another). It predicts a mean and a calibrated 90% interval for every metric and saves to a
portable folder (``model.json``: arrays evaluated with numpy; ``card.yaml``: the model card).

Example:
    >>> from archgym_py.surrogate import dataset_from_env, fit_surrogate, split
    >>> from archgym_py import make_core
    >>> core = make_core("archgym/AcceleratorSmall-v0")
    >>> data = dataset_from_env(core, 512, seed=0)
    >>> train, test = split(data, "random", seed=0)
    >>> model = fit_surrogate(data.subset(train), "et", test=data.subset(test))
    >>> round(model.card["held_out"]["scores"]["latency_s"]["kendall_tau"], 2)  # 512 rows only
    0.84
"""

from __future__ import annotations

from ._active import ACQUISITIONS, active_learning_curve
from ._data import SPLITS, Dataset, dataset_from_env, dataset_from_trace, drop_twins, split
from ._families import FAMILIES, Family, fit_family
from ._fit import AUTO_FAMILIES, RESIDUAL_FAMILIES, fit_residual, fit_surrogate
from ._portable import Predictor, decode_array, encode_array, predictor_from_dict
from ._scores import SCORES, score_metric
from ._shipped import shipped_surrogate, shipped_surrogate_dir
from ._surrogate import DescribedWorkload, Surrogate, load_surrogate, surrogate_from_dict

__all__ = [
    "ACQUISITIONS",
    "AUTO_FAMILIES",
    "FAMILIES",
    "RESIDUAL_FAMILIES",
    "SCORES",
    "SPLITS",
    "Dataset",
    "DescribedWorkload",
    "Family",
    "Predictor",
    "Surrogate",
    "active_learning_curve",
    "dataset_from_env",
    "dataset_from_trace",
    "decode_array",
    "encode_array",
    "fit_family",
    "fit_residual",
    "fit_surrogate",
    "load_surrogate",
    "predictor_from_dict",
    "score_metric",
    "shipped_surrogate",
    "shipped_surrogate_dir",
    "drop_twins",
    "split",
    "surrogate_from_dict",
]
