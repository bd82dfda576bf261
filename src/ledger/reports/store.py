"""The report tables: the side write of one report (its lines, quarantine and supersession, in
the transaction of its `SalesReport.Imported` event) and the canonical digest of its lines.

The lines' canonical form is their CSV text, sorted by line number, without a header (pyarrow's
CSV writer: null as an empty cell, text quoted), in the columns of the report's `lines_format`
(an event field): format 2 is `LINE_COLUMNS`; format 1 (reports imported before migration 0033)
is `LINE_COLUMNS_V1`, which repeated the source and the target currency on every line. What
every line of a report shares is the report's: its source, and its target currency (the
conversions' target, else each line's own currency).

Where the lines are: since migration 0034, in `report_line_blocks`, the canonical CSV itself in
blocks of `BLOCK_LINES` consecutive lines, LZ4-compressed here since 0035 (so the digest is of
the stored bytes decompressed, and a million lines are ~16 rows for the server to write, not a
million); `unpack_block` and `parse_lines_csv` read them back. Reports imported before: one row
per line in `report_lines` (format 1 before 0033, format 2 from 0033 to 0034), the lines at the
report's position.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from ledger.domain.sales_report import LINES_FORMAT

LINE_COLUMNS = (
    "line_no",
    "right_type",
    "occurred_at_us",
    "territory",
    "isrc",
    "upc",
    "iswc",
    "grid",
    "platform_id",
    "proprietary_id",
    "title",
    "artist",
    "units",
    "currency",
    "gross_micros",
    "net_micros",
    "amount_micros",
)
LINE_COLUMNS_V1 = (
    "line_no",
    "source",
    "right_type",
    "occurred_at_us",
    "territory",
    "isrc",
    "upc",
    "iswc",
    "grid",
    "platform_id",
    "proprietary_id",
    "title",
    "artist",
    "units",
    "currency",
    "gross_micros",
    "net_micros",
    "target_currency",
    "amount_micros",
)
_COLUMNS_OF_FORMAT = {1: LINE_COLUMNS_V1, 2: LINE_COLUMNS}


# What distribution reads of a report's lines: one row per distinct key, with lines, units and
# the converted amount summed (migration 0032; projections.statements.reports sums these).
GROUP_KEYS = (
    "source",
    "right_type",
    "territory",
    "target_currency",
    "occurred_at_us",
    "isrc",
    "upc",
    "iswc",
    "grid",
    "platform_id",
    "proprietary_id",
)
GROUP_COLUMNS = (*GROUP_KEYS, "lines", "units", "amount_micros")
_INT_GROUP_COLUMNS = ("occurred_at_us", "lines", "units", "amount_micros")


def line_groups(lines: pa.Table, source: str) -> pa.Table:
    """The report's accepted lines grouped by GROUP_KEYS (column-wise; an identifier no line has
    is left out of the grouping and stays null), in GROUP_COLUMNS order."""
    if lines.num_rows == 0:  # every line quarantined (an aggregate without keys would be one row)
        return pa.table(
            {c: pa.array([], pa.int64() if c in _INT_GROUP_COLUMNS else pa.string()) for c in GROUP_COLUMNS}
        )
    keys = [k for k in GROUP_KEYS[1:] if lines.column(k).null_count < lines.num_rows]
    grouped = lines.select([*keys, "line_no", "units", "amount_micros"]).group_by(keys, use_threads=False)
    table = grouped.aggregate([("line_no", "count"), ("units", "sum"), ("amount_micros", "sum")])
    rows = table.num_rows
    columns: dict[str, pa.Array] = {"source": pa.array([source] * rows, pa.string())}
    for key in GROUP_KEYS[1:]:
        columns[key] = table.column(key) if key in keys else pa.nulls(rows, lines.schema.field(key).type)
    columns["lines"] = table.column("line_no_count")
    columns["units"] = table.column("units_sum")
    columns["amount_micros"] = table.column("amount_micros_sum")
    return pa.table(columns)


def with_report_columns(lines: pa.Table, source: str, conversions: Sequence[dict[str, Any]]) -> pa.Table:
    """Stored lines (LINE_COLUMNS) with the columns every line of their report shares: `source`
    and `target_currency` — the conversions' one target when the report converted anything, else
    each line's own currency (a line in another currency than the target is either converted or
    quarantined, so this is the target currency the import gave every accepted line)."""
    rows = lines.num_rows
    targets = {c["target_currency"] for c in conversions}
    if len(targets) > 1:
        raise ValueError(f"a report converts to one target currency, not {sorted(targets)}")
    target = pa.repeat(pa.scalar(targets.pop(), pa.string()), rows) if targets else lines.column("currency")
    out = lines.append_column("source", pa.repeat(pa.scalar(source, pa.string()), rows))
    return out.append_column("target_currency", target)


def lines_csv(lines: pa.Table, lines_format: int = LINES_FORMAT) -> bytes:
    """The canonical CSV of a report's accepted lines (see the module docstring); format 1 needs
    `source` and `target_currency` columns (with_report_columns)."""
    return _csv(lines.select(list(_COLUMNS_OF_FORMAT[lines_format])))


BLOCK_LINES = 65_536  # ~5.6 MiB of CSV a block in the benchmark; ~16 blocks a million lines


# How a block's bytes are stored (migration 0035): the LZ4 frame format (any lz4 tool reads it),
# compressed here so the server stores them as they come.
CODEC = "lz4_frame"
_LZ4 = pa.Codec("lz4")  # Arrow's "lz4" is the frame format


@dataclass(frozen=True)
class LineBlock:
    """Consecutive lines of a report: `csv` is exactly their stretch of the canonical CSV, `packed`
    the same compressed as stored (`codec`)."""

    first_line_no: int
    line_count: int
    csv: bytes
    packed: bytes
    codec: str = CODEC


def line_blocks(lines: pa.Table, pool: Executor | None = None) -> tuple[list[LineBlock], str]:
    """The canonical CSV (format 2) in blocks of BLOCK_LINES lines, each written and compressed
    side by side on `pool` (pyarrow releases the GIL), and the SHA-256 of the whole, hashed block
    by block as they come: a line's text does not depend on its neighbours and no header is
    written, so the blocks joined are exactly `lines_csv(lines)`."""
    table = lines.select(list(LINE_COLUMNS))  # lines arrive in line order (the file's)
    starts = range(0, table.num_rows, BLOCK_LINES)
    slices = [table.slice(start, BLOCK_LINES) for start in starts]
    texts = pool.map(_packed_csv, slices) if pool is not None else map(_packed_csv, slices)
    line_nos, digest, blocks = table.column("line_no"), hashlib.sha256(), []
    for start, part, (text, packed) in zip(starts, slices, texts, strict=True):
        digest.update(text)  # in line order, while the later blocks are still being written
        blocks.append(LineBlock(int(line_nos[start].as_py()), part.num_rows, text, packed))
    return blocks, digest.hexdigest()


def _packed_csv(table: pa.Table) -> tuple[bytes, bytes]:
    text = _csv(table)
    return text, _LZ4.compress(text, asbytes=True)


def unpack_block(stored: bytes, codec: str, csv_size: int | None) -> bytes:
    """A stored block's CSV; raises ValueError when its bytes are not what its row says."""
    if codec == "none":
        return stored
    if codec != CODEC or csv_size is None:
        raise ValueError(f"a line block stored with codec {codec!r} and size {csv_size!r}")
    try:
        text: bytes = _LZ4.decompress(stored, decompressed_size=csv_size, asbytes=True)
    except (pa.ArrowInvalid, pa.ArrowIOError) as exc:
        raise ValueError(f"a line block's {codec} bytes do not decompress: {exc}") from exc
    # Arrow pads the output to the size asked for: a block's CSV ends with its last line's newline.
    if csv_size and not text.endswith(b"\n"):
        raise ValueError(f"a line block decompresses to fewer bytes than its csv_size {csv_size}")
    return bytes(text)


