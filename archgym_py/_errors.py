"""The typed error hierarchy: every error says where, what it got, and what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ArchGymError(Exception):
    """Base class of every error raised by archgym_py on bad input."""


class SpecError(ArchGymError, ValueError):
    """A YAML spec (architecture, workload, env, sweep) is malformed; the message names the key path."""


class DesignError(ArchGymError, ValueError):
    """A design (or an action) is not in its DesignSpace; the message names the parameter."""


class WorkloadError(ArchGymError, ValueError):
    """A workload is unknown or malformed."""


class ObjectiveError(ArchGymError, ValueError):
    """An objective refers to an unknown metric or has an invalid weight, target or bound."""


class OffGridWarning(UserWarning):
    """A base architecture sets a tuned knob to a value that is not one of the design space's
    levels: episodes start from the nearest level; ``archgym eval`` evaluates the value itself."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    by_lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[close[0]]!r}?)" if close else ""


def unknown_name(what: str, name: str, choices: Iterable[str], path: str = "") -> str:
    """Message for an unknown key/name: where, what, the allowed set, and the closest match."""
    choices = sorted(str(c) for c in choices)
    where = f"{path}: " if path else ""
    return f"{where}unknown {what} {name!r}{did_you_mean(name, choices)}; expected one of {choices}"
