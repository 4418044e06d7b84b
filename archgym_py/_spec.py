"""Loading and validating YAML specs: schema first, then cross-field rules.

Conventions every shipped spec follows (and user specs must too):

* ``yaml.safe_load`` only; a top-level ``spec_version`` that this library supports;
* unit-suffixed keys (``_pj``, ``_mm2``, ``_gbps``, ``_kib``, ``_mhz``);
* every physical constant is cited: ``key: {value: 12, source: "Chen et al., ISSCC 2016"}``;
* unknown keys are rejected with their full key path and the closest known key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ._errors import SpecError, unknown_name

SUPPORTED_SPEC_VERSIONS = (1,)


def check_keys(
    data: Any,
    *,
    required: set[str] | frozenset[str],
    optional: set[str] | frozenset[str] = frozenset(),
    path: str,
    error: type[Exception] = SpecError,
) -> None:
    """Reject a non-mapping, a missing required key, or an unknown key (naming the closest one)."""
    if not isinstance(data, Mapping):
        raise error(f"{path}: expected a mapping, got {type(data).__name__} {data!r}")
    allowed = set(required) | set(optional)
    for key in data:
        if key not in allowed:
            raise error(unknown_name("key", key, allowed, path))
    for key in sorted(required):
        if key not in data:
            raise error(f"{path}: missing required key {key!r}")


@dataclass(frozen=True)
class Field:
    """Schema of one cited constant: its type, an optional range or choice set, and a doc line."""

    kind: type
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    cited: bool = True
    unit: str = ""

    def parse(self, raw: Any, path: str) -> tuple[Any, str | None]:
        """Return ``(value, source)`` or raise SpecError naming ``path``."""
        source = None
        if self.cited:
            if not isinstance(raw, Mapping) or "value" not in raw or "source" not in raw:
                raise SpecError(
                    f'{path}: a constant is written {{value: ..., source: "where it comes from"}}, '
                    f"got {raw!r}"
                )
            check_keys(raw, required={"value", "source"}, optional={"note"}, path=path)
            source = str(raw["source"]).strip()
            if not source:
                raise SpecError(f"{path}.source: must name a datasheet, paper or standard")
            raw = raw["value"]
        return self.check_value(raw, path), source

    def check_value(self, raw: Any, path: str) -> Any:
        """Validate a bare value (type, range, choices) and return it coerced."""
        value = self._coerce(raw, path)
        if self.choices is not None and value not in self.choices:
            raise SpecError(unknown_name("value", value, self.choices, path))
        if self.low is not None and value < self.low:
            raise SpecError(f"{path}: got {value}; expected >= {self.low} ({self.doc})")
        if self.high is not None and value > self.high:
            raise SpecError(f"{path}: got {value}; expected <= {self.high} ({self.doc})")
        return value

    def check_array(self, values: np.ndarray, path: str, error: type[Exception]) -> np.ndarray:
        """Validate an array of values at once (a batch of designs): the type, finite numbers,
        the range and the choices; raise ``error`` naming the first bad value."""
        values = np.asarray(values)
        if values.size <= 16 and self._scalars_ok(
            values.tolist() if values.ndim else [values.item()]
        ):
            return values  # a few designs (an env step): plain Python comparisons are cheapest
        if self.choices is not None or self.kind in (str, bool):
            self._check_levels(values, path, error)
            return values
        if values.dtype.kind not in "iuf":
            try:
                values = values.astype(np.float64)
            except (TypeError, ValueError):
                bad = next(v for v in values.tolist() if not isinstance(v, (int, float)))
                raise error(f"{path}: got {bad!r}; expected a number ({self.doc})") from None
        bad = ~np.isfinite(values) if values.dtype.kind == "f" else np.zeros(values.shape, bool)
        if self.kind is int and values.dtype.kind == "f":
            bad |= np.isfinite(values) & (values != np.round(values))
        if self.low is not None:
            bad |= values < self.low
        if self.high is not None:
            bad |= values > self.high
        if bad.any():
            value = values[np.argmax(bad)].item()
            bounds = f"{self.low if self.low is not None else '-inf'} <= value <= {self.high if self.high is not None else 'inf'}"
            kind = "an integer" if self.kind is int else "a finite number"
            raise error(f"{path}: got {value!r}; expected {kind}, {bounds} ({self.doc})")
        return values

    def _check_levels(self, values: np.ndarray, path: str, error: type[Exception]) -> None:
        """Text, true/false or one of the choices, for each distinct value."""
        for value in dict.fromkeys(values.tolist()):  # distinct values: few per batch
            if self.kind is bool and not isinstance(value, bool):
                raise error(f"{path}: got {value!r}; expected true or false ({self.doc})")
            if self.kind is str and not isinstance(value, str):
                raise error(f"{path}: got {value!r}; expected text ({self.doc})")
            if self.choices is not None and value not in self.choices:
                raise error(unknown_name("value", value, self.choices, path))

    def _scalars_ok(self, values: list) -> bool:
        """Whether every value passes :meth:`check_value` (no report: :meth:`check_array` finds
        the bad one and says why)."""
        try:
            for value in values:
                self.check_value(value, "")
        except (SpecError, ValueError, OverflowError):  # int(nan), int(inf) raise the latter two
            return False
        return True

    def _coerce(self, raw: Any, path: str) -> Any:
        if self.kind is bool:
            if not isinstance(raw, bool):
                raise SpecError(f"{path}: expected true/false, got {raw!r}")
            return raw
        if self.kind in (int, float):
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise SpecError(f"{path}: expected a number ({self.doc}), got {raw!r}")
            if self.kind is int and raw != int(raw):
                raise SpecError(f"{path}: expected an integer ({self.doc}), got {raw!r}")
            if isinstance(raw, float) and not math.isfinite(raw):
                raise SpecError(f"{path}: expected a finite number, got {raw!r}")
            return self.kind(raw)
        if not isinstance(raw, self.kind):
            raise SpecError(f"{path}: expected {self.kind.__name__}, got {raw!r}")
        return raw


def parse_section(
    data: Any, schema: Mapping[str, Field], *, path: str, optional: set[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a mapping of cited constants against ``schema``.

    Returns:
        ``(values, sources)``: plain values and the citation of each.
    """
    check_keys(data, required=set(schema) - set(optional), optional=set(optional), path=path)
    values, sources = {}, {}
    for key, field in schema.items():
        if key in data:
            values[key], source = field.parse(data[key], f"{path}.{key}")
            if source:
                sources[key] = source
    return values, sources


