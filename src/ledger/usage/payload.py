"""A stored usage line's payload hash recomputed from the line itself (SQLite, migration 0050).

A line's `payload_sha256` is the SHA-256 of the row as it was sent (ledger.usage.batch.
payload_digests: source, usage id, kind, occurred_at_us, isrc, upc, listener hash, territory,
seconds played, amount, currency, refund_of; fields joined by U+001F, an absent value empty). For
a stream sent with no amount and no currency — nearly every row — every one of those fields is a
stored column of its line, so the hash says nothing the line does not: SQLite stores NULL for it
and readers recompute it here. The rule (`stored_payload_text`) takes the line's own columns, with
amount and currency empty for a stream and its gross and currency for any other kind; the writer
stores NULL only where the rule gives exactly the line's hash (checked per row, `recomputable`),
so a NULL always reads back as the hash the row was sent with, and a row the rule does not fit
keeps its hash.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.usage.digest import canonical_text
from ledger.usage.lines import LINE_COLUMNS

_AT = {name: LINE_COLUMNS.index(name) for name in LINE_COLUMNS}
_PAYLOAD = LINE_COLUMNS.index("payload_sha256")


def stored_payload_text(line: Sequence[Any]) -> str:
    """The payload's canonical text as the rule rebuilds it from a line (LINE_COLUMNS order,
    hashes as hex): the reference form (`recomputable` is its column-wise twin)."""
    a = _AT
    stream = line[a["kind"]] == "stream"
    fields = (
        line[a["source"]],
        line[a["usage_id"]],
        line[a["kind"]],
        line[a["occurred_at_us"]],
        _blank(line[a["isrc"]]),
        _blank(line[a["upc"]]),
        line[a["listener_hash"]],
        line[a["territory"]],
        _blank(line[a["seconds_played"]]),
        "" if stream else _blank(line[a["gross_micros"]]),
        "" if stream else _blank(line[a["currency"]]),
        _blank(line[a["refund_of"]]),
    )
    return "\x1f".join(str(f) for f in fields)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def stored_payload_sha256(line: Sequence[Any]) -> str:
    """The payload hash (hex) the rule gives for a line."""
    return hashlib.sha256(stored_payload_text(line).encode()).hexdigest()


def with_payloads(lines: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Stored lines (LINE_COLUMNS order) with each NULL payload hash recomputed."""
    out = []
    for line in lines:
        if line[_PAYLOAD] is None:
            line = (*line[:_PAYLOAD], stored_payload_sha256(line), *line[_PAYLOAD + 1 :])
        out.append(tuple(line))
    return out


def recomputable(lines: pa.Table, payloads: pa.Array) -> np.ndarray:
    """Per line (an Arrow table of ledger.usage.lines), whether the rule gives exactly its
    payload hash (`payloads`: the hashes as 32-byte values, no nulls)."""
    n = lines.num_rows
    if n == 0:
        return np.zeros(0, dtype=bool)

    def col(name: str) -> pa.Array:
        return lines.column(name).combine_chunks()

    stream = pc.equal(col("kind"), "stream")
    gross = pc.if_else(stream, pa.scalar(None, pa.int64()), col("gross_micros"))
    currency = pc.if_else(stream, pa.scalar(None, pa.string()), col("currency"))
    columns = [
        col("source"),
        col("usage_id"),
        col("kind"),
        col("occurred_at_us"),
        col("isrc"),
        col("upc"),
        col("listener_hash"),
        col("territory"),
        col("seconds_played"),
        gross,
        currency,
        col("refund_of"),
    ]
    blank = [False, False, False, False, True, True, False, False, True, True, True, True]
    text = canonical_text(columns, blank)
    _, offsets, data = text.buffers()
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width, count=len(text) + 1 + text.offset)[text.offset :].tolist()
    raw = data.to_pybytes() if data is not None else b""
    copy = hashlib.sha256().copy
    digests = []
    for s, e in itertools.pairwise(ends):
        h = copy()
        h.update(raw[s:e])
        digests.append(h.digest())
    mine = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(n, 32)
    array = payloads.combine_chunks() if isinstance(payloads, pa.ChunkedArray) else payloads
    stored = np.frombuffer(array.buffers()[1], dtype=np.uint8)[array.offset * 32 : (array.offset + n) * 32]
    return (mine == stored.reshape(n, 32)).all(axis=1)  # type: ignore[no-any-return]
