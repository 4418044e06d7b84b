"""Parameter kinds of a DesignSpace: integer, power-of-two, real (linear or log), categorical, boolean.

Every parameter knows how to move a value between its four encodings, vectorised over numpy arrays:

* the *value* itself (what a simulator reads: ``pe_rows=16``, ``dataflow="WS"``),
* an *index* into its discrete levels (a gymnasium ``MultiDiscrete`` action component),
* a coordinate in the *unit interval* (genetic algorithms, Bayesian optimisation, QMC sampling),
* *features* (floats for surrogate models: log2 of a power of two, one-hot of a category).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ._errors import DesignError, SpecError, did_you_mean

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Parameter:
    """Base class: a named design knob with a unit, a default and a one-line doc."""

    name: str
    unit: str = ""
    doc: str = ""
    default: Any = None

    kind = "parameter"

    # ---- discrete levels (every kind has them; a real parameter has ``levels`` grid points) ----
    @property
    def choices(self) -> tuple:
        raise NotImplementedError

    @cached_property
    def n_levels(self) -> int:
        return len(self.choices)

    @property
    def is_continuous(self) -> bool:
        return False

    @property
    def size(self) -> float:
        """Number of distinct values (``math.inf`` for a continuous parameter)."""
        return math.inf if self.is_continuous else self.n_levels

    @cached_property
    def table(self) -> np.ndarray:
        """The levels as an array (index -> value lookup table)."""
        return np.asarray(self.choices, dtype=self.dtype)

    def from_index(self, index: np.ndarray) -> np.ndarray:
        """Values for level indices (vectorised)."""
        return self.table[np.asarray(index, dtype=np.int64)]

    def unit_of_index(self, index: np.ndarray) -> np.ndarray:
        """Unit-interval coordinate of level indices (what :meth:`to_unit` gives for the levels)."""
        return (np.asarray(index, dtype=np.float64) + 0.5) / self.n_levels

    def to_index(self, values: np.ndarray) -> np.ndarray:
        """Level indices of (already valid) values, vectorised."""
        values = np.asarray(values)
        choices = np.asarray(self.choices)
        order = np.argsort(choices, kind="stable")
        pos = np.searchsorted(choices[order], values)
        return order[np.clip(pos, 0, len(choices) - 1)].astype(np.int64)

    # ---- unit interval: each level owns an equal slice of [0, 1) ----
    def from_unit(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        idx = np.clip(np.floor(u * self.n_levels), 0, self.n_levels - 1)
        return self.from_index(idx)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        return (self.to_index(values) + 0.5) / self.n_levels

    # ---- features ----
    @property
    def feature_names(self) -> tuple[str, ...]:
        return (self.name,)

    def features(self, values: np.ndarray) -> np.ndarray:
        """Float feature columns, shape ``(n, len(feature_names))``."""
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)

    # ---- validation ----
    def check(self, value: Any) -> Any:
        """Return the canonical value, or raise DesignError naming the parameter and allowed set."""
        raise NotImplementedError

    def _reject(self, value: Any, expected: str) -> DesignError:
        unit = f" {self.unit}" if self.unit else ""
        return DesignError(f"parameter {self.name!r}: got {value!r}{unit}; expected {expected}")

    # ---- optuna ----
    def optuna_distribution(self, on_levels: bool = False):
        """The Optuna distribution over this parameter's own values (``on_levels``: only its
        levels, the designs the MultiDiscrete action and the agents reach)."""
        raise NotImplementedError

    def from_optuna(self, value: Any) -> Any:
        return self.check(value)

    def to_optuna(self, value: Any) -> Any:
        """The Optuna parameter value of a (valid) value: the inverse of :meth:`from_optuna`."""
        return _plain(value)

    def to_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind}
        if self.unit:
            out["unit"] = self.unit
        if self.doc:
            out["doc"] = self.doc
        if self.default is not None:
            out["default"] = _plain(self.default)
        return out

    @property
    def dtype(self) -> np.dtype:
        return np.asarray(self.choices).dtype

    def resolved_default(self) -> Any:
        return self.check(self.default) if self.default is not None else self.choices[0]


def _plain(value: Any) -> Any:
    """A Python scalar from a numpy one (YAML and JSON output)."""
    return value.item() if isinstance(value, np.generic) else value


def _as_number(param: Parameter, value: Any, expected: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise param._reject(value, expected)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise param._reject(value, expected) from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise param._reject(value, expected) from None


@dataclass(frozen=True)
class Integer(Parameter):
    """An integer in ``[low, high]`` on a grid of ``step``."""

    low: int = 0
    high: int = 1
    step: int = 1

    kind = "int"

    def __post_init__(self):
        if self.high < self.low or self.step < 1:
            raise SpecError(
                f"parameter {self.name!r}: need low <= high and step >= 1, "
                f"got low={self.low}, high={self.high}, step={self.step}"
            )

    @cached_property
    def choices(self) -> tuple:
        return tuple(range(self.low, self.high + 1, self.step))

    @property
    def n_levels(self) -> int:
        return (self.high - self.low) // self.step + 1

    def to_index(self, values):
        return ((np.asarray(values, dtype=np.int64) - self.low) // self.step).astype(np.int64)

    def check(self, value):
        expected = f"an integer in [{self.low}, {self.high}] with step {self.step}"
        number = _as_number(self, value, expected)
        if number != int(number) or not self.low <= number <= self.high:
            raise self._reject(value, expected)
        if (int(number) - self.low) % self.step:
            raise self._reject(value, expected)
        return int(number)

    def optuna_distribution(self, on_levels: bool = False):
        from optuna.distributions import IntDistribution

        return IntDistribution(self.low, self.high, step=self.step)

    def to_dict(self):
        return {**super().to_dict(), "low": self.low, "high": self.high, "step": self.step}

    @property
    def dtype(self):
        return np.dtype(np.int64)


@dataclass(frozen=True)
class PowerOfTwo(Parameter):
    """A power of two in ``[low, high]`` (both powers of two). Features and unit cube use log2."""

    low: int = 1
    high: int = 1

    kind = "pow2"

    def __post_init__(self):
        for bound in (self.low, self.high):
            if bound < 1 or bound & (bound - 1):
                raise SpecError(
                    f"parameter {self.name!r}: bounds must be powers of two, got {bound}"
                )
        if self.high < self.low:
            raise SpecError(f"parameter {self.name!r}: low {self.low} > high {self.high}")

    @cached_property
    def _exponents(self) -> tuple[int, int]:
        return int(math.log2(self.low)), int(math.log2(self.high))

    @cached_property
    def choices(self) -> tuple:
        lo, hi = self._exponents
        return tuple(2**e for e in range(lo, hi + 1))

    def to_index(self, values):
        return (
            # values below 1 (e.g. a 0 default snapped into the space) map below level 0
            np.round(np.log2(np.maximum(np.asarray(values, dtype=np.float64), 0.5**64)))
            - self._exponents[0]
        ).astype(np.int64)

    def check(self, value):
        expected = f"a power of two in {list(self.choices)}"
        number = _as_number(self, value, expected)
        if number not in self.choices:
            raise self._reject(value, expected)
        return int(number)

    @property
    def feature_names(self):
        return (f"log2({self.name})",)

    def features(self, values):
        return np.log2(np.asarray(values, dtype=np.float64)).reshape(-1, 1)

    def optuna_distribution(self, on_levels: bool = False):
        # The values themselves (8, 16, ..., 32768), as users read them in a study and the
        # dashboard; an integer range would also offer the numbers between the powers of two.
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(list(self.choices))

    def from_optuna(self, value):
        return self.check(int(value))

    def to_dict(self):
        return {**super().to_dict(), "low": self.low, "high": self.high}

    @property
    def dtype(self):
        return np.dtype(np.int64)


def _round_significant(values: np.ndarray, digits: int = 12) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    nonzero = values != 0
    magnitude = np.floor(np.log10(np.abs(np.where(nonzero, values, 1.0))))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.where(nonzero, np.round(values * scale) / scale, 0.0)


@dataclass(frozen=True)
class Real(Parameter):
    """A real number in ``[low, high]``, linear or log scale.

    Continuous in the unit cube and for Optuna; discretised into ``levels`` evenly spaced points
    (in log space when ``log``) for a MultiDiscrete action.
    """

    low: float = 0.0
    high: float = 1.0
    log: bool = False
    levels: int = 16

    kind = "real"

    def __post_init__(self):
        if not self.high > self.low or (self.log and self.low <= 0) or self.levels < 2:
            raise SpecError(
                f"parameter {self.name!r}: need high > low (> 0 when log) and levels >= 2, got "
                f"low={self.low}, high={self.high}, log={self.log}, levels={self.levels}"
            )

    @property
    def is_continuous(self):
        return True

    @property
    def n_levels(self):
        return self.levels

    @cached_property
    def choices(self):
        # Levels are rounded to 12 significant digits so that exp/log round-off does not show
        # (a level is 1600.0, not 1599.9999999999998).
        levels = _round_significant(self._unwarp(np.arange(self.levels) / (self.levels - 1)))
        return tuple(float(v) for v in levels)

    def _warp(self, values):
        values = np.asarray(values, dtype=np.float64)
        if self.log:
            return (np.log(values) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low)
            )
        return (values - self.low) / (self.high - self.low)

    def _unwarp(self, u):
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        if self.log:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def unit_of_index(self, index):
        return np.asarray(index, dtype=np.float64) / (self.levels - 1)

    def to_index(self, values):
        return np.rint(self._warp(values) * (self.levels - 1)).astype(np.int64)

    def from_unit(self, u):
        return self._unwarp(u)

    def to_unit(self, values):
        return self._warp(values)

    @property
    def feature_names(self):
        return (f"log({self.name})",) if self.log else (self.name,)

    def features(self, values):
        values = np.asarray(values, dtype=np.float64)
        return (np.log(values) if self.log else values).reshape(-1, 1)

    def check(self, value):
        expected = f"a real number in [{self.low}, {self.high}]"
        number = _as_number(self, value, expected)
        if not (self.low <= number <= self.high) or math.isnan(number):
            raise self._reject(value, expected)
        return number

    def optuna_distribution(self, on_levels: bool = False):
        from optuna.distributions import CategoricalDistribution, FloatDistribution

        if on_levels:  # a design knob: the grid the env's action and every agent search
            return CategoricalDistribution(list(self.choices))
        return FloatDistribution(self.low, self.high, log=self.log)

    def to_dict(self):
        return {
            **super().to_dict(), "low": self.low, "high": self.high, "log": self.log,
            "levels": self.levels,
        }  # fmt: skip

    @property
    def dtype(self):
        return np.dtype(np.float64)


@dataclass(frozen=True)
class Categorical(Parameter):
    """One of an ordered tuple of choices (strings or numbers). Features are one-hot."""

    values: tuple = field(default_factory=tuple)

    kind = "categorical"

    def __post_init__(self):
        if len(self.values) < 1 or len(set(self.values)) != len(self.values):
            raise SpecError(
                f"parameter {self.name!r}: choices must be non-empty and distinct, got {self.values}"
            )

    @property
    def choices(self):
        return tuple(self.values)

    def to_index(self, values):
        values = np.asarray(values)
        out = np.zeros(values.shape, dtype=np.int64)
        for i, choice in enumerate(self.values):
            out[values == choice] = i
        return out

    @property
    def feature_names(self):
        return tuple(f"{self.name}={c}" for c in self.values)

    def features(self, values):
        values = np.asarray(values).reshape(-1, 1)
        return (values == np.asarray(self.values).reshape(1, -1)).astype(np.float64)

    def check(self, value):
        for choice in self.values:
            if value == choice or (isinstance(value, str) and str(choice) == value):
                return choice
        hint = did_you_mean(str(value), [str(c) for c in self.values])
        raise self._reject(value, f"one of {list(self.values)}{hint}")

    def optuna_distribution(self, on_levels: bool = False):
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(list(self.values))

    def to_dict(self):
        return {**super().to_dict(), "choices": [_plain(v) for v in self.values]}


@dataclass(frozen=True)
class Boolean(Parameter):
    """True or False (features 0/1)."""

    kind = "bool"

    @property
    def choices(self):
        return (False, True)

    def to_index(self, values):
        return np.asarray(values, dtype=bool).astype(np.int64)

    def check(self, value):
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        if isinstance(value, (int, np.integer)) and value in (0, 1):
            return bool(value)
        raise self._reject(value, "true or false")

    def optuna_distribution(self, on_levels: bool = False):
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution([False, True])

    @property
    def dtype(self):
        return np.dtype(bool)


PARAMETER_KINDS: dict[str, type[Parameter]] = {
    cls.kind: cls for cls in (Integer, PowerOfTwo, Real, Categorical, Boolean)
}
