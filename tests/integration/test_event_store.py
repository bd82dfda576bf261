"""The store, one suite for both backends: append-only log, migrations, tamper evidence."""

from datetime import UTC, datetime
from uuid import UUID

import pytest

from ledger.application import RoyaltyLedger
from ledger.audit import record_checkpoint, verify_chain
from ledger.store.migrate import MigrationError, apply_migrations
from tests.integration.store_tools import execute, tamper_event_state

ISRC = "USRC17607839"


def _seed(app: RoyaltyLedger) -> None:
    app.upsert_party("aria", "Aria Lune", ["artist"], "test")
    app.upsert_party("lbl", "Night Owl", ["label"], "test")
    app.upsert_recording(ISRC, "Moth", "Aria Lune", 180_000, "test")
    app.set_split(
        "master", ISRC, {"aria": 500_000, "lbl": 500_000}, datetime(2026, 1, 1, tzinfo=UTC), "test", "initial"
    )


def test_events_get_one_increasing_global_position_and_read_back(ledger_app):
    _seed(ledger_app)
    positions = [n.id for n in ledger_app.read_log(page=2)]
    assert positions == sorted(positions) and len(positions) == ledger_app.head_position() == 6
    assert ledger_app.get_split("master", ISRC).version_in_force(datetime(2026, 2, 1, tzinfo=UTC))["shares"] == {
        "aria": 500_000,
        "lbl": 500_000,
    }


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stored_events SET topic = 'x'",
        "DELETE FROM stored_events",
    ],
)
def test_the_database_rejects_update_and_delete_on_the_event_table(store_config, ledger_app, statement):
    _seed(ledger_app)
    with pytest.raises(Exception, match="append-only"):
        execute(store_config, statement)
    assert ledger_app.head_position() == 6


def test_migrations_are_idempotent_and_refuse_an_edited_applied_file(store_config, tmp_path, monkeypatch):
    assert apply_migrations(store_config) == []
    source = tmp_path / "migrations" / store_config.backend
    source.mkdir(parents=True)
    from ledger.store.migrate import migrations_dir

    for path in (migrations_dir() / store_config.backend).glob("*.sql"):
        (source / path.name).write_text(path.read_text() + ("\n-- edited\n" if path.name.startswith("0001") else ""))
    monkeypatch.setenv("ROYALTY_MIGRATIONS_DIR", str(tmp_path / "migrations"))
    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(store_config)


def test_verify_names_the_first_altered_position(store_config, ledger_app):
    _seed(ledger_app)
    record_checkpoint(ledger_app, "test")
    assert verify_chain(ledger_app).ok
    tamper_event_state(store_config, 3, b"Moth", b"Math")
    report = verify_chain(ledger_app)
    assert not report.ok
    assert report.first_mismatch is not None and report.first_mismatch.position == 3


def test_verify_checks_every_position_to_the_head_not_only_the_checkpointed(ledger_app):
    _seed(ledger_app)
    record_checkpoint(ledger_app, "test")
    ledger_app.upsert_party("new", "New Party", ["artist"], "test")
    report = verify_chain(ledger_app).as_dict()
    assert report["ok"] and report["covered_upto"] == 6 and report["head"] == 8
    assert report["events_checked"] == report["written_digests_checked"] == 8
    assert report["not_anchored"] == 8 and report["anchors"] == 0


def test_init_creates_a_missing_postgresql_database_with_bytewise_collation(pg_config):
    """`royalty init` creates the database itself with LC_COLLATE 'C' (text keys compared
    bytewise); a second init finds it and applies nothing."""
    import psycopg
    from psycopg import sql

    from ledger.store.config import StoreConfig
    from ledger.store.migrate import ensure_pg_database, pg_conninfo

    fresh = StoreConfig.from_url(pg_config.describe() + "_new")
    try:
        assert ensure_pg_database(fresh) is True
        assert ensure_pg_database(fresh) is False
        with psycopg.connect(pg_conninfo(fresh, "postgres")) as admin:
            collate = admin.execute(
                "SELECT datcollate FROM pg_database WHERE datname = %s", [fresh.pg_dbname]
            ).fetchone()
        assert collate == ("C",)
        assert apply_migrations(fresh) and apply_migrations(fresh) == []
    finally:
        with psycopg.connect(pg_conninfo(fresh, "postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(fresh.pg_dbname)))


def test_the_log_of_some_aggregates_is_their_part_of_the_log_in_order(ledger_app):
    _seed(ledger_app)
    everything = list(ledger_app.read_log())
    chosen = {everything[0].originator_id, everything[-1].originator_id}
    got = ledger_app.log_of([UUID(str(i)) for i in chosen])
    assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in got] == [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in everything if n.originator_id in chosen
    ]
    topic = everything[-1].topic
    assert [n.id for n in ledger_app.log_of([UUID(str(i)) for i in chosen], topics=[topic])] == [
        n.id for n in everything if n.originator_id in chosen and n.topic == topic
    ]
    assert ledger_app.log_of([]) == []
