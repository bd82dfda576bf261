"""Usage files in: CSV, NDJSON and Parquet, read in batches of rows (never the whole file at once).

This module is the one place in ledger/ that reads files with pyarrow (Parquet and CSV): a
files-reading adapter of the usage write side, agreed as an exception to "pyarrow lives in
projections/". Formats are documented in docs/usage-formats.md.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ledger.usage.arrow_columns import normalise_arrow
from ledger.usage.rows import FIELDS, RowBatch, UnparsedLine, normalise_dicts

FORMATS = ("csv", "ndjson", "parquet")
MAX_DEPTH = 16  # JSON nesting of one NDJSON line


class UnreadableFile(ValueError):
    """A file that cannot be read at all (wrong format, not found); rows are never guessed."""


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"jsonl": "ndjson", "json": "ndjson", "pq": "parquet"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise UnreadableFile(f"{path}: unknown format {suffix!r}; expected .csv, .ndjson, .parquet")
    return fmt


def read_batches(path: Path, batch_size: int, default_source: str) -> Iterator[RowBatch]:
    """Normalised batches of at most `batch_size` rows, in file order."""
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    fmt = detect_format(path)
    if fmt == "ndjson":
        yield from _ndjson(path, batch_size, default_source)
        return
    offset = 0
    tables = _parquet(path, batch_size) if fmt == "parquet" else _csv(path, batch_size)
    for table in tables:
        yield _from_arrow(table, default_source, (path.name, offset))
        offset += table.num_rows


def count_rows(path: Path) -> int | None:
    """Rows in the file when cheap to know (Parquet metadata), for a progress bar; None when
    not (reading the file then says what is wrong with it)."""
    if path.is_file() and detect_format(path) == "parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowException, OSError):
            return None
    return None


def _parquet(path: Path, batch_size: int) -> Iterator[pa.Table]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFile(f"{path}: not a Parquet file ({exc})") from None
    batches = parquet.iter_batches(batch_size=batch_size)
    rows = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            # Batches before this one are recorded (each all in or all out); re-ingesting the
            # repaired file counts their rows as duplicates.
            raise UnreadableFile(
                f"{path}: corrupt Parquet data after row {rows:,} ({exc}); "
                f"the {rows:,} rows before it were ingested, none after"
            ) from None
        rows += batch.num_rows
        yield pa.Table.from_batches([batch])


def _csv(path: Path, batch_size: int) -> Iterator[pa.Table]:
    """Every column as text, so a bad value is one row's problem, not the file's."""
    bad_lines: list[str] = []

    def keep_bad(row: Any) -> str:
        bad_lines.append(row.text)
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=pacsv.ParseOptions(invalid_row_handler=keep_bad),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in FIELDS},
                # Only an empty cell is empty: pyarrow's default null markers ("NA", "N/A",
                # "NULL", "null", "NaN", …) stay text — "NA" is Namibia's territory code.
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFile(f"{path}: not a CSV file with a header row ({exc})") from None
    _unique_header(path, reader.schema.names)
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        pending.append(batch)
        rows += batch.num_rows
        while rows >= batch_size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, batch_size)
            rest = table.slice(batch_size)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending)
    if bad_lines:
        yield _bad_csv_rows(bad_lines, reader.schema.names)


_BAD_LINE = "_not_a_csv_row"


def _unique_header(path: Path, names: list[str]) -> None:
    """A column named twice: which of the two is the row's value would be a guess."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UnreadableFile(f"{path}: the header names the column {name!r} more than once")
        seen.add(name)


def _bad_csv_rows(lines: list[str], header: list[str]) -> pa.Table:
    """Lines with the wrong number of fields, split by the header so that the listener id can
    be hashed like any other (extra fields are kept as _extra_N)."""
    rows: list[dict[str, str | None]] = []
    for line in lines:
        fields = next(csv.reader([line]), [])
        row: dict[str, str | None] = {name: value for name, value in zip(header, fields, strict=False)}
        row.update({f"_extra_{k}": v for k, v in enumerate(fields[len(header) :], start=1)})
        rows.append({**row, _BAD_LINE: "1"})
    names = sorted({k for row in rows for k in row})
    return pa.table({n: pa.array([row.get(n) for row in rows], pa.string()) for n in names})


def _from_arrow(table: pa.Table, default_source: str, origin: tuple[str, int]) -> RowBatch:
    columns: dict[str, Any] = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            if column.type.tz not in ("UTC", "+00:00", "Z", "Etc/UTC"):
                columns[name] = pc.cast(column, pa.string())  # rejected row by row: not UTC
                continue
            micros = pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.int64())
            columns[f"{name}_us" if name == "occurred_at" else name] = micros
        elif pa.types.is_floating(column.type):  # money and counts are never floats
            columns[name] = pc.binary_join_element_wise("float:", pc.cast(column, pa.string()), "")
        else:
            columns[name] = column
    preset = {}
    if columns.pop(_BAD_LINE, None) is not None:
        preset = {i: ("malformed", "not a CSV row with the header's columns") for i in range(table.num_rows)}
    return normalise_arrow(pa.table(columns), default_source, origin, preset)


def _ndjson(path: Path, batch_size: int, default_source: str) -> Iterator[RowBatch]:
    offset = 0
    chunk: list[Any] = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            chunk.append(_parse_line(line))
            if len(chunk) == batch_size:
                yield normalise_dicts(chunk, default_source, origin=(path.name, offset))
                offset += len(chunk)
                chunk = []
    if chunk:
        yield normalise_dicts(chunk, default_source, origin=(path.name, offset))


def _parse_line(line: str) -> Any:
    """One NDJSON line; a line that is not a usage row is one row's problem (quarantined), not
    the file's. A row's values are scalars: nesting is bounded so that nothing downstream (the
    quarantine, its JSON answers) ever recurses deeply into client data."""
    too_deep = f"not a usage row: JSON nested deeper than {MAX_DEPTH} levels"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return UnparsedLine(line.rstrip("\n"), f"not JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return UnparsedLine(line.rstrip("\n"), too_deep)
    if line.count("{") + line.count("[") > 1 and _deeper_than(value, MAX_DEPTH):
        return UnparsedLine(line.rstrip("\n"), too_deep)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False