def _csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue()


_STORED_TYPES = {
    c: pa.int64()
    if c in ("line_no", "occurred_at_us", "units", "gross_micros", "net_micros", "amount_micros")
    else pa.string()
    for c in LINE_COLUMNS
}
STORED_SCHEMA = pa.schema([(c, _STORED_TYPES[c]) for c in LINE_COLUMNS])


def parse_lines_csv(data: bytes, columns: Sequence[str] = LINE_COLUMNS) -> pa.Table:
    """Lines back from their canonical CSV (format 2): the inverse of `lines_csv` (an unquoted
    empty cell is null, a quoted one the empty text). Raises pa.ArrowInvalid on bytes that are
    not such lines."""
    if not data:
        return STORED_SCHEMA.empty_table().select(list(columns))
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(LINE_COLUMNS), block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=_STORED_TYPES,
            include_columns=list(columns),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def lines_digest(csv: bytes | Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for part in [csv] if isinstance(csv, bytes) else csv:
        digest.update(part)
    return digest.hexdigest()


_BLOCK_COLUMNS = "position, block_no, first_line_no, line_count, lines, codec, csv_size"


def _block_row(position: int, block_no: int, block: LineBlock) -> tuple[Any, ...]:
    return (position, block_no, block.first_line_no, block.line_count, block.packed, block.codec, len(block.csv))


@dataclass
class ReportWrite:
    """One report's rows, written after its event, knowing its position."""

    report_hex: str
    blocks: Sequence[LineBlock]  # line_blocks(lines): the canonical CSV, as stored
    lines: pa.Table
    source: str
    quarantine: list[tuple[int, str, str, str]] = field(default_factory=list)
    supersedes: str | None = None
    groups: pa.Table | None = None  # line_groups(lines, source), computed when absent

    def _groups(self) -> pa.Table:
        if self.groups is None:
            self.groups = line_groups(self.lines, self.source)
        return self.groups

    def _position(self, positions: Sequence[int]) -> int:
        assert len(positions) == 1, "a report is saved as exactly one event"
        return int(positions[0])

    def write_sqlite(self, cursor: Any, positions: Sequence[int]) -> None:
        position = self._position(positions)
        cursor.executemany(
            f"INSERT INTO report_line_blocks ({_BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_block_row(position, n, b) for n, b in enumerate(self.blocks)],
        )
        cursor.executemany(
            "INSERT INTO report_quarantine (position, report_id, line_no, source, reason, detail, raw_line) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(position, self.report_hex, n, self.source, r, d, raw) for n, r, d, raw in self.quarantine],
        )
        groups = self._groups()
        cursor.executemany(
            f"INSERT INTO report_line_groups (position, report_id, {', '.join(GROUP_COLUMNS)}) "
            f"VALUES ({position}, '{self.report_hex}', {', '.join('?' * len(GROUP_COLUMNS))})",
            zip(*(groups.column(c).to_pylist() for c in GROUP_COLUMNS), strict=True),
        )
        if self.supersedes:
            cursor.execute(
                "INSERT INTO report_supersessions (report_id, superseded_by, position) VALUES (?, ?, ?)",
                (self.supersedes, self.report_hex, position),
            )

    def write_postgres(self, cursor: Any, positions: Sequence[int]) -> None:
        position = self._position(positions)
        if self.blocks:
            # A few rows of a few MiB (binary: the bytes as they are, no escaping).
            with cursor.copy(f"COPY report_line_blocks ({_BLOCK_COLUMNS}) FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(["int8", "int4", "int4", "int4", "bytea", "text", "int8"])
                for n, b in enumerate(self.blocks):
                    copy.write_row(_block_row(position, n, b))
        if self.lines.num_rows:
            groups = self._groups()
            rows = groups.num_rows
            groups = groups.add_column(0, "report_id", pa.array([self.report_hex] * rows, pa.string()))
            groups = groups.add_column(0, "position", pa.array([int(position)] * rows, pa.int64()))
            out = io.BytesIO()
            pacsv.write_csv(groups, out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            columns = ", ".join(groups.column_names)
            with cursor.copy(f"COPY report_line_groups ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(out.getvalue())
        if self.quarantine:
            cursor.executemany(
                "INSERT INTO report_quarantine (position, report_id, line_no, source, reason, detail, raw_line) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(position, self.report_hex, n, self.source, r, d, raw) for n, r, d, raw in self.quarantine],
            )
        if self.supersedes:
            cursor.execute(
                "INSERT INTO report_supersessions (report_id, superseded_by, position) VALUES (%s, %s, %s)",
                (self.supersedes, self.report_hex, position),
            )


def refresh_statistics(app: Any) -> None:
    """After a big report: PostgreSQL's planner otherwise still thinks the groups table is small
    and sorts its rows to sum them instead of hashing. (report_lines is no longer grouped whole
    on the way to a statement, so it is left to autovacuum: analysing a million lines cost
    0.7 s of the import.)"""
    if app.config.backend != "postgres":
        return
    with app.recorder.datastore.get_connection() as conn:
        conn.execute("ANALYZE report_line_groups")
        if not conn.autocommit:  # statistics are transactional: keep them
            conn.commit()
