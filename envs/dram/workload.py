"""Memory traces: the workload of the DRAM domain.

A :class:`Trace` is a time-ordered list of requests (arrival time in ns, byte address, read or
write); each request moves one burst of the memory system (64 bytes on every shipped device).
Traces come from

* synthetic generators: :func:`sequential`, :func:`uniform_random`, :func:`strided`,
  :func:`hotspot` and :func:`mixed` (an interleaving of a stream, random and hot-region
  traffic), each with a read fraction and an arrival rate from light to saturating load;
* trace files: DRAMSys ``.stl`` (``<cycle>: read|write <address> [data]``), DRAMSim3
  (``<address> READ|WRITE <cycle>``), plain (``<cycle> R|W <address>``) and Ramulator
  (``<address> R|W`` in DRAM mode, ``<bubbles> <read address> [<writeback address>]`` in CPU
  mode), each plain or gzip-compressed. A malformed line raises a
  :class:`~archgym_py.WorkloadError` naming the file, the line number and the expected form.

A trace file's cycles count its own clock (``clock_mhz``). When that clock is the device's (up
to the rounding of a spec's tCK, e.g. a 1200 MHz trace on DDR4-2400's 0.833 ns), the simulator
plays it cycle for cycle, so a long trace does not drift; other clocks convert through time.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..._errors import WorkloadError, unknown_name
from ..._spec import check_keys

LINE_BYTES = (
    64  # the request size generators assume (a cache line; one burst of the shipped devices)
)


#: Latest arrival a trace may hold (ns): 11.6 days, far below where cycle counts overflow int64.
MAX_TIME_NS = 1e15


def _addresses(values: Any, name: str) -> np.ndarray:
    """Byte addresses as uint64, refusing negative, fractional or over-64-bit values."""
    raw = np.asarray(values)
    if raw.dtype.kind == "O":
        bad = [v for v in raw.tolist() if not isinstance(v, int) or not 0 <= v < 1 << 64]
        if bad:
            raise WorkloadError(
                f"trace {name!r}: address {bad[0]!r}; expected an integer in [0, 2^64)"
            )
        return np.ascontiguousarray([int(v) for v in raw.tolist()], dtype=np.uint64)
    if (
        raw.dtype.kind not in "iuf"
        or (raw.dtype.kind in "if" and np.any(raw < 0))
        or (raw.dtype.kind == "f" and not np.all(np.mod(raw, 1) == 0))
    ):
        raise WorkloadError(
            f"trace {name!r}: addresses must be integers in [0, 2^64), got {raw[:3].tolist()}..."
        )
    return np.ascontiguousarray(raw, dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class Trace:
    """A memory trace: per request its arrival time (ns), byte address and direction."""

    name: str
    time_ns: np.ndarray
    address: np.ndarray
    is_write: np.ndarray
    description: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        t = np.ascontiguousarray(self.time_ns, dtype=np.float64)
        a = _addresses(self.address, self.name)
        w = np.ascontiguousarray(self.is_write, dtype=bool)
        if not (len(t) == len(a) == len(w)):
            raise WorkloadError(f"trace {self.name!r}: time, address and is_write lengths differ")
        if len(t) == 0:
            raise WorkloadError(f"trace {self.name!r}: no requests")
        if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > MAX_TIME_NS):
            raise WorkloadError(
                f"trace {self.name!r}: arrival times must be finite, >= 0 and <= {MAX_TIME_NS:g} ns "
                f"(11.6 days; cycles are counted in 64 bits), got {t[~((t >= 0) & (t <= MAX_TIME_NS))][:1].tolist()}"
            )
        if np.any(np.diff(t) < 0):
            i = int(np.argmax(np.diff(t) < 0)) + 1
            raise WorkloadError(
                f"trace {self.name!r}: request {i} arrives at {t[i]} ns, before request {i - 1} "
                f"({t[i - 1]} ns); expected nondecreasing times"
            )
        for key, value in (("time_ns", t), ("address", a), ("is_write", w)):
            value.setflags(write=False)
            object.__setattr__(self, key, value)

    def __len__(self) -> int:
        return len(self.time_ns)

    @property
    def read_fraction(self) -> float:
        """Share of requests that are reads."""
        return float(1.0 - self.is_write.mean())

    @property
    def duration_ns(self) -> float:
        """Time from the first to the last request, ns."""
        return float(self.time_ns[-1] - self.time_ns[0])

    def features(self) -> dict[str, float]:
        """The trace as surrogate features, independent of any address mapping: read share,
        offered rate (log2 GB/s at 64 B per request), page locality (share of requests to one of
        the 16 previous requests' 8 KiB pages), stride regularity (share of consecutive address
        deltas equal to the commonest), footprint (log2 distinct 4 KiB pages), burstiness (the
        coefficient of variation of inter-arrival times) and length (log2 requests)."""
        n = len(self)
        rate = n * 64 / max(self.duration_ns, 1.0)  # bytes per ns = GB/s
        pages = (self.address >> 13).astype(np.int64)
        recent = np.zeros(n, dtype=bool)
        for lag in range(1, 17):  # a window of 16 previous requests
            recent[lag:] |= pages[lag:] == pages[:-lag]
        delta = np.diff(self.address.astype(np.int64))
        if len(delta):
            _, counts = np.unique(delta, return_counts=True)
            regular = float(counts.max() / len(delta))
        else:
            regular = 0.0
        gaps = np.diff(self.time_ns)
        burst = float(gaps.std() / gaps.mean()) if len(gaps) and gaps.mean() > 0 else 0.0
        return {
            "read_fraction": self.read_fraction, "log2_rate_gbps": float(np.log2(max(rate, 1e-6))),
            "page_locality": float(recent.mean()), "stride_regularity": regular,
            "log2_footprint_pages": float(np.log2(len(np.unique(self.address >> 12)))),
            "burstiness": burst, "log2_requests": float(np.log2(n)),
        }  # fmt: skip

    def fingerprint(self) -> str:
        """A content hash (identifies the trace in caches and records)."""
        h = hashlib.sha256()
        for arr in (self.time_ns, self.address, self.is_write):
            h.update(arr.tobytes())
        return h.hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """A mapping :func:`load_workload` rebuilds this trace from (for records and workers):
        the generator and its parameters, the trace file, or the requests themselves."""
        if self.source:
            return dict(self.source)
        return {
            "name": self.name,
            "time_ns": self.time_ns.tolist(),
            "address": [int(a) for a in self.address],
            "is_write": self.is_write.tolist(),
        }

    def head(self, n: int) -> Trace:
        """The first ``n`` requests."""
        return Trace(
            f"{self.name}[:{n}]",
            self.time_ns[:n],
            self.address[:n],
            self.is_write[:n],
            self.description,
        )


# ----------------------------------------------------------------------------- generators
def _arrivals(
    n: int, rate_gbps: float | None, arrival: str, rng: np.random.Generator
) -> np.ndarray:
    """Arrival times (ns) for an offered load of ``rate_gbps`` GB/s of 64-byte requests.

    ``rate_gbps`` None or 0 means saturating load: every request is there at t = 0 and the
    controller's back-pressure paces them.
    """
    if not rate_gbps:
        return np.zeros(n)
    if not rate_gbps > 0 or not np.isfinite(rate_gbps):
        raise WorkloadError(
            f"rate_gbps: got {rate_gbps}; expected a finite number >= 0 (0 = saturating)"
        )
    mean_ns = LINE_BYTES / rate_gbps  # GB/s = bytes per ns
    if arrival == "poisson":
        gaps = rng.exponential(mean_ns, n)
    elif arrival == "uniform":
        gaps = np.full(n, mean_ns)
    else:
        raise WorkloadError(unknown_name("arrival process", arrival, ("poisson", "uniform")))
    gaps[0] = 0.0
    return np.cumsum(gaps)


def _directions(n: int, read_fraction: float, rng: np.random.Generator) -> np.ndarray:
    if not 0.0 <= read_fraction <= 1.0:
        raise WorkloadError(f"read_fraction: got {read_fraction}; expected a fraction in [0, 1]")
    return rng.random(n) >= read_fraction


#: Requests a generated trace may hold: 17 bytes each in memory (time, address, direction), so
#: this bound keeps a trace under ~1 GB; longer runs read a trace file.
MAX_REQUESTS = 50_000_000


def _check_count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, float)) or int(n) != n or n < 1:
        raise WorkloadError(f"n_requests: got {n!r}; expected a positive integer")
    if n > MAX_REQUESTS:
        raise WorkloadError(
            f"n_requests: got {n:g}; expected at most {MAX_REQUESTS:,} (a generated trace is held "
            "in memory: use a trace file for longer runs)"
        )
    return int(n)


def _finish(
    name, kind, n, rate_gbps, read_fraction, arrival, seed, addresses, rng, **params
) -> Trace:
    times = _arrivals(n, rate_gbps, arrival, rng)
    writes = _directions(n, read_fraction, rng)
    source = {
        "generator": kind,
        "n_requests": n,
        "rate_gbps": rate_gbps,
        "read_fraction": read_fraction,
        "arrival": arrival,
        "seed": seed,
        **params,
    }
    return Trace(name or kind, times, addresses, writes, f"{kind} {params}", source)


def sequential(
    n_requests: int = 20000,
    *,
    rate_gbps: float | None = 8.0,
    read_fraction: float = 1.0,
    start: int = 0,
    stride: int = LINE_BYTES,
    arrival: str = "poisson",
    seed: int = 0,
    name: str = "",
) -> Trace:
    """A stream: addresses ``start, start + stride, ...`` (row hits under a row-major mapping)."""
    n = _check_count(n_requests)
    rng = np.random.default_rng(seed)
    addresses = np.uint64(start) + np.arange(n, dtype=np.uint64) * np.uint64(stride)
    return _finish(
        name,
        "sequential",
        n,
        rate_gbps,
        read_fraction,
        arrival,
        seed,
        addresses,
        rng,
        start=start,
        stride=stride,
    )


def uniform_random(
    n_requests: int = 20000,
    *,
    rate_gbps: float | None = 4.0,
    read_fraction: float = 2 / 3,
    footprint_bytes: int = 1 << 30,
    arrival: str = "poisson",
    seed: int = 0,
    name: str = "",
) -> Trace:
    """Uniformly random 64-byte lines within ``footprint_bytes`` (mostly row misses)."""
    n = _check_count(n_requests)
    rng = np.random.default_rng(seed)
    lines = max(1, int(footprint_bytes) // LINE_BYTES)
    addresses = rng.integers(0, lines, n, dtype=np.uint64) * np.uint64(LINE_BYTES)
    return _finish(
        name,
        "random",
        n,
        rate_gbps,
        read_fraction,
        arrival,
        seed,
        addresses,
        rng,
        footprint_bytes=footprint_bytes,
    )


def strided(
    n_requests: int = 20000,
    *,
    rate_gbps: float | None = 4.0,
    read_fraction: float = 1.0,
    stride: int = 1 << 17,
    arrival: str = "poisson",
    seed: int = 0,
    name: str = "",
) -> Trace:
    """A constant large stride. The default 128 KiB walks the rows of one bank under the DDR4
    default mapping (RoBaRaCoCh: 8 KiB rows x 16 banks): every request is a row conflict."""
    n = _check_count(n_requests)
    rng = np.random.default_rng(seed)
    addresses = np.arange(n, dtype=np.uint64) * np.uint64(stride)
    return _finish(
        name, "strided", n, rate_gbps, read_fraction, arrival, seed, addresses, rng, stride=stride
    )


def hotspot(
    n_requests: int = 20000,
    *,
    rate_gbps: float | None = 8.0,
    read_fraction: float = 2 / 3,
    hot_bytes: int = 1 << 16,
    hot_fraction: float = 0.8,
    footprint_bytes: int = 1 << 30,
    arrival: str = "poisson",
    seed: int = 0,
    name: str = "",
) -> Trace:
    """Hot-region locality: ``hot_fraction`` of requests fall in ``hot_bytes``, the rest anywhere."""
    n = _check_count(n_requests)
    if not 0.0 <= hot_fraction <= 1.0:
        raise WorkloadError(f"hot_fraction: got {hot_fraction}; expected a fraction in [0, 1]")
    rng = np.random.default_rng(seed)
    hot = rng.random(n) < hot_fraction
    hot_lines = max(1, int(hot_bytes) // LINE_BYTES)
    lines = max(1, int(footprint_bytes) // LINE_BYTES)
    addr = np.where(hot, rng.integers(0, hot_lines, n), rng.integers(0, lines, n)).astype(np.uint64)
    return _finish(
        name,
        "hotspot",
        n,
        rate_gbps,
        read_fraction,
        arrival,
        seed,
        addr * np.uint64(LINE_BYTES),
        rng,
        hot_bytes=hot_bytes,
        hot_fraction=hot_fraction,
        footprint_bytes=footprint_bytes,
    )


def mixed(
    n_requests: int = 20000,
    *,
    rate_gbps: float | None = 8.0,
    read_fraction: float = 2 / 3,
    stream_weight: float = 0.4,
    random_weight: float = 0.3,
    hot_weight: float = 0.3,
    footprint_bytes: int = 1 << 30,
    hot_bytes: int = 1 << 16,
    arrival: str = "poisson",
    seed: int = 0,
    name: str = "",
) -> Trace:
    """Interleaved sources, as several cores would produce: a sequential stream (which advances
    only on its own requests), uniformly random lines, and a hot region."""
    n = _check_count(n_requests)
    weights = np.array([stream_weight, random_weight, hot_weight], dtype=float)
    if np.any(weights < 0) or weights.sum() <= 0:
        raise WorkloadError(
            f"mixed weights: got {weights.tolist()}; expected nonnegative with a positive sum"
        )
    rng = np.random.default_rng(seed)
    source = rng.choice(3, n, p=weights / weights.sum())
    lines = max(1, int(footprint_bytes) // LINE_BYTES)
    is_stream = source == 0
    stream_lines = np.cumsum(is_stream) - 1 + lines // 2  # the stream starts mid-footprint
    addr = np.where(
        is_stream,
        stream_lines % lines,
        np.where(
            source == 1,
            rng.integers(0, lines, n),
            rng.integers(0, max(1, hot_bytes // LINE_BYTES), n),
        ),
    ).astype(np.uint64)
    return _finish(
        name,
        "mixed",
        n,
        rate_gbps,
        read_fraction,
        arrival,
        seed,
        addr * np.uint64(LINE_BYTES),
        rng,
        stream_weight=stream_weight,
        random_weight=random_weight,
        hot_weight=hot_weight,
        footprint_bytes=footprint_bytes,
        hot_bytes=hot_bytes,
    )


GENERATORS: dict[str, Callable[..., Trace]] = {
    "sequential": sequential,
    "random": uniform_random,
    "strided": strided,
    "hotspot": hotspot,
    "mixed": mixed,
}

#: Built-in workloads by name: generator and parameters (device-independent, 64-byte requests).
BUILTIN_WORKLOADS: dict[str, dict[str, Any]] = {
    "mixed": {"generator": "mixed", "n_requests": 20000, "rate_gbps": 8.0},
    "stream": {
        "generator": "sequential",
        "n_requests": 20000,
        "rate_gbps": 16.0,
        "read_fraction": 1.0,
    },
    "write_stream": {
        "generator": "sequential",
        "n_requests": 20000,
        "rate_gbps": 12.0,
        "read_fraction": 0.0,
    },
    "random": {"generator": "random", "n_requests": 20000, "rate_gbps": 4.0},
    "random_saturating": {"generator": "random", "n_requests": 20000, "rate_gbps": 0},
    "conflict": {"generator": "strided", "n_requests": 20000, "rate_gbps": 2.0},
    "hotspot": {"generator": "hotspot", "n_requests": 20000, "rate_gbps": 8.0},
}


# ----------------------------------------------------------------------------- trace readers
_STL = re.compile(r"^\s*(\d+)\s*:\s*(read|write)\s+(0x[0-9a-fA-F]+|\d+)(\s+.*)?$", re.IGNORECASE)


def _parse_address(token: str) -> int:
    return int(token, 16) if token.lower().startswith("0x") else int(token)


GZIP_MAGIC = b"\x1f\x8b"


def _open_trace(path: Path):
    """The file as bytes, gunzipped on the fly when it is gzip-compressed (by content, whatever
    its name)."""
    try:
        with open(path, "rb") as probe:
            compressed = probe.read(2) == GZIP_MAGIC
        return gzip.open(path, "rb") if compressed else open(path, "rb")
    except OSError as exc:
        raise WorkloadError(f"{path}: cannot read trace file: {exc.strerror}") from exc


def _data_lines(path: Path):
    """``(line number, text)`` of each data line, streamed (a 10M-line trace is never held as
    text: the readers keep 17 bytes per request)."""
    fh = _open_trace(path)  # bytes, decoded line by line, so a bad line is named exactly
    with fh:
        try:
            for lineno, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise WorkloadError(
                        f"{path}:{lineno}: not UTF-8 text (byte {exc.start} of the line cannot be decoded)"
                    ) from None
                line = text.split("#", 1)[0].strip()
                if line:
                    yield lineno, line
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise WorkloadError(f"{path}: corrupt gzip stream ({exc})") from None


def _columns() -> tuple[array, array, array]:
    """Compact growable columns (times as float cycles, addresses as uint64, directions): 17
    bytes per request, where lists of Python ints took ~12x the final arrays."""
    return array("d"), array("Q"), array("b")


def _bad(path: Path, lineno: int, expected: str, line: str) -> WorkloadError:
    # The position and the expected form only: echoing the line would print any file's content.
    return WorkloadError(f"{path}:{lineno}: this line does not match the format {expected}")


def read_stl(path: str | Path, *, clock_mhz: float = 1000.0, name: str = "") -> Trace:
    """A DRAMSys ``.stl`` trace: ``<cycle>: read|write <address> [data]``, cycles of ``clock_mhz``."""
    path = Path(path)
    expected = "'<cycle>: read|write <address> [data]'"
    times, addrs, writes = _columns()
    for lineno, line in _data_lines(path):
        m = _STL.match(line)
        if not m:
            raise _bad(path, lineno, expected, line)
        try:
            addrs.append(_parse_address(m.group(3)))
        except OverflowError:
            raise _bad(path, lineno, expected + " with a 64-bit address", line) from None
        times.append(int(m.group(1)))
        writes.append(m.group(2).lower() == "write")
    return _from_lists(path, name, times, addrs, writes, 1000.0 / clock_mhz, "stl", clock_mhz)


def read_dramsim3(path: str | Path, *, clock_mhz: float = 1200.0, name: str = "") -> Trace:
    """A DRAMSim3 trace: ``<address> READ|WRITE <cycle>``, cycles of the memory clock ``clock_mhz``."""
    path = Path(path)
    expected = "'<hex address> READ|WRITE <cycle>'"
    times, addrs, writes = _columns()
    for lineno, line in _data_lines(path):
        parts = line.split()
        if len(parts) != 3 or parts[1].upper() not in ("READ", "WRITE"):
            raise _bad(path, lineno, expected, line)
        try:
            addrs.append(_parse_address(parts[0]))
            times.append(int(parts[2]))
        except (ValueError, OverflowError):
            raise _bad(path, lineno, expected, line) from None
        writes.append(parts[1].upper() == "WRITE")
    return _from_lists(path, name, times, addrs, writes, 1000.0 / clock_mhz, "dramsim3", clock_mhz)


#: Direction tokens of the plain format (reads, writes).
_PLAIN_READ, _PLAIN_WRITE = ("R", "READ"), ("W", "WRITE")


def read_plain(path: str | Path, *, clock_mhz: float = 1000.0, name: str = "") -> Trace:
    """A plain trace: ``<cycle> R|W <address>`` per line (address hex ``0x...`` or decimal,
    ``READ``/``WRITE`` also accepted), cycles of ``clock_mhz``."""
    path = Path(path)
    expected = "'<cycle> R|W <address>'"
    times, addrs, writes = _columns()
    for lineno, line in _data_lines(path):
        parts = line.split()
        if len(parts) != 3 or parts[1].upper() not in _PLAIN_READ + _PLAIN_WRITE:
            raise _bad(path, lineno, expected, line)
        try:
            times.append(int(parts[0]))
            addrs.append(_parse_address(parts[2]))
        except (ValueError, OverflowError):
            raise _bad(path, lineno, expected, line) from None
        writes.append(parts[1].upper() in _PLAIN_WRITE)
    return _from_lists(path, name, times, addrs, writes, 1000.0 / clock_mhz, "plain", clock_mhz)


def read_ramulator(path: str | Path, *, clock_mhz: float = 1000.0, name: str = "") -> Trace:
    """A Ramulator trace. DRAM mode, ``<address> R|W``: every request is issued at t = 0 and the
    controller paces them. CPU mode, ``<bubbles> <read address> [<writeback address>]``: each
    line comes ``bubbles + 1`` cycles of ``clock_mhz`` after the previous one."""
    path = Path(path)
    expected = (
        "'<address> R|W' (DRAM mode) or '<bubbles> <address> [<writeback address>]' (CPU mode)"
    )
    times, addrs, writes = _columns()
    mode, clock = None, 0
    for lineno, line in _data_lines(path):
        parts = line.split()
        try:
            if len(parts) == 2 and parts[1].upper() in ("R", "W") and mode in (None, "dram"):
                mode = "dram"
                addrs.append(_parse_address(parts[0]))
                writes.append(parts[1].upper() == "W")
                times.append(0)
            elif len(parts) in (2, 3) and parts[0].isdigit() and mode in (None, "cpu"):
                mode = "cpu"
                clock += int(parts[0]) + 1
                addrs.append(_parse_address(parts[1]))
                writes.append(False)
                times.append(clock)
                if len(parts) == 3:
                    addrs.append(_parse_address(parts[2]))
                    writes.append(True)
                    times.append(clock)
            else:
                raise ValueError
        except (ValueError, OverflowError):
            raise _bad(
                path,
                lineno,
                expected + ("" if mode is None else f", as the file's {mode}-mode lines above"),
                line,
            ) from None
    return _from_lists(path, name, times, addrs, writes, 1000.0 / clock_mhz, "ramulator", clock_mhz)


def _from_lists(path, name, times, addrs, writes, ns_per_cycle, fmt, clock_mhz) -> Trace:
    if not len(times):
        raise WorkloadError(f"{path}: no requests in the trace file")
    t = np.frombuffer(times, dtype=np.float64) * ns_per_cycle
    bad = np.flatnonzero(np.diff(t) < 0)
    if len(bad):
        raise WorkloadError(
            f"{path}: request {bad[0] + 2} (data line) goes back in time ({int(times[bad[0] + 1])} "
            f"after {int(times[bad[0]])}); expected nondecreasing cycles"
        )
    return Trace(
        name or path.stem,
        t,
        np.asarray(addrs, dtype=np.uint64),
        np.asarray(writes, dtype=bool),
        f"{fmt} trace {path.name}",
        {"trace": str(path), "format": fmt, "clock_mhz": clock_mhz},
    )


READERS: dict[str, Callable[..., Trace]] = {
    "stl": read_stl,
    "dramsim3": read_dramsim3,
    "ramulator": read_ramulator,
    "plain": read_plain,
}


def sniff_format(path: str | Path) -> str:
    """Guess a trace file's format from its extension or its first data line."""
    path = Path(path)
    if path.name.endswith((".stl", ".stl.gz")):
        return "stl"
    for lineno, line in _data_lines(path):
        parts = line.split()
        if _STL.match(line):
            return "stl"
        if len(parts) == 3 and parts[1].upper() in ("READ", "WRITE") and not parts[0].isdigit():
            return "dramsim3"
        if (
            len(parts) == 3
            and parts[0].isdigit()
            and parts[1].upper() in _PLAIN_READ + _PLAIN_WRITE
        ):
            return "plain"
        if (len(parts) == 2 and parts[1].upper() in ("R", "W")) or (parts and parts[0].isdigit()):
            return "ramulator"
        raise _bad(path, lineno, "a DRAMSys .stl, DRAMSim3, plain or Ramulator trace line", line)
    raise WorkloadError(f"{path}: no requests in the trace file")


