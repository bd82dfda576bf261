"""Normalising Arrow batches (Parquet, CSV) column-wise in Arrow, row by row only where needed.

The checks are the ones in rows.Columns; a column takes the vectorised path when every value
passes them in bulk (no stray whitespace, lengths in range, integer types, well-formed UTC
times) and falls back to the row-by-row checks otherwise, so both paths give the same result.
pyarrow here is part of the files-reading adapter (see readers.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ledger.usage.rows import MAX_ID_LENGTH, ArrowColumn, Columns, Error, RowBatch, build

_UTC_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$"
_DIGITS = r"^-?[0-9]+$"


class _Lists(Mapping[str, list[Any]]):
    """Table columns as Python lists, converted only when the row-by-row path asks."""

    def __init__(self, table: pa.Table) -> None:
        self.table, self.cache = table, {}  # type: ignore[var-annotated]

    def __getitem__(self, name: str) -> list[Any]:
        if name not in self.cache:
            self.cache[name] = self.table.column(name).to_pylist()
        return self.cache[name]  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.column_names)

    def __len__(self) -> int:
        return len(self.table.column_names)


def _blank_to_null(arr: Any) -> Any:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _has_control(arr: Any) -> bool:
    """Whether any value holds a C0, DEL or C1 control character: a look at the UTF-8 bytes
    themselves (bytes below 0x20, 0x7F, or 0xC2 then 0x80–0x9F), not a regex per value."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        offsets, data = chunk.buffers()[1:3]
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        ends = np.frombuffer(offsets, dtype=width, count=len(chunk) + 1 + chunk.offset)[chunk.offset :]
        if data is None or ends[-1] == ends[0]:
            continue
        raw = np.frombuffer(data, dtype=np.uint8, count=int(ends[-1]))[int(ends[0]) :]
        if np.any((raw < 0x20) | (raw == 0x7F)) or np.any((raw[:-1] == 0xC2) & (raw[1:] >= 0x80) & (raw[1:] <= 0x9F)):
            return True
    return False


# Time zones that name UTC itself (a datetime in them passes require_utc).
_UTC_ZONES = frozenset({"UTC", "Etc/UTC", "+00:00"})


def _as_string(arr: Any) -> Any:
    """Text as a plain `string` array (large_string from a big file, dictionary from Parquet)."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if arr.type == pa.string() else pc.cast(arr, pa.string())


def _is_text(arr: Any) -> bool:
    return bool(pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type))


class ArrowColumns(Columns):
    def __init__(self, table: pa.Table) -> None:
        super().__init__(_Lists(table), table.num_rows)
        self.table = table

    def _arrays(self, names: tuple[str, ...]) -> list[Any]:
        return [self.table.column(n) for n in names if n in self.table.column_names]

    def text(self, *names: str, required: bool = False, upper: bool = False) -> list[str | None]:
        arrays = self._arrays(names)
        if not arrays or not all(_is_text(a) for a in arrays):
            return super().text(*names, required=required, upper=upper)
        arr = pc.coalesce(*[_blank_to_null(a) for a in arrays])
        if arr.null_count < len(arr):
            longest = pc.max(pc.utf8_length(arr)).as_py()
            if (
                longest > MAX_ID_LENGTH
                or _has_control(arr)
                or not pc.all(pc.equal(arr, pc.utf8_trim_whitespace(arr))).as_py()
            ):
                return super().text(*names, required=required, upper=upper)
        self._missing(arr, names[0] if required else None)
        return ArrowColumn(_as_string(pc.utf8_upper(arr) if upper else arr))  # type: ignore[return-value]

    def _missing(self, arr: Any, name: str | None) -> None:
        """Rows where `arr` is null fail as missing `name` (None: nothing is required)."""
        if name is not None and arr.null_count:
            for i in np.flatnonzero(pc.is_null(arr).to_numpy(zero_copy_only=False)):
                self.fail(int(i), "malformed", f"{name} is missing")

    def integer(self, name: str) -> list[int | None]:
        arrays = self._arrays((name,))
        if arrays and pa.types.is_integer(arrays[0].type):
            if pa.types.is_uint64(arrays[0].type) and (pc.max(arrays[0]).as_py() or 0) >= 2**63:
                return arrays[0].to_pylist()  # type: ignore[no-any-return]
            return ArrowColumn(pc.cast(arrays[0], pa.int64()))  # type: ignore[return-value]
        if arrays and _is_text(arrays[0]):  # CSV: plain decimal digits convert in bulk
            arr = _blank_to_null(arrays[0])
            if pc.all(pc.match_substring_regex(arr, _DIGITS)).as_py() is not False:
                try:
                    return ArrowColumn(pc.cast(arr, pa.int64()))  # type: ignore[return-value]
                except pa.ArrowInvalid:  # beyond int64: Python's int takes it row by row
                    pass
        return super().integer(name)

    def instant(self) -> list[int | None]:
        arrays = self._arrays(("occurred_at",))
        if not arrays or "occurred_at_us" in self.table.column_names:
            return super().instant()
        given = arrays[0]
        if pa.types.is_timestamp(given.type):  # Parquet: aware UTC instants convert in bulk
            scale = {"s": 1_000_000, "ms": 1_000, "us": 1}.get(given.type.unit)
            if scale is None or given.type.tz not in _UTC_ZONES:
                return super().instant()  # nanoseconds, naive or another zone: row by row
            micros = pc.multiply_checked(pc.cast(given, pa.int64()), scale)
            self._missing(micros, "occurred_at")
            return ArrowColumn(micros)  # type: ignore[return-value]
        if not _is_text(given):
            return super().instant()
        text = given
        good = pc.fill_null(pc.match_substring_regex(text, _UTC_ISO), False)
        if not pc.all(good).as_py():
            return super().instant()
        try:
            stamps = pc.cast(text, pa.timestamp("us", tz="UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return super().instant()
        return ArrowColumn(stamps.cast(pa.int64()))  # type: ignore[return-value]


class _RawRows:
    """Row i as given (blank values left out), for quarantine: a one-row slice while few rows
    are asked for, every column as a list once many are (a batch the catalogue or a bad column
    rejects whole), so a rejected row costs a lookup, not an Arrow conversion."""

    _MANY = 64

    def __init__(self, table: pa.Table) -> None:
        self.table, self.asked = table, 0
        self.columns: list[tuple[str, list[Any]]] = []

    def __call__(self, i: int) -> dict[str, Any]:
        self.asked += 1
        if self.asked == self._MANY:
            self.columns = [(name, self.table.column(name).to_pylist()) for name in self.table.column_names]
        if self.columns:
            return {name: values[i] for name, values in self.columns if values[i] not in (None, "")}
        row = self.table.slice(i, 1).to_pylist()[0]
        return {k: v for k, v in row.items() if v not in (None, "")}


def normalise_arrow(
    table: pa.Table, default_source: str, origin: tuple[str, int], preset: dict[int, Error] | None = None
) -> RowBatch:
    return build(ArrowColumns(table), default_source, _RawRows(table), origin=origin, preset=preset)
