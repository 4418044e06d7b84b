"""Address mapping: which physical-address bits select the channel, rank, bank group, bank, row
and column.

Two ways to write one:

* **Field order**, MSB to LSB, in the gem5 / DRAMsim3 style: ``RoBaRaCoCh`` (row, bank, rank,
  column, channel: cache lines interleave over channels, then walk a row) or ``RoRaBaChCo`` (a
  whole row in one bank, then the next channel). Tokens: ``Ro`` row, ``Ra`` rank, ``Bg`` bank
  group, ``Ba`` bank, ``Co`` column, ``Ch`` channel (case-insensitive). Below every field lie the
  byte-offset bits of one burst; address bits above the mapped ones wrap around (the capacity).
* **Explicit bit lists**, as DRAMSys's address-mapping files give them: each field with the
  byte-address bits it takes, MSB first, as a range or a list, and optional XOR terms that
  hash a field bit with another address bit (bank/channel hashing spreads row-strided traffic)::

      Ro[32:17] Ba[16:15] Bg[14:13] Co[12:6]                 # bits 5..0: the 64-byte burst
      Ro[32:17] Ba[16:15] Bg[14:13] Co[12:6] Bg0^17 Bg1^18   # bank-group bit i ^= address bit

  A field of width 0 (one channel, one rank) is left out; every other field takes exactly its
  width (log2 of the organisation), no bit is used twice, none lies in the burst offset, and an
  XOR source bit is not itself hashed.

Without a ``Bg`` field, ``Ba`` holds the bank-group bits too, bank group in its low bits, so
consecutive banks alternate bank groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..._errors import SpecError

TOKENS = ("Ro", "Ra", "Bg", "Ba", "Co", "Ch")

#: Mappings named in the docs; any permutation of the tokens is accepted.
COMMON_MAPPINGS = ("RoBaRaCoCh", "RoRaBaChCo", "RoRaBaCoCh", "RoCoRaBaCh", "ChRaBaRoCo")

_FIELD_BITS = re.compile(r"^([A-Za-z][a-z])\[(\d+)(?::(\d+)|((?:,\d+)*))\]$")
_XOR = re.compile(r"^([A-Za-z][a-z])(\d+)\^(\d+)$")
_EXAMPLE = (
    "'RoBaRaCoCh' or 'Ro[32:17] Ba[16:13] Co[12:6]' (optionally with XOR terms like 'Ba0^17')"
)


def _token(text: str, mapping: str) -> str:
    token = text[0].upper() + text[1].lower()
    if token not in TOKENS:
        raise SpecError(f"{mapping!r}: unknown field {text!r}; expected fields from {list(TOKENS)}")
    return token


def is_explicit(text: str) -> bool:
    """Whether a mapping string gives bit lists (``Ro[...]``) rather than a field order."""
    return "[" in text


@dataclass(frozen=True)
class BitMapping:
    """A mapping compiled for one memory system: per field its address bits (MSB first) and the
    XOR terms ``(field, bit index within the field, address bit)``."""

    fields: dict[str, tuple[int, ...]]
    xor: tuple[tuple[str, int, int], ...] = ()


def parse_mapping(text: str) -> tuple[str, ...]:
    """The fields a mapping string names, in order (MSB first for a field order); SpecError
    naming what is wrong with its syntax. :func:`compile_mapping` checks it against a system."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"expected an address mapping such as {_EXAMPLE}, got {text!r}")
    if is_explicit(text):
        return tuple(_parse_explicit(text)[0])
    parts = re.findall(r"[A-Za-z][a-z]", text)
    if "".join(parts) != text:
        raise SpecError(
            f"{text!r}: expected two-letter tokens from {list(TOKENS)}, e.g. {_EXAMPLE}"
        )
    tokens = tuple(_token(p, text) for p in parts)
    if len(set(tokens)) != len(tokens):
        raise SpecError(f"{text!r}: a token appears twice")
    required = {"Ro", "Ra", "Ba", "Co", "Ch"}
    missing = sorted(required - set(tokens))
    if missing:
        raise SpecError(
            f"{text!r}: missing token(s) {missing}; every mapping places {sorted(required)}"
        )
    return tokens


def _parse_explicit(text: str) -> tuple[dict[str, tuple[int, ...]], list[tuple[str, int, int]]]:
    fields: dict[str, tuple[int, ...]] = {}
    xor: list[tuple[str, int, int]] = []
    for item in text.split():
        m = _FIELD_BITS.match(item)
        if m:
            token = _token(m.group(1), text)
            if token in fields:
                raise SpecError(f"{text!r}: field {token} is given twice")
            first = int(m.group(2))
            if m.group(3) is not None:
                last = int(m.group(3))
                if last > first:
                    raise SpecError(
                        f"{text!r}: {item}: a range is written MSB first, e.g. {token}[{last}:{first}]"
                    )
                bits = tuple(range(first, last - 1, -1))
            else:
                bits = (first, *(int(b) for b in m.group(4).split(",")[1:]))
            fields[token] = bits
            continue
        m = _XOR.match(item)
        if m:
            xor.append((_token(m.group(1), text), int(m.group(2)), int(m.group(3))))
            continue
        raise SpecError(
            f"{text!r}: cannot read {item!r}; expected a field with its bits (Ro[32:17], "
            "Ba[16,15]) or an XOR term (Ba0^17)"
        )
    return fields, xor


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


