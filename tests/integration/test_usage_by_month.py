"""PostgreSQL's usage_rows partitioned by month (migration 0047): partitions made on demand, an id
kept once across all months, append-only on every partition, numbering and refunds across months,
and a store written by the unpartitioned table moved into it and still working."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError
from psycopg import sql

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.domain.usage_batch import UsageBatch
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, migrations_dir, pg_conninfo
from ledger.usage.lines import lines_from_rows
from ledger.usage.months import month_bounds, months_of
from ledger.usage.store import PG_LINE_SELECT, UsageStore, UsageWrite
from ledger.usage.verify import verify_usage
from projections.statements.usage import refund_groups
from tests.conftest import _admin_config, _drop_database
from tests.usage_helpers import ALBUM, ISRCS, build_catalogue, clock, ingest, play, sale

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(pg_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(pg_config, clock=clock)
    build_catalogue(ledger)
    yield ledger
    ledger.close()


def q(app: RoyaltyLedger, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return UsageStore(app).query("", text, params)


def partitions(app: RoyaltyLedger) -> list[str]:
    return sorted(
        r[0]
        for r in q(
            app,
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'usage_rows'::regclass",
        )
    )


def test_months_and_their_bounds_are_utc_calendar_months() -> None:
    assert months_of([month_bounds("2026-10")[0], month_bounds("2026-10")[1] - 1]) == ["2026-10"]
    assert months_of([month_bounds("2026-10")[1]]) == ["2026-11"]
    assert month_bounds("2024-02")[1] - month_bounds("2024-02")[0] == 29 * 86_400 * 1_000_000
    assert month_bounds("1970-01")[0] == 0


def test_a_month_gets_its_partition_when_a_batch_first_holds_plays_in_it(app: RoyaltyLedger) -> None:
    assert partitions(app) == []
    rows = [play("p1", at="2026-10-05T10:00:00Z"), play("p2", at="2026-09-30T23:59:59Z")]
    rows.append(play("p3", at="2026-08-01T00:00:00Z"))
    assert ingest(app, rows).accepted == 3
    assert partitions(app) == ["usage_rows_2026_08", "usage_rows_2026_09", "usage_rows_2026_10"]
    placed = q(app, "SELECT usage_id, tableoid::regclass::text FROM usage_rows ORDER BY usage_id")
    assert placed == [("p1", "usage_rows_2026_10"), ("p2", "usage_rows_2026_09"), ("p3", "usage_rows_2026_08")]
    # A month that has one already is not made again; a new month is.
    assert ingest(app, [play("p4", at="2026-10-06T10:00:00Z"), play("p5", at="2026-11-01T00:00:00Z")]).accepted == 2
    assert len(partitions(app)) == 4
    report = verify_usage(app)
    assert report.ok and report.lines == 5, report.problems


def test_an_id_is_kept_once_across_months(app: RoyaltyLedger) -> None:
    first = [play(f"p{i}", listener=f"l{i}", at=f"2026-0{7 + i}-10T10:00:00Z") for i in range(3)]
    assert ingest(app, first, batch_size=1).accepted == 3  # July, August, September
    assert ingest(app, [play("p9", at="2026-10-01T10:00:00Z")]).accepted == 1  # October
    stored = q(app, "SELECT count(*) FROM usage_rows")[0][0]
    # A resend is all duplicates, each found in its own month's partition, from a run that
    # holds plays of another month (so the other months' partitions are where they are).
    again = ingest(app, [*first, play("q1", at="2026-10-02T10:00:00Z")])
    assert (again.accepted, again.duplicates) == (1, 3)
    # The same id with a time in another month is a different payload: refused, not a second row.
    moved = ingest(app, [play("p0", listener="l0", at="2026-10-10T10:00:00Z")])
    assert (moved.accepted, moved.quarantined) == (0, {"different_payload": 1})
    moved = ingest(app, [play("p2", listener="l2", at="2026-07-10T10:00:00Z")])
    assert (moved.accepted, moved.quarantined) == (0, {"different_payload": 1})
    assert q(app, "SELECT count(*) FROM usage_rows")[0][0] == stored + 1
    assert q(app, "SELECT count(*) FROM usage_rows WHERE usage_id = 'p0'")[0][0] == 1


_EVENTS = itertools.count(1)


def _batch_event() -> UsageBatch:
    """A batch event of its own (its id is derived from what it states)."""
    return UsageBatch(
        source="player",
        kind="stream",
        row_count=1,
        line_count=1,
        rows_sha256=f"{next(_EVENTS):064x}",
        totals={"EUR": 2000},
        kinds={"stream": 1},
        pricing_versions=[1],
        quarantined={},
        owners_acquired=0,
        resolved_quarantine=0,
        listener_key_id="k",
        origin="test",
        actor="test",
    )


def _line(usage_id: str, at_us: int) -> tuple[Any, ...]:
    return ("player", usage_id, 0, "stream", at_us, ISRCS[0], None, "ab" * 32, "DE", 60, "EUR", 2000)


def _write(app: RoyaltyLedger, usage_id: str, month: str, **looked_up: Any) -> None:
    line = (*_line(usage_id, month_bounds(month)[0] + 1), "fixed_rate", 1, None, True, "cd" * 32, None)
    write = UsageWrite("", UsageStore(app).watermark(), lines=lines_from_rows([line]), **looked_up)
    batch = _batch_event()
    write.batch_hex = batch.id.hex
    app.save(batch, side_writes=[write])


def test_the_write_refuses_an_id_stored_in_another_month_that_its_lookup_did_not_see(app: RoyaltyLedger) -> None:
    """Under the log's write lock: a batch never looked up is checked against every other month;
    one looked up at watermark W against the rows written since W (and nothing else)."""
    _write(app, "x1", "2026-09")
    head = app.head_position()
    with pytest.raises(IntegrityError, match="another month"):
        _write(app, "x1", "2026-10")  # never looked up: every other month checked
    # Looked up before x1 was written (watermark 0): x1 is among the rows written since.
    with pytest.raises(IntegrityError, match="another month"):
        _write(app, "x1", "2026-11", looked_up_at=0, looked_up_outside=("2026-11",))
    # A lookup that left out a month no line is in never looked there: checked in full.
    with pytest.raises(IntegrityError, match="another month"):
        _write(app, "x1", "2026-12", looked_up_at=head, looked_up_outside=("2026-09", "2026-12"))
    assert app.head_position() == head
    # Looked up after x1 was written (so the lookup was the one to find it): not checked again.
    _write(app, "x2", "2026-10", looked_up_at=head, looked_up_outside=("2026-10",))
    assert q(app, "SELECT usage_id FROM usage_rows ORDER BY 1") == [("x1",), ("x2",)]


def test_every_partition_is_append_only(app: RoyaltyLedger) -> None:
    assert ingest(app, [play("p1", at="2026-09-05T10:00:00Z"), play("p2")]).accepted == 2
    with psycopg.connect(pg_conninfo(app.config), autocommit=True) as conn:
        for table in ("usage_rows", "usage_rows_2026_09", "usage_rows_2026_10"):
            for statement in (f"UPDATE {table} SET gross_micros = 0", f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                    conn.execute(statement)
    assert q(app, "SELECT count(*) FROM usage_rows")[0][0] == 2


def test_numbering_and_refunds_run_across_months(app: RoyaltyLedger) -> None:
    fan = [play(f"f{i}", listener="fan", at=f"2026-{7 + i:02d}-03T10:00:00Z") for i in range(4)]
    for row in fan:  # a batch a month: each one's numbers continue from the months before
        assert ingest(app, [row]).accepted == 1
    numbers = q(app, "SELECT usage_id, play_number FROM usage_rows ORDER BY usage_id")
    assert numbers == [("f0", 1), ("f1", 2), ("f2", 3), ("f3", 4)]
    # A refund in November reverses its October sale (three lines, one per track of the album).
    assert ingest(app, [sale("s1", "9.00", upc=ALBUM, at="2026-10-20T10:00:00Z")]).accepted == 1
    refund = sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-11-02T10:00:00Z")
    assert ingest(app, [refund]).accepted == 1
    groups = refund_groups(app.config, Period.parse("2026-11"), app.head_position())
    assert sum(g.gross_micros for g in groups) == -3_000_000
    assert {g.sale_kind for g in groups} == {"purchase"} and len(groups) == 3
    # More than the sale is refused, whichever month the earlier refund is in.
    over = sale("r2", "7.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-11-03T10:00:00Z")
    assert ingest(app, [over]).accepted == 0
    report = verify_usage(app)
    assert report.ok, report.problems


def test_ids_whose_keys_collide_stay_apart_across_months(app: RoyaltyLedger) -> None:
    with psycopg.connect(pg_conninfo(app.config)) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION royalty_usage_key(source text, usage_id text) RETURNS bigint "
            "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT 4242::bigint'"
        )
    rows = [play(f"p{i}", listener=f"l{i}", at=f"2026-{8 + i % 3:02d}-0{1 + i}T10:00:00Z") for i in range(6)]
    assert ingest(app, rows, batch_size=2).accepted == 6
    assert ingest(app, rows).duplicates == 6
    assert ingest(app, [play("p1", listener="other", at="2026-08-02T10:00:00Z")]).quarantined == {
        "different_payload": 1
    }
    report = verify_usage(app)
    assert report.ok, report.problems


# --- a store written by the unpartitioned table (migrations 0040–0046) ------------------------


@pytest.fixture
def unpartitioned_store(tmp_path: Path) -> Iterator[StoreConfig]:
    """A new database migrated up to, not including, 0047."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    for path in (folder / "postgres").glob("00*.sql"):
        if path.name >= "0047":
            path.unlink()
    admin, name = _admin_config(), f"royalty_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    config = StoreConfig.from_url(f"postgresql://{admin.pg_user}@{admin.pg_host}:{admin.pg_port}/{name}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROYALTY_MIGRATIONS_DIR", str(folder))
        apply_migrations(config)
    yield config
    _drop_database(name)


