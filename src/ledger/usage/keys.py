"""The 64-bit keys of the lean PostgreSQL usage table (migration 0040), computed by the database.

- `royalty_usage_key(source, usage_id)`: PostgreSQL's 64-bit `hashtextextended` of source ‖
  U+001F ‖ usage_id, shifted right by one. The row's `usage_key` is that plus its `probe`
  (a generated column): two different ids with the same key — the one stored later takes the
  next free key of `key … key + PROBE - 1` (linear probing), so every lookup reads that range
  and re-checks the full (source, usage_id).
- `royalty_pair_key(listener_hash, isrc)`: the stream2own numbering index is (pair_key,
  play_number) on each batch's last counted play of a pair; lookups re-check the full hash and
  the ISRC.

The client never computes a key (no per-row hashing in Python): the generated columns, the
lookups and the refund joins all call the same immutable SQL functions. SQLite keeps its table
keyed on the text ids (migrations/sqlite).
"""

from __future__ import annotations

PROBE = 8  # keys a colliding id may take: key … key + 7


class KeyspaceFull(RuntimeError):
    """More than PROBE different ids share one 64-bit key range (never expected: refuse loudly)."""


def key_range(source: str, usage_id: str) -> str:
    """SQL: the primary key's probe range of an id, for `usage_key BETWEEN …`."""
    key = f"royalty_usage_key({source}, {usage_id})"
    return f"{key} AND {key} + {PROBE - 1}"


def sale_join(backend: str, r: str = "r", s: str = "s") -> str:
    """The join condition from a refund line `r` to the sale line `s` it reverses (same source,
    s.usage_id = r.refund_of, same line) — on PostgreSQL by the primary key's probe range."""
    same = f"{s}.source = {r}.source AND {s}.usage_id = {r}.refund_of AND {s}.line_no = {r}.line_no"
    if backend == "sqlite":
        return same
    return f"{s}.usage_key BETWEEN {key_range(f'{r}.source', f'{r}.refund_of')} AND {same}"
