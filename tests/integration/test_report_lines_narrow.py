"""Migration 0033 (narrow report_lines) on a store whose reports the code before it imported.

The old code wrote every line with its report id, source and target currency, and recorded
`SalesReport.Imported` without `lines_format` (digest of the 19-column CSV). After 0033 those
reports still verify (format 1, the dropped columns rebuilt from the event), statements and the
matching queue read them, and new reports are recorded in format 2 beside them. A line that
disagrees with its report's event stops the migration instead of vanishing with its column.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.domain.sales_report import SalesReport
from ledger.reports import importer
from ledger.reports.commands import set_rates
from ledger.reports.importer import import_report
from ledger.reports.queries import list_reports
from ledger.reports.store import LINE_COLUMNS_V1, ReportWrite, lines_digest
from ledger.reports.verify import verify_reports
from ledger.royalties import read_rights_history
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, migrations_dir, pg_conninfo
from ledger.usage.store import UsageStore
from projections.statements.reports_queue import matching_queue
from tests.conftest import _admin_config, _drop_database
from tests.reports_helpers import FIXTURES, T, account_totals, catalogue

STORE = (FIXTURES / "store-2026-01.csv").read_bytes()
DSR = (FIXTURES / "wavestream-2026-01.tsv").read_bytes()
JAN = Period(2026, 1)


def _v1_csv(lines: pa.Table, source: str) -> bytes:
    """The code before 0033: the 19-column CSV, source and target currency on every line."""
    table = lines.append_column("source", pa.array([source] * lines.num_rows, pa.string()))
    out = io.BytesIO()
    pacsv.write_csv(
        table.select(list(LINE_COLUMNS_V1)), out, pacsv.WriteOptions(include_header=False, quoting_style="needed")
    )
    return out.getvalue()


def _old_write_sqlite(self: ReportWrite, cursor: Any, positions: Sequence[int]) -> None:
    table = self.lines.append_column("source", pa.array([self.source] * self.lines.num_rows, pa.string()))
    columns = [table.column(c).to_pylist() for c in LINE_COLUMNS_V1]
    marks = ", ".join("?" * len(LINE_COLUMNS_V1))
    cursor.executemany(
        f"INSERT INTO report_lines (position, report_id, {', '.join(LINE_COLUMNS_V1)}) "
        f"VALUES ({positions[0]}, '{self.report_hex}', {marks})",
        zip(*columns, strict=True),
    )
    _NEW_WRITES["sqlite"](self, _NoLines(cursor), positions)  # groups, quarantine as before


def _old_write_postgres(self: ReportWrite, cursor: Any, positions: Sequence[int]) -> None:
    cursor.execute(f"SET LOCAL royalty.report_position = '{int(positions[0])}'")
    cursor.execute(f"SET LOCAL royalty.report_id = '{self.report_hex}'")
    with cursor.copy(f"COPY report_lines ({', '.join(LINE_COLUMNS_V1)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(_v1_csv(self.lines, self.source))
    _NEW_WRITES["postgres"](self, _NoLines(cursor), positions)  # groups, quarantine as before


class _NoLines:
    """A cursor that lets today's writer write groups, quarantine and supersessions, not lines."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def executemany(self, query: str, rows: Any) -> Any:
        return None if "INTO report_line_blocks " in query else self._cursor.executemany(query, rows)

    def execute(self, query: str, *args: Any) -> Any:
        return self._cursor.execute(query, *args)

    def copy(self, statement: str) -> Any:
        if statement.startswith("COPY report_line_blocks "):
            return _Discard()
        return self._cursor.copy(statement)


class _Discard:
    def __enter__(self) -> _Discard:
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def set_types(self, _: Any) -> None:
        return None

    def write_row(self, _: Any) -> None:
        return None


_NEW_WRITES = {"sqlite": ReportWrite.write_sqlite, "postgres": ReportWrite.write_postgres}