def _unpartitioned_write(self: UsageWrite, cursor: Any, positions: Sequence[int]) -> None:
    """The writer as it is before migration 0047: the same COPY, no partition to make or check."""
    position = positions[0]
    if self.lines.num_rows:
        self._copy(cursor, position)
        cursor.execute("INSERT INTO usage_positions (position) VALUES (%s)", (position,))
    assert not self.quarantine and not self.resolved and not self.ownership


def test_a_store_written_before_partitioning_moves_into_its_months_and_keeps_working(
    unpartitioned_store: StoreConfig,
) -> None:
    fan = [play(f"f{i}", listener="fan", at=f"2026-{7 + i:02d}-03T10:00:00Z") for i in range(4)]
    rows = [
        *fan,
        play("x1", listener="other", isrc=ISRCS[1]),
        sale("s1", "9.00", upc=ALBUM),  # three lines, one per track
    ]
    refund = sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-11-02T10:00:00Z")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UsageWrite, "write_postgres", _unpartitioned_write)
        patch.setattr(UsageStore, "months", lambda self: set())
        old = RoyaltyLedger(unpartitioned_store, clock=clock)
        build_catalogue(old)
        assert ingest(old, rows, batch_size=2).accepted == len(rows)
        assert ingest(old, [refund]).accepted == 1
        before = sorted(tuple(r) for r in q(old, f"SELECT position, {PG_LINE_SELECT} FROM usage_rows"))
        assert q(old, "SELECT relkind::text FROM pg_class WHERE relname = 'usage_rows'") == [("r",)]
        old.close()

    applied = apply_migrations(unpartitioned_store)  # 0047 and the later ones (no-ops here or not)
    assert applied[0] == "0047" and applied == sorted(applied)
    app = RoyaltyLedger(unpartitioned_store, clock=clock)
    try:
        assert sorted(tuple(r) for r in q(app, f"SELECT position, {PG_LINE_SELECT} FROM usage_rows")) == before
        assert partitions(app) == [f"usage_rows_2026_{m:02d}" for m in (7, 8, 9, 10, 11)]
        report = verify_usage(app)
        assert report.ok, report.problems
        assert report.digests_recomputed == report.batches == 4
        assert UsageStore(app).watermark() == max(r[0] for r in before)
        # Idempotent across the move, whichever month each id is in.
        again = ingest(app, [*rows, refund])
        assert (again.accepted, again.duplicates) == (0, len(rows) + 1)
        # Numbering continues from the moved rows, in a new month.
        assert ingest(app, [play("f9", listener="fan", at="2026-11-09T10:00:00Z")]).accepted == 1
        assert q(app, "SELECT play_number FROM usage_rows WHERE usage_id = 'f9'") == [(5,)]
        groups = refund_groups(unpartitioned_store, Period.parse("2026-11"), app.head_position())
        assert sum(g.gross_micros for g in groups) == -3_000_000
        with psycopg.connect(pg_conninfo(unpartitioned_store)) as conn, pytest.raises(psycopg.Error):
            conn.execute("UPDATE usage_rows_2026_07 SET gross_micros = 0")
    finally:
        app.close()
