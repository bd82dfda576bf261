"""The fixed-width key of a usage line: a 64-bit number from (source, usage id, line number).

`usage_rows` is deduplicated on `usage_key`, not on the text of (source, usage_id, line_no): an
8-byte index entry per line instead of three text columns. A usage id's lines share a *slot*:
the first 8 bytes of SHA-256(source U+001F usage_id) as a signed big-endian integer, its low 10
bits cleared; line n's key is slot | n (so at most 1 024 lines per usage id, MAX_LINES).

Two different ids may hash to the same slot. The full id is stored beside the key, and every
lookup compares it, so a collision never merges two ids: an id whose slot already holds another
id probes the next slot, SHA-256(source U+001F usage_id U+001F probe) for probe 1, 2, … — open
addressing, sound here because the table is append-only (a slot once taken stays taken, so an
id's probe sequence always finds it where it was written). SQL computes the same slot 0
(`royalty_usage_slot` in migrations/postgres/0040, registered as a function for SQLite's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

MAX_LINES = 1024
_LOW = MAX_LINES - 1
_MASK = -MAX_LINES  # clears the low 10 bits, two's complement


def _sha_slot(source: str, usage_id: str, probe: int = 0) -> int:
    text = f"{source}\x1f{usage_id}" if probe == 0 else f"{source}\x1f{usage_id}\x1f{probe}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True) & _MASK


# Replaceable in tests (to force a collision): (source, usage_id, probe) → slot with low bits 0.
slot_hash: Callable[[str, str, int], int] = _sha_slot


def slot_of(source: str, usage_id: str, probe: int = 0) -> int:
    return slot_hash(source, usage_id, probe) & _MASK


def slots_of(source: str, usage_ids: list[str]) -> list[int]:
    """Slot 0 of many ids of one source (the hot path: one SHA-256 per id)."""
    if slot_hash is not _sha_slot:
        return [slot_of(source, u) for u in usage_ids]
    sha, prefix = hashlib.sha256, f"{source}\x1f"
    return [int.from_bytes(sha(f"{prefix}{u}".encode()).digest()[:8], "big", signed=True) & _MASK for u in usage_ids]


def line_key(slot: int, line_no: int) -> int:
    assert 0 <= line_no <= _LOW, f"line {line_no}: at most {MAX_LINES} lines per usage id"
    return slot | line_no


def slot_of_key(key: int) -> int:
    return key & _MASK


def sqlite_slot(source: str | None, usage_id: str | None) -> int | None:
    """`royalty_usage_slot(source, usage_id)` for SQLite (migrations, tests)."""
    if source is None or usage_id is None:
        return None
    return _sha_slot(source, usage_id)
