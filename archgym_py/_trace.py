"""TraceStore: every simulator evaluation, appended safely to CSV or Parquet.

A row holds the design, the workload, every metric, feasibility (the simulator's and the design
space's rules, not an objective's budgets, which are recomputed from the metrics), the wall time of the
evaluation (per design), the simulator version and the design-space hash, and a timestamp.

* ``*.csv``: one file; each append takes an exclusive ``flock``, writes whole lines and flushes,
  so concurrent writers never interleave and a killed writer never leaves half a row.
* ``*.parquet``: a folder of part files, each written to a temporary name and renamed into place.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import ArchGymError
from ._imports import optional_import

META_COLUMNS = (
    "workload",
    "feasible",
    "wall_time_s",
    "simulator_version",
    "space_hash",
    "timestamp",
)

TEXT_COLUMNS = ("workload", "simulator_version", "space_hash")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TraceStore:
    """Append-only store of evaluations.

    Args:
        path: ``*.csv`` (one file) or ``*.parquet`` (a folder of part files).
        meta: constant columns for every row (``simulator_version``, ``space_hash``).
    """

    def __init__(self, path: str | Path, meta: Mapping[str, Any] | None = None):
        self.path = Path(path)
        if self.path.suffix not in (".csv", ".parquet"):
            raise ArchGymError(f"trace {str(self.path)!r}: expected a .csv or .parquet path")
        self.format = self.path.suffix[1:]
        self.meta = dict(meta or {})
        self._seq = 0

    def bind(self, **meta: Any) -> TraceStore:
        """Set constant columns (the env sets the simulator version and design-space hash)."""
        self.meta.update(meta)
        return self

    def _columns(
        self, batch: Mapping[str, np.ndarray], metrics: Mapping[str, np.ndarray]
    ) -> tuple[dict, int]:
        n = len(next(iter(batch.values())))
        cols: dict[str, Any] = {k: np.asarray(v) for k, v in batch.items()}
        cols.update({k: np.asarray(v, dtype=np.float64) for k, v in metrics.items()})
        return cols, n

    def append(
        self,
        batch: Mapping[str, np.ndarray],
        metrics: Mapping[str, np.ndarray],
        feasible: np.ndarray,
        *,
        workload: str,
        wall_time_s: float,
    ) -> None:
        """Append one row per design of ``batch``; ``wall_time_s`` is the batch's, shared evenly."""
        cols, n = self._columns(batch, metrics)
        cols["workload"] = np.full(n, workload)
        cols["feasible"] = np.asarray(feasible, dtype=bool)
        cols["wall_time_s"] = np.full(n, wall_time_s / max(n, 1))
        cols["simulator_version"] = np.full(n, str(self.meta.get("simulator_version", "")))
        cols["space_hash"] = np.full(n, str(self.meta.get("space_hash", "")))
        cols["timestamp"] = np.full(n, time.time())
        if self.format == "csv":
            self._append_csv(cols, n)
        else:
            self._append_parquet(cols)

    def _append_csv(self, cols: dict[str, np.ndarray], n: int) -> None:
        import fcntl

        names = list(cols)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        rows = zip(*(cols[k].tolist() for k in names), strict=True)
        writer.writerows(rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", newline="") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.seek(0, os.SEEK_END)
                if fh.tell() == 0:
                    fh.write(",".join(names) + "\n")
                else:
                    fh.seek(0)
                    header = fh.readline().rstrip("\n").split(",")
                    if header != names:
                        raise ArchGymError(
                            f"trace {str(self.path)!r}: columns {names} do not match the file's {header}; "
                            "write to a new file"
                        )
                    fh.seek(0, os.SEEK_END)
                fh.write(buf.getvalue())
                fh.flush()
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _append_parquet(self, cols: dict[str, np.ndarray]) -> None:
        pa = optional_import("pyarrow", "Parquet traces")
        pq = optional_import("pyarrow.parquet", "Parquet traces")
        self.path.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"part-{time.time_ns()}-{os.getpid()}-{self._seq}.parquet"
        tmp = self.path / f".{name}.tmp"
        pq.write_table(pa.table({k: v for k, v in cols.items()}), tmp)
        os.replace(tmp, self.path / name)

    def read(self) -> dict[str, np.ndarray]:
        """Every row, as one array per column (numbers as float, booleans as bool)."""
        if self.format == "parquet":
            pa = optional_import("pyarrow", "Parquet traces")
            pq = optional_import("pyarrow.parquet", "Parquet traces")
            parts = sorted(self.path.glob("part-*.parquet"))
            if not parts:
                return {}
            table = pa.concat_tables([pq.read_table(p) for p in parts])
            return {k: np.asarray(v) for k, v in table.to_pydict().items()}
        if not self.path.exists():
            return {}
        try:
            with open(self.path, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
        except UnicodeDecodeError as exc:
            raise ArchGymError(
                f"trace {str(self.path)!r}: not UTF-8 text (byte {exc.start})"
            ) from None
        if not rows:
            return {}
        header, body = rows[0], rows[1:]
        short = next((i for i, r in enumerate(body, start=2) if len(r) != len(header)), None)
        if short is not None:
            raise ArchGymError(
                f"trace {str(self.path)!r}:{short}: {len(body[short - 2])} fields where the header has "
                f"{len(header)}; the file is truncated or was edited (a killed writer?)"
            )
        out = {}
        for j, name in enumerate(header):
            values = [r[j] for r in body]
            # Text columns stay text: a hash such as "0123" or a workload named "1" is not a number.
            out[name] = np.array(values) if name in TEXT_COLUMNS else _parse_column(values)
        return out

    def __len__(self) -> int:
        data = self.read()
        return len(next(iter(data.values()))) if data else 0


def _parse_column(values: list[str]) -> np.ndarray:
    if values and all(v in ("True", "False") for v in values):
        return np.array([v == "True" for v in values])
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return np.array(values)