def read_trace(path: str | Path, *, format: str = "auto", **options: Any) -> Trace:
    """Read a trace file (plain text or gzip-compressed) in ``format`` (``stl``, ``dramsim3``,
    ``ramulator``, ``plain`` or ``auto``); ``clock_mhz`` is the clock its cycles count."""
    if not Path(path).exists():
        raise WorkloadError(f"trace file {str(path)!r} does not exist")
    clock = options.get("clock_mhz", 1.0)
    if isinstance(clock, bool) or not isinstance(clock, (int, float)) or not 0 < clock < 1e6:
        raise WorkloadError(f"clock_mhz: got {clock!r}; expected a trace clock in (0, 1e6) MHz")
    fmt = sniff_format(path) if format == "auto" else format
    if fmt not in READERS:
        raise WorkloadError(unknown_name("trace format", fmt, [*READERS, "auto"]))
    return READERS[fmt](path, **options)


# ----------------------------------------------------------------------------- from specs
def workload_from_dict(data: Mapping[str, Any], *, path: str = "workload") -> Trace:
    """A trace from ``{generator: ..., <parameters>}`` or ``{trace: FILE, format: ..., clock_mhz: ...}``."""
    if not isinstance(data, Mapping):
        raise WorkloadError(f"{path}: expected a mapping, got {data!r}")
    if "time_ns" in data:
        check_keys(
            data,
            required={"time_ns", "address", "is_write"},
            optional={"name"},
            path=path,
            error=WorkloadError,
        )
        return Trace(
            str(data.get("name", "inline")), data["time_ns"], data["address"], data["is_write"]
        )
    if "trace" in data:
        check_keys(
            data,
            required={"trace"},
            optional={"format", "clock_mhz", "name"},
            path=path,
            error=WorkloadError,
        )
        options = {k: data[k] for k in ("clock_mhz", "name") if k in data}
        return read_trace(data["trace"], format=data.get("format", "auto"), **options)
    if "generator" not in data:
        raise WorkloadError(
            f"{path}: expected a 'generator' ({sorted(GENERATORS)}) or a 'trace' file"
        )
    kind = data["generator"]
    if kind not in GENERATORS:
        raise WorkloadError(unknown_name("generator", kind, GENERATORS, path))
    params = {k: v for k, v in data.items() if k != "generator"}
    import inspect

    allowed = set(inspect.signature(GENERATORS[kind]).parameters)
    check_keys(params, required=set(), optional=allowed, path=path, error=WorkloadError)
    return GENERATORS[kind](**params)


def builtin_trace(name: str) -> Trace:
    """The built-in workload ``name`` (a generator of :data:`BUILTIN_WORKLOADS`), named after it."""
    trace = workload_from_dict(BUILTIN_WORKLOADS[name])
    return Trace(
        name, trace.time_ns, trace.address, trace.is_write, trace.description, trace.source
    )


def load_workload(workload: str | Path | Mapping[str, Any] | Trace) -> Trace:
    """A trace from a built-in name, a workload YAML, a trace file, a mapping, or a Trace (the
    DRAM domain's :meth:`~archgym_py.Domain.load_workload`)."""
    from . import DOMAIN  # the package's domain object: imported when called, not at import

    return DOMAIN.load_workload(workload)