def _v1_events(original: Any) -> Any:
    """insert_events storing SalesReport.Imported as the code before 0033 did: no lines_format,
    no class version (the upcaster's v1)."""

    def insert(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        rewritten = []
        for e in stored_events:
            if e.topic.endswith("SalesReport.Imported"):
                state = json.loads(e.state)
                del state["lines_format"], state["class_version"]
                e = StoredEvent(e.originator_id, e.originator_version, e.topic, json.dumps(state).encode())
            rewritten.append(e)
        return original(rewritten, **kwargs)

    return insert


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreConfig]:
    """A new store migrated up to, not including, 0033."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    for path in [*folder.glob("*/0033_*.sql"), *folder.glob("*/0034_*.sql"), *folder.glob("*/0035_*.sql")]:
        path.unlink()
    if request.param == "sqlite":
        config = StoreConfig.from_url(str(tmp_path / "old.db"))
        name = None
    else:
        admin, name = _admin_config(), f"royalty_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROYALTY_MIGRATIONS_DIR", str(folder))
        apply_migrations(config)
    yield config
    if name:
        _drop_database(name)


def _import_as_before(config: StoreConfig) -> tuple[RoyaltyLedger, list[importer.ImportResult]]:
    app = RoyaltyLedger(config, clock=lambda: T(2026, 2, 10))
    catalogue(app)
    set_rates(app, {"USD/EUR": "0.92"}, T(2025, 1, 1), "ECB reference rate (test)", "t")
    sources: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReportWrite, "write_sqlite", _old_write_sqlite)
        patch.setattr(ReportWrite, "write_postgres", _old_write_postgres)
        v1_blocks = lambda lines, *_: ([], lines_digest(_v1_csv(lines, sources[-1])))  # noqa: E731
        patch.setattr(importer, "line_blocks", v1_blocks)
        patch.setattr(app.recorder, "insert_events", _v1_events(app.recorder.insert_events))
        results = []
        for data, source in ((STORE, "store"), (DSR, "wavestream")):
            sources.append(source)
            results.append(import_report(app, data, source=source, actor="t"))
    return app, results


def _q(config: StoreConfig, query: str) -> list[tuple[Any, ...]]:
    app = RoyaltyLedger(config)
    try:
        return UsageStore(app).query(query, query)
    finally:
        app.close()


def _edit_lines(config: StoreConfig, update: str) -> None:
    """An UPDATE behind the append-only triggers' back (as an attacker with the owner's role)."""
    if config.backend == "sqlite":
        assert config.sqlite_path is not None
        with sqlite3.connect(config.sqlite_path) as conn:
            conn.execute("DROP TRIGGER report_lines_no_update")
            conn.execute(update)
    else:
        with psycopg.connect(pg_conninfo(config)) as conn:
            conn.execute("ALTER TABLE report_lines DISABLE TRIGGER report_lines_append_only")
            conn.execute(update)
            conn.execute("ALTER TABLE report_lines ENABLE TRIGGER report_lines_append_only")


def _queue(app: RoyaltyLedger) -> list[dict[str, Any]]:
    return matching_queue(app.config, read_rights_history(app), app.head_position())


def test_reports_imported_before_0033_still_verify_and_count_after_it(old_store: StoreConfig) -> None:
    old, (store, dsr) = _import_as_before(old_store)
    money = account_totals(old, [JAN])
    old.close()
    states = _q(old_store, "SELECT state FROM stored_events")
    assert not any(b'"lines_format"' in bytes(s[0]) for s in states)  # recorded as v1 events

    assert apply_migrations(old_store) == ["0033", "0034", "0035"]
    app = RoyaltyLedger(old_store, clock=lambda: T(2026, 2, 10))
    try:
        report = app.repository.get(uuid.UUID(store.report_id))
        assert isinstance(report, SalesReport) and report.lines_format == 1  # by the upcaster
        audit = verify_reports(app)
        assert audit.ok and (audit.reports, audit.lines) == (2, store.lines + dsr.lines), audit.as_dict()
        assert account_totals(app, [JAN]) == money
        queue = _queue(app)  # PX-1002's title, from the old rows
        assert [(e["link_value"], e["title"], e["lines"]) for e in queue] == [("PX-1002", "Two", 1)]
        # A new report beside them is recorded in format 2; all three verify.
        third = import_report(app, STORE.replace(b"2026-01", b"2026-02"), source="store", actor="t")
        assert app.repository.get(uuid.UUID(third.report_id)).lines_format == 2
        audit = verify_reports(app)
        assert audit.ok and audit.reports == 3, audit.as_dict()
        assert {r["report_id"] for r in list_reports(app)} == {store.report_id, dsr.report_id, third.report_id}
        # The queue reads the new report's title from its blocks and sums both months' lines.
        assert [(e["link_value"], e["title"], e["lines"]) for e in _queue(app)] == [("PX-1002", "Two", 2)]
        # An old report's line edited after the migration is still named, by its position.
        _edit_lines(old_store, f"UPDATE report_lines SET units = units + 1 WHERE position = {store.position}")
        audit = verify_reports(app)
        assert {p for p, _ in audit.problems} == {store.position} and "lines_sha256" in str(audit.problems)
    finally:
        app.close()


def test_a_line_that_disagrees_with_its_report_stops_migration_0033(old_store: StoreConfig) -> None:
    old, (store, _) = _import_as_before(old_store)
    old.close()
    _edit_lines(old_store, f"UPDATE report_lines SET target_currency = 'GBP' WHERE position = {store.position}")
    with pytest.raises(Exception, match="do not agree with their report"):
        apply_migrations(old_store)
    columns = _q(old_store, "SELECT * FROM report_lines LIMIT 1")
    assert len(columns[0]) == 2 + len(LINE_COLUMNS_V1)  # nothing dropped: the upgrade stopped whole
