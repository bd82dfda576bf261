"""Which aggregates exist, for many ids in one query (a bulk import's prefetch)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


def existing_ids(app: RoyaltyLedger, ids: Collection[UUID]) -> set[UUID]:
    """The subset of `ids` that have at least one stored event."""
    if not ids:
        return set()
    recorder: Any = app.recorder
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:  # the in-memory store of unit tests
        return {i for i in ids if app._exists(i)}
    if app.config.backend == "sqlite":
        with datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT DISTINCT originator_id FROM stored_events "
                "WHERE originator_id IN (SELECT value FROM json_each(?))",
                (json.dumps([i.hex for i in ids]),),
            )
            return {UUID(row[0]) for row in c.fetchall()}
    from psycopg.rows import tuple_row

    with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(
            "SELECT DISTINCT originator_id FROM stored_events WHERE originator_id = ANY(%s)",
            (list(ids),),
        )
        return {row[0] for row in curs.fetchall()}
