"""The 64-bit keys of the lean PostgreSQL usage table (migration 0040), as the database computes them.

- `usage_key(source, usage_id)`: the first 8 bytes of SHA-256(source ‖ U+001F ‖ usage_id) as a
  signed big-endian integer, shifted right by one — `royalty_usage_key` in SQL. It keys the
  primary key (usage_key, line_no). Two different ids with the same key: the one stored later
  takes the next free key in `usage_key … usage_key + PROBE - 1` (linear probing), so every
  lookup reads that range and re-checks the full (source, usage_id).
- `pair_key(listener_hash, isrc)`: the first 8 bytes of SHA-256(listener HMAC bytes ‖ ISRC) —
  `royalty_pair_key` in SQL; the stream2own numbering index is (pair_key, play_number) on each
  batch's last counted play of a pair, and lookups re-check the full hash and the ISRC.

SQLite keeps its table keyed on the text ids (migrations/sqlite): these are PostgreSQL's only.
"""

from __future__ import annotations

from hashlib import sha256

PROBE = 8  # keys a colliding id may take: usage_key … usage_key + 7


class KeyspaceFull(RuntimeError):
    """More than PROBE different ids share one 64-bit key range (never expected: refuse loudly)."""


def usage_key(source: str, usage_id: str) -> int:
    return int.from_bytes(sha256(f"{source}\x1f{usage_id}".encode()).digest()[:8], "big", signed=True) >> 1


def pair_key(listener_hash: bytes, isrc: str) -> int:
    return int.from_bytes(sha256(listener_hash + isrc.encode()).digest()[:8], "big", signed=True)


def sale_join(backend: str, r: str = "r", s: str = "s") -> str:
    """The join condition from a refund line `r` to the sale line `s` it reverses (same source,
    s.usage_id = r.refund_of, same line) — on PostgreSQL by the primary key's probe range."""
    same = f"{s}.source = {r}.source AND {s}.usage_id = {r}.refund_of AND {s}.line_no = {r}.line_no"
    if backend == "sqlite":
        return same
    key = f"royalty_usage_key({r}.source, {r}.refund_of)"
    return f"{s}.usage_key BETWEEN {key} AND {key} + {PROBE - 1} AND {same}"


def hex_of(backend: str, column: str) -> str:
    """A 32-byte hash column as its 64 hex digits (bytea on PostgreSQL, text on SQLite)."""
    return column if backend == "sqlite" else f"encode({column}, 'hex')"


def bytes_of(backend: str, expression: str) -> str:
    """A 64-hex-digit text expression in the type of the usage table's hash columns."""
    return expression if backend == "sqlite" else f"decode({expression}, 'hex')"
