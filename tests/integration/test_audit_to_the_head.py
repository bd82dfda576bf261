"""Tamper evidence to the head (issue 15, finding 4), on SQLite and PostgreSQL: every position up
to the head is checked, a recomputed chain is caught by the signed anchors, REPLACE is refused,
a malformed row is named instead of crashing verification."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from api.auth import create_key
from ledger.application import RoyaltyLedger
from ledger.audit import DIGEST_HEX_CHARS, chain_step, record_checkpoint, verify_chain
from ledger.audit_anchor import (
    AnchorError,
    AnchorLog,
    anchor,
    generate_signing_key,
    load_anchor_log,
    load_public_key,
)
from ledger.store.config import StoreConfig
from ledger.store.event_digest import event_digest_of
from ledger.store.migrate import pg_conninfo

ISRC = "USRC17607839"


def _seed(app: RoyaltyLedger) -> None:
    app.upsert_party("aria", "Aria Lune", ["artist"], "test")
    app.upsert_party("lbl", "Night Owl", ["label"], "test")
    app.upsert_recording(ISRC, "Moth", "Aria Lune", 180_000, "test")
    app.set_split(
        "master", ISRC, {"aria": 500_000, "lbl": 500_000}, datetime(2026, 1, 1, tzinfo=UTC), "test", "initial"
    )


@pytest.fixture
def anchors_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROYALTY_AUDIT_SIGNING_KEY", str(tmp_path / "keys" / "audit.key"))
    monkeypatch.setenv("ROYALTY_AUDIT_ANCHORS", str(tmp_path / "anchors" / "audit-anchors.jsonl"))
    monkeypatch.delenv("ROYALTY_AUDIT_PUBLIC_KEY", raising=False)
    generate_signing_key()
    return tmp_path / "anchors" / "audit-anchors.jsonl"


# --- going around the application, as an intruder with the database's owner rights could ------


def raw(config: StoreConfig, statements: list[tuple[str, tuple[object, ...]]]) -> None:
    """Run statements with the append-only triggers out of the way (SQLite: dropped; PostgreSQL:
    session_replication_role = replica, which a superuser may set)."""
    if config.backend == "sqlite":
        conn = sqlite3.connect(str(config.sqlite_path))
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
            for name in names:
                conn.execute(f"DROP TRIGGER {name}")
            for sql, params in statements:
                conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg:
            pg.execute("SET LOCAL session_replication_role = replica")
            for sql, params in statements:
                pg.execute(sql.replace("?", "%s"), params)


def _row(config: StoreConfig, position: int) -> tuple[str, int, str, bytes]:
    column = "rowid" if config.backend == "sqlite" else "notification_id"
    query = f"SELECT originator_id, originator_version, topic, state FROM stored_events WHERE {column} = ?"
    if config.backend == "sqlite":
        conn = sqlite3.connect(str(config.sqlite_path))
        try:
            oid, version, topic, state = conn.execute(query, (position,)).fetchone()
        finally:
            conn.close()
        return str(UUID(oid)), version, topic, bytes(state)
    with psycopg.connect(pg_conninfo(config)) as pg:
        oid, version, topic, state = pg.execute(query.replace("?", "%s"), (position,)).fetchone()  # type: ignore[misc]
    return str(oid), version, topic, bytes(state)


def _set_state(config: StoreConfig, position: int, state: bytes, *, recompute_digest: bool) -> bytes:
    """Rewrite one event's state; with `recompute_digest`, its written digest too. Returns the
    event's new digest."""
    column = "rowid" if config.backend == "sqlite" else "notification_id"
    oid, version, topic, _ = _row(config, position)
    digest = event_digest_of(position, oid, version, topic, state)
    statements: list[tuple[str, tuple[object, ...]]] = [
        (f"UPDATE stored_events SET state = ? WHERE {column} = ?", (state, position))
    ]
    if recompute_digest:
        statements.append(("UPDATE audit_event_digests SET digest = ? WHERE position = ?", (digest, position)))
    raw(config, statements)
    return digest


def replace_in_state(config: StoreConfig, position: int, old: bytes, new: bytes, **kwargs: bool) -> bytes:
    state = _row(config, position)[3]
    assert old in state
    return _set_state(config, position, state.replace(old, new), **kwargs)


