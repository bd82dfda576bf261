"""PostgreSQL's lean usage table (migration 0040): its 64-bit keys, what happens when two ids share
one, and a store written before the migration moved into it and still working."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, migrations_dir, pg_conninfo
from ledger.usage.keys import PROBE, KeyspaceFull, key_of, key_range, sale_of_refund
from ledger.usage.lines import line_rows
from ledger.usage.store import LINE_COLUMNS, PG_LINE_SELECT, UsageStore, UsageWrite
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


def test_the_keys_live_in_the_indexes_and_every_lookup_reads_them(app: RoyaltyLedger) -> None:
    rows = [play(f"p{i}", listener=f"l{i % 2}", at=f"2026-10-0{1 + i}T10:00:00Z") for i in range(4)]
    rows += [play("short", listener="l0", seconds=10), sale("s1", "9.00", upc=ALBUM)]
    assert ingest(app, rows).accepted == 6
    stored = q(
        app,
        "SELECT usage_id, line_no, probe, royalty_usage_key(source, usage_id) < %s, pair_last "
        "FROM usage_rows ORDER BY usage_id, line_no",
        (2**63 - PROBE,),
    )
    # No collision here (probe 0), the key range never overflows, and only the last counted play
    # of each listener on the recording is in the numbering index.
    assert stored == [
        ("p0", 0, 0, True, False),
        ("p1", 0, 0, True, False),
        ("p2", 0, 0, True, True),
        ("p3", 0, 0, True, True),
        ("s1", 0, 0, True, False),
        ("s1", 1, 0, True, False),
        ("s1", 2, 0, True, False),
        ("short", 0, 0, True, False),
    ]
    # The lookups name the indexed expressions exactly, so the planner can use the indexes (each
    # month's own, migration 0047: its key indexes, and its copy of the parent's numbering index).
    p1, s1 = key_range("'player'", "'p1'"), key_range("'store'", "'s1'")
    lookups = {
        "usage_rows_2026_10_key ": f"SELECT 1 FROM usage_rows WHERE {key_of()} BETWEEN {p1} AND line_no = 0",
        "usage_rows_2026_10_key_lines ": f"SELECT 1 FROM usage_rows WHERE {key_of()} BETWEEN {s1} AND line_no > 0",
        "usage_rows_2026_10_royalty_pair_key_play_number_idx ": "SELECT play_number FROM usage_rows "
        "WHERE royalty_pair_key(listener_hash, isrc) = royalty_pair_key(decode('00', 'hex'), 'X') AND pair_last "
        "ORDER BY play_number DESC LIMIT 1",
    }
    with psycopg.connect(pg_conninfo(app.config)) as conn:
        conn.execute("SET enable_seqscan = off")
        for index, lookup in lookups.items():
            plan = "\n".join(str(r[0]) for r in conn.execute(f"EXPLAIN {lookup}").fetchall())
            assert index in plan, plan
        refund = conn.execute(
            f"EXPLAIN SELECT s.isrc FROM usage_rows r {sale_of_refund('postgres')} WHERE r.kind = 'refund'"
        ).fetchall()
        assert "usage_rows_2026_10_key " in "\n".join(str(r[0]) + " " for r in refund)
    # The separator keeps (source, id) pairs apart that concatenate alike.
    ((a, b),) = q(app, "SELECT royalty_usage_key(%s, ''), royalty_usage_key('', %s)", ("ab", "ab"))
    assert a != b


def test_ids_whose_keys_collide_take_the_next_free_key_and_still_deduplicate(app: RoyaltyLedger) -> None:
    """Every id given the same 64-bit key (as if SHA-256 collided): the writer probes the next
    keys, lookups re-check the full id, and a ninth id is refused rather than mis-keyed."""
    with psycopg.connect(pg_conninfo(app.config)) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION royalty_usage_key(source text, usage_id text) RETURNS bigint "
            "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT 4242::bigint'"
        )
    first = ingest(app, [play(f"p{i}", listener=f"l{i}") for i in range(5)], batch_size=3)
    assert (first.accepted, first.duplicates) == (5, 0)
    keys = q(app, f"SELECT {key_of()}, usage_id FROM usage_rows ORDER BY 1")
    assert [k for k, _ in keys] == list(range(4_242, 4_247))
    assert sorted(u for _, u in keys) == [f"p{i}" for i in range(5)]

    # The same ids again: duplicates (found by their full id in the probe range), nothing written.
    again = ingest(app, [play(f"p{i}", listener=f"l{i}") for i in range(5)])
    assert (again.accepted, again.duplicates, sum(again.quarantined.values())) == (0, 5, 0)
    # A stored id with another payload is an error (quarantined), not a new row under a new key.
    changed = ingest(app, [play("p2", listener="someone-else")])
    assert (changed.accepted, changed.quarantined) == (0, {"different_payload": 1})
    # Three more fill the probe range; the one after has no key left: refused, nothing written.
    more = ingest(app, [play(f"q{i}") for i in range(3)])
    assert more.accepted == 3
    rows = q(app, "SELECT count(*) FROM usage_rows")[0][0]
    with pytest.raises(KeyspaceFull):
        ingest(app, [play("q9")])
    assert q(app, "SELECT count(*) FROM usage_rows")[0][0] == rows == 8
    report = verify_usage(app)
    assert report.ok, report.problems


# --- a store written before migration 0040 -------------------------------------------------

_OLD_COLS = "position, batch_id, " + ", ".join(LINE_COLUMNS) + ", pair_last"
_OLD_TYPES = ["int8", "text", "text", "text", "int4", "text", "int8", "text", "text", "text", "text", "int4"]
_OLD_TYPES += ["text", "int8", "text", "int4", "int4", "bool", "text", "text", "bool"]


def _old_write_postgres(self: UsageWrite, cursor: Any, positions: Sequence[int]) -> None:
    """The writer as it was before migration 0040 (text hashes, a batch id per row)."""
    position = positions[0]
    if self.lines.num_rows:
        with cursor.copy(f"COPY usage_rows ({_OLD_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_OLD_TYPES)
            for line, last in zip(line_rows(self.lines), self.lines.column("pair_last").to_pylist(), strict=True):
                copy.write_row((position, self.batch_hex, *line, last))
    if self.ownership:
        cursor.executemany(
            "INSERT INTO usage_ownership (listener_hash, isrc, source, usage_id, occurred_at_us, position, batch_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(*o, position, self.batch_hex) for o in self.ownership],
        )
    assert not self.quarantine and not self.resolved


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[StoreConfig]:
    """A new database migrated up to, not including, 0040."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    for path in (folder / "postgres").glob("004*.sql"):
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


