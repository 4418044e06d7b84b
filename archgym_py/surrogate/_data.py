"""Training data for surrogates: simulator evaluations of one design space, and honest splits.

A :class:`Dataset` comes from a trace file (written by ``archgym collect`` or by any env given
``trace=``) or straight from an env. It remembers its design space (and the space's hash, which a
surrogate file carries), the metric declarations, and which workload each row ran.

Splits for design-space exploration (:func:`split`):

* ``"random"``: test designs drawn at random (distinct designs never straddle the split);
* ``"region"``: the test set is a ball of the unit cube around a random centre, so the model
  must extrapolate into a part of the space it never saw, as an optimiser moving there would;
* ``"workload"``: one workload is held out entirely;
* ``"twin_free"``: like ``"random"``, but on *behaviours*: rows the simulator cannot tell apart
  (same workload, feasibility and every metric, e.g. designs that differ only in a knob that
  cannot matter there) are one group, so no test row has a behavioural twin in training, which
  would score a lookup rather than a prediction. :func:`drop_twins` does the same for a fresh
  sample scored against a model's training rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ArchGymError, unknown_name
from .._simulator import MetricSpec
from .._space import Batch, DesignSpace

SPLITS = ("random", "region", "workload", "twin_free")
#: Significant digits to which two metric values count as the same behaviour.
BEHAVIOUR_DIGITS = 12


@dataclass
class Dataset:
    """Evaluated designs of one design space.

    Attributes:
        space: the design space (its ``hash()`` identifies it in surrogate files).
        designs: struct-of-arrays batch, one array per parameter.
        metrics: one float array per metric, SI units.
        metric_specs: the simulator's metric declarations (units, directions).
        workloads: the workload name of every row.
        feasible: the simulator's feasibility of every row.
        env_id: the env the data came from (informational).
        arch: the base architecture's name (informational).
        workload_features: per workload name, its features (``workload.features()``), for
            surrogates that encode workloads by what they are rather than by name.
    """

    space: DesignSpace
    designs: Batch
    metrics: dict[str, np.ndarray]
    metric_specs: tuple[MetricSpec, ...]
    workloads: np.ndarray
    feasible: np.ndarray
    env_id: str = ""
    arch: str = ""
    workload_features: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.workloads)
        for name, column in [*self.designs.items(), *self.metrics.items()]:
            if len(column) != n:
                raise ArchGymError(f"dataset column {name!r}: {len(column)} rows; expected {n}")
        for m in self.metric_specs:
            if m.name not in self.metrics:
                raise ArchGymError(f"dataset: metric {m.name!r} is declared but has no column")
            if not np.all(np.isfinite(self.metrics[m.name])):
                raise ArchGymError(f"dataset: metric {m.name!r} has non-finite values")

    def __len__(self) -> int:
        return len(self.workloads)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metric_specs)

    @property
    def workload_names(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.workloads.tolist())))

    def subset(self, rows: np.ndarray) -> Dataset:
        """The rows ``rows`` (indices or a boolean mask) as a new Dataset."""
        rows = np.asarray(rows)
        return Dataset(
            self.space, {k: v[rows] for k, v in self.designs.items()},
            {k: v[rows] for k, v in self.metrics.items()}, self.metric_specs,
            self.workloads[rows], self.feasible[rows], self.env_id, self.arch,
            self.workload_features,
        )  # fmt: skip

    def with_metrics(self, names: Sequence[str]) -> Dataset:
        """The same rows with only the metrics ``names`` (a surrogate of an objective's metrics)."""
        specs = {m.name: m for m in self.metric_specs}
        for name in names:
            if name not in specs:
                raise ArchGymError(unknown_name("metric", name, specs))
        return Dataset(self.space, self.designs, {m: self.metrics[m] for m in names},
                       tuple(specs[m] for m in names), self.workloads, self.feasible, self.env_id, self.arch,
                       self.workload_features)  # fmt: skip

    def concat(self, other: Dataset) -> Dataset:
        """Rows of both datasets (same design space and metrics)."""
        if other.space.hash() != self.space.hash() or other.metric_names != self.metric_names:
            raise ArchGymError("dataset concat: the design spaces or metrics differ")
        cat = np.concatenate
        return Dataset(
            self.space, {k: cat([v, other.designs[k]]) for k, v in self.designs.items()},
            {k: cat([v, other.metrics[k]]) for k, v in self.metrics.items()}, self.metric_specs,
            cat([self.workloads, other.workloads]), cat([self.feasible, other.feasible]),
            self.env_id, self.arch, {**self.workload_features, **other.workload_features},
        )  # fmt: skip

    def targets(self) -> np.ndarray:
        """Metric matrix, shape ``(n, n_metrics)``, in ``metric_names`` order."""
        return np.stack([self.metrics[m] for m in self.metric_names], axis=1)

    def design_keys(self) -> np.ndarray:
        """One integer per row, equal for rows with the same design and workload."""
        unit = np.round(self.space.to_unit(self.designs), 12)
        _, wl = np.unique(self.workloads, return_inverse=True)
        rows = np.concatenate([unit, wl[:, None].astype(float)], axis=1)
        _, keys = np.unique(rows, axis=0, return_inverse=True)
        return keys.ravel()

    def behaviour_keys(self) -> np.ndarray:
        """One integer per row, equal for rows the simulator cannot tell apart: the same
        workload, feasibility and metric values (to :data:`BEHAVIOUR_DIGITS` significant
        digits)."""
        return np.unique(self._behaviours(), axis=0, return_inverse=True)[1].ravel()

    def _behaviours(self) -> np.ndarray:
        """Rows of (workload, feasible, rounded metrics), comparable across datasets."""
        columns = [np.asarray(self.workloads, dtype=str), self.feasible.astype(int).astype(str)]
        for name in self.metric_names:
            columns.append(np.char.mod(f"%.{BEHAVIOUR_DIGITS - 1}e", self.metrics[name]))
        return np.stack(columns, axis=1)

    def hash(self) -> str:
        """A stable hash of the data (designs, workloads, metrics), for the model card."""
        h = hashlib.sha256(self.space.hash().encode())
        for name in self.space.names:
            h.update(np.asarray(self.designs[name]).astype(str).astype("U").tobytes())
        h.update(self.workloads.astype("U").tobytes())
        for name in self.metric_names:
            h.update(np.ascontiguousarray(self.metrics[name], dtype="<f8").tobytes())
        return h.hexdigest()[:16]


def dataset_from_env(core: Any, n: int, *, seed: int = 0, method: str = "sobol",
                     designs: Batch | None = None, batch: int = 4096) -> Dataset:  # fmt: skip
    """Simulate ``n`` sampled designs (or the given ``designs``) of an env core into a Dataset."""
    if designs is None:
        designs = core.space.sample(n, seed=seed, method=method)
    count = len(next(iter(designs.values())))
    parts = []
    for lo in range(0, count, batch):
        chunk = {k: v[lo : lo + batch] for k, v in designs.items()}
        parts.append(core.simulator.evaluate(chunk, core.workload))
    metrics = {m: np.concatenate([p.metrics[m] for p in parts]) for m in core.metric_names}
    feasible = np.concatenate([p.feasible for p in parts]) & core.space.feasible(designs)
    return Dataset(
        core.space, {k: np.asarray(v) for k, v in designs.items()}, metrics,
        tuple(core.metric_specs), np.full(count, core.workload.name), feasible,
        getattr(core.spec, "id", ""), getattr(core.arch, "name", ""),
        _features_of({core.workload.name: core.workload}),
    )  # fmt: skip


def _features_of(workloads: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """``workload.features()`` of each workload that has them."""
    return {name: dict(w.features()) for name, w in workloads.items() if hasattr(w, "features")}


def dataset_from_trace(path: str | Path | Sequence[str | Path], env: str | None = None,
                       **env_kwargs: Any) -> Dataset:  # fmt: skip
    """Read trace files (CSV or Parquet, see :class:`~archgym_py.TraceStore`) into a Dataset.

    Args:
        path: a trace path, or several traces of the same design space.
        env: the env id whose design space the trace holds. By default, the registered env
            whose space hash equals the trace's ``space_hash`` column.
        env_kwargs: ``arch=`` when the trace was recorded with a non-default base architecture.
    """
    from .._trace import TraceStore

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    columns: dict[str, list[np.ndarray]] = {}
    for p in paths:
        if not Path(p).exists():
            raise ArchGymError(f"trace {str(p)!r}: no such file or folder")
        data = TraceStore(p).read()
        if not data:
            raise ArchGymError(f"trace {str(p)!r}: holds no rows")
        if columns and set(data) != set(columns):
            raise ArchGymError(f"trace {str(p)!r}: its columns differ from {str(paths[0])!r}'s")
        for k, v in data.items():
            columns.setdefault(k, []).append(v)
    data = {k: np.concatenate(v) for k, v in columns.items()}
    hashes = sorted(set(np.asarray(data.get("space_hash", [""])).astype(str).tolist()))
    if len(hashes) != 1:
        raise ArchGymError(
            f"trace {paths}: rows of {len(hashes)} design spaces ({hashes}); fit one at a time"
        )
    env_id, core = _env_for_hash(hashes[0], env, env_kwargs, paths)
    space = core.space
    missing = [
        c for c in (*space.names, *core.metric_names, "workload", "feasible") if c not in data
    ]
    if missing:
        raise ArchGymError(f"trace {str(paths[0])!r}: columns {missing} are missing for {env_id}")
    designs = {}
    for p in space:
        column = data[p.name]
        uniques, inverse = np.unique(column.astype(str), return_inverse=True)
        try:
            canonical = [p.check(_number_or_str(u)) for u in uniques]
        except ArchGymError as exc:
            raise ArchGymError(f"trace {str(paths[0])!r}: column {p.name!r}: {exc}") from exc
        designs[p.name] = np.asarray(canonical, dtype=object if p.kind == "categorical" else None)[
            inverse
        ]
    workloads = data["workload"].astype(str)
    return Dataset(
        space, designs, {m: data[m].astype(np.float64) for m in core.metric_names},
        tuple(core.metric_specs), workloads, data["feasible"].astype(bool),
        env_id, getattr(core.arch, "name", ""), _named_features(core, workloads),
    )  # fmt: skip


def _named_features(core: Any, names: np.ndarray) -> dict[str, dict[str, float]]:
    """Features of the trace's workloads the env's domain can load by name (built-in or a
    workload file); a workload it cannot load (a generated trace renamed) has none."""
    out = {}
    for name in sorted(set(names.tolist())):
        try:
            workload = core.spec.domain.load_workload(name)
        except Exception:  # noqa: BLE001 - a name the domain does not know has no features
            continue
        out.update(_features_of({name: workload}))
    return out


def _number_or_str(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def _env_for_hash(
    space_hash: str, env: str | None, env_kwargs: Mapping[str, Any], paths
) -> tuple[str, Any]:
    """The env core (no simulation) whose design space has ``space_hash``."""
    from ..envs import ENVS

    if env is not None:
        env_id, core = env, _spec_core(env, env_kwargs)
        if space_hash and core.space.hash() != space_hash:
            raise ArchGymError(
                f"trace {str(paths[0])!r}: design-space hash {space_hash} is not {env}'s "
                f"({core.space.hash()}); was it recorded with another env or arch=?"
            )
        return env_id, core
    for env_id in ENVS:
        core = _spec_core(env_id, env_kwargs)
        if core.space.hash() == space_hash:
            return env_id, core
    raise ArchGymError(
        f"trace {str(paths[0])!r}: no registered env has design-space hash {space_hash!r}; "
        "name the env (--env ID, and --arch if it was recorded on another base architecture)"
    )


@dataclass
class _SpecCore:
    """What a dataset needs of an env: its design space and metrics, with no simulator run."""

    spec: Any
    arch: Any
    space: DesignSpace
    metric_specs: tuple[MetricSpec, ...]

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metric_specs)


def _spec_core(env_id: str, env_kwargs: Mapping[str, Any]) -> _SpecCore:
    from .._env import resolve_spec
    from ..envs import ENVS

    if env_id not in ENVS:
        raise ArchGymError(unknown_name("env id", env_id, ENVS))
    spec = resolve_spec(ENVS[env_id])
    domain = spec.domain
    arch = domain.load_arch(env_kwargs.get("arch") or spec.default_arch)
    space = spec.space_for(arch)
    return _SpecCore(spec, arch, space, tuple(domain.metrics))


def split(dataset: Dataset, kind: str = "random", *, test_fraction: float = 0.2, seed: int = 0,
          holdout: str | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Train and test row indices for an honest held-out score.

    Args:
        dataset: the rows to split.
        kind: ``"random"``, ``"region"``, ``"workload"`` or ``"twin_free"`` (see the module
            docstring).
        test_fraction: share of distinct designs (behaviours for twin_free) in the test set.
        seed: chooses the test designs, the region's centre or the held-out workload.
        holdout: the workload to hold out (``"workload"``; default: one chosen by ``seed``).
    """
    if kind not in SPLITS:
        raise ArchGymError(unknown_name("split", kind, SPLITS))
    if not 0.0 < test_fraction < 1.0:
        raise ArchGymError(f"test_fraction: got {test_fraction}; expected a number in (0, 1)")
    rng = np.random.default_rng(seed)
    rows = np.arange(len(dataset))
    if kind == "workload":
        names = dataset.workload_names
        if len(names) < 2:
            raise ArchGymError(
                f"split 'workload': the dataset holds one workload ({names}); need two or more"
            )
        if holdout is None:
            holdout = names[int(rng.integers(len(names)))]
        elif holdout not in names:
            raise ArchGymError(unknown_name("workload", holdout, names, "holdout"))
        test = dataset.workloads == holdout
        return rows[~test], rows[test]
    keys = dataset.behaviour_keys() if kind == "twin_free" else dataset.design_keys()
    n_keys = int(keys.max()) + 1
    n_test = min(max(1, round(test_fraction * n_keys)), n_keys - 1)
    if kind in ("random", "twin_free"):
        test_keys = rng.permutation(n_keys)[:n_test]
    else:
        unit = dataset.space.to_unit(dataset.designs)
        first = np.unique(keys, return_index=True)[1]
        centre = rng.random(unit.shape[1])
        distance = np.linalg.norm(unit[first] - centre, axis=1)
        test_keys = keys[first][np.argsort(distance, kind="stable")[:n_test]]
    test = np.isin(keys, test_keys)
    return rows[~test], rows[test]


def drop_twins(dataset: Dataset, reference: Dataset) -> np.ndarray:
    """Row indices of ``dataset`` with no behavioural twin in ``reference`` (see
    :meth:`Dataset.behaviour_keys`): a fresh sample scored honestly against a model trained on
    ``reference``.

    Example:
        >>> from archgym_py import make_core
        >>> from archgym_py.surrogate import dataset_from_env, drop_twins
        >>> core = make_core("archgym/DRAM-v0")
        >>> train = dataset_from_env(core, 64, seed=0, method="uniform")
        >>> len(drop_twins(train, train))
        0
    """
    if dataset.metric_names != reference.metric_names:
        raise ArchGymError(
            f"drop_twins: metrics {dataset.metric_names} and {reference.metric_names} differ"
        )
    seen = {tuple(r) for r in reference._behaviours().tolist()}
    mine = dataset._behaviours().tolist()
    return np.array([i for i, r in enumerate(mine) if tuple(r) not in seen], dtype=np.int64)
