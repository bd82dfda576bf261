"""The production role on the real PostgreSQL (`royalty init --app-role`): the service's normal
writes and projection work as that role, and nothing that could undo the log's append-only
guarantees does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cli.init import prepare_read_models
from ledger.application import RoyaltyLedger
from ledger.audit import record_checkpoint, verify_chain
from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo
from ledger.store.roles import RoleError, ensure_app_role
from ledger.usage.ingest import ingest_rows
from ledger.usage.verify import verify_usage
from projections.db import ViewDB
from projections.projector import Projector
from tests.e2e.cli_runner import royalty
from tests.usage_helpers import ISRCS, SECRET, build_catalogue, clock, play

pytestmark = pytest.mark.postgres

PASSWORD = "app-role-test-password"  # noqa: S105 - a throwaway role on the test server


def _drop_role(admin: StoreConfig, name: str) -> None:
    with psycopg.connect(pg_conninfo(admin), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
def role(pg_config: StoreConfig) -> Iterator[str]:
    name = f"royalty_app_{uuid.uuid4().hex[:10]}"
    yield name
    _drop_role(pg_config, name)


def _as(config: StoreConfig, name: str) -> StoreConfig:
    return replace(config, pg_user=name, pg_password=PASSWORD)


FORBIDDEN = [
    "UPDATE stored_events SET topic = 'x'",
    "DELETE FROM stored_events",
    "TRUNCATE stored_events",
    "ALTER TABLE stored_events DISABLE TRIGGER stored_events_append_only",
    "ALTER TABLE stored_events DISABLE TRIGGER ALL",
    "DROP TRIGGER stored_events_append_only ON stored_events",
    "DROP TRIGGER stored_events_digests ON stored_events",
    "UPDATE usage_rows SET gross_micros = 0",
    "DELETE FROM usage_rows",
    "TRUNCATE usage_rows",
    "ALTER TABLE usage_rows DISABLE TRIGGER usage_rows_append_only",
    "DROP TRIGGER usage_rows_append_only ON usage_rows",
    "UPDATE usage_quarantine SET reason = 'x'",
    "DELETE FROM usage_quarantine",
    "TRUNCATE usage_quarantine",
    "ALTER TABLE usage_quarantine DISABLE TRIGGER usage_quarantine_append_only",
    "DROP TRIGGER usage_quarantine_append_only ON usage_quarantine",
    "INSERT INTO audit_event_digests VALUES (999999, '\\x00')",
    "DROP TABLE stored_events",
    "ALTER TABLE stored_events OWNER TO CURRENT_USER",
    "SET session_replication_role = replica",
    "CREATE TABLE intruder (x int)",
    "DROP FUNCTION royalty_reject_change() CASCADE",
]


def test_the_service_works_as_the_app_role_and_cannot_undo_append_only(pg_config: StoreConfig, role: str) -> None:
    granted = ensure_app_role(pg_config, role, PASSWORD)
    assert granted.created
    assert {"stored_events", "usage_rows", "usage_quarantine", "stripe_webhook_events"} <= set(granted.log_tables)
    assert set(granted.read_only_tables) == {
        "audit_event_digests",
        "audit_state",
        "schema_migrations",
        "rights_split_subjects",
        "rights_split_proposals",
        "rights_split_versions",
        "rights_recording_facts",
    }
    assert "projection_tracking" in granted.read_write_tables and "cat_parties" in granted.read_write_tables
    prepare_read_models(pg_config)
    app_config = _as(pg_config, role)

    # The application's normal writes, usage with a quarantined row, projection and audit.
    app = RoyaltyLedger(app_config, clock=clock)
    db = ViewDB(app_config)
    try:
        build_catalogue(app, with_single=False)
        ingest_rows(app, [play(f"p{i}") for i in range(5)] + [play("late", isrc=ISRCS[3])], actor="t", secret=SECRET)
        record_checkpoint(app, "test")
        assert Projector(app, db).catch_up() > 0
        assert verify_chain(app).ok and verify_usage(app).ok
        assert verify_usage(app).quarantine_rows >= 1
    finally:
        db.close()
        app.close()

    with psycopg.connect(pg_conninfo(pg_config)) as owner:
        attrs = owner.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles "
            "WHERE rolname = %s",
            (role,),
        ).fetchone()
        assert attrs == (False, False, False, False, False)
        owned = owner.execute(
            # Its sessions' temporary tables (the projector's staging tables) are dropped by the
            # server after each session ends, asynchronously: they are not schema it owns.
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = %s AND c.relpersistence <> 't'",
            (role,),
        ).fetchone()
        assert owned == (0,)

    failures = {}
    with psycopg.connect(pg_conninfo(app_config), autocommit=True) as conn:
        for statement in FORBIDDEN:
            try:
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege as exc:
                failures[statement] = str(exc).splitlines()[0]
            else:
                failures[statement] = "SUCCEEDED"
    assert all(v != "SUCCEEDED" for v in failures.values()), failures
    assert len(failures) == len(FORBIDDEN)


def test_init_app_role_from_the_cli_and_again_after_an_upgrade(
    pg_config: StoreConfig, role: str, tmp_path: Path
) -> None:
    first = royalty(
        pg_config, "init", "--app-role", role, "--json", cwd=tmp_path, env={"ROYALTY_APP_ROLE_PASSWORD": PASSWORD}
    )
    assert first.returncode == 0, first.stderr + first.stdout
    doc = json.loads(first.stdout)
    assert doc["app_role"]["created"] is True and "stored_events" in doc["app_role"]["log_tables"]
    # A table a later migration adds is granted by the same rules when init runs again.
    with psycopg.connect(pg_conninfo(pg_config)) as owner:
        owner.execute("CREATE TABLE later_log (id int PRIMARY KEY)")
        owner.execute(
            "CREATE TRIGGER later_log_append_only BEFORE UPDATE OR DELETE ON later_log "
            "FOR EACH ROW EXECUTE FUNCTION royalty_reject_change()"
        )
    again = royalty(pg_config, "init", "--app-role", role, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr + again.stdout
    assert json.loads(again.stdout)["app_role"]["created"] is False
    assert "later_log" in json.loads(again.stdout)["app_role"]["log_tables"]
    with psycopg.connect(pg_conninfo(_as(pg_config, role)), autocommit=True) as conn:
        conn.execute("INSERT INTO later_log VALUES (1)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM later_log")


def test_app_role_is_refused_on_sqlite_and_for_the_owner(sqlite_config: StoreConfig, pg_config: StoreConfig) -> None:
    with pytest.raises(RoleError, match="SQLite store has no roles"):
        ensure_app_role(sqlite_config, "x")
    with pytest.raises(RoleError, match="other than the owner"):
        ensure_app_role(pg_config, pg_config.pg_user)