@pytest.fixture
def app(store_config: StoreConfig) -> Iterator[RoyaltyLedger]:
    ledger = RoyaltyLedger(store_config)
    yield ledger
    ledger.close()


# --- (a) the tail after the last checkpoint -----------------------------------------------------


def test_an_edit_after_the_last_checkpoint_is_named(store_config: StoreConfig, app: RoyaltyLedger) -> None:
    """The finding: a key's role edited to admin in its stored event after the last checkpoint
    passed `audit verify`. Every position is now compared with the digest written with it."""
    _seed(app)
    record_checkpoint(app, "test")
    create_key(app, "auditor", "test", label="books")
    key_position = app.head_position()
    clean = verify_chain(app)
    assert clean.ok and clean.covered_upto < key_position and clean.written_digests_checked == key_position
    replace_in_state(store_config, key_position, b'"role":"auditor"', b'"role":"admin"', recompute_digest=False)
    report = verify_chain(app)
    assert not report.ok
    assert report.first_mismatch is not None and report.first_mismatch.position == key_position
    assert "digest recorded when it was written" in report.first_mismatch.problem


def test_an_event_inserted_around_the_application_or_removed_is_named(
    store_config: StoreConfig, app: RoyaltyLedger
) -> None:
    _seed(app)
    column = "rowid" if store_config.backend == "sqlite" else "notification_id"
    raw(store_config, [(f"DELETE FROM stored_events WHERE {column} = 4", ())])
    report = verify_chain(app)
    assert [(m.position, m.problem) for m in report.problems] == [
        (4, "event is missing from the log (its written digest remains)")
    ]


# --- (b) the chain recomputed to match: caught by the anchors ----------------------------------


def rewrite_history(
    config: StoreConfig, app: RoyaltyLedger, position: int, before: bytes = b"Moth", after: bytes = b"Math"
) -> None:
    """Edit an event and recompute everything the database holds to match: its written digest,
    and the (one) checkpoint event covering it (digest list, chain hash) and that event's digest."""
    old = event_digest_of(position, *_row(config, position))
    new = replace_in_state(config, position, before, after, recompute_digest=True)
    (cp_position,) = [n.id for n in app.read_log() if n.topic.endswith("AuditCheckpoint.Recorded")]
    state = _row(config, cp_position)[3]
    doc = json.loads(state)
    chain = bytes(32)
    for p in range(1, doc["upto_position"] + 1):
        chain = chain_step(chain, new if p == position else event_digest_of(p, *_row(config, p)))
    doc["chain_hash"] = chain.hex()
    doc["event_digests"] = [[p, new.hex()[:DIGEST_HEX_CHARS] if p == position else d] for p, d in doc["event_digests"]]
    assert old.hex()[:DIGEST_HEX_CHARS] != new.hex()[:DIGEST_HEX_CHARS]
    _set_state(config, cp_position, json.dumps(doc, separators=(",", ":")).encode(), recompute_digest=True)


def test_a_rewrite_with_digests_and_checkpoint_recomputed_is_caught_by_the_anchor(
    store_config: StoreConfig, app: RoyaltyLedger, anchors_env: Path
) -> None:
    _seed(app)
    done = anchor(app, "test")
    assert done.entry["upto"] == 6 and done.checkpoint is not None and anchors_env.exists()
    app.upsert_party("new", "New Party", ["artist"], "test")
    assert verify_chain(app, load_anchor_log()).ok
    rewrite_history(store_config, app, 3)
    # What the database alone holds was recomputed to match: without the anchor it passes ...
    assert verify_chain(app).ok
    # ... the signed line outside the database names the position.
    report = verify_chain(app, load_anchor_log())
    assert not report.ok
    assert report.first_mismatch is not None and report.first_mismatch.position == 3
    assert report.first_mismatch.problem == "event bytes differ from the anchored digest"
    with pytest.raises(AnchorError, match="does not verify at position 3"):
        anchor(app, "test")  # nothing is anchored over a broken log


