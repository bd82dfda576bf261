"""The canonical form of a usage batch and its SHA-256 (`UsageBatch.rows_sha256`, schemes 2 and 3).

One text line per usage line — every stored column in ledger.usage.lines.LINE_COLUMNS order
(source, usage id, line number, kind, occurred_at_us, isrc, upc, listener hash, territory,
seconds played, currency, gross micros, pricing model, pricing version, play number, counted as
0/1, payload SHA-256, refund_of; an absent value is empty), fields joined by U+001F, the lines
sorted and joined by LF; then `LF Q<id>` per quarantined row and `LF R<id>U+001F<outcome>` per
resolved quarantine entry, each sorted. Every part is stored (usage_rows, usage_quarantine,
usage_quarantine_resolved), so the same function recomputes it from the tables.

Scheme 3 covers what a quarantined row says, not only its id: `LF Q<id>U+001F<SHA-256 of the
JSON array [source, usage id, raw SHA-256, reason, detail, raw row]>` (each as text or null,
compact, non-ASCII kept). A batch without quarantined rows has the same digest under both schemes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.domain.usage_batch import DIGEST_SCHEME
from ledger.usage.lines import LINE_COLUMNS

# Line fields that are empty when absent; any other absent field reads "None", as the canonical
# form has always written it (none is ever absent in a stored line).
_BLANK_WHEN_ABSENT = {"upc", "seconds_played", "play_number", "refund_of"}


def quarantine_entry(row: Sequence[Any], scheme: int = DIGEST_SCHEME) -> str:
    """A quarantined row's part of the digest; `row` is (quarantine_id, source, usage_id,
    raw_sha256, reason, detail, raw_row), as written to usage_quarantine."""
    if scheme < 3:
        return str(row[0])
    content = json.dumps([None if v is None else str(v) for v in row[1:7]], ensure_ascii=False, separators=(",", ":"))
    return f"{row[0]}\x1f{hashlib.sha256(content.encode()).hexdigest()}"


def canonical_text(columns: Sequence[pa.Array | pa.ChunkedArray], blank: Sequence[bool], end: str = "") -> pa.Array:
    """Per row, its fields as text joined by U+001F (integers in decimal, booleans as 0/1), then
    `end`: the Arrow form of an f-string over the row. An absent field is empty where `blank`
    says so, else "None" (what the f-string writes). 64-bit offsets when the text may pass 2 GiB."""
    kind = pa.large_string() if sum(c.nbytes for c in columns) > 2**30 else pa.string()
    texts = []
    for column, empty in zip(columns, blank, strict=True):
        if pa.types.is_boolean(column.type):
            column = pc.cast(column, pa.int8())
        texts.append(pc.fill_null(pc.cast(column, kind), "" if empty else "None"))
    if end:
        texts[-1] = pc.binary_join_element_wise(texts[-1], pa.scalar("", kind), pa.scalar(end, kind))
    return pc.binary_join_element_wise(*texts, pa.scalar("\x1f", kind))


def lines_text(lines: pa.Table) -> bytes | memoryview:
    """The lines' part of the canonical form: each line's text, sorted (by code point: UTF-8
    bytes sort the same), joined by LF.

    Each line's text is built with its LF at the end and then sorted: no line is a prefix of
    another (each begins with its own source, usage id and line number, and no field holds
    U+001F), so the LF changes no order, and the sorted values' buffer is the joined text
    with one LF too many."""
    if lines.num_rows == 0:
        return b""
    columns = [lines.column(c).combine_chunks() for c in LINE_COLUMNS]
    text = canonical_text(columns, [c in _BLANK_WHEN_ABSENT for c in LINE_COLUMNS], end="\n")
    text = pc.take(text, pc.sort_indices(text))
    _, offsets, data = text.buffers()
    width = np.int64 if pa.types.is_large_string(text.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width, count=len(text) + 1 + text.offset)[text.offset :]
    return memoryview(data)[int(ends[0]) : int(ends[-1]) - 1]


def rows_text(lines: Iterable[Sequence[Any]]) -> bytes:
    """`lines_text` for lines given as tuples, one f-string per line: the reference form (the
    Arrow one is tested against it)."""
    text = sorted(
        [
            f"{s}\x1f{u}\x1f{n}\x1f{k}\x1f{at}\x1f{i}\x1f{'' if e is None else e}\x1f{lh}\x1f{t}"
            f"\x1f{'' if sec is None else sec}\x1f{c}\x1f{g}\x1f{m}\x1f{v}\x1f{'' if pn is None else pn}"
            f"\x1f{int(o)}\x1f{h}\x1f{'' if r is None else r}"
            for s, u, n, k, at, i, e, lh, t, sec, c, g, m, v, pn, o, h, r in lines
        ]
    )
    return "\n".join(text).encode()


def batch_digest(
    lines: pa.Table | Sequence[Sequence[Any]],
    quarantine: Iterable[Sequence[Any]],
    resolved: Iterable[tuple[str, str]],
    scheme: int = DIGEST_SCHEME,
) -> str:
    """`lines`: an Arrow table of lines (ledger.usage.lines; the ingest), or tuples in
    LINE_COLUMNS order (stored rows as audit verify reads them, whatever their types)."""
    digest = hashlib.sha256(lines_text(lines) if isinstance(lines, pa.Table) else rows_text(lines))
    for entry in sorted(quarantine_entry(row, scheme) for row in quarantine):
        digest.update(f"\nQ{entry}".encode())
    for quarantine_id, outcome in sorted(resolved):
        digest.update(f"\nR{quarantine_id}\x1f{outcome}".encode())
    return digest.hexdigest()