def compile_mapping(text: str, arch) -> BitMapping:
    """Each field's address bits on memory system ``arch``; SpecError naming the field and the
    widths when the mapping does not fit it."""
    offset = _bits(arch.burst_bytes)
    if not is_explicit(text):
        tokens = parse_mapping(text)
        widths = _widths(arch, "Bg" in tokens)
        fields, shift = {}, offset
        for token in reversed(tokens):  # LSB first
            w = widths[token]
            fields[token] = tuple(range(shift + w - 1, shift - 1, -1))
            shift += w
        return BitMapping(fields)
    fields, xor = _parse_explicit(text)
    _check_widths(text, fields, arch)
    _check_bits(text, fields, arch)
    _check_xor(text, fields, xor)
    return BitMapping(fields, tuple(xor))


def _check_widths(text: str, fields: dict[str, tuple[int, ...]], arch) -> None:
    """Each field takes exactly its width (a field of width 0 may be left out)."""
    widths = _widths(arch, "Bg" in fields)
    for token in TOKENS:
        if token == "Bg" and token not in fields:
            continue
        got = len(fields.get(token, ()))
        if got != widths[token]:
            raise SpecError(
                f"{text!r}: field {token} takes {got} bit(s); {arch.name} needs {widths[token]} "
                f"(widths: {', '.join(f'{t} {widths[t]}' for t in TOKENS if widths[t])})"
            )


def _check_bits(text: str, fields: dict[str, tuple[int, ...]], arch) -> None:
    """No bit twice, none in the burst offset."""
    offset = _bits(arch.burst_bytes)
    used: dict[int, str] = {}
    for token, bits in fields.items():
        for b in bits:
            if b < offset:
                raise SpecError(
                    f"{text!r}: field {token} uses bit {b}, inside the {arch.burst_bytes}-byte "
                    f"burst offset (bits {offset - 1}..0)"
                )
            if b in used:
                raise SpecError(f"{text!r}: bit {b} is used by both {used[b]} and {token}")
            used[b] = token


def _check_xor(text: str, fields: dict[str, tuple[int, ...]], xor) -> None:
    """XOR terms name an existing field bit, and no source bit is itself hashed."""
    targets = set()
    for token, index, source in xor:
        if index >= len(fields.get(token, ())):
            raise SpecError(
                f"{text!r}: XOR term {token}{index}^{source}: field {token} has "
                f"{len(fields.get(token, ()))} bit(s)"
            )
        targets.add(fields[token][len(fields[token]) - 1 - index])
    for token, index, source in xor:
        if source in targets:
            raise SpecError(
                f"{text!r}: XOR term {token}{index}^{source}: bit {source} is itself hashed"
            )


def _gather(addr: np.ndarray, bits: tuple[int, ...]) -> np.ndarray:
    value = np.zeros(addr.shape, np.uint64)
    for b in bits:  # MSB first
        value = (value << np.uint64(1)) | ((addr >> np.uint64(b)) & np.uint64(1))
    return value


def decode(addresses: np.ndarray, arch, mapping: str) -> dict[str, np.ndarray]:
    """Split byte addresses into ``channel, rank, bank_group, bank, row, column`` index arrays.

    ``bank`` is the flat bank index within a channel (rank-major), the one the controller uses;
    ``bank_group`` is the group within the rank; ``column`` counts bursts within the row.
    """
    compiled = compile_mapping(mapping, arch)
    addr = np.asarray(addresses, dtype=np.uint64)
    fields = {t: _gather(addr, compiled.fields.get(t, ())) for t in TOKENS}
    for token, index, source in compiled.xor:
        fields[token] ^= ((addr >> np.uint64(source)) & np.uint64(1)) << np.uint64(index)
    fields = {t: v.astype(np.int64) for t, v in fields.items()}
    ba = fields["Ba"]
    if "Bg" in compiled.fields:
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
    compiled = compile_mapping(mapping, arch)
    values = {
        "Ro": np.asarray(row, dtype=np.uint64),
        "Ra": np.asarray(rank, dtype=np.uint64),
        "Co": np.asarray(column, dtype=np.uint64),
        "Ch": np.asarray(channel, dtype=np.uint64),
    }
    bg = np.asarray(bank_group, dtype=np.uint64)
    ba = np.asarray(bank, dtype=np.uint64)
    if "Bg" in compiled.fields:
        values["Bg"], values["Ba"] = bg, ba
    else:
        values["Ba"] = ba * np.uint64(arch.bank_groups) + bg
    addr = np.uint64(0)
    for token, bits in compiled.fields.items():
        for i, b in enumerate(reversed(bits)):  # field bit i sits at address bit b
            bit = (values[token] >> np.uint64(i)) & np.uint64(1)
            addr = addr | (bit << np.uint64(b))
    # hashed bits: the stored bit is the field bit XOR its source (sources are never hashed)
    for token, index, source in compiled.xor:
        target = compiled.fields[token][len(compiled.fields[token]) - 1 - index]
        src = (addr >> np.uint64(source)) & np.uint64(1)
        addr = addr ^ (src << np.uint64(target))
    return addr
