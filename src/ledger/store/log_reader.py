"""Bulk reads of the stored events for folds that need many of them fast (the rights history).

One streamed query (a server-side cursor on PostgreSQL) by topic up to a position, returning
each event's position, originator id, topic and JSON state; no per-page round trips and no
per-field Python object hooks. Callers decode the few transcoded values they need.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import psycopg

from ledger.store.config import StoreConfig
from ledger.store.migrate import pg_conninfo

StoredRow = tuple[int, str, str, bytes]


def iter_stored_events(config: StoreConfig, topics: Sequence[str], upto: int, start: int = 1) -> Iterator[StoredRow]:
    """(position, originator_id, topic, state) for events of `topics` in [start, upto]."""
    if config.backend == "sqlite":
        yield from _iter_sqlite(config, topics, upto, start)
    else:
        yield from _iter_postgres(config, topics, upto, start)


def _iter_sqlite(config: StoreConfig, topics: Sequence[str], upto: int, start: int) -> Iterator[StoredRow]:
    assert config.sqlite_path is not None
    conn = sqlite3.connect(f"file:{config.sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        marks = ", ".join("?" for _ in topics)
        cursor = conn.execute(
            f"SELECT rowid, originator_id, topic, state FROM stored_events "
            f"WHERE rowid >= ? AND rowid <= ? AND topic IN ({marks}) ORDER BY rowid",
            (start, upto, *topics),
        )
        for row in cursor:
            # SQLite keeps ids as hex; PostgreSQL's uuid::text is hyphenated — yield the latter.
            yield int(row[0]), str(UUID(row[1])), str(row[2]), bytes(row[3])
    finally:
        conn.close()


def _iter_postgres(config: StoreConfig, topics: Sequence[str], upto: int, start: int) -> Iterator[StoredRow]:
    with psycopg.connect(pg_conninfo(config)) as conn:
        cursor: Any = conn.cursor(name="royalty_log_reader")
        cursor.itersize = 20_000
        cursor.execute(
            "SELECT notification_id, originator_id::text, topic, state FROM stored_events "
            "WHERE notification_id >= %s AND notification_id <= %s AND topic = ANY(%s) "
            "ORDER BY notification_id",
            (start, upto, list(topics)),
        )
        while rows := cursor.fetchmany(20_000):  # one round trip per block, not per row
            for row in rows:
                yield int(row[0]), row[1], row[2], bytes(row[3])
        cursor.close()
