"""Numbering the distinct values and rows of columns (NumPy, Arrow), so per-distinct work runs
once per distinct value and its result is spread back to every row by index."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def codes(column: pa.ChunkedArray) -> np.ndarray:
    """A number per distinct value of a text column (null included)."""
    encoded = pc.dictionary_encode(column.combine_chunks(), null_encoding="encode")
    return np.asarray(encoded.indices, dtype=np.int64)


def combined(columns: list[np.ndarray]) -> np.ndarray:
    """A number per distinct row of several code columns (numbered in the rows' order)."""
    out = columns[0]
    if len(columns) > 1 and len(out):
        sizes = [int(c.max()) + 1 for c in columns]
        if min(int(c.min()) for c in columns) >= 0 and math.prod(sizes) < 2**62:
            # The rows as one mixed-radix number, ranked by one sort (pairs sorts once per column).
            mixed = np.zeros(len(out), dtype=np.int64)
            for column, size in zip(columns, sizes, strict=True):
                mixed = mixed * size + column
            return np.unique(mixed, return_inverse=True)[1].astype(np.int64).reshape(-1)
    for more in columns[1:]:
        out = pairs(out, more)
    return out


def lexsort_packed(keys: Sequence[np.ndarray]) -> np.ndarray:
    """np.lexsort(keys) — the last key sorts first — with adjacent non-negative integer keys
    packed into one int64 where they fit (a mixed-radix number compares as its digits do), so
    a sort by nine line fields runs as two sort passes instead of nine; the same order."""
    packed: list[np.ndarray] = []
    current: np.ndarray | None = None
    radix = 1
    for key in reversed(keys):  # from the most significant key
        column = np.asarray(key, dtype=np.int64)
        if not len(column) or int(column.min()) < 0:
            if current is not None:
                packed.append(current)
            packed.append(column)
            current, radix = None, 1
            continue
        size = int(column.max()) + 1
        if current is not None and radix * size < 2**62:
            current, radix = current * size + column, radix * size
        else:
            if current is not None:
                packed.append(current)
            current, radix = column, size
    if current is not None:
        packed.append(current)
    order: np.ndarray = np.lexsort(tuple(reversed(packed)))
    return order


def numbered(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct code, each row's number): numbered as they first appear."""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(first), dtype=np.int64)
    number[order] = np.arange(len(first))
    return first[order], number[inverse.reshape(-1)]


def pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A number per distinct (a, b) pair, below len(a): combined codes never overflow."""
    if not len(a):
        return a
    _, codes = np.unique(a * (int(b.max()) + 1) + b, return_inverse=True)
    return codes.astype(np.int64)
