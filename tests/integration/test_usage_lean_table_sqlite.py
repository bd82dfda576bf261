"""SQLite's lean usage table (migrations 0045, 0050): its client-computed 64-bit keys, what happens
when two ids share one, its listener dictionary and codes, the plans its lookups use, and stores
written before either migration moved into it and still working."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.store.config import StoreConfig
from ledger.store.migrate import apply_migrations, migrations_dir
from ledger.usage import store as usage_store
from ledger.usage.ingest import UsageIngest
from ledger.usage.keys import PROBE, KeyspaceFull, sale_of_refund, usage_key, usage_keys
from ledger.usage.lines import line_rows
from ledger.usage.payload import with_payloads
from ledger.usage.positions import position_params, rows_between
from ledger.usage.rows import normalise_dicts
from ledger.usage.store import _SQLITE_ID_RANGE, LINE_COLUMNS, SQLITE_LINE_SELECT, UsageStore, UsageWrite
from ledger.usage.verify import verify_usage
from projections.statements.usage import refund_groups
from tests.accounting_fixtures import Play, insert_usage
from tests.usage_helpers import ALBUM, ISRCS, SECRET, build_catalogue, clock, ingest, play, sale


@pytest.fixture
def app(tmp_path: Path) -> Iterator[RoyaltyLedger]:
    config = StoreConfig.from_url(str(tmp_path / "lean.db"))
    apply_migrations(config)
    ledger = RoyaltyLedger(config, clock=clock)
    build_catalogue(ledger)
    yield ledger
    ledger.close()


def ingest_here(app: RoyaltyLedger, rows: list[dict[str, Any]], batch_size: int) -> Any:
    """`ingest`, every batch written in this process (no writer process: patches hold)."""
    batches = [normalise_dicts(rows[i : i + batch_size], "player") for i in range(0, len(rows), batch_size)]
    return UsageIngest(app, "test", secret=SECRET, writer_process=False).run(batches, "test")


def q(app: RoyaltyLedger, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return UsageStore(app).query(text, "", params)


def test_the_key_function_is_fixed_and_the_same_one_by_one_and_column_wise() -> None:
    # Pinned: a stored key is never recomputed differently (FNV-1a 64, fmix64, >> 1).
    assert usage_key("player", "p1") == 2805237134655890337
    assert usage_key("a", "") == 3114452980290371555
    ids = ["p1", "", "é€😀", "x" * 300, "g42-2026-10-276190"]
    sources = ["player", "a", "store", "player", "player"]
    assert usage_keys(sources, ids).tolist() == [usage_key(s, u) for s, u in zip(sources, ids, strict=True)]
    sliced = usage_keys(pa.array(sources).slice(2, 2), pa.chunked_array([pa.array(ids).slice(2, 2)]))
    assert sliced.tolist() == [usage_key(s, u) for s, u in zip(sources[2:4], ids[2:4], strict=True)]
    # The separator keeps (source, id) pairs apart that concatenate alike; + 7 never overflows.
    assert usage_key("ab", "") != usage_key("", "ab")
    keys = usage_keys(["s"] * 20_000, [str(i) for i in range(20_000)])
    assert len(set(keys.tolist())) == 20_000 and int(keys.max()) + PROBE - 1 < 2**63


def test_lines_are_stored_lean_and_every_lookup_reads_an_index(app: RoyaltyLedger) -> None:
    rows = [play(f"p{i}", listener=f"l{i % 2}", at=f"2026-10-0{1 + i}T10:00:00Z") for i in range(4)]
    rows += [play("short", listener="l0", seconds=10), sale("s1", "9.00", upc=ALBUM)]
    rows += [sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-10-20T10:00:00Z")]
    assert ingest(app, rows[:-1]).accepted == 6
    assert ingest(app, rows[-1:]).accepted == 1
    stored = q(
        app,
        "SELECT usage_id, line_no, usage_key, pair_last, listener_id, length(payload_sha256), refund_key, "
        "kind_code, pricing_code FROM usage_rows ORDER BY usage_id, line_no",
    )
    key = {u: usage_key(s, u) for s, u in [("player", "p0"), ("player", "p1"), ("player", "p2"), ("player", "p3")]}
    key |= {"short": usage_key("player", "short"), "s1": usage_key("player", "s1"), "r1": usage_key("player", "r1")}
    # Only the last counted play of each listener on the recording is in the numbering index.
    # Listeners by their id in usage_listeners (0050): l0 came first; the sale's listener third.
    # Kind and model as codes (stream 0, purchase 2, refund 4; stream2own 0, sale 2, refund 4).
    # A stream's payload hash is recomputable from its line: NULL; a release's lines keep theirs.
    listener = {"p0": 1, "p1": 2, "p2": 1, "p3": 2, "short": 1}
    expected = [(u, 0, key[u], int(u in ("p2", "p3")), listener[u], None, None, 0, 0) for u in ("p0", "p1", "p2", "p3")]
    expected += [("r1", n, key["r1"], 0, 3, 32, key["s1"], 4, 4) for n in range(3)]
    expected += [("s1", n, key["s1"], 0, 3, 32, None, 2, 2) for n in range(3)]
    expected += [("short", 0, key["short"], 0, 1, None, None, 0, 0)]
    assert sorted(stored) == sorted(expected)
    assert q(app, "SELECT listener_id, length(listener_hash) FROM usage_listeners ORDER BY 1") == [
        (1, 32),
        (2, 32),
        (3, 32),
    ]
    lookups = {
        "usage_rows_key": f"SELECT 1 FROM usage_rows WHERE usage_key BETWEEN 5 AND 5 + {PROBE - 1} AND line_no = 0",
        "usage_rows_pair_last_idx": "SELECT play_number FROM usage_rows u WHERE u.listener_id = (SELECT listener_id "
        "FROM usage_listeners WHERE listener_hash = ?1) AND u.isrc = 'X' AND u.pair_last = 1 "
        "ORDER BY u.play_number DESC LIMIT 1",
        "usage_rows_refund_of_idx": "SELECT 1 FROM usage_rows WHERE kind = 'refund' AND source = 'a' "
        "AND refund_of = 'b'",
    }
    conn = sqlite3.connect(str(app.config.sqlite_path))
    try:
        for index, lookup in lookups.items():
            params = (b"\0" * 32,) if "?1" in lookup else ()
            plan = " ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {lookup}", params))
            assert index in plan, plan
        # The ingest's id lookups (existing payloads, sale lines): a key-range probe per id.
        ids = f"SELECT u.usage_id FROM json_each(?) AS p CROSS JOIN usage_rows AS u ON {_SQLITE_ID_RANGE}"
        plan = " ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {ids}", ('[[1, "a"]]', "player")))
        assert "SEARCH u USING INDEX usage_rows_key (usage_key>? AND usage_key<?)" in plan, plan
        refund = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT s.isrc FROM usage_rows r {sale_of_refund('sqlite')} WHERE r.kind = 'refund'"
        ).fetchall()
        assert "usage_rows_key" in " ".join(str(r[3]) for r in refund)
    finally:
        conn.close()
    groups = refund_groups(app.config, Period.parse("2026-10"), app.head_position())
    assert {g.sale_kind for g in groups} == {"purchase"} and sum(g.gross_micros for g in groups) == -3_000_000
    # A kept hash (a release's line: its gross is a share of the amount sent) dropped: the rule's
    # recomputed one is not what the line was sent with, and audit verify says so.
    assert verify_usage(app).ok
    with app.recorder.datastore.transaction(commit=True) as c:
        c.execute("DROP TRIGGER usage_rows_no_update")
        c.execute("UPDATE usage_rows SET payload_sha256 = NULL WHERE usage_id = 's1' AND line_no = 1")
    report = verify_usage(app)
    assert [text for _, text in report.problems if "canonical SHA-256" in text], report.problems


def test_ids_whose_keys_collide_take_the_next_free_key_and_still_deduplicate(
    app: RoyaltyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every id given the same 64-bit key: the writer probes the next keys, lookups re-check
    the full id, a refund finds its own sale among them, and a ninth id is refused rather than
    mis-keyed. (One batch per call: the writer runs in this process, where the key is patched.)"""
    monkeypatch.setattr(usage_store, "usage_keys", lambda sources, ids: np.full(len(ids), 4242, dtype=np.int64))
    assert ingest(app, [play(f"p{i}", listener=f"l{i}") for i in range(3)]).accepted == 3
    assert ingest(app, [sale("s1", "9.00", upc=ALBUM), play("p3", listener="l3")]).accepted == 2
    keys = q(app, "SELECT usage_key, usage_id, line_no FROM usage_rows ORDER BY 1, 3")
    first = {u: k for k, u, n in keys if n == 0}
    assert sorted(first) == ["p0", "p1", "p2", "p3", "s1"] and sorted(first.values()) == list(range(4242, 4247))
    assert [k for k, u, n in keys if u == "s1"] == [first["s1"]] * 3  # every line of an id under its key

    # The same ids again: duplicates (found by their full id in the probe range), nothing written.
    again = ingest(app, [play(f"p{i}", listener=f"l{i}") for i in range(4)])
    assert (again.accepted, again.duplicates, sum(again.quarantined.values())) == (0, 4, 0)
    changed = ingest(app, [play("p2", listener="someone-else")])
    assert (changed.accepted, changed.quarantined) == (0, {"different_payload": 1})
    # A refund of s1 finds s1's lines (refund_key 4242, the sale further on), its amount checked.
    refund = ingest(app, [sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-10-20T10:00:00Z")])
    assert refund.accepted == 1
    groups = refund_groups(app.config, Period.parse("2026-10"), app.head_position())
    assert {g.sale_kind for g in groups} == {"purchase"} and sum(g.gross_micros for g in groups) == -3_000_000
    # Two more fill the probe range; the one after has no key left: refused, nothing written.
    assert ingest(app, [play("q0"), play("q1")]).accepted == 2
    rows = q(app, "SELECT count(*) FROM usage_rows")[0][0]
    with pytest.raises(KeyspaceFull):
        ingest(app, [play("q9")])
    assert q(app, "SELECT count(*) FROM usage_rows")[0][0] == rows == 3 + 3 + 1 + 3 + 2
    report = verify_usage(app)
    assert report.ok, report.problems


# --- a store written before migration 0045 ---------------------------------------------------

_OLD_COLS = "position, batch_id, " + ", ".join(LINE_COLUMNS) + ", pair_last"


def _old_write_sqlite(self: UsageWrite, cursor: Any, positions: Sequence[int]) -> None:
    """The writer as it was before migration 0045 (text hashes and ids, a batch id per row)."""
    position = positions[0]
    cursor.executemany(
        f"INSERT INTO usage_rows ({_OLD_COLS}) VALUES ({', '.join('?' * 21)})",
        [
            (position, self.batch_hex, *line, last)
            for line, last in zip(line_rows(self.lines), self.lines.column("pair_last").to_pylist(), strict=True)
        ],
    )
    cursor.executemany(
        "INSERT INTO usage_ownership (listener_hash, isrc, source, usage_id, occurred_at_us, position, batch_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*o, position, self.batch_hex) for o in self.ownership],
    )
    assert not self.quarantine and not self.resolved


def _old_existing_payloads(self: UsageStore, source: str, usage_ids: Sequence[str]) -> dict[str, str]:
    rows = self.query(
        "SELECT usage_id, payload_sha256 FROM usage_rows WHERE source = ? AND line_no = 0 "
        "AND usage_id IN (SELECT value FROM json_each(?))",
        "",
        (source, __import__("json").dumps(list(usage_ids))),
    )
    return {r[0]: r[1] for r in rows}


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[StoreConfig]:
    """A store migrated up to, not including, 0045."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    for path in [*(folder / "sqlite").glob("004[5-9]*.sql"), *(folder / "sqlite").glob("005*.sql")]:
        path.unlink()
    config = StoreConfig.from_url(str(tmp_path / "old.db"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROYALTY_MIGRATIONS_DIR", str(folder))
        apply_migrations(config)
    yield config


def _lines(app: RoyaltyLedger, select: str) -> list[tuple[Any, ...]]:
    """(position, *line) per stored line; a NULL payload hash (migration 0050) recomputed."""
    return sorted((r[0], *with_payloads([r[1:]])[0]) for r in q(app, f"SELECT position, {select} FROM usage_rows"))


def test_a_store_written_before_the_lean_table_moves_into_it_and_keeps_working(old_store: StoreConfig) -> None:
    fan = [play(f"f{i}", listener="fan", at=f"2026-10-0{i + 1}T10:00:00Z") for i in range(5)]
    rows = [
        *fan,
        play("x1", listener="other", isrc=ISRCS[1]),
        sale("s1", "9.00", upc=ALBUM),  # three lines, one per track
        sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-10-20T10:00:00Z"),
    ]
    with pytest.MonkeyPatch.context() as patch:
        # Write as the code before 0045 did, in this process (one batch per call); every pair
        # is new to the store's lookups (the run's memory numbers the fan's plays).
        patch.setattr(UsageWrite, "write_sqlite", _old_write_sqlite)
        patch.setattr(UsageStore, "existing_payloads", _old_existing_payloads)
        patch.setattr(
            UsageStore,
            "watermark",
            lambda self: int(self.query("SELECT COALESCE(MAX(position), 0) FROM usage_rows", "")[0][0]),
        )
        patch.setattr(UsageStore, "prior_counted_plays", lambda self, pairs: {})
        patch.setattr(UsageStore, "sale_lines", lambda self, source, ids: {})  # the sale is in the batch
        old = RoyaltyLedger(old_store, clock=clock)
        build_catalogue(old)
        assert ingest_here(old, rows, batch_size=2).accepted == len(rows)
        # Rows from before migration 0009 had no pair_last: they stay in the numbering index.
        conn = sqlite3.connect(str(old_store.sqlite_path))
        with conn:
            conn.execute("DROP TRIGGER usage_rows_no_update")
            conn.execute("UPDATE usage_rows SET pair_last = NULL WHERE usage_id IN ('f0', 'f1', 'f2')")
        conn.close()
        before = _lines(old, ", ".join(LINE_COLUMNS))
        assert [r[15] for r in before if r[2] == "f4"] == [5]
        old.close()

    applied = apply_migrations(old_store)  # 0045 and the later ones
    assert applied[0] == "0045" and applied == sorted(applied)
    app = RoyaltyLedger(old_store, clock=clock)
    try:
        assert _lines(app, SQLITE_LINE_SELECT) == before
        report = verify_usage(app)
        assert report.ok, report.problems
        assert report.digests_recomputed == report.batches == 4
        keyed = q(app, "SELECT source, usage_id, usage_key, refund_of, refund_key FROM usage_rows")
        assert all(k == usage_key(s, u) for s, u, k, _, _ in keyed)
        assert all(rk == (None if r is None else usage_key(s, r)) for s, _, _, r, rk in keyed)
        # Each batch's last play of a pair, and the three rows from "before 0009".
        last = q(app, "SELECT usage_id FROM usage_rows WHERE pair_last = 1 ORDER BY 1")
        runs = q(app, "SELECT position, first_row, last_row FROM usage_positions ORDER BY 1")
        assert runs == q(app, "SELECT position, MIN(rowid), MAX(rowid) FROM usage_rows GROUP BY 1 ORDER BY 1")
        assert [r[0] for r in runs] == sorted({r[0] for r in before})
        assert last == [("f0",), ("f1",), ("f2",), ("f3",), ("f4",), ("x1",)]
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
        conn = sqlite3.connect(str(old_store.sqlite_path))
        try:
            for statement in ("UPDATE usage_rows SET gross_micros = 0", "DELETE FROM usage_rows"):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(statement)
        finally:
            conn.close()
    finally:
        app.close()


# --- a store written before migration 0050 (the 0045/0046 table, as the code before it wrote) ----

_LEAN_COLS = (
    "position, usage_key, line_no, kind, occurred_at_us, isrc, territory, currency, gross_micros, pricing_model, "
    "pricing_version, counted, pair_last, play_number, seconds_played, upc, source, usage_id, refund_of, "
    "refund_key, listener_hash, payload_sha256"
)


def _lean_write_sqlite(self: UsageWrite, cursor: Any, positions: Sequence[int]) -> None:
    """The writer as it was before migration 0050: keys and BLOB hashes per row, kind and
    pricing model as text, each batch one rowid run in usage_positions."""
    position = positions[0]
    rows = []
    for line, last in zip(line_rows(self.lines), self.lines.column("pair_last").to_pylist(), strict=True):
        s, u, n, k, at, i, e, lh, t, sec, c, g, m, v, pn, o, h, r = line
        refund_key = None if r is None else usage_key(s, r)
        key, blobs = usage_key(s, u), (bytes.fromhex(lh), bytes.fromhex(h))
        rows.append(
            (position, key, n, k, at, i, t, c, g, m, v, int(o), int(last), pn, sec, e, s, u, r, refund_key, *blobs)
        )
    cursor.execute("SELECT COALESCE(MAX(rowid), 0) FROM usage_rows")
    before = int(cursor.fetchone()[0])
    cursor.executemany(f"INSERT INTO usage_rows ({_LEAN_COLS}) VALUES ({', '.join('?' * 22)})", rows)
    cursor.execute(
        "INSERT INTO usage_positions (position, first_row, last_row) VALUES (?, ?, ?)",
        (position, before + 1, before + len(rows)),
    )
    cursor.executemany(
        "INSERT INTO usage_ownership (listener_hash, isrc, source, usage_id, occurred_at_us, position, batch_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(*o, position, self.batch_hex) for o in self.ownership],
    )
    assert not self.quarantine and not self.resolved


def _lean_existing_payloads(self: UsageStore, source: str, usage_ids: Sequence[str]) -> dict[str, str]:
    rows = self.query(
        "SELECT usage_id, lower(hex(payload_sha256)) FROM usage_rows WHERE source = ? AND line_no = 0 "
        "AND usage_id IN (SELECT value FROM json_each(?))",
        "",
        (source, __import__("json").dumps(list(usage_ids))),
    )
    return {r[0]: r[1] for r in rows}


@pytest.fixture
def lean_store(tmp_path: Path) -> Iterator[StoreConfig]:
    """A store migrated up to, not including, 0050."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    for path in (folder / "sqlite").glob("005*.sql"):
        path.unlink()
    config = StoreConfig.from_url(str(tmp_path / "lean-0046.db"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROYALTY_MIGRATIONS_DIR", str(folder))
        apply_migrations(config)
    yield config


def test_a_store_written_before_the_listener_dictionary_moves_into_it_and_keeps_working(
    lean_store: StoreConfig,
) -> None:
    fan = [play(f"f{i}", listener="fan", at=f"2026-10-0{i + 1}T10:00:00Z") for i in range(5)]
    rows = [
        *fan,
        play("x1", listener="other", isrc=ISRCS[1]),
        sale("s1", "9.00", upc=ALBUM),  # three lines, one per track
        sale("r1", "3.00", kind="refund", refund_of="s1", upc=ALBUM, at="2026-10-20T10:00:00Z"),
        play("t1", listener="fan", seconds=10),  # not counted
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UsageWrite, "write_sqlite", _lean_write_sqlite)
        patch.setattr(UsageStore, "existing_payloads", _lean_existing_payloads)
        patch.setattr(UsageStore, "prior_counted_plays", lambda self, pairs: {})  # the run's memory numbers
        patch.setattr(UsageStore, "sale_lines", lambda self, source, ids: {})  # the sale is in the batch
        old = RoyaltyLedger(lean_store, clock=clock)
        build_catalogue(old)
        assert ingest_here(old, rows, batch_size=2).accepted == len(rows)
        old_select = ", ".join(
            f"lower(hex({c}))" if c in ("listener_hash", "payload_sha256") else c for c in LINE_COLUMNS
        )
        before = _lines(old, old_select)
        rowids = q(old, "SELECT rowid, usage_id, line_no FROM usage_rows ORDER BY rowid")
        hashes = {r[8] for r in before}
        old.close()

    assert apply_migrations(lean_store) == ["0050"]
    app = RoyaltyLedger(lean_store, clock=clock)
    try:
        # Every line reads back as it was written, at the same rowid (usage_positions' runs).
        assert _lines(app, SQLITE_LINE_SELECT) == before
        assert q(app, "SELECT rowid, usage_id, line_no FROM usage_rows ORDER BY rowid") == rowids
        # Each listener's HMAC once; the streams' payload hashes left to be recomputed, the
        # release's lines (their gross is a share of the amount sent) keep theirs.
        assert {h.hex() for (h,) in q(app, "SELECT listener_hash FROM usage_listeners")} == hashes
        kept = q(app, "SELECT DISTINCT kind FROM usage_rows WHERE payload_sha256 IS NOT NULL ORDER BY 1")
        assert kept == [("purchase",), ("refund",)]
        assert q(app, "SELECT count(*) FROM usage_rows WHERE payload_sha256 IS NULL")[0][0] == 7
        report = verify_usage(app)
        assert report.ok, report.problems
        assert report.digests_recomputed == report.batches == 5
        # Idempotent across the move: every id is a duplicate; a changed payload is still seen.
        again = ingest(app, rows)
        assert (again.accepted, again.duplicates) == (0, len(rows))
        changed = ingest(app, [play("f1", listener="fan", at="2026-10-02T10:00:00Z", seconds=61)])
        assert changed.quarantined == {"different_payload": 1}
        # Numbering continues from the moved rows, by the listener's id.
        nxt = ingest(app, [play("f5", listener="fan", at="2026-10-09T10:00:00Z")])
        assert nxt.accepted == 1
        assert q(app, "SELECT play_number FROM usage_rows WHERE usage_id = 'f5'") == [(6,)]
        assert q(app, "SELECT count(*) FROM usage_listeners")[0][0] == len(hashes)  # no new listener
        # The refund still finds its sale.
        groups = refund_groups(lean_store, Period.parse("2026-10"), app.head_position())
        assert sum(g.gross_micros for g in groups) == -3_000_000
        assert {g.sale_kind for g in groups} == {"purchase"} and len(groups) == 3
        assert verify_usage(app).ok
        # Append-only enforced by the database, on the new table too.
        conn = sqlite3.connect(str(lean_store.sqlite_path))
        try:
            for statement in (
                "UPDATE usage_rows SET gross_micros = 0",
                "DELETE FROM usage_rows",
                "UPDATE usage_listeners SET listener_hash = zeroblob(32)",
                "DELETE FROM usage_listeners",
                "INSERT OR REPLACE INTO usage_listeners (listener_id, listener_hash) VALUES (1, zeroblob(32))",
                "REPLACE INTO usage_listeners (listener_hash) SELECT listener_hash FROM usage_listeners LIMIT 1",
            ):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(statement)
        finally:
            conn.close()
    finally:
        app.close()


def test_a_position_range_is_read_by_its_batches_rowid_runs(app: RoyaltyLedger) -> None:
    """No per-row position index (migration 0046): each batch's rows are one rowid run in
    usage_positions, and a position range reads the runs' span of the table, re-checking the
    position on each row."""
    summary = ingest(app, [play(f"p{i}", listener=f"l{i}") for i in range(7)], batch_size=3)
    runs = q(app, "SELECT position, first_row, last_row FROM usage_positions ORDER BY position")
    assert [p for p, _, _ in runs] == summary.positions
    assert [(first, last) for _, first, last in runs] == [(1, 3), (4, 6), (7, 7)]
    stored = q(app, "SELECT position, MIN(rowid), MAX(rowid) FROM usage_rows GROUP BY position ORDER BY 1")
    assert stored == runs
    assert UsageStore(app).watermark() == summary.positions[-1]
    lo, hi = summary.positions[1], summary.positions[2]
    between = f"SELECT usage_id FROM usage_rows WHERE {rows_between('sqlite')} ORDER BY 1"
    assert q(app, between, position_params("sqlite", lo, hi)) == [("p3",), ("p4",), ("p5",), ("p6",)]
    assert q(app, between, position_params("sqlite", hi + 1, hi + 9)) == []
    conn = sqlite3.connect(str(app.config.sqlite_path))
    try:
        assert not conn.execute("SELECT name FROM sqlite_schema WHERE name = 'usage_rows_position_idx'").fetchall()
        plan = " ".join(
            str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {between}", position_params("sqlite", 1, 2))
        )
        assert "SEARCH usage_rows USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
        for statement in ("UPDATE usage_positions SET last_row = 1", "DELETE FROM usage_positions"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(
                "INSERT OR REPLACE INTO usage_positions (rowid, position, first_row, last_row) VALUES (1, 1, 1, 1)"
            )
    finally:
        conn.close()
    # Lines written apart from their batch's run (a fixture's rows at an earlier position) are
    # still read with it: the runs recorded for a position are all spanned.
    insert_usage(app.config, summary.positions[0], [Play("late", ISRCS[0], datetime(2026, 10, 3, tzinfo=UTC), 5)])
    first = position_params("sqlite", summary.positions[0], summary.positions[0])
    assert q(app, between, first) == [("late",), ("p0",), ("p1",), ("p2",)]
