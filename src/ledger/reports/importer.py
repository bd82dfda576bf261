"""Import one report file: read, check, convert, and record it as one event plus its lines.

Re-importing the same bytes from the same source changes nothing (the report id is derived from
them). A corrected report names the one it supersedes: from its position on, the old report's
lines no longer count and the new ones do, so statements of a closed month get adjustments equal
to the difference.
"""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyarrow.compute as pc

from ledger.domain.party import DomainError
from ledger.domain.sales_report import LINES_FORMAT, SalesReport, sales_report_id
from ledger.reports.commands import current_mapping, rate_versions
from ledger.reports.lines import RateLookup, check_lines
from ledger.reports.readers import ReadReport, UnreadableReport, read_delimited, read_dsr
from ledger.reports.spreadsheet import read_spreadsheet, spreadsheet_kind
from ledger.reports.store import ReportWrite, line_blocks, line_groups, refresh_statistics

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

MAX_REPORT_BYTES = 2 << 30
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = ["ImportResult", "UnreadableReport", "import_report"]


@dataclass
class ImportResult:
    report_id: str
    source: str
    sha256: str
    already_imported: bool
    position: int | None
    period: str = ""
    lines: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    conversions: list[dict[str, Any]] = field(default_factory=list)
    supersedes: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "report_id": self.report_id,
            "source": self.source,
            "sha256": self.sha256,
            "already_imported": self.already_imported,
            "position": self.position,
            "period": self.period,
            "lines": self.lines,
            "quarantined": self.quarantined,
            "quarantined_total": sum(self.quarantined.values()),
            "totals_micros": self.totals,
            "conversions": self.conversions,
            "supersedes": self.supersedes,
            "seconds": round(self.seconds, 3),
        }


def _rate_lookup(app: RoyaltyLedger) -> RateLookup:
    versions = rate_versions(app)

    def lookup(base: str, quote: str, at_us: int) -> tuple[str, str] | None:
        at = _EPOCH + timedelta(microseconds=at_us)
        best = None
        for v in versions:
            later = best is None or (v["effective_from"], v["version"]) > (best["effective_from"], best["version"])
            if v["effective_from"] <= at and f"{base}/{quote}" in v["rates"] and later:
                best = v
        return None if best is None else (best["rates"][f"{base}/{quote}"], f"rates:{best['version']}")

    return lookup


def _read(data: bytes, mapping: dict[str, Any], source: str) -> tuple[ReadReport, str]:
    """The file's lines and its format: a CSV/TSV/xlsx mapping reads a workbook (xlsx, xls, ods,
    told by its bytes) or a delimited text file with the same columns."""
    if mapping["format"] == "dsr":
        return read_dsr(data, source), "dsr"
    kind = spreadsheet_kind(data)
    if kind is not None:
        return read_spreadsheet(data, mapping, kind), kind
    if mapping["format"] == "xlsx":
        raise UnreadableReport("not a workbook (xlsx, xls or ods), which this source's mapping reads")
    return read_delimited(data, mapping), mapping["format"]


def import_report(
    app: RoyaltyLedger,
    data: bytes,
    *,
    source: str,
    actor: str,
    file_name: str = "",
    period: str | None = None,
    stated_rate: str | None = None,
    supersedes: str | None = None,
) -> ImportResult:
    """Record a report (or find it recorded already); raises DomainError / UnreadableReport."""
    started = time.perf_counter()
    if len(data) > MAX_REPORT_BYTES:
        raise UnreadableReport(f"a report file is at most {MAX_REPORT_BYTES >> 20} MiB")
    version, mapping = current_mapping(app, source)
    # The file's SHA-256 (its report id) is computed beside the read, which is wasted only when
    # the file turns out to be imported already.
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashed = pool.submit(lambda: hashlib.sha256(data).hexdigest())
        try:
            read_or_error: tuple[ReadReport, str] | UnreadableReport = _read(data, mapping, source)
        except UnreadableReport as exc:
            read_or_error = exc
        sha = hashed.result()
    report_id = sales_report_id(source, sha)
    if report_id in app.repository:
        known = app.repository.get(report_id)
        assert isinstance(known, SalesReport)
        return ImportResult(str(report_id), source, sha, True, None, known.period, known.line_count, known.quarantined)
    superseded = _superseded(app, source, supersedes)
    if isinstance(read_or_error, UnreadableReport):
        raise read_or_error
    read, file_format = read_or_error
    now_us = (app.clock() - _EPOCH) // timedelta(microseconds=1)
    checked = check_lines(
        read.table,
        mapping,
        report_period=period or read.period,
        now_us=now_us,
        rates=_rate_lookup(app),
        stated_rate=stated_rate,
    )
    report_period = period or read.period or _period_of(checked.lines)
    del read  # the file's text columns: not needed past the checks (peak memory)
    # The canonical CSV (what is stored, in blocks) and the groups statements sum are
    # independent: written side by side (Arrow releases the GIL), the blocks too.
    with ThreadPoolExecutor(max_workers=3) as pool:
        groups = pool.submit(line_groups, checked.lines, source)
        blocks, lines_sha256 = line_blocks(checked.lines, pool)
        write = ReportWrite(report_id.hex, blocks, checked.lines, source, checked.quarantine, superseded)
        write.groups = groups.result()
    report = SalesReport(
        source=source,
        sha256=sha,
        file_format=file_format,
        file_name=file_name,
        period=report_period,
        mapping_version=version,
        line_count=checked.lines.num_rows,
        quarantined=checked.reasons,
        totals=checked.totals,
        conversions=checked.conversions,
        supersedes=superseded,
        lines_sha256=lines_sha256,
        actor=actor,
        lines_format=LINES_FORMAT,
    )
    recordings = app.save(report, side_writes=[write])
    if checked.lines.num_rows >= 10_000:
        refresh_statistics(app)
    return ImportResult(
        str(report_id),
        source,
        sha,
        False,
        int(recordings[0].notification.id),
        report_period,
        checked.lines.num_rows,
        checked.reasons,
        checked.totals,
        checked.conversions,
        superseded,
        time.perf_counter() - started,
    )


def _superseded(app: RoyaltyLedger, source: str, supersedes: str | None) -> str | None:
    """The hex id of the report a correction replaces; it must be this source's and still current."""
    if not supersedes:
        return None
    try:
        old_id = UUID(supersedes)
    except ValueError as exc:
        raise DomainError(f"--supersedes {supersedes!r} is not a report id") from exc
    if old_id not in app.repository:
        raise DomainError(f"report {supersedes} is not on record")
    old = app.repository.get(old_id)
    if not isinstance(old, SalesReport) or old.source != source:
        raise DomainError(f"report {supersedes} is not a report of source {source!r}")
    from ledger.reports.queries import superseded_by

    later = superseded_by(app, old_id.hex)
    if later is not None:
        raise DomainError(f"report {supersedes} is already superseded by {UUID(later)}")
    return old_id.hex


def _period_of(lines: Any) -> str:
    if lines.num_rows == 0:
        return ""
    low, high = pc.min_max(lines.column("occurred_at_us")).values()
    first = _EPOCH + timedelta(microseconds=low.as_py())
    last = _EPOCH + timedelta(microseconds=high.as_py())
    return first.strftime("%Y-%m") if (first.year, first.month) == (last.year, last.month) else "mixed"
