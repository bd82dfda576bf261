"""Direct SQL against a store, for tests that must go around the application (tampering)."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo


def execute(config: StoreConfig, statement: str, params: tuple[Any, ...] = ()) -> None:
    if config.backend == "sqlite":
        conn = sqlite3.connect(str(config.sqlite_path))
        try:
            conn.execute(statement, params)
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg:
            pg.execute(statement.replace("?", "%s"), params)


def tamper_event_state(config: StoreConfig, position: int, old: bytes, new: bytes) -> None:
    """Alter a stored event's bytes with the append-only triggers switched off (tests only)."""
    if config.backend == "sqlite":
        conn = sqlite3.connect(str(config.sqlite_path))
        try:
            conn.execute("DROP TRIGGER stored_events_no_update")
            (state,) = conn.execute("SELECT state FROM stored_events WHERE rowid=?", (position,)).fetchone()
            conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (state.replace(old, new), position))
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(pg_conninfo(config)) as pg:
            pg.execute("ALTER TABLE stored_events DISABLE TRIGGER stored_events_append_only")
            (state,) = pg.execute("SELECT state FROM stored_events WHERE notification_id=%s", (position,)).fetchone()
            pg.execute(
                "UPDATE stored_events SET state=%s WHERE notification_id=%s", (bytes(state).replace(old, new), position)
            )
            pg.execute("ALTER TABLE stored_events ENABLE TRIGGER stored_events_append_only")
