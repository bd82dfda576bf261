"""The 64-bit keys of the lean PostgreSQL usage table (migration 0040), computed by the database.

- `royalty_usage_key(source, usage_id)`: PostgreSQL's 64-bit `hashtextextended` of source ‖
  U+001F ‖ usage_id, shifted right by one. A row's key is that plus its `probe` — the
  expression `KEY` — held in the unique indexes only (no column): two different ids with the
  same key — the one stored later takes the next free key of `key … key + PROBE - 1` (linear
  probing), so every lookup reads that range and re-checks the full (source, usage_id).
  Line 0 of each id is in one unique index on the key alone; the further lines of a release
  purchase in another, on (key, line_no) WHERE line_no > 0: a lookup says which it reads.
- `royalty_pair_key(listener_hash, isrc)`: the stream2own numbering index is on (that,
  play_number) for each batch's last counted play of a pair; lookups re-check the full hash and
  the ISRC.

The client never computes a key (no per-row hashing in Python): the indexes, the lookups and the
refund joins all call the same immutable SQL functions. SQLite keeps its table keyed on the
text ids (migrations/sqlite).
"""

from __future__ import annotations

PROBE = 8  # keys a colliding id may take: key … key + 7


class KeyspaceFull(RuntimeError):
    """More than PROBE different ids share one 64-bit key range (never expected: refuse loudly)."""


def key_of(alias: str = "") -> str:
    """SQL: a stored row's key, exactly as the unique indexes name it (so they serve the query)."""
    return f"(royalty_usage_key({alias}source, {alias}usage_id) + {alias}probe)"


def key_range(source: str, usage_id: str) -> str:
    """SQL: the probe range of an id, for `… BETWEEN {key_range(…)}`."""
    key = f"royalty_usage_key({source}, {usage_id})"
    return f"{key} AND {key} + {PROBE - 1}"


_SALE = "s.isrc, s.kind, s.pricing_model, s.territory, s.occurred_at_us"


def sale_of_refund(backend: str) -> str:
    """SQL: `LEFT JOIN … s` from a refund line `r` to the sale line `s` it reverses (same source,
    s.usage_id = r.refund_of, same line, not itself a refund), whose isrc, kind, pricing_model,
    territory and occurred_at_us the caller reads. On PostgreSQL line 0 and the further lines
    are looked up in their own unique indexes."""
    same = "s.source = r.source AND s.usage_id = r.refund_of AND s.kind <> 'refund'"
    if backend == "sqlite":
        return f"LEFT JOIN usage_rows s ON {same} AND s.line_no = r.line_no"
    where = f"{key_of('s.')} BETWEEN {key_range('r.source', 'r.refund_of')} AND {same}"
    return (
        f"LEFT JOIN LATERAL (SELECT {_SALE} FROM usage_rows s WHERE {where} AND s.line_no = 0 AND r.line_no = 0 "
        f"UNION ALL SELECT {_SALE} FROM usage_rows s WHERE {where} AND s.line_no > 0 AND s.line_no = r.line_no) "
        "AS s ON true"
    )
