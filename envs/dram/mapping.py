"""Address mapping: which physical-address bits select the channel, rank, bank group, bank, row
and column.

A mapping is written MSB to LSB as field tokens, in the gem5 / DRAMSim3 style: ``RoBaRaCoCh``
(row, bank, rank, column, channel: cache lines interleave over channels, then walk a row) or
``RoRaBaChCo`` (a whole row in one bank, then the next channel). Tokens: ``Ro`` row, ``Ra`` rank,
``Bg`` bank group, ``Ba`` bank, ``Co`` column, ``Ch`` channel (case-insensitive). Without a ``Bg``
token, ``Ba`` holds the bank-group bits too, bank group in its low bits, so consecutive banks
alternate bank groups. Below every field lie the byte-offset bits of one burst; address bits above
the mapped ones wrap around (the device capacity).
"""

from __future__ import annotations

import re

import numpy as np

from ..._errors import SpecError

TOKENS = ("Ro", "Ra", "Bg", "Ba", "Co", "Ch")

#: Mappings named in the docs; any permutation of the tokens is accepted.
COMMON_MAPPINGS = ("RoBaRaCoCh", "RoRaBaChCo", "RoRaBaCoCh", "RoCoRaBaCh", "ChRaBaRoCo")


def parse_mapping(text: str) -> tuple[str, ...]:
    """The field order, MSB first, of a mapping string; SpecError naming what is wrong."""
    if not isinstance(text, str) or not text:
        raise SpecError(f"expected a mapping string such as 'RoBaRaCoCh', got {text!r}")
    parts = re.findall(r"[A-Za-z][a-z]", text)
    if "".join(parts) != text:
        raise SpecError(
            f"{text!r}: expected two-letter tokens from {list(TOKENS)}, e.g. 'RoBaRaCoCh'"
        )
    tokens = tuple(p[0].upper() + p[1].lower() for p in parts)
    unknown = [t for t in tokens if t not in TOKENS]
    if unknown:
        raise SpecError(
            f"{text!r}: unknown token {unknown[0]!r}; expected tokens from {list(TOKENS)}"
        )
    if len(set(tokens)) != len(tokens):
        raise SpecError(f"{text!r}: a token appears twice")
    required = {"Ro", "Ra", "Ba", "Co", "Ch"}
    missing = sorted(required - set(tokens))
    if missing:
        raise SpecError(
            f"{text!r}: missing token(s) {missing}; every mapping places {sorted(required)}"
        )
    return tokens


def _bits(n: int) -> int:
    return int(n).bit_length() - 1


def _widths(arch, separate_bg: bool) -> dict[str, int]:
    """Address bits of each field."""
    return {
        "Ro": _bits(arch.rows),
        "Ra": _bits(arch.ranks),
        "Bg": _bits(arch.bank_groups) if separate_bg else 0,
        "Ba": _bits(arch.banks_per_group) + (0 if separate_bg else _bits(arch.bank_groups)),
        "Co": _bits(arch.columns // arch.burst_length),
        "Ch": _bits(arch.channels),
    }


def decode(addresses: np.ndarray, arch, mapping: str) -> dict[str, np.ndarray]:
    """Split byte addresses into ``channel, rank, bank_group, bank, row, column`` index arrays.

    ``bank`` is the flat bank index within a channel (rank-major), the one the controller uses;
    ``bank_group`` is the group within the rank; ``column`` counts bursts within the row.
    """
    tokens = parse_mapping(mapping)
    addr = np.asarray(addresses, dtype=np.uint64) >> np.uint64(_bits(arch.burst_bytes))
    separate_bg = "Bg" in tokens
    widths = _widths(arch, separate_bg)
    fields: dict[str, np.ndarray] = {}
    shift = 0
    for token in reversed(tokens):  # LSB first
        w = widths[token]
        fields[token] = ((addr >> np.uint64(shift)) & np.uint64((1 << w) - 1)).astype(np.int64)
        shift += w
    ba = fields["Ba"]
    if separate_bg:
        bg, bank_in_group = fields["Bg"], ba
    else:
        bg, bank_in_group = ba % arch.bank_groups, ba // arch.bank_groups
    rank = fields["Ra"]
    flat = rank * arch.banks_per_rank + bg * arch.banks_per_group + bank_in_group
    return {
        "channel": fields["Ch"],
        "rank": rank,
        "bank_group": bg,
        "bank": flat,
        "row": fields["Ro"],
        "column": fields["Co"],
    }


def encode(
    arch, mapping: str, *, channel=0, rank=0, bank_group=0, bank=0, row=0, column=0
) -> np.ndarray:
    """The byte address of a (channel, rank, bank group, bank-in-group, row, burst column): the
    inverse of :func:`decode`, for building traces that hit chosen banks and rows."""
    tokens = parse_mapping(mapping)
    separate_bg = "Bg" in tokens
    values = {
        "Ro": np.asarray(row, dtype=np.uint64),
        "Ra": np.asarray(rank, dtype=np.uint64),
        "Co": np.asarray(column, dtype=np.uint64),
        "Ch": np.asarray(channel, dtype=np.uint64),
    }
    bg = np.asarray(bank_group, dtype=np.uint64)
    ba = np.asarray(bank, dtype=np.uint64)
    if separate_bg:
        values["Bg"], values["Ba"] = bg, ba
    else:
        values["Ba"] = ba * np.uint64(arch.bank_groups) + bg
    widths = _widths(arch, separate_bg)
    addr = np.uint64(0)
    shift = 0
    for token in reversed(tokens):
        addr = addr | (values[token] << np.uint64(shift))
        shift += widths[token]
    return addr << np.uint64(_bits(arch.burst_bytes))
