"""Running a sweep on any ``concurrent.futures.Executor``, each cell stored as soon as it ends."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ArchGymError
from .._imports import library_versions
from .._lock import file_lock
from ._best_known import best_known
from ._spec import SweepSpec
from ._store import open_store

CURVE_POINTS = 50
ENUMERATE_LIMIT = 2_000_000  # spaces up to this size get their exact optimum (once, cached on disk)

_CORES: dict[str, Any] = {}  # per worker process: env cores reused across cells


def _core(env_id: str, env_kwargs: dict[str, Any]):
    key = json.dumps([env_id, env_kwargs], sort_keys=True)
    if key not in _CORES:
        from .._env import make_core

        _CORES[key] = make_core(env_id, **env_kwargs)
    return _CORES[key]


def run_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """Run one cell (in a worker process) and return its store row."""
    from .._agent import make_agent

    start = time.perf_counter()
    core = _core(cell["env_id"], cell["env_kwargs"])
    result = make_agent(cell["agent"], core, cell["hyperparameters"], seed=cell["seed"]).run(
        cell["budget"]
    )
    if not np.isfinite(result.best_reward):
        # SQLite would store NaN as NULL and drop the row: say so instead of losing the cell.
        raise ArchGymError(
            f"cell {cell['cell_id']}: best reward is {result.best_reward} (the simulator returned "
            f"non-finite metrics, e.g. {result.best_metrics}); not stored"
        )
    n = result.evaluations
    checkpoints = np.unique(np.round(np.linspace(1, n, min(n, CURVE_POINTS))).astype(int))
    curve = {"evals": checkpoints.tolist(), "best": [result.best_curve[i - 1] for i in checkpoints]}
    pareto = None
    if result.pareto is not None:
        pareto = [{"design": result.designs[i], "metrics": {k: v[i] for k, v in result.metrics.items()}}
                  for i in result.pareto]  # fmt: skip
    return {
        **cell,
        "best_reward": result.best_reward,
        "best_design": result.best_design,
        "best_metrics": result.best_metrics,
        "feasible_count": int(sum(result.feasible)),
        "curve": curve,
        "pareto": pareto,
        "wall_time_s": time.perf_counter() - start,
        "simulator_time_s": result.simulator_time_s,
    }


@dataclass
class SweepSummary:
    """What a call to :func:`run_sweep` did."""

    total: int
    already_done: int
    ran: int
    wall_time_s: float
    cell_time_s: float
    failures: list[str] = field(default_factory=list)

    @property
    def overhead_per_cell_s(self) -> float:
        """Scheduling and storing overhead per cell: wall time not spent inside cells, per cell."""
        return max(0.0, self.wall_time_s - self.cell_time_s) / max(self.ran, 1)


def run_sweep(
    spec: SweepSpec,
    results: str | Path,
    *,
    workers: int = 2,
    executor: Executor | None = None,
    resume: bool = False,
    progress: bool = True,
) -> SweepSummary:
    """Run every cell of ``spec`` not yet in the ``results`` store.

    Args:
        spec: the sweep.
        results: SQLite path (``*.db``); created if missing.
        workers: local worker processes (0 runs cells in this process, for debugging).
        executor: any Executor (e.g. ``distributed.Client(address).get_executor()``); overrides
            ``workers``.
        resume: required when the store already holds cells of this sweep: it then runs only the
            missing ones. Without it, an existing store is refused so that results are never mixed
            by accident.
        progress: show a progress bar on stderr.
    """
    cells = spec.cells()
    with _exclusive(results):
        return _run_sweep(spec, cells, results, workers, executor, resume, progress)


@contextlib.contextmanager
def _exclusive(results: str | Path):
    """One sweep process per results file: a second one (a fresh run or a --resume) would run
    the same missing cells twice."""
    with contextlib.ExitStack() as stack:
        try:
            # a few seconds of patience: the workers of a sweep killed just now (kill -9 of its
            # process group) still hold the lock while they exit
            stack.enter_context(file_lock(results, wait=False, patience_s=5.0))  # makes the folder
        except BlockingIOError:
            raise ArchGymError(
                f"{results}: another sweep is writing this file; wait for it to end (or stop it), "
                "then --resume"
            ) from None
        yield


def _run_sweep(spec, cells, results, workers, executor, resume, progress) -> SweepSummary:
    from tqdm import tqdm

    store = open_store(results)
    try:
        done = store.done_ids()
        already = [c for c in cells if c.id in done]
        if already and not resume:
            raise ArchGymError(
                f"{results}: already holds {len(already)} of the {len(cells)} cells of sweep {spec.name!r}; "
                "pass --resume to run the rest, or choose another results file"
            )
        _record_envs(spec, store)
        store.record_run(library_versions())
        todo = [c.to_dict() | {"sweep": spec.name} for c in cells if c.id not in done]
        start = time.perf_counter()
        cell_time, failures = 0.0, []
        own_pool = executor is None and workers > 0
        pool = ProcessPoolExecutor(max_workers=workers) if own_pool else executor
        try:
            with tqdm(total=len(cells), initial=len(already), unit="cell", disable=not progress,
                      file=sys.stderr, desc=spec.name) as bar:  # fmt: skip
                if pool is None:
                    outcomes = ((c, _try(run_cell, c)) for c in todo)
                else:
                    futures = {pool.submit(run_cell, c): c for c in todo}
                    outcomes = ((futures[f], _future_outcome(f)) for f in as_completed(futures))
                for cell, (row, error) in outcomes:
                    if error is not None:
                        failures.append(
                            f"{cell['agent']} on {cell['env_label']} seed {cell['seed']}: {error}"
                        )
                    elif not store.write_cell(row):  # never silently: say which cell
                        failures.append(
                            f"{cell['agent']} on {cell['env_label']} seed {cell['seed']}: cell "
                            f"{cell['cell_id']} was not stored (already there from another process?)"
                        )
                    else:
                        cell_time += row["wall_time_s"]
                    bar.update(1)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through the CLI: stop the workers now
            if own_pool:
                _stop_workers(pool)
            stored = len(store)
            raise SweepInterrupted(
                f"interrupted: {stored} of {len(cells)} cells of {spec.name!r} are stored in {results}; "
                "go on with the same command and --resume"
            ) from None
        finally:
            if own_pool:
                pool.shutdown(cancel_futures=True)
        wall = time.perf_counter() - start
        parallel = workers if own_pool else 1
        summary = SweepSummary(
            len(cells),
            len(already),
            len(todo) - len(failures),
            wall,
            cell_time / parallel,
            failures,
        )
    finally:
        store.close()
    if failures:
        raise ArchGymError(
            f"{len(failures)} cells failed (the others are stored; --resume retries): "
            + "; ".join(failures[:5])
        )
    return summary


class SweepInterrupted(ArchGymError):
    """A sweep stopped by Ctrl-C or SIGTERM; every finished cell is stored."""


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes (a cell in progress is lost, the stored ones are
    not): shutdown alone would wait for the running cells, and leave orphans on SIGTERM."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # CPython's pool internals
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()  # SIGKILL: a worker may hold the inherited SIGTERM handler
    for process in processes:
        process.join(timeout=5)


def _try(fn, cell):
    try:
        return fn(cell), None
    except Exception as exc:  # noqa: BLE001 - reported per cell, the sweep goes on
        return None, f"{type(exc).__name__}: {exc}"


def _future_outcome(future):
    try:
        return future.result(), None
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {exc}"


def _record_envs(spec: SweepSpec, store) -> None:
    """Store each env's Pareto directions and its exact optimum (enumerable spaces) or its
    recorded best-known design, re-evaluated (``arch_specs/<family>/best_known.yaml``)."""
    known = store.envs()
    for env in spec.envs:
        stored = known.get(env.label)
        if stored is not None and stored["env_kwargs"] == dict(env.kwargs):
            if stored.get("optimum") is None and stored.get("best_known") is None:
                recorded = best_known(
                    _core(env.id, dict(env.kwargs))
                )  # recorded since the last run
                if recorded is not None:
                    store.write_best_known(env.label, *recorded)
            continue
        core = _core(env.id, dict(env.kwargs))
        optimum, design = None, None
        if core.space.size <= ENUMERATE_LIMIT:
            design, optimum = core.optimum()
        store.write_env(
            env.label, env.id, env.kwargs, optimum, design, core.objective.pareto_directions()
        )
        recorded = best_known(core) if optimum is None else None
        if recorded is not None:
            store.write_best_known(env.label, *recorded)
