"""The report tables: the side write of one report (its lines, quarantine and supersession, in
the transaction of its `SalesReport.Imported` event) and the canonical digest of its lines.

A line is stored with what differs from line to line (`LINE_COLUMNS`) and the position of its
report's event; what every line of a report shares is the report's (its source, its target
currency: the conversions' target, else each line's own currency), since migration 0033.

The lines' canonical form is their CSV text, sorted by line number, without a header (pyarrow's
CSV writer: null as an empty cell, text quoted when needed), in the columns of the report's
`lines_format` (an event field): format 2 is `LINE_COLUMNS`; format 1 (reports imported before
0033) is `LINE_COLUMNS_V1`, which repeated the source and the target currency on every line. On
PostgreSQL the format-2 bytes go to `COPY … (FORMAT csv)` as they are, so the digest costs
nothing extra and the server parses the rows in C.
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
    return b"".join(lines_csv_parts(lines, lines_format))


def lines_csv_parts(lines: pa.Table, lines_format: int = LINES_FORMAT, pool: Executor | None = None) -> list[bytes]:
    """`lines_csv` as consecutive parts, written side by side on `pool` (pyarrow's writer releases
    the GIL): a line's text does not depend on its neighbours and no header is written, so the
    parts joined are exactly the whole CSV."""
    table = lines.select(list(_COLUMNS_OF_FORMAT[lines_format]))  # lines arrive in line order (the file's)
    rows = table.num_rows
    count = _CSV_PARTS if pool is not None and rows >= _CSV_PART_MIN_ROWS else 1
    slices = [table.slice(i * rows // count, (i + 1) * rows // count - i * rows // count) for i in range(count)]
    if count == 1 or pool is None:
        return [_csv(part) for part in slices]
    return list(pool.map(_csv, slices))


_CSV_PARTS, _CSV_PART_MIN_ROWS = 4, 100_000


def _csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue()


def lines_digest(csv: bytes | Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for part in [csv] if isinstance(csv, bytes) else csv:
        digest.update(part)
    return digest.hexdigest()


@dataclass
class ReportWrite:
    """One report's rows, written after its event, knowing its position."""

    report_hex: str
    csv_parts: Sequence[bytes]  # lines_csv_parts(lines): the canonical CSV, COPY's payload
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
        columns = [self.lines.column(c).to_pylist() for c in LINE_COLUMNS]
        cols = ", ".join(LINE_COLUMNS)
        cursor.executemany(
            f"INSERT INTO report_lines (position, {cols}) VALUES ({position}, {', '.join('?' * len(LINE_COLUMNS))})",
            zip(*columns, strict=True),
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
        if self.lines.num_rows:
            # The position is the same on every line: the column's default reads it from the
            # transaction (migration 0031), so the canonical CSV is sent as it is.
            cursor.execute(f"SET LOCAL royalty.report_position = '{int(position)}'")
            with cursor.copy(f"COPY report_lines ({', '.join(LINE_COLUMNS)}) FROM STDIN (FORMAT csv)") as copy:
                for part in self.csv_parts:
                    view = memoryview(part)
                    for start in range(0, len(view), 1 << 20):
                        copy.write(view[start : start + (1 << 20)])
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
