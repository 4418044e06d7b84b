"""An advisory lock on a sidecar file (``<path>.lock``), shared by every process that writes one
results file or opens one SQLite storage."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: str | Path, *, wait: bool = True, patience_s: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` inside the block (its folder is created).

    With ``wait=False`` a lock another process holds raises ``BlockingIOError``, after retrying
    for ``patience_s`` seconds (a process that was just killed releases it as it exits).
    """
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        if wait:
            fcntl.flock(fh, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + patience_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
