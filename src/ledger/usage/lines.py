"""Usage lines as one Arrow table per batch: what pricing makes, the digest reads and the writers store.

Columns are LINE_COLUMNS (the stored line, hashes as hex text) plus `pair_last` (the line is its
(listener, recording)'s last counted stream2own play in the batch, so it goes into the numbering
index). Bulk lines (streams) are built column by column; the few lines made one row at a time
(sales, refunds) come in as tuples and are appended as one more table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

LINE_COLUMNS = (
    "source",
    "usage_id",
    "line_no",
    "kind",
    "occurred_at_us",
    "isrc",
    "upc",
    "listener_hash",
    "territory",
    "seconds_played",
    "currency",
    "gross_micros",
    "pricing_model",
    "pricing_version",
    "play_number",
    "counted",
    "payload_sha256",
    "refund_of",
)
_INTS = {"line_no", "occurred_at_us", "seconds_played", "gross_micros", "pricing_version", "play_number"}
LINE_SCHEMA = pa.schema(
    [(c, pa.int64() if c in _INTS else pa.bool_() if c == "counted" else pa.string()) for c in LINE_COLUMNS]
    + [("pair_last", pa.bool_())]
)


def empty_lines() -> pa.Table:
    return LINE_SCHEMA.empty_table()


def lines_from_rows(rows: Sequence[Sequence[Any]], last: Iterable[bool] | None = None) -> pa.Table:
    """Lines given as tuples in LINE_COLUMNS order (a sale's lines, a test's, a verify's stored
    rows); `last` is pair_last per line (all False when not given). Counted may be 0/1."""
    if not rows:
        return empty_lines()
    columns: list[Any] = [list(c) for c in zip(*rows, strict=True)]
    columns[LINE_COLUMNS.index("counted")] = [bool(v) for v in columns[LINE_COLUMNS.index("counted")]]
    flags = [False] * len(rows) if last is None else [bool(v) for v in last]
    return pa.Table.from_arrays(
        [pa.array(c, t) for c, t in zip([*columns, flags], LINE_SCHEMA.types, strict=True)], schema=LINE_SCHEMA
    )


def concat_lines(tables: Sequence[pa.Table]) -> pa.Table:
    kept = [t for t in tables if t.num_rows]
    if not kept:
        return empty_lines()
    return kept[0] if len(kept) == 1 else pa.concat_tables(kept).combine_chunks()


def line_rows(lines: pa.Table) -> list[tuple[Any, ...]]:
    """The lines as tuples in LINE_COLUMNS order (for executemany and for tests)."""
    return list(zip(*(lines.column(c).to_pylist() for c in LINE_COLUMNS), strict=True))


def hex_to_bytes(column: pa.ChunkedArray | pa.Array, width: int = 32) -> pa.Array:
    """Hex text of exactly 2·width digits per value (never null) → fixed-size binary, decoded
    as one text (the values' buffer is their concatenation)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(arr)
    if n == 0:
        return pa.array([], pa.binary(width))
    _, offsets, data = arr.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32, count=n + 1 + arr.offset)[arr.offset :]
    if arr.null_count or int(ends[-1] - ends[0]) != 2 * width * n or np.any(np.diff(ends) != 2 * width):
        return pa.array([bytes.fromhex(v) for v in arr.to_pylist()], pa.binary(width))
    raw = bytes.fromhex(memoryview(data)[int(ends[0]) : int(ends[-1])].tobytes().decode("ascii"))
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(raw)])
