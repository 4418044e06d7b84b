"""Arch: the one architecture type every domain uses.

A base architecture is a named set of cited values: the *tunable* ones are the knobs a design
space may vary, the rest are constants of the technology or device. A domain declares its schema
as class attributes of an :class:`Arch` subclass and gets loading (shipped name, YAML path,
mapping), validation (schema, then the subclass's cross-field :meth:`Arch.check`), the YAML form,
``replace``, units, and :meth:`Arch.fill`, which completes a partial batch of designs with the
base values. Derived quantities are properties of the subclass; those named in ``derived`` can
be used in design-space constraints.

Example:
    >>> from archgym_py import Arch
    >>> from archgym_py._spec import Field
    >>> class Chip(Arch):
    ...     family = "chip"
    ...     what = "chip"
    ...     tunable = {"cores": Field(int, "cores", low=1)}
    ...     constants = {"freq_ghz": Field(float, "clock", low=0)}
    ...     derived = ("peak_gops",)
    ...     @property
    ...     def peak_gops(self):
    ...         return self.cores * self.freq_ghz
    >>> chip = Chip.from_dict({"spec_version": 1, "name": "c", "architecture": {
    ...     "cores": {"value": 4, "source": "s"}, "freq_ghz": {"value": 2.0, "source": "s"}}})
    >>> chip.peak_gops, chip.replace(cores=8).peak_gops, chip.units["freq_ghz"]
    (8.0, 16.0, 'GHz')
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._errors import DesignError, SpecError, unknown_name
from ._spec import (
    Field,
    arch_document,
    load_named_spec,
    parse_arch_document,
    shipped_spec_dir,
)

#: Units read off a key's suffix (the spec convention: unit-suffixed keys).
_SUFFIX_UNITS = {
    "_pj": "pJ", "_pj_per_bit": "pJ/bit", "_mm2": "mm^2", "_mm2_per_kib": "mm^2/KiB",
    "_um2": "um^2", "_kib": "KiB", "_mib": "MiB", "_gib": "GiB", "_bytes": "B", "_bits": "bit",
    "_mhz": "MHz", "_ghz": "GHz", "_gbps": "GB/s", "_tbps": "TB/s", "_bytes_per_cycle": "B/cycle",
    "_ns": "ns", "_us": "us", "_s": "s", "_ck": "nCK", "_ma": "mA", "_v": "V", "_w": "W",
    "_nm": "nm", "_tflops": "TFLOP/s",
}  # fmt: skip


def unit_of(key: str, field: Field) -> str:
    """The unit of a spec key: the field's own, else the one its suffix names (longest match)."""
    if field.unit:
        return field.unit
    for suffix in sorted(_SUFFIX_UNITS, key=len, reverse=True):
        if key.endswith(suffix):
            return _SUFFIX_UNITS[suffix]
    return ""


