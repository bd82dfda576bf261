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
        # One index probe per id (LATERAL … LIMIT 1 on the primary key). `originator_id = ANY(…)`
        # with a thousand ids was planned as a sequential scan of the whole log: every group of a
        # bulk import then cost a scan that grew with the log.
        curs.execute(
            "SELECT i.id FROM unnest(%b::uuid[]) AS i(id) CROSS JOIN LATERAL "
            "(SELECT 1 FROM stored_events e WHERE e.originator_id = i.id LIMIT 1) AS hit",
            (list(ids),),
        )
        return {row[0] for row in curs.fetchall()}
