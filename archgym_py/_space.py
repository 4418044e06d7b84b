"""DesignSpace: ordered, named parameters with vectorised constraints between them.

A *design* is a ``dict`` of parameter values. A *batch* is a struct of arrays: ``dict`` of one
numpy array per parameter, all of the same length; simulators take batches. The same class
declares agents' hyperparameter spaces.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ._errors import DesignError, SpecError, unknown_name
from ._expr import Expression
from ._params import PARAMETER_KINDS, Parameter, _plain

Batch = dict[str, np.ndarray]

SAMPLING_METHODS = ("uniform", "sobol", "lhs")


@dataclass(frozen=True)
class Constraint:
    """A vectorised feasibility rule between parameters, e.g. ``"pe_rows * pe_cols <= 4096"``."""

    expression: str
    doc: str = ""


class DesignSpace:
    """An ordered set of parameters plus constraints; converts designs between encodings.

    Args:
        params: the parameters, in order (the order of action components and unit-cube axes).
        constraints: rules every feasible design satisfies (strings or :class:`Constraint`).
        name: a label used in messages.
        constants: named values a constraint may use besides the parameters (an env binds the
            base architecture's values and derived quantities and the workload's, e.g. ``gpus``
            or ``hidden``); a parameter of the same name takes precedence.

    Example:
        >>> from archgym_py import DesignSpace, Integer, Categorical
        >>> space = DesignSpace([Integer("x", low=1, high=4), Categorical("c", values=("a", "b"))],
        ...                     constraints=["x <= 3"])
        >>> space.size, space.validate({"x": 2, "c": "b"})
        (8, {'x': 2, 'c': 'b'})
        >>> grid = DesignSpace([Integer("dp", low=1, high=8), Integer("tp", low=1, high=8)],
        ...                    constraints=["dp * tp == gpus"], constants={"gpus": 8}).grid()
        >>> list(zip(grid["dp"].tolist(), grid["tp"].tolist()))
        [(1, 8), (2, 4), (4, 2), (8, 1)]
    """

    def __init__(
        self,
        params: Sequence[Parameter],
        constraints: Sequence[Constraint | str] = (),
        *,
        name: str = "design space",
        constants: Mapping[str, Any] | None = None,
    ):
        self.name = name
        self.params: tuple[Parameter, ...] = tuple(params)
        self._by_name = {p.name: p for p in self.params}
        if len(self._by_name) != len(self.params):
            raise SpecError(f"{name}: duplicate parameter names in {self.names}")
        if not self.params:
            raise SpecError(f"{name}: a design space needs at least one parameter")
        self.constraints: tuple[Constraint, ...] = tuple(
            c if isinstance(c, Constraint) else Constraint(str(c)) for c in constraints
        )
        constants = {k: v for k, v in (constants or {}).items() if k not in self._by_name}
        self._exprs = tuple(
            Expression(
                c.expression, set(self._by_name) | set(constants), where=f"{name}: constraint"
            )
            for c in self.constraints
        )
        used = set().union(*(e.names for e in self._exprs)) if self._exprs else set()
        #: The constants the constraints use (part of the space's definition and hash).
        self.constants: dict[str, Any] = {
            k: _plain(constants[k]) for k in sorted(used & set(constants))
        }

    # ------------------------------------------------------------------ basics
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.params)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise DesignError(unknown_name("parameter", name, self.names, self.name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"DesignSpace({', '.join(self.names)}; {len(self.constraints)} constraints)"

    @property
    def size(self) -> float:
        """Number of designs before constraints (``math.inf`` with a continuous parameter)."""
        return math.prod(p.size for p in self.params)

    @property
    def nvec(self) -> np.ndarray:
        """Number of levels per parameter (the ``MultiDiscrete`` nvec)."""
        return self._nvec.copy()

    @cached_property
    def _nvec(self) -> np.ndarray:
        return np.array([p.n_levels for p in self.params], dtype=np.int64)

    def default(self) -> dict[str, Any]:
        """The default design (each parameter's default, or its first level)."""
        return {p.name: p.resolved_default() for p in self.params}

    def with_defaults(self, defaults: Mapping[str, Any]) -> DesignSpace:
        """A copy whose defaults are taken from ``defaults`` (e.g. a base architecture).

        A value that is not one of a parameter's levels snaps to the nearest level.
        """
        import dataclasses

        off = self.off_grid(defaults)
        params = []
        for p in self.params:
            if p.name in defaults:
                value = off[p.name][1] if p.name in off else p.check(defaults[p.name])
                p = dataclasses.replace(p, default=value)
            params.append(p)
        return DesignSpace(params, self.constraints, name=self.name, constants=self.constants)

    def off_grid(self, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
        """The parameters whose value in ``values`` is not one of their levels, each with
        ``(value, level)``: the nearest level of a number, the first choice of a categorical
        value the space does not offer; parameters absent from ``values`` are skipped.

        >>> from archgym_py._params import PowerOfTwo
        >>> DesignSpace([PowerOfTwo("rf_bytes", low=16, high=2048)]).off_grid({"rf_bytes": 4})
        {'rf_bytes': (4, 16)}
        """
        out = {}
        for p in self.params:
            if p.name not in values:
                continue
            value = values[p.name]
            try:
                p.check(value)
            except DesignError:
                index = np.clip(p.to_index(np.asarray([value])), 0, p.n_levels - 1)
                out[p.name] = (_plain(value), _plain(p.from_index(index)[0]))
        return out

    def with_constants(self, constants: Mapping[str, Any]) -> DesignSpace:
        """A copy whose constraints read ``constants`` (e.g. another architecture's values)."""
        return DesignSpace(self.params, self.constraints, name=self.name, constants=constants)

    # ------------------------------------------------------------------ validation
    def validate(
        self, design: Mapping[str, Any], *, partial: bool = False, check_constraints: bool = True
    ) -> dict[str, Any]:
        """Return the canonical design, or raise DesignError naming the offending parameter.

        Args:
            design: parameter values; strings are parsed (``"16"``, ``"true"``).
            partial: fill missing parameters from the defaults instead of rejecting.
            check_constraints: also reject a design that violates a constraint.
        """
        if not isinstance(design, Mapping):
            raise DesignError(
                f"{self.name}: a design is a mapping of parameter values, got {design!r}"
            )
        self._refuse_unknown(design)
        out = self.default() if partial else {}
        for p in self.params:
            if p.name in design:
                out[p.name] = p.check(design[p.name])
            elif not partial:
                raise DesignError(
                    f"{self.name}: parameter {p.name!r} is missing from {dict(design)}"
                )
        if check_constraints:
            violated = self.violated(out)
            if violated:
                names = self._expr(violated[0]).names
                values = {n: out[n] for n in self.names if n in names}
                values.update({n: v for n, v in self.constants.items() if n in names})
                raise DesignError(
                    f"{self.name}: design violates constraint {violated[0].expression!r} "
                    f"with {values}"
                )
        return out

    def _refuse_unknown(self, names) -> None:
        """A DesignError naming the first name that is not a parameter (and the closest one)."""
        for key in names:
            if key not in self._by_name:
                raise DesignError(unknown_name("parameter", key, self.names, self.name))

    def _expr(self, constraint: Constraint) -> Expression:
        return self._exprs[self.constraints.index(constraint)]

    def violated(self, design: Mapping[str, Any]) -> list[Constraint]:
        """The constraints a single design violates."""
        values = {**self.constants, **self.batch([design])}
        return [
            c
            for c, e in zip(self.constraints, self._exprs, strict=True)
            if not bool(np.all(e(values)))
        ]

    def feasible(self, batch: Batch) -> np.ndarray:
        """Boolean mask: which designs of a batch satisfy every constraint."""
        n = _batch_len(batch)
        ok = np.ones(n, dtype=bool)
        values = {**self.constants, **batch} if self.constants else batch
        for expr in self._exprs:
            ok &= np.asarray(expr(values), dtype=bool)  # a constant result broadcasts
        return ok

    # ------------------------------------------------------------------ batches
    def batch(self, designs: Sequence[Mapping[str, Any]]) -> Batch:
        """Struct of arrays from a list of (valid) designs."""
        return {
            p.name: np.asarray([d[p.name] for d in designs], dtype=p.dtype) for p in self.params
        }

    def unbatch(self, batch: Batch) -> list[dict[str, Any]]:
        """List of designs (plain Python values) from a struct of arrays."""
        cols = [(p.name, np.asarray(batch[p.name]).tolist()) for p in self.params]
        return [{name: col[i] for name, col in cols} for i in range(_batch_len(batch))]

    # ------------------------------------------------------------------ actions
    def from_indices(self, indices: np.ndarray) -> Batch:
        """Batch from level indices, shape ``(n, len(space))`` (MultiDiscrete actions)."""
        indices = np.asarray(indices)
        if indices.ndim == 1:
            indices = indices.reshape(1, -1)
        return self._batch_of_indices(self._check_indices(indices))

    def _batch_of_indices(self, indices: np.ndarray) -> Batch:
        """Batch from level indices already checked by :meth:`_check_indices`."""
        return {p.name: p.from_index(indices[:, i]) for i, p in enumerate(self.params)}

    def _check_indices(self, indices: np.ndarray) -> np.ndarray:
        """The indices as integers, or a DesignError (shape, type, range)."""
        if indices.ndim != 2 or indices.shape[1] != len(self.params):
            raise DesignError(
                f"{self.name}: an action has one index per parameter {self.names}, "
                f"got shape {indices.shape}"
            )
        if not np.issubdtype(indices.dtype, np.integer):
            try:
                as_float = indices.astype(np.float64)
            except (TypeError, ValueError):
                as_float = np.array([np.nan])
            if indices.dtype == bool or not np.all(
                np.isfinite(as_float) & (as_float == np.round(as_float))
            ):
                raise DesignError(
                    f"{self.name}: action indices must be integers, got {indices.tolist()}"
                )
            indices = as_float.astype(np.int64)
        bad = (indices < 0) | (indices >= self._nvec)
        if bad.any():
            row, col = map(int, np.argwhere(bad)[0])
            p = self.params[col]
            raise DesignError(
                f"{self.name}: action index {int(indices[row, col])} for parameter {p.name!r} is "
                f"out of range; expected 0..{p.n_levels - 1} (levels {list(p.choices)[:8]}"
                f"{'...' if p.n_levels > 8 else ''})"
            )
        return indices

    def unit_of_indices(self, indices: np.ndarray) -> np.ndarray:
        """Unit-cube points of level indices, shape ``(n, len(space))`` (no value round trip).

        Every kind maps an index affinely, ``(index + offset) * scale``, so this is one operation.
        """
        indices = np.asarray(indices).reshape(-1, len(self.params))
        return (indices + self._unit_affine[0]) * self._unit_affine[1]

    @cached_property
    def _unit_affine(self) -> tuple[np.ndarray, np.ndarray]:
        zero, one = np.zeros(len(self)), np.ones(len(self))
        offset = np.array([p.unit_of_index(zero[i]) for i, p in enumerate(self.params)])
        scale = np.array([p.unit_of_index(one[i]) for i, p in enumerate(self.params)]) - offset
        return offset / scale, scale

    def to_indices(self, batch: Batch) -> np.ndarray:
        """Level indices, shape ``(n, len(space))``."""
        return np.stack([p.to_index(batch[p.name]) for p in self.params], axis=1).astype(np.int64)

    def gym_space(self, kind: str = "multidiscrete", seed: int | None = None):
        """The gymnasium action space: ``"multidiscrete"`` (default), ``"box"`` or ``"dict"``."""
        from gymnasium import spaces

        if kind == "multidiscrete":
            return spaces.MultiDiscrete(self.nvec, seed=seed)
        if kind == "box":
            return spaces.Box(0.0, 1.0, shape=(len(self),), dtype=np.float32, seed=seed)
        if kind == "dict":
            return spaces.Dict(
                {p.name: spaces.Discrete(p.n_levels) for p in self.params}, seed=seed
            )
        raise DesignError(unknown_name("action space kind", kind, ("multidiscrete", "box", "dict")))

    def from_action(self, action: Any, kind: str = "multidiscrete") -> Batch:
        """Batch of one design from an action of the given space kind."""
        if kind == "multidiscrete":
            return self.from_indices(np.asarray(action))
        if kind == "box":
            return self.from_unit(self._box_action(action))
        if kind == "dict":
            return self.from_indices(self._dict_action(action))
        raise DesignError(unknown_name("action space kind", kind, ("multidiscrete", "box", "dict")))

    def _box_action(self, action: Any) -> np.ndarray:
        """A box action's point of the unit cube; values outside [0, 1] are refused, not clipped
        (the action space is ``Box(0, 1)``; SB3 clips its policy's actions before stepping)."""
        try:
            u = np.asarray(action, dtype=np.float64).reshape(1, -1)
        except (TypeError, ValueError):
            raise DesignError(
                f"{self.name}: a box action holds {len(self)} numbers, got {action!r}"
            ) from None
        if u.shape[1] != len(self) or not np.all((u >= 0) & (u <= 1)):  # NaN fails too
            raise DesignError(
                f"{self.name}: a box action has {len(self)} values in [0, 1], got {np.asarray(action).tolist()}"
            )
        return u

    def _dict_action(self, action: Any) -> np.ndarray:
        """A dict action's level indices: every parameter, each an integer index."""
        if not isinstance(action, Mapping):
            raise DesignError(
                f"{self.name}: a dict action maps parameter names to indices, got {action!r}"
            )
        self._refuse_unknown(action)
        missing = [n for n in self.names if n not in action]
        if missing:
            raise DesignError(
                f"{self.name}: a dict action gives every parameter; {missing} missing"
            )
        row = []
        for n in self.names:
            value = action[n]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, np.integer, float, np.floating))
                or value != int(value)
            ):
                raise DesignError(
                    f"{self.name}: dict action index of {n!r} is {value!r}; expected an integer"
                )
            row.append(int(value))
        return np.array([row])

    # ------------------------------------------------------------------ unit cube
    def from_unit(self, u: np.ndarray) -> Batch:
        """Batch from points of the unit cube, shape ``(n, len(space))``."""
        u = np.asarray(u, dtype=np.float64)
        return {p.name: p.from_unit(u[:, i]) for i, p in enumerate(self.params)}

    def to_unit(self, batch: Batch) -> np.ndarray:
        """Points of the unit cube, shape ``(n, len(space))`` (level centres for discrete knobs)."""
        return np.stack([p.to_unit(batch[p.name]) for p in self.params], axis=1)

    # ------------------------------------------------------------------ features
    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(n for p in self.params for n in p.feature_names)

    def features(self, batch: Batch) -> np.ndarray:
        """Flat float feature matrix, shape ``(n, len(feature_names))``."""
        return np.concatenate([p.features(batch[p.name]) for p in self.params], axis=1)

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, seed: int | None = 0, method: str = "uniform") -> Batch:
        """``n`` feasible designs drawn by ``"uniform"``, ``"sobol"`` or ``"lhs"`` sampling.

        Deterministic for a given seed. Infeasible draws are rejected and more are drawn.
        """
        if method not in SAMPLING_METHODS:
            raise DesignError(unknown_name("sampling method", method, SAMPLING_METHODS))
        if n < 0:
            raise DesignError(f"{self.name}: number of samples must be >= 0, got {n}")
        from scipy.stats import qmc

        d = len(self)
        if method == "sobol":
            engine = qmc.Sobol(d, scramble=True, seed=seed)
        elif method == "lhs":
            engine = qmc.LatinHypercube(d, seed=seed)
        else:
            rng = np.random.default_rng(seed)
        chunks: list[Batch] = []
        have, drawn = 0, 0
        while have < n:
            want = max(n - have, 1) * (2 if drawn else 1)
            if method == "sobol":
                # Sobol keeps its balance properties when the total drawn stays a power of two:
                # the first draw is the next power of two, each later one doubles the total.
                m = math.ceil(math.log2(max(want, 1))) if drawn == 0 else int(math.log2(drawn))
                u = engine.random_base2(m)
            elif method == "lhs":
                u = engine.random(want)
            else:
                u = rng.random((want, d))
            drawn += len(u)
            chunk = self.from_unit(u)
            mask = self.feasible(chunk)
            chunks.append({k: v[mask] for k, v in chunk.items()})
            have += int(mask.sum())
            if drawn > 1000 * max(n, 1) + 100_000:
                raise DesignError(
                    f"{self.name}: fewer than 1 in 1000 sampled designs satisfy the constraints "
                    f"{[c.expression for c in self.constraints]}; relax them"
                )
        return {k: np.concatenate([c[k] for c in chunks])[:n] for k in self.names}

    def grid(self, limit: int = 2_000_000) -> Batch:
        """Every feasible design (discrete spaces of at most ``limit`` designs)."""
        size = self.size
        if size > limit:
            raise DesignError(
                f"{self.name}: has {size} designs, more than the grid limit {limit}; use sample()"
            )
        flat = np.arange(int(size), dtype=np.int64)
        idx = np.stack(np.unravel_index(flat, tuple(self.nvec)), axis=1)
        batch = self.from_indices(idx)
        mask = self.feasible(batch)
        return {k: v[mask] for k, v in batch.items()}

    # ------------------------------------------------------------------ optuna
    def optuna_distributions(self, on_levels: bool = False) -> dict[str, Any]:
        """Optuna distributions keyed by parameter name, over the parameters' own values.

        ``on_levels``: real parameters offer only their levels, so that a study searches the
        designs the env's MultiDiscrete action and every agent search (the design studies of
        :mod:`archgym_py.optuna` do); otherwise a real parameter is continuous (hyperparameters).
        """
        return {p.name: p.optuna_distribution(on_levels) for p in self.params}

    def suggest(self, trial, on_levels: bool = False) -> dict[str, Any]:
        """Ask an Optuna trial for a design through its public ``suggest_*`` API.

        Parameters keep their names and values (``glb_kib: 256``, not an exponent or an index);
        ``on_levels`` as in :meth:`optuna_distributions`. Constraints are not enforced here:
        check ``space.violated(design)`` or report them as constraints of the trial.
        """
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        design = {}
        for name, dist in self.optuna_distributions(on_levels).items():
            if isinstance(dist, IntDistribution):
                value = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
            elif isinstance(dist, FloatDistribution):
                value = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
            elif isinstance(dist, CategoricalDistribution):
                value = trial.suggest_categorical(name, list(dist.choices))
            else:  # pragma: no cover - every Parameter kind maps to one of the three
                raise DesignError(f"{self.name}: no Optuna suggestion for {type(dist).__name__}")
            design[name] = self._by_name[name].from_optuna(value)
        return design

    def optuna_params(self, design: Mapping[str, Any]) -> dict[str, Any]:
        """Optuna parameter values of a valid design (the inverse of :meth:`from_optuna_params`)."""
        return {p.name: p.to_optuna(design[p.name]) for p in self.params}

    def from_optuna_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Design from a finished trial's ``params`` (the same names and values)."""
        return {p.name: p.from_optuna(params[p.name]) for p in self.params}

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        out: dict[str, Any] = {"parameters": [p.to_dict() for p in self.params]}
        if self.constraints:
            out["constraints"] = [
                {"expression": c.expression, **({"doc": c.doc} if c.doc else {})}
                for c in self.constraints
            ]
        if self.constants:
            out["constants"] = dict(self.constants)
        return out

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        path: str = "design_space",
        name: str | None = None,
        constants: Mapping[str, Any] | None = None,
    ) -> DesignSpace:
        """Build from the YAML form (see ``arch_specs/*/env.yaml``), validating every key.

        ``path`` locates errors in the file; ``name`` labels the space in later messages;
        ``constants`` (and a ``constants`` mapping in ``data``, which they override) are names
        the constraints may use besides the parameters.
        """
        from ._spec import check_keys

        check_keys(data, required={"parameters"}, optional={"constraints", "constants"}, path=path)
        params = [
            _param_from_dict(p, f"{path}.parameters[{i}]") for i, p in enumerate(data["parameters"])
        ]
        constraints = []
        for i, c in enumerate(data.get("constraints") or ()):
            if isinstance(c, str):
                constraints.append(Constraint(c))
            else:
                check_keys(
                    c, required={"expression"}, optional={"doc"}, path=f"{path}.constraints[{i}]"
                )
                constraints.append(Constraint(str(c["expression"]), str(c.get("doc", ""))))
        given = data.get("constants") or {}
        if not isinstance(given, Mapping):
            raise SpecError(
                f"{path}.constants: expected a mapping of names to numbers, got {given!r}"
            )
        return cls(params, constraints, name=name or path, constants={**given, **(constants or {})})

    def hash(self) -> str:
        """A stable hash of the space's definition (parameters, levels, constraints)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _param_from_dict(data: Mapping[str, Any], path: str) -> Parameter:
    from ._spec import check_keys

    if not isinstance(data, Mapping) or "kind" not in data:
        raise SpecError(f"{path}: a parameter is a mapping with a 'kind', got {data!r}")
    kind = data["kind"]
    if kind not in PARAMETER_KINDS:
        raise SpecError(unknown_name("parameter kind", kind, PARAMETER_KINDS, path))
    common = {"name", "kind", "unit", "doc", "default"}
    extra = {
        "int": {"low", "high", "step"},
        "pow2": {"low", "high"},
        "real": {"low", "high", "log", "levels"},
        "categorical": {"choices"},
        "bool": set(),
    }[kind]
    required = {"name", "kind"} | (
        {"choices"} if kind == "categorical" else extra - {"step", "log", "levels"}
    )
    check_keys(data, required=required, optional=(common | extra) - required, path=path)
    kwargs = {k: v for k, v in data.items() if k not in ("kind", "choices")}
    if kind == "categorical":
        kwargs["values"] = tuple(data["choices"])
    param = PARAMETER_KINDS[kind](**kwargs)
    if param.default is not None:
        try:
            param.check(param.default)
        except DesignError as exc:
            raise SpecError(f"{path}.default: {exc}") from exc
    return param


def _batch_len(batch: Mapping[str, np.ndarray]) -> int:
    for value in batch.values():
        return len(np.atleast_1d(value))
    return 0