def test_anchor_lines_are_signed_chained_and_required_by_their_checkpoints(
    app: RoyaltyLedger, anchors_env: Path
) -> None:
    _seed(app)
    anchor(app, "test")
    app.upsert_party("new", "New Party", ["artist"], "test")
    second = anchor(app, "test")
    assert second.entry["from"] == 7 and second.entry["upto"] == 8
    log = load_anchor_log()
    assert not log.problems and log.upto == 8
    assert verify_chain(app, log).as_dict()["not_anchored"] == 1  # the second checkpoint event
    lines = anchors_env.read_bytes().splitlines()
    # A line altered (its chain hash) no longer verifies with the public key.
    forged = json.loads(lines[1])
    forged["chain_hash"] = "0" * 64
    anchors_env.write_bytes(lines[0] + b"\n" + json.dumps(forged).encode() + b"\n")
    report = verify_chain(app, load_anchor_log())
    assert [m.position for m in report.problems] == [8, 8]
    assert "signature does not verify" in report.problems[0].problem + report.problems[1].problem
    assert "has no line for it" in report.problems[0].problem + report.problems[1].problem
    # A line removed from the middle breaks the chain of lines; the file removed is seen too.
    anchors_env.write_bytes(lines[1] + b"\n")
    assert any("a line was removed" in m.problem for m in verify_chain(app, load_anchor_log()).problems)
    anchors_env.unlink()
    missing = verify_chain(app, load_anchor_log())
    assert sorted(m.position for m in missing.problems) == [6, 8]


def test_anchors_cannot_be_checked_without_the_public_key(
    app: RoyaltyLedger, anchors_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _seed(app)
    anchor(app, "test")
    monkeypatch.setenv("ROYALTY_AUDIT_SIGNING_KEY", str(tmp_path / "elsewhere.key"))
    log = load_anchor_log()
    assert log.problems and "no public key" in log.problems[0][1]
    assert not verify_chain(app, log).ok
    with pytest.raises(AnchorError, match="no audit signing key"):
        anchor(app, "test")
    # Another key's public half does not verify the lines the first one signed.
    other, public, _ = generate_signing_key(tmp_path / "other.key")
    monkeypatch.setenv("ROYALTY_AUDIT_PUBLIC_KEY", str(public))
    assert "signature does not verify" in AnchorLog.load(anchors_env, load_public_key(public)).problems[0][1]
    assert other.stat().st_mode & 0o777 == 0o600


# --- (d) REPLACE -------------------------------------------------------------------------------


SQLITE_REPLACES = [
    "INSERT OR REPLACE INTO stored_events (originator_id, originator_version, topic, state) "
    "SELECT originator_id, originator_version, topic, X'00' FROM stored_events WHERE rowid = 3",
    "REPLACE INTO stored_events (rowid, originator_id, originator_version, topic, state) "
    "SELECT 3, originator_id, originator_version + 100, topic, state FROM stored_events WHERE rowid = 4",
    "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
    "SELECT originator_id, originator_version, topic, X'00' FROM stored_events WHERE rowid = 3 "
    "ON CONFLICT DO UPDATE SET state = excluded.state",
    "REPLACE INTO usage_quarantine (quarantine_id, position, batch_id, source, usage_id, raw_sha256, reason, "
    "detail, raw_row) VALUES ('q1', 3, 'b', 's', 'u', 'h', 'r', 'd', '{}')",
    "REPLACE INTO audit_event_digests (position, digest) VALUES (3, X'00')",
]


@pytest.mark.parametrize("statement", SQLITE_REPLACES)
def test_sqlite_refuses_replace_on_the_append_only_tables(sqlite_config: StoreConfig, statement: str) -> None:
    app = RoyaltyLedger(sqlite_config)
    try:
        _seed(app)
        conn = sqlite3.connect(str(sqlite_config.sqlite_path))
        try:
            conn.execute(
                "INSERT INTO usage_quarantine (quarantine_id, position, batch_id, source, usage_id, raw_sha256, "
                "reason, detail, raw_row) VALUES ('q1', 3, 'b', 's', 'u', 'h', 'r', 'd', '{}')"
            )
            conn.commit()
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
        finally:
            conn.close()
        assert verify_chain(app).ok
    finally:
        app.close()


def test_sqlite_a_replace_of_a_usage_line_is_named_by_its_batch(sqlite_config: StoreConfig) -> None:
    """usage_rows is the one table whose REPLACE is detected rather than refused (migration 0013:
    the trigger cost a third of SQLite ingest): the batch's stored rows changed, and verify
    names the batch's position — and the new row, appended apart from its batch's rowid run
    (migration 0046), as a line outside every batch's rows."""
    from ledger.domain.usage_batch import UsageBatch
    from ledger.usage.ingest import ingest_rows
    from ledger.usage.verify import verify_usage
    from tests.usage_helpers import SECRET, build_catalogue, clock, play

    app = RoyaltyLedger(sqlite_config, clock=clock)
    try:
        build_catalogue(app, with_single=False)
        ingest_rows(app, [play("p1"), play("p2")], actor="test", secret=SECRET)
        (batch,) = [int(n.id) for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded))]
        conn = sqlite3.connect(str(sqlite_config.sqlite_path))
        try:
            with pytest.raises(sqlite3.IntegrityError, match="usage_rows is append-only"):
                conn.execute("UPDATE usage_rows SET gross_micros = gross_micros + 1")
            columns = [r[1] for r in conn.execute("PRAGMA table_info(usage_rows)")]
            chosen = ", ".join("gross_micros + 1" if c == "gross_micros" else c for c in columns)
            conn.execute(f"INSERT OR REPLACE INTO usage_rows SELECT {chosen} FROM usage_rows WHERE usage_id = 'p1'")
            conn.commit()
            assert conn.execute("SELECT COUNT(*) FROM usage_rows").fetchone() == (2,)
        finally:
            conn.close()
        report = verify_usage(app)
        named = [text for p, text in report.problems if p == batch]
        assert len(named) >= 2 and any("usage lines sum to" in text for text in named)
        assert [text for p, text in report.problems if p != batch] == [
            "1 usage lines stored outside every batch's rows (at a position no batch event holds, "
            "or apart from its batch's run)"
        ]
    finally:
        app.close()


