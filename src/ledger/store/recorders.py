"""Application recorders with one seam: side writes in the same transaction as the events.

`app.save(*aggregates, side_writes=[w, …])` hands each writer the open cursor after the events
are inserted, so a usage batch's rows and its UsageBatch event commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor


class SideWrite(Protocol):
    """Rows written beside events, atomically with them."""

    def write_sqlite(self, cursor: Any) -> None: ...

    def write_postgres(self, cursor: Any) -> None: ...


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        for writer in kwargs.get("side_writes", ()):
            writer.write_sqlite(c)
        return ids


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # Runs inside the same transaction (and pipeline) as the event insert that follows.
        super()._insert_events(curs, stored_events, **kwargs)
        for writer in kwargs.get("side_writes", ()):
            writer.write_postgres(curs)