def parse_arch_document(
    data: Any, schema: Mapping[str, Field], *, path: str, optional: set[str] = frozenset()
) -> tuple[str, str, dict[str, Any], dict[str, str]]:
    """The envelope every base-architecture YAML shares (``spec_version``, ``name``,
    ``description``, ``architecture``), with the ``architecture`` section checked against ``schema``.

    Returns:
        ``(name, description, values, sources)``.
    """
    check_spec_version(data, path)
    check_keys(
        data, required={"spec_version", "name", "architecture"}, optional={"description"}, path=path
    )
    values, sources = parse_section(
        data["architecture"], schema, path=f"{path}.architecture", optional=optional
    )
    return str(data["name"]), str(data.get("description", "")), values, sources


def arch_document(
    name: str, description: str, values: Mapping[str, Any], sources: Mapping[str, str]
) -> dict[str, Any]:
    """The YAML form :func:`parse_arch_document` reads (each value with its source)."""
    body = {k: {"value": v, "source": sources.get(k, "")} for k, v in values.items()}
    return {"spec_version": 1, "name": name, "description": description, "architecture": body}


class _NoCollectionAliases(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses an alias of a list or mapping.

    Aliases of scalars (a shared ``source`` string) are fine; aliases of collections nest into an
    exponential "billion laughs" expansion when the data is printed or hashed (a 3 KB file took
    3 GB), so they are refused where they are read.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None and not isinstance(node, yaml.ScalarNode):
                raise yaml.composer.ComposerError(
                    None, None, f"alias *{event.anchor} names a list or mapping; only aliases of "
                    "single values are allowed", event.start_mark,
                )  # fmt: skip
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely (no objects, no aliases of lists or mappings)."""
    return yaml.load(text, Loader=_NoCollectionAliases)  # noqa: S506 - a SafeLoader subclass


def load_yaml(path: str | Path) -> Any:
    """``yaml.safe_load`` a file, with a SpecError naming the file (and line) on failure."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded)") from None
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SpecError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc


def check_spec_version(data: Mapping[str, Any], path: str) -> None:
    version = data.get("spec_version") if isinstance(data, Mapping) else None
    if version not in SUPPORTED_SPEC_VERSIONS:
        raise SpecError(
            f"{path}.spec_version: got {version!r}; expected one of {list(SUPPORTED_SPEC_VERSIONS)}"
        )


def shipped_spec_dir(family: str) -> Path:
    """Folder of the YAML specs shipped for a domain (``arch_specs/<family>``)."""
    return Path(str(resources.files("archgym_py.arch_specs").joinpath(family)))


def resolve_named_yaml(folder: Path, name_or_path: str | Path, *, what: str) -> Path:
    """A YAML file by path, or by name (``"eyeriss"``) among the files shipped in ``folder``."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    if candidate.suffix in (".yaml", ".yml") or len(candidate.parts) > 1:  # a path, not a name
        raise SpecError(f"{what} file {str(name_or_path)!r} does not exist")
    shipped = folder / f"{name_or_path}.yaml"
    if shipped.exists():
        return shipped
    raise SpecError(
        unknown_name(what, str(name_or_path), yaml_names(folder)) + " or a path to a .yaml file"
    )


def yaml_names(folder: Path) -> list[str]:
    """Names (stems) of the YAML files in ``folder``."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_named_spec(
    value: Any,
    kind: type,
    from_dict: Callable[..., Any],
    *,
    folder: Path,
    what: str,
) -> Any:
    """A spec object from itself, a mapping, a name among the YAML files of ``folder``, or a YAML
    path (errors name the file)."""
    if isinstance(value, kind):
        return value
    if isinstance(value, Mapping):
        return from_dict(value)
    path = resolve_named_yaml(folder, value, what=what)
    return from_dict(load_yaml(path), path=str(path))


def shipped_names(family: str, subdir: str = "") -> list[str]:
    return yaml_names(shipped_spec_dir(family) / subdir)


def import_string(target: str) -> Callable[..., Any] | Any:
    """Resolve ``"package.module:attribute"`` (the registry tables' string entry points)."""
    import importlib

    module_name, _, attr = target.partition(":")
    if not attr:
        raise SpecError(f"entry point {target!r}: expected 'module:attribute'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise SpecError(unknown_name("attribute", attr, dir(module), module_name)) from None
