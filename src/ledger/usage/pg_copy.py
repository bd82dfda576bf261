"""PostgreSQL's binary COPY format built from Arrow columns in bulk, not one row at a time.

A binary COPY stream is a signature, then per row a 16-bit field count and per field a 32-bit
length (-1: NULL) and the value in network byte order, then a 16-bit -1. Each column becomes one
Arrow binary array of its fields' bytes (numpy does the byte order), the columns are joined
element-wise into rows, and the rows' data buffer is the stream's body as it stands.
Fixed-width columns without NULLs are packed together by numpy first (copy_body).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\0" + b"\0\0\0\0" + b"\0\0\0\0"  # signature, flags, no extension
TRAILER = b"\xff\xff"
_NULL = pa.scalar(b"\xff\xff\xff\xff", pa.large_binary())
_NOTHING = pa.scalar(b"", pa.large_binary())
# PostgreSQL type → (numpy big-endian type, width) for the fixed-width ones.
_FIXED = {"int8": (">i8", 8), "int4": (">i4", 4), "int2": (">i2", 2), "bool": ("u1", 1)}


def _fixed_size(raw: np.ndarray, n: int, width: int) -> pa.Array:
    """`n` values of `width` bytes each, from a contiguous buffer, as a (variable) binary array
    (64-bit offsets: a batch's body may pass 2 GiB)."""
    data = pa.py_buffer(np.ascontiguousarray(raw).view(np.uint8))
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, data]).cast(pa.large_binary())


def _field(column: pa.Array, pg_type: str) -> pa.Array:
    """Per row, the field's bytes: length then value, or the NULL length alone."""
    n = len(column)
    if pg_type in _FIXED:
        numpy_type, width = _FIXED[pg_type]
        values = pc.cast(column, pa.uint8() if pg_type == "bool" else pa.int64())
        packed = np.empty(n, dtype=[("length", ">i4"), ("value", numpy_type)])
        packed["length"] = width
        # Narrower integers are range-checked by Arrow's safe cast before they are packed.
        if pg_type in ("int4", "int2"):
            values = pc.cast(values, pa.int32() if pg_type == "int4" else pa.int16())
        packed["value"] = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
        out = _fixed_size(packed, n, 4 + width)
    else:  # text and bytea: length then the bytes as they are (text is UTF-8)
        raw = pc.cast(column, pa.large_binary())
        lengths = pc.fill_null(pc.binary_length(raw), 0).to_numpy(zero_copy_only=False).astype(">i4")
        out = pc.binary_join_element_wise(_fixed_size(lengths, n, 4), pc.fill_null(raw, _NOTHING), _NOTHING)
    if column.null_count:
        out = pc.if_else(pc.is_null(column), _NULL, out)
    return out


@dataclass
class CopyBody:
    """The rows of a binary COPY (without SIGNATURE and TRAILER), and where each row starts."""

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64, one per row

    def set_first_int8(self, value: int) -> None:
        """Write `value` into every row's first field, an int8 (a batch's position, known only
        once its event is inserted): 8 bytes after the field count and the field's length."""
        if len(self.starts):
            at = (self.starts + 6)[:, None] + np.arange(8)
            self.data[at] = np.frombuffer(int(value).to_bytes(8, "big", signed=True), dtype=np.uint8)


def copy_body(columns: Sequence[pa.Array], pg_types: Sequence[str]) -> CopyBody:
    """The rows of a binary COPY of equal-length columns.

    Consecutive fixed-width columns without NULLs (and 32-byte hashes given as fixed-size
    binary) are packed together by numpy, lengths and values, as one block per row; a text or
    nullable column adds its lengths (-1: NULL) and its values as two more pieces; one Arrow
    join of all the pieces makes the rows."""
    n = len(columns[0])
    pieces: list[pa.Array] = []
    block: list[tuple[str, Any, Any]] = [("count", ">i2", len(columns))]

    def flush() -> None:
        if block:
            packed = np.empty(n, dtype=[(name, kind) for name, kind, _ in block])
            for name, _, values in block:
                packed[name] = values
            pieces.append(_fixed_size(packed, n, packed.dtype.itemsize))
            block.clear()

    for k, (column, pg_type) in enumerate(zip(columns, pg_types, strict=True)):
        if pg_type in _FIXED and not column.null_count:
            numpy_type, width = _FIXED[pg_type]
            values = pc.cast(column, pa.uint8() if pg_type == "bool" else pa.int64())
            if pg_type in ("int4", "int2"):  # range-checked by Arrow's safe cast
                values = pc.cast(values, pa.int32() if pg_type == "int4" else pa.int16())
            block += [(f"l{k}", ">i4", width), (f"v{k}", numpy_type, values.to_numpy(zero_copy_only=False))]
        elif pg_type == "bytea" and pa.types.is_fixed_size_binary(column.type) and not column.null_count:
            width = column.type.byte_width
            raw = np.frombuffer(column.buffers()[1], dtype=np.uint8, count=n * width, offset=column.offset * width)
            block += [(f"l{k}", ">i4", width), (f"v{k}", (np.uint8, width), raw.reshape(n, width))]
        elif pg_type in _FIXED:
            flush()
            pieces.append(_field(column, pg_type))
        else:  # text and bytea: lengths (-1: NULL), then the bytes as they are (text is UTF-8)
            flush()
            raw = pc.cast(column, pa.large_binary())
            lengths = pc.fill_null(pc.binary_length(raw), -1).to_numpy(zero_copy_only=False).astype(">i4")
            pieces += [_fixed_size(lengths, n, 4), pc.fill_null(raw, _NOTHING) if raw.null_count else raw]
    flush()
    rows = pc.binary_join_element_wise(*pieces, _NOTHING)
    _, offsets, data = rows.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64, count=n + 1 + rows.offset)[rows.offset :]
    body = np.frombuffer(data, dtype=np.uint8, count=int(ends[-1]))[int(ends[0]) :].copy()
    return CopyBody(body, ends[:-1] - ends[0])