def test_postgres_refuses_an_upsert_on_the_append_only_tables(pg_config: StoreConfig) -> None:
    app = RoyaltyLedger(pg_config)
    try:
        _seed(app)
        with psycopg.connect(pg_conninfo(pg_config)) as pg, pytest.raises(psycopg.errors.RestrictViolation):
            pg.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, '\\x00' FROM stored_events WHERE notification_id = 3 "
                "ON CONFLICT (originator_id, originator_version) DO UPDATE SET state = EXCLUDED.state"
            )
        with psycopg.connect(pg_conninfo(pg_config)) as pg, pytest.raises(psycopg.errors.RestrictViolation):
            pg.execute(
                "INSERT INTO audit_event_digests VALUES (3, '\\x00') ON CONFLICT (position) DO UPDATE SET digest = "
                "EXCLUDED.digest"
            )
        assert verify_chain(app).ok
    finally:
        app.close()


def test_a_replace_that_got_past_the_triggers_is_named(store_config: StoreConfig, app: RoyaltyLedger) -> None:
    """With the triggers dropped (an intruder with the file or superuser rights), REPLACE's
    delete-and-insert moves the event: its old position is missing, the new one has no written digest."""
    _seed(app)
    if store_config.backend == "sqlite":
        statement = (
            "INSERT OR REPLACE INTO stored_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, X'00' FROM stored_events WHERE rowid = 3"
        )
    else:
        statement = (
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, '\\x00' FROM stored_events WHERE notification_id = 3 "
            "ON CONFLICT (originator_id, originator_version) DO UPDATE SET state = EXCLUDED.state"
        )
    raw(store_config, [(statement, ())])
    report = verify_chain(app)
    assert report.first_mismatch is not None and report.first_mismatch.position == 3


# --- malformed rows -----------------------------------------------------------------------------


def test_a_malformed_row_is_named_not_a_crash(store_config: StoreConfig, app: RoyaltyLedger) -> None:
    from ledger.usage.verify import verify_usage

    _seed(app)
    record_checkpoint(app, "test")
    column = "rowid" if store_config.backend == "sqlite" else "notification_id"
    if store_config.backend == "sqlite":  # the finding: a state rewritten as text → TypeError
        raw(store_config, [(f"UPDATE stored_events SET state = CAST(state AS TEXT) WHERE {column} = 2", ())])
        expected = "malformed event row: its state is str, not bytes"
    else:  # bytea holds only bytes: bytes that are no event
        raw(store_config, [(f"UPDATE stored_events SET state = '\\x00ff' WHERE {column} = 2", ())])
        expected = "event bytes differ from the digest recorded when it was written"
    report = verify_chain(app)
    assert report.first_mismatch is not None and report.first_mismatch.position == 2
    assert report.first_mismatch.problem == expected
    verify_usage(app)  # reads the log too: no crash
