"""Reads of the report tables the write side needs: supersessions, reports, quarantine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.reports.commands import get_source
from ledger.usage.store import UsageStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


def superseded_by(app: RoyaltyLedger, report_hex: str) -> str | None:
    rows = UsageStore(app).query(
        "SELECT superseded_by FROM report_supersessions WHERE report_id = ?",
        "SELECT superseded_by FROM report_supersessions WHERE report_id = %s",
        (report_hex,),
    )
    return str(rows[0][0]) if rows else None


def list_quarantine(app: RoyaltyLedger, source: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """A source's quarantined lines (every source's when None); an unknown source is UnknownSource."""
    if source is not None:
        get_source(app, source)
    where = "" if source is None else "WHERE source = {p} "
    sql = (
        "SELECT position, report_id, line_no, source, reason, detail, raw_line FROM report_quarantine "
        + where
        + "ORDER BY position, line_no LIMIT {p}"
    )
    params: tuple[Any, ...] = (limit,) if source is None else (source, limit)
    rows = UsageStore(app).query(sql.format(p="?"), sql.format(p="%s"), params)
    return [
        {
            "position": int(r[0]),
            "report_id": str(r[1]),
            "line_no": int(r[2]),
            "source": r[3],
            "reason": r[4],
            "detail": r[5],
            "raw_line": r[6],
        }
        for r in rows
    ]


def list_reports(app: RoyaltyLedger) -> list[dict[str, Any]]:
    """Every report with its event's figures and whether a later one superseded it."""
    from uuid import UUID

    from ledger.domain.sales_report import SalesReport

    superseded = {
        str(r[0]): str(r[1])
        for r in UsageStore(app).query(
            "SELECT report_id, superseded_by FROM report_supersessions",
            "SELECT report_id, superseded_by FROM report_supersessions",
        )
    }
    # A report with accepted lines has groups (report_line_groups, one per distinct key), one
    # without has quarantine rows: the small tables name every report and its position.
    rows = UsageStore(app).query(
        "SELECT report_id, MIN(position) FROM report_line_groups GROUP BY report_id",
        "SELECT report_id, MIN(position) FROM report_line_groups GROUP BY report_id",
    )
    held = {str(r[0]): int(r[1]) for r in rows}
    rows = UsageStore(app).query(
        "SELECT report_id, MIN(position) FROM report_quarantine GROUP BY report_id",
        "SELECT report_id, MIN(position) FROM report_quarantine GROUP BY report_id",
    )
    for r in rows:
        held.setdefault(str(r[0]), int(r[1]))
    out = []
    for hex_id, position in sorted(held.items(), key=lambda kv: kv[1]):
        report = app.repository.get(UUID(hex_id))
        assert isinstance(report, SalesReport)
        out.append(
            {
                "report_id": str(report.id),
                "position": position,
                "source": report.source,
                "period": report.period,
                "file_name": report.file_name,
                "sha256": report.sha256,
                "lines": report.line_count,
                "quarantined": report.quarantined,
                "totals_micros": report.totals,
                "conversions": report.conversions,
                "supersedes": str(UUID(report.supersedes)) if report.supersedes else None,
                "superseded_by": str(UUID(superseded[hex_id])) if hex_id in superseded else None,
            }
        )
    return out
