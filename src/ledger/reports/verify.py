"""`royalty audit verify` for imported sales reports: every report's stored lines against its event.

Per `SalesReport.Imported`: the line count and the SHA-256 of the lines' canonical CSV
(`ledger.reports.store.lines_csv`, in the event's `lines_format`: 1 for reports imported before
migration 0033, with the source and target currency rebuilt from the event) recomputed from the
`report_lines` at the event's position, the quarantined count from
`report_quarantine`, the report's groups (`report_line_groups`, what statements sum) against its
stored lines grouped again; and lines, groups or quarantine rows at a position no report holds. A
line or group changed, added or removed is named by its report's position even with the
triggers dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ledger.domain.sales_report import LINES_FORMAT, SalesReport
from ledger.reports.store import (
    GROUP_COLUMNS,
    LINE_COLUMNS,
    line_groups,
    lines_csv,
    lines_digest,
    parse_lines_csv,
    unpack_block,
    with_report_columns,
)
from ledger.store.log_reader import iter_stored_events
from ledger.usage.store import UsageStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_INTS = {"line_no", "occurred_at_us", "units", "gross_micros", "net_micros", "amount_micros"}
_SCHEMA = pa.schema([(c, pa.int64() if c in _INTS else pa.string()) for c in LINE_COLUMNS])
_TOPIC = f"{SalesReport.Imported.__module__}:{SalesReport.Imported.__qualname__}"


@dataclass
class ReportsAudit:
    reports: int = 0
    lines: int = 0
    quarantine_rows: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reports": self.reports,
            "lines": self.lines,
            "quarantine_rows": self.quarantine_rows,
            "problems": [{"position": p, "problem": text} for p, text in self.problems],
        }


def verify_reports(app: RoyaltyLedger) -> ReportsAudit:
    audit, store = ReportsAudit(), UsageStore(app)
    if app.config.backend not in ("sqlite", "postgres"):
        return audit
    columns = ", ".join(LINE_COLUMNS)
    mark = "?" if app.config.backend == "sqlite" else "%s"
    held: set[int] = set()
    sql = "SELECT DISTINCT position FROM report_lines"
    row_positions = {int(p) for (p,) in store.query(sql, sql)}
    for position, originator, _, state in iter_stored_events(app.config, [_TOPIC], app.head_position()):
        event = json.loads(state)  # as stored: a report from before lines_format has none (format 1)
        hex_id = originator.replace("-", "")
        audit.reports += 1
        held.add(position)
        stored_lines = _stored_lines(store, mark, position, columns, event, position in row_positions)
        if isinstance(stored_lines, str):
            audit.problems.append((position, stored_lines))
            continue
        lines, digest, table = stored_lines
        audit.lines += lines.num_rows
        if lines.num_rows != event["line_count"]:
            audit.problems.append((position, f"{lines.num_rows} lines stored, the report says {event['line_count']}"))
        elif digest != event["lines_sha256"]:
            audit.problems.append((position, "the stored lines do not hash to the report's lines_sha256"))
        sql = f"SELECT {', '.join(GROUP_COLUMNS)} FROM report_line_groups WHERE report_id = {mark}"
        stored = store.query(sql.replace("%s", "?"), sql, (hex_id,))
        regrouped = line_groups(table, event["source"])
        if _rows(stored) != _rows(zip(*(regrouped.column(c).to_pylist() for c in GROUP_COLUMNS), strict=True)):
            audit.problems.append((position, "the report's line groups (what statements sum) differ from its lines"))
        sql = f"SELECT count(*) FROM report_quarantine WHERE report_id = {mark}"
        quarantined = int(store.query(sql.replace("%s", "?"), sql, (hex_id,))[0][0])
        audit.quarantine_rows += quarantined
        if quarantined != sum(event["quarantined"].values()):
            audit.problems.append(
                (
                    position,
                    f"{quarantined} quarantine rows stored, the report says {sum(event['quarantined'].values())}",
                )
            )
    for table_name in ("report_lines", "report_line_blocks", "report_line_groups", "report_quarantine"):
        sql = f"SELECT DISTINCT position FROM {table_name}"
        for (position,) in store.query(sql, sql):
            if int(position) not in held:
                audit.problems.append((int(position), f"{table_name} rows at a position no report holds"))
    audit.problems.sort()
    return audit


def _stored_lines(
    store: UsageStore, mark: str, position: int, columns: str, event: dict[str, Any], has_rows: bool
) -> Any:
    """The report's stored lines, the SHA-256 of their canonical form and the lines with the
    report's own columns (with_report_columns), or what is wrong.

    Blocks (since 0034) are the canonical CSV itself: hashed as stored, parsed to regroup, and
    their line numbers and counts checked against the lines they hold. Rows (before 0034) are
    written out again in the event's lines_format."""
    sql = (
        "SELECT block_no, first_line_no, line_count, lines, codec, csv_size FROM report_line_blocks "
        f"WHERE position = {mark}"
    )
    blocks = sorted(store.query(sql.replace("%s", "?"), sql, (position,)))
    if blocks and has_rows:
        return "the report's lines are stored twice: as line blocks and as report_lines rows"
    if blocks:
        try:
            texts = [unpack_block(bytes(b[3]), str(b[4]), None if b[5] is None else int(b[5])) for b in blocks]
        except ValueError as exc:
            return str(exc)
        try:
            lines = parse_lines_csv(b"".join(texts))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return "the stored line blocks are not the canonical CSV of report lines"
        line_nos, start = lines.column("line_no").to_pylist(), 0
        for n, (block_no, first, count, *_) in enumerate(blocks):
            if block_no != n or count < 1 or line_nos[start : start + 1] != [first]:
                return f"line block {block_no} does not hold the lines it says (from line {first}, {count} lines)"
            start += count
        if start != lines.num_rows:
            return "the line blocks' line counts do not add up to the lines they hold"
        if event.get("lines_format", 1) != LINES_FORMAT:  # blocks hold format 2 only
            return f"line blocks stored for a report of lines_format {event.get('lines_format', 1)}"
        digest = lines_digest(texts)
    else:
        sql = f"SELECT {columns} FROM report_lines WHERE position = {mark} ORDER BY line_no"
        lines = _table(store.query(sql.replace("%s", "?"), sql, (position,)))
    try:
        full = with_report_columns(lines, event["source"], event["conversions"])
    except ValueError as exc:
        return str(exc)
    if not blocks:
        digest = lines_digest(lines_csv(full, event.get("lines_format", 1)))
    return lines, digest, full


def _table(rows: list[tuple[Any, ...]]) -> pa.Table:
    if not rows:
        return _SCHEMA.empty_table()
    columns = list(zip(*rows, strict=True))
    return pa.table([pa.array(c, f.type) for c, f in zip(columns, _SCHEMA, strict=True)], schema=_SCHEMA)


def _rows(rows: Any) -> list[tuple[Any, ...]]:
    """Group rows comparable across backends and orders: integers as int, null sorting first."""
    out = [tuple(v if v is None or isinstance(v, str) else int(v) for v in row) for row in rows]
    return sorted(out, key=lambda row: tuple((v is not None, v if v is not None else "") for v in row))
