"""ResultStore: every finished sweep cell in SQLite, written atomically as the cell ends.

One row per cell id (the primary key), inserted in its own transaction: a sweep killed at any
moment keeps every cell that finished and none that did not, and a resumed sweep cannot write a
cell twice. The database is portable (SQLite; JSON for nested values).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .._errors import ArchGymError

SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    cell_id TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    env_id TEXT NOT NULL,
    env_label TEXT NOT NULL,
    env_kwargs TEXT NOT NULL,
    agent TEXT NOT NULL,
    config_index INTEGER NOT NULL,
    hyperparameters TEXT NOT NULL,
    seed INTEGER NOT NULL,
    budget INTEGER NOT NULL,
    best_reward REAL NOT NULL,
    best_design TEXT NOT NULL,
    best_metrics TEXT NOT NULL,
    feasible_count INTEGER NOT NULL,
    curve TEXT NOT NULL,
    pareto TEXT,
    wall_time_s REAL NOT NULL,
    simulator_time_s REAL NOT NULL,
    finished_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS best_known (
    env_label TEXT PRIMARY KEY,
    reward REAL NOT NULL,
    design TEXT NOT NULL,
    search TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    started_at REAL NOT NULL,
    versions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS envs (
    env_label TEXT PRIMARY KEY,
    env_id TEXT NOT NULL,
    env_kwargs TEXT NOT NULL,
    optimum REAL,
    optimum_design TEXT,
    directions TEXT NOT NULL
);
"""

JSON_COLUMNS = ("env_kwargs", "hyperparameters", "best_design", "best_metrics", "curve", "pareto")


class ResultStore:
    """SQLite store of sweep results (``results.db``)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._writing("create"):
            self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(SCHEMA)

    @contextlib.contextmanager
    def _writing(self, what: str):
        """An SQLite failure (a full disk, a read-only file) as a typed error naming the file."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise ArchGymError(
                f"{self.path}: cannot {what} the results file ({exc}: is the disk full or the file "
                "read-only?); the cells stored so far are kept: fix it, then --resume"
            ) from exc

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def done_ids(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT cell_id FROM cells")}

    def write_cell(self, row: Mapping[str, Any]) -> bool:
        """Insert one finished cell atomically; returns False if the cell was already stored."""
        values = {k: (json.dumps(row[k], sort_keys=True) if k in JSON_COLUMNS and row.get(k) is not None
                      else row.get(k)) for k in _CELL_COLUMNS}  # fmt: skip
        values["finished_at"] = values.get("finished_at") or time.time()
        placeholders = ", ".join(f":{c}" for c in _CELL_COLUMNS)
        with self._writing("write a cell to"), self._conn:  # one transaction
            cur = self._conn.execute(f"INSERT OR IGNORE INTO cells VALUES ({placeholders})", values)
        return cur.rowcount == 1

    def write_env(self, label: str, env_id: str, env_kwargs: Mapping[str, Any], optimum: float | None,
                  optimum_design: Mapping[str, Any] | None, directions: Mapping[str, str]) -> None:  # fmt: skip
        with self._writing("write an env to"), self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO envs VALUES (?, ?, ?, ?, ?, ?)",
                (label, env_id, json.dumps(dict(env_kwargs), sort_keys=True), optimum,
                 json.dumps(optimum_design) if optimum_design is not None else None, json.dumps(dict(directions))),
            )  # fmt: skip

    def write_best_known(
        self, label: str, reward: float, design: Mapping[str, Any], search: str
    ) -> None:
        """The best-known design of an env that cannot be enumerated, and the search that found it."""
        with self._writing("write to"), self._conn:
            self._conn.execute("INSERT OR REPLACE INTO best_known VALUES (?, ?, ?, ?)",
                               (label, float(reward), json.dumps(dict(design)), search))  # fmt: skip

    def record_run(self, versions: Mapping[str, str]) -> None:
        """Note that a sweep process started writing here, with the library versions it used."""
        with self._writing("write to"), self._conn:
            self._conn.execute(
                "INSERT INTO runs VALUES (?, ?)",
                (time.time(), json.dumps(dict(versions), sort_keys=True)),
            )

    def versions(self) -> list[dict[str, str]]:
        """The distinct library versions of the processes that wrote this file, oldest first."""
        rows = self._conn.execute("SELECT versions FROM runs ORDER BY started_at").fetchall()
        return [json.loads(v) for v in dict.fromkeys(r[0] for r in rows)]

    def cells(self) -> list[dict[str, Any]]:
        """Every stored cell as a dict (JSON columns decoded), in insertion order."""
        cur = self._conn.execute("SELECT * FROM cells ORDER BY rowid")
        names = [d[0] for d in cur.description]
        out = []
        for row in cur:
            item = dict(zip(names, row, strict=True))
            for k in JSON_COLUMNS:
                if item.get(k) is not None:
                    item[k] = json.loads(item[k])
            out.append(item)
        return out

    def envs(self) -> dict[str, dict[str, Any]]:
        cur = self._conn.execute("SELECT * FROM envs")
        names = [d[0] for d in cur.description]
        out = {}
        for row in cur:
            item = dict(zip(names, row, strict=True))
            for k in ("env_kwargs", "optimum_design", "directions"):
                if item.get(k) is not None:
                    item[k] = json.loads(item[k])
            out[item["env_label"]] = item
        for label, reward, design, search in self._conn.execute("SELECT * FROM best_known"):
            if label in out:
                out[label].update(
                    best_known=reward,
                    best_known_design=json.loads(design),
                    best_known_search=search,
                )
        return out

    def __len__(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]


_CELL_COLUMNS = ("cell_id", "sweep", "env_id", "env_label", "env_kwargs", "agent", "config_index", "hyperparameters",
                 "seed", "budget", "best_reward", "best_design", "best_metrics", "feasible_count", "curve", "pareto",
                 "wall_time_s", "simulator_time_s", "finished_at")  # fmt: skip


def open_store(path: str | Path) -> ResultStore:
    path = Path(path)
    if path.suffix not in (".db", ".sqlite", ".sqlite3"):
        raise ArchGymError(f"results {str(path)!r}: expected a SQLite file ending in .db")
    return ResultStore(path)


def rows_by(cells: Iterable[Mapping[str, Any]], *keys: str) -> dict[tuple, list[Mapping[str, Any]]]:
    out: dict[tuple, list] = {}
    for c in cells:
        out.setdefault(tuple(c[k] for k in keys), []).append(c)
    return out
