"""Optuna integration: studies over design points, and "tuning the tuner".

* :func:`objective` turns an env into an Optuna objective: each trial suggests a design from the
  env's DesignSpace; single-objective trials return the env's reward (maximise), multi-objective
  ones return the objective's Pareto metrics; constraint violations and unmappable designs are
  reported with ``trial.set_constraint`` (<= 0 is feasible), which NSGA-II/III and TPE honour.
* :func:`tune_agent` runs an Optuna study over an agent's hyperparameters: each trial runs the
  agent with the suggested hyperparameters on several seeds (sweep cells) and scores their mean.
* :func:`storage` resolves where a study lives: in memory (``None``), an Optuna journal file
  (``*.journal``/``*.log``, for several processes on one machine), or an RDB URL
  (``sqlite:///study.db``, ``postgresql://user@host/db`` for several machines; optuna-dashboard
  reads the same URL).

Optuna is imported when these functions run, not on ``import archgym_py``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ArchGymError


def _optuna():
    import optuna

    return optuna  # the user's log level is left as it is


def _core(env: Any, env_kwargs: Mapping[str, Any] | None):
    from ._env import make_core

    return make_core(env, **dict(env_kwargs or {}))


def storage(where: str | Path | None):
    """An Optuna storage: None (in memory), a journal file path, or an RDB URL (returned as is)."""
    if where is None:
        return None
    text = str(where)
    if "://" in text:
        return text
    if Path(text).suffix in (".journal", ".log"):
        optuna = _optuna()
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(text))
    raise ArchGymError(
        f"storage {text!r}: expected an RDB URL (sqlite:///x.db, postgresql://...) or a journal file (*.journal)"
    )


def objective(env: Any, *, multi_objective: bool = False, **env_kwargs: Any) -> Callable:
    """An Optuna objective over the design points of ``env`` (an env id, env or EnvCore).

    The returned callable has a ``directions`` attribute to create the study with.
    """
    core = _core(env, env_kwargs)
    pareto = core.objective.pareto_directions()

    units = {m.name: m.unit for m in core.metric_specs}

    def run(trial) -> float | tuple[float, ...]:
        design = core.space.suggest(trial, on_levels=True)  # the designs the agents search
        batch = core.space.batch([design])
        ev, reward, feasible, _ = core.evaluate(batch)
        mappable = bool(ev.feasible[0] and core.space.feasible(batch)[0])
        # One scalar attribute per metric, its unit in the name where the name has none, so the
        # dashboard can sort and plot them.
        for name, value in ev.row(0).items():
            # A unit-less name gets its unit appended ("1" marks a ratio, which needs none).
            unit = units[name]
            trial.set_user_attr(name if "_" in name or unit == "1" else f"{name}_{unit}", value)
        trial.set_user_attr("feasible", bool(feasible[0]))
        violation = float(
            np.asarray(core.objective.constraint_violation(ev.metrics)).reshape(-1)[0]
        )
        _set_constraints(
            trial, {"objective_constraints": violation, "mappable": 0.0 if mappable else 1.0}
        )
        if multi_objective:
            return tuple(float(ev.metrics[m][0]) for m in pareto)
        return float(reward[0])

    run.directions = list(pareto.values()) if multi_objective else ["maximize"]
    run.metric_names = list(pareto) if multi_objective else [f"reward ({core.objective.name})"]
    run.space = core.space
    return run


def _set_constraints(trial, values: Mapping[str, float]) -> None:
    """Store the trial's constraints as a list under the system attribute ``constraints``: the
    format Optuna's samplers write from a ``constraints_func`` and the one both Optuna
    (``study.best_trials``, feasibility in every sampler) and optuna-dashboard read; the
    per-name keys of ``Trial.set_constraint`` are invisible to the dashboard. Their names are in
    the user attribute ``constraint_names``. A value <= 0 means satisfied."""
    trial.set_user_attr("constraint_names", list(values))
    trial.storage.set_trial_system_attr(
        trial._trial_id, "constraints", [float(v) for v in values.values()]
    )


def create_study(
    env: Any,
    *,
    multi_objective: bool = False,
    storage_url: str | Path | None = None,
    study_name: str | None = None,
    sampler=None,
    env_kwargs: Mapping[str, Any] | None = None,
):
    """An Optuna study and its objective for ``env``, to run with ``study.optimize(obj, ...)``.

    Usage: ``study, obj = create_study(...)``. Several processes may share a journal or RDB
    storage.
    """
    optuna = _optuna()
    obj = objective(env, multi_objective=multi_objective, **dict(env_kwargs or {}))
    with _first_open_lock(storage_url):
        study = optuna.create_study(directions=obj.directions, storage=storage(storage_url), study_name=study_name,
                                    sampler=sampler, load_if_exists=study_name is not None)  # fmt: skip
    with warnings.catch_warnings():  # experimental in Optuna since 3.2, stable in use
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(obj.metric_names)  # "latency_s", not "Objective 0", in the dashboard
    return study, obj


@contextlib.contextmanager
def _first_open_lock(storage_url: str | Path | None):
    """Serialise the opening of a SQLite file storage across processes: two workers creating its
    schema at once made one of them fail (``IntegrityError`` on ``alembic_version``)."""
    text = str(storage_url or "")
    if not text.startswith("sqlite:///") or text.endswith(":memory:"):
        yield
        return
    from ._lock import file_lock

    with file_lock(text[len("sqlite:///") :]):
        yield


def tune_agent(
    agent: str,
    env: str,
    *,
    budget: int,
    seeds: Sequence[int] = (0, 1, 2),
    n_trials: int = 20,
    storage_url: str | Path | None = None,
    study_name: str | None = None,
    sampler=None,
    env_kwargs: Mapping[str, Any] | None = None,
):
    """Tuning the tuner: an Optuna study over ``agent``'s hyperparameters on ``env``.

    Each trial suggests hyperparameters from the agent's DesignSpace and runs one sweep cell per
    seed; its value is the mean best reward (user attribute ``rewards`` holds each seed's). A
    suggestion that breaks the space's constraints is pruned.
    """
    from ._agent import agent_class
    from .sweep._runner import run_cell

    optuna = _optuna()
    space = agent_class(agent).hyperparameter_space
    kwargs = dict(env_kwargs or {})

    def run(trial) -> float:
        hp = space.suggest(trial)
        if space.violated(hp):
            raise optuna.TrialPruned(f"constraint {space.violated(hp)[0].expression!r} broken")
        hp = space.validate(hp)
        rewards = []
        for seed in seeds:
            cell = {"env_id": env, "env_label": env, "env_kwargs": kwargs, "agent": agent, "config_index": trial.number,
                    "hyperparameters": hp, "seed": int(seed), "budget": int(budget)}  # fmt: skip
            rewards.append(run_cell(cell)["best_reward"])
        trial.set_user_attr("rewards", rewards)
        return float(np.mean(rewards))

    study = optuna.create_study(direction="maximize", storage=storage(storage_url), study_name=study_name,
                                sampler=sampler, load_if_exists=study_name is not None)  # fmt: skip
    study.optimize(run, n_trials=n_trials)
    return study
