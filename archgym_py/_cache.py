"""A user cache folder for results that are expensive to compute and cheap to key: the exact
optimum of an enumerable env (minutes of simulation) keyed by everything it depends on.

``$ARCHGYM_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/archgym_py`` (``~/.cache/archgym_py``).
Entries are JSON, written atomically; a corrupt or unreadable entry is ignored (recomputed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ._trace import atomic_write_text


def cache_dir() -> Path:
    """The cache root (not created until something is stored)."""
    explicit = os.environ.get("ARCHGYM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archgym_py"


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able description of what a result depends on."""
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def load_entry(kind: str, key: str) -> dict[str, Any] | None:
    """The stored entry, or None when absent or unreadable."""
    path = cache_dir() / kind / f"{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def store_entry(kind: str, key: str, entry: dict[str, Any]) -> Path | None:
    """Store ``entry`` (best effort: a read-only home only loses the cache); its path or None."""
    path = cache_dir() / kind / f"{key}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(entry, indent=1, sort_keys=True, default=str))
    except OSError:
        return None
    return path
