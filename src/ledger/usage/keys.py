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

On PostgreSQL the client never computes a key: the indexes, the lookups and the refund joins all
call the same immutable SQL functions.

SQLite's lean table (migration 0045) has no such function in every connection, so there the key
is a column the client computes — `usage_key(source, usage_id)` below, the same for one id or
(`usage_keys`) a whole batch, column-wise — with the same probe (the stored `usage_key` is the
id's key plus its probe), the same unique index on (key, line_no), the same full-id re-check.
The function: FNV-1a 64 over the UTF-8 bytes of source ‖ U+001F ‖ usage_id, then MurmurHash3's
64-bit finaliser (fmix64) to spread it, read as a signed 64-bit integer and shifted right by one
(so + 7 never overflows). Both are published algorithms, fixed here for good: a stored key is
never recomputed differently (tests pin known values).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PROBE = 8  # keys a colliding id may take: key … key + 7
_FNV_OFFSET, _FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3
_FMIX_1, _FMIX_2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53
_MASK = 2**64 - 1


class KeyspaceFull(RuntimeError):
    """More than PROBE different ids share one 64-bit key range (never expected: refuse loudly)."""


def usage_key(source: str, usage_id: str) -> int:
    """The SQLite key of one id (before its probe): see the module's docstring."""
    h = _FNV_OFFSET
    for byte in f"{source}\x1f{usage_id}".encode():
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    h ^= h >> 33
    h = (h * _FMIX_1) & _MASK
    h ^= h >> 33
    h = (h * _FMIX_2) & _MASK
    h ^= h >> 33
    return (h - 2**64 if h >= 2**63 else h) >> 1


def usage_keys(
    sources: pa.Array | pa.ChunkedArray | Sequence[str], usage_ids: pa.Array | pa.ChunkedArray | Sequence[str]
) -> np.ndarray:
    """`usage_key` of every (source, usage_id) pair, column-wise: one numpy step per byte
    position over the whole batch, never a Python step per row (an int64 array)."""
    joined = pc.binary_join_element_wise(
        pa.chunked_array([sources], pa.string()) if not isinstance(sources, pa.Array | pa.ChunkedArray) else sources,
        pa.chunked_array([usage_ids], pa.string())
        if not isinstance(usage_ids, pa.Array | pa.ChunkedArray)
        else usage_ids,
        "\x1f",
    )
    text = joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined
    n = len(text)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    assert text.null_count == 0, "every stored line has a source and a usage id"
    _, offsets, data = text.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32, count=n + 1 + text.offset)[text.offset :].astype(np.int64)
    lengths = np.diff(starts)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, dtype=np.uint8)
    # Longest first: the ids still being hashed at byte j are a prefix of that order.
    order = np.argsort(-lengths, kind="stable")
    at, todo = starts[:-1][order], lengths[order]
    live = np.searchsorted(-todo, -np.arange(int(todo[0])), side="left")  # per j: ids longer than j
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(_FNV_PRIME)
    with np.errstate(over="ignore"):
        for j, count in enumerate(live.tolist()):
            h[:count] = (h[:count] ^ raw[at[:count] + j]) * prime
        shift = np.uint64(33)
        h ^= h >> shift
        h *= np.uint64(_FMIX_1)
        h ^= h >> shift
        h *= np.uint64(_FMIX_2)
        h ^= h >> shift
    keys = np.empty(n, dtype=np.int64)
    keys[order] = h.view(np.int64) >> 1
    return keys


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
    are looked up in their own unique indexes; on SQLite by the refund line's refund_key."""
    same = "s.source = r.source AND s.usage_id = r.refund_of AND s.kind <> 'refund'"
    if backend == "sqlite":
        # A refund line holds its sale's key (refund_key, before the probe): the unique index on
        # (usage_key, line_no) serves the join.
        # INDEXED BY: the range on the key is not an equality, and without it the planner may
        # prefer an automatic index over the whole table (built per query).
        return (
            "LEFT JOIN usage_rows s INDEXED BY usage_rows_key "
            f"ON s.usage_key BETWEEN r.refund_key AND r.refund_key + {PROBE - 1} AND s.line_no = r.line_no AND {same}"
        )
    where = f"{key_of('s.')} BETWEEN {key_range('r.source', 'r.refund_of')} AND {same}"
    return (
        f"LEFT JOIN LATERAL (SELECT {_SALE} FROM usage_rows s WHERE {where} AND s.line_no = 0 AND r.line_no = 0 "
        f"UNION ALL SELECT {_SALE} FROM usage_rows s WHERE {where} AND s.line_no > 0 AND s.line_no = r.line_no) "
        "AS s ON true"
    )