def _lines(app: RoyaltyLedger, select: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in q(app, f"SELECT position, {select} FROM usage_rows"))


def test_a_store_written_before_the_lean_table_moves_into_it_and_keeps_working(old_store: StoreConfig) -> None:
    fan = [play(f"f{i}", listener="fan", at=f"2026-10-0{i + 1}T10:00:00Z") for i in range(5)]
    rows = [
        *fan,
        play("x1", listener="other", isrc=ISRCS[1]),
        sale("s1", "9.00", upc=ALBUM),  # three lines, one per track
        sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-10-20T10:00:00Z"),
    ]
    with pytest.MonkeyPatch.context() as patch:
        # Write as the code before 0040 did: its table, its watermark; every pair is new.
        patch.setattr(UsageWrite, "write_postgres", _old_write_postgres)
        patch.setattr(
            UsageStore,
            "watermark",
            lambda self: int(self.query("", "SELECT COALESCE(MAX(position), 0) FROM usage_rows")[0][0]),
        )
        patch.setattr(UsageStore, "prior_counted_plays", lambda self, pairs: {})
        patch.setattr(UsageStore, "sale_lines", lambda self, source, ids: {})  # the sale is in the batch
        old = RoyaltyLedger(old_store, clock=clock)
        build_catalogue(old)
        assert ingest(old, rows, batch_size=2).accepted == len(rows)
        # Rows from before migration 0009 had no pair_last: they stay in the numbering index.
        with psycopg.connect(pg_conninfo(old_store)) as conn:
            conn.execute("ALTER TABLE usage_rows DISABLE TRIGGER usage_rows_append_only")
            conn.execute("UPDATE usage_rows SET pair_last = NULL WHERE usage_id IN ('f0', 'f1', 'f2')")
            conn.execute("ALTER TABLE usage_rows ENABLE TRIGGER usage_rows_append_only")
        before = _lines(old, ", ".join(LINE_COLUMNS))
        assert [r[15] for r in before if r[2] == "f4"] == [5]
        old.close()

    applied = apply_migrations(old_store)  # 0040 and the later ones (no-ops here or not)
    assert applied[0] == "0040" and applied == sorted(applied)
    app = RoyaltyLedger(old_store, clock=clock)
    try:
        assert _lines(app, PG_LINE_SELECT) == before
        report = verify_usage(app)
        assert report.ok, report.problems
        assert report.digests_recomputed == report.batches == 4
        assert q(app, "SELECT count(*) FROM usage_rows WHERE probe <> 0") == [(0,)]
        assert UsageStore(app).watermark() == max(r[0] for r in before)
        # Idempotent across the move: every id is a duplicate.
        again = ingest(app, rows)
        assert (again.accepted, again.duplicates) == (0, len(rows))
        # Numbering continues from the moved rows (their highest number, pair_last or NULL).
        nxt = ingest(app, [play("f5", listener="fan", at="2026-10-09T10:00:00Z")])
        assert nxt.accepted == 1
        assert q(app, "SELECT play_number FROM usage_rows WHERE usage_id = 'f5'") == [(6,)]
        # The refund still finds its sale (the statements' refund join on the new key).
        groups = refund_groups(old_store, Period.parse("2026-10"), app.head_position())
        assert sum(g.gross_micros for g in groups) == -3_000_000
        assert {g.sale_kind for g in groups} == {"purchase"} and len(groups) == 3
        # Append-only still enforced by the database.
        with psycopg.connect(pg_conninfo(old_store)) as conn, pytest.raises(psycopg.Error):
            conn.execute("UPDATE usage_rows SET gross_micros = 0")
    finally:
        app.close()