class Arch:
    """A validated base architecture: values (in the units their keys name) and their sources.

    Subclasses set the schema as class attributes and may add derived properties and
    cross-field rules (:meth:`check`).

    Class attributes:
        family: the folder of the shipped specs (``arch_specs/<family>/arch/*.yaml``).
        what: a label for messages (``"DRAM memory system"``).
        tunable: the knobs a design space may vary (``name -> Field``).
        constants: the fixed values (``name -> Field``).
        optional: constants a spec may leave out; reading one gives ``absent_values[name]``
            (or 0).
        derived: names of properties that design-space constraints may use.
        knob: what a tunable value is called in messages.
    """

    family: ClassVar[str] = ""
    #: Folder of the shipped specs under ``arch_specs/<family>/``.
    subdir: ClassVar[str] = "arch"
    #: Folder of the named specs when they are not shipped in ``arch_specs/`` (a domain outside
    #: this package); ``None``: ``arch_specs/<family>/<subdir>``.
    spec_folder: ClassVar[Path | None] = None
    what: ClassVar[str] = "architecture"
    tunable: ClassVar[Mapping[str, Field]] = {}
    constants: ClassVar[Mapping[str, Field]] = {}
    optional: ClassVar[frozenset[str]] = frozenset()
    absent_values: ClassVar[Mapping[str, Any]] = {}
    derived: ClassVar[tuple[str, ...]] = ()
    #: What a tunable value is called in messages (``"DRAM controller knob"``).
    knob: ClassVar[str] = "knob"

    __slots__ = ("name", "description", "values", "sources")

    def __init__(
        self,
        name: str,
        description: str,
        values: Mapping[str, Any],
        sources: Mapping[str, str] | None = None,
    ):
        self.name = name
        self.description = description
        self.values = dict(values)
        self.sources = dict(sources or {})

    def __getattr__(self, key: str) -> Any:
        # Only reached for names that are not attributes: the spec's values.
        if key in ("values", "name", "description", "sources") or key.startswith("__"):
            raise AttributeError(key)
        values = self.values
        if key in values:
            return values[key]
        if key in self.optional:
            return self.absent_values.get(key, 0)
        raise AttributeError(
            unknown_name(f"{self.what} field", key, [*values, *self.derived], self.name)
        )

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.name == self.name  # type: ignore[attr-defined]
            and other.values == self.values  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # ------------------------------------------------------------------ schema
    @classmethod
    def schema(cls) -> dict[str, Field]:
        return {**cls.tunable, **cls.constants}

    @property
    def units(self) -> dict[str, str]:
        """Unit of every field (from the field, or the key's suffix)."""
        return {k: unit_of(k, f) for k, f in self.schema().items()}

    def tunable_values(self) -> dict[str, Any]:
        return {k: self.values[k] for k in self.tunable}

    def constant_values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.constants}

    def derived_values(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.derived}

    # ------------------------------------------------------------------ loading and YAML
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str = "arch") -> Arch:
        """Validate the schema, then the cross-field rules (:meth:`check`), and build."""
        name, description, values, sources = parse_arch_document(
            data, cls.schema(), path=path, optional=set(cls.optional)
        )
        arch = cls(name, description, values, sources)
        arch.check(path=f"{path}.architecture")
        return arch

    @classmethod
    def load(cls, arch: str | Path | Mapping[str, Any] | Arch) -> Arch:
        """From a shipped name (``arch_specs/<family>/<subdir>/<name>.yaml``), a YAML path, a
        mapping (the YAML form), or an instance."""
        return load_named_spec(arch, cls, cls.from_dict, folder=cls.folder(), what=cls.what)

    @classmethod
    def folder(cls) -> Path:
        """Where the named specs of this type live."""
        if cls.spec_folder is not None:
            return Path(cls.spec_folder)
        return shipped_spec_dir(cls.family) / cls.subdir

    def to_dict(self) -> dict[str, Any]:
        """The YAML form (values with their sources); :meth:`from_dict` reads it back."""
        return arch_document(self.name, self.description, self.values, self.sources)

    def check(self, *, path: str = "arch.architecture") -> None:
        """Cross-field rules the schema cannot express (subclasses override)."""

    def replace(self, *, name: str | None = None, **changes: Any) -> Arch:
        """A validated copy with some values changed (their source becomes ``"replace()"``)."""
        schema = self.schema()
        for key, value in changes.items():
            if key not in schema:
                raise SpecError(unknown_name(f"{self.what} field", key, schema, self.name))
            changes[key] = schema[key].check_value(value, f"{self.name}.{key}")
        sources = {**self.sources, **{k: "replace()" for k in changes}}
        arch = type(self)(name or self.name, self.description, {**self.values, **changes}, sources)
        arch.check(path=f"{arch.name}.architecture")
        return arch

    # ------------------------------------------------------------------ designs
    def fill(self, designs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """A full batch (one array per tunable knob) from a partial one: knobs a design does not
        set keep this architecture's value. Every given value is checked against its knob's
        schema (type, finite, range, choices), vectorised: a bad one is a DesignError naming the
        knob, the value and what was expected, as is an unknown knob."""
        for key in designs:
            if key not in self.tunable:
                raise DesignError(unknown_name(self.knob, key, self.tunable))
        n = _batch_len(designs)
        full = {}
        for key, field in self.tunable.items():
            if key in designs:
                value = field.check_array(np.asarray(designs[key]), f"design.{key}", DesignError)
            else:
                value = np.asarray(self.values[key])
            full[key] = np.broadcast_to(value, (n,)) if np.ndim(value) == 0 else value
        return full

    def scalars(self) -> dict[str, Any]:
        """Every value and derived quantity a constraint may name (numbers and strings)."""
        out = {k: v for k, v in self.values.items() if isinstance(v, (int, float, str))}
        out.update(self.derived_values())
        return out


def _batch_len(designs: Mapping[str, Any]) -> int:
    lengths = set()
    for v in designs.values():
        if isinstance(v, np.ndarray):
            if v.ndim:
                lengths.add(v.shape[0])
        elif isinstance(v, (list, tuple)):
            lengths.add(len(v))
    if len(lengths) > 1:
        raise DesignError(
            f"a batch has one array per knob, all of one length; got lengths {sorted(lengths)}"
        )
    return lengths.pop() if lengths else 1
