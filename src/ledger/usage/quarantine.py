"""The quarantine: rows that could not be accepted, listed with their reasons, re-submittable.

Nothing here updates or deletes: a re-submitted row that is accepted now gets a
usage_quarantine_resolved row in the same transaction as its new UsageBatch event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.usage.ingest import DEFAULT_BATCH_SIZE, IngestSummary, UsageIngest
from ledger.usage.rows import normalise_dicts
from ledger.usage.store import UsageStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_SELECT = (
    "SELECT q.quarantine_id, q.position, q.source, q.usage_id, q.reason, q.detail, q.raw_row, "
    "r.outcome, r.position FROM usage_quarantine AS q LEFT JOIN usage_quarantine_resolved AS r "
    "ON r.quarantine_id = q.quarantine_id"
)


@dataclass(frozen=True)
class QuarantinedRow:
    quarantine_id: str
    position: int
    source: str
    usage_id: str | None
    reason: str
    detail: str
    row: dict[str, Any]
    resolution: str | None
    resolved_at_position: int | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_quarantine(app: RoyaltyLedger, *, include_resolved: bool = False) -> list[QuarantinedRow]:
    """Quarantined rows in the order they were quarantined (unresolved ones unless asked)."""
    where = "" if include_resolved else " WHERE r.quarantine_id IS NULL"
    sql = _SELECT + where + " ORDER BY q.position, q.quarantine_id"
    return [
        QuarantinedRow(
            r[0], int(r[1]), r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], None if r[8] is None else int(r[8])
        )
        for r in UsageStore(app).query(sql, sql)
    ]


def retry_quarantine(
    app: RoyaltyLedger, *, actor: str, batch_size: int = DEFAULT_BATCH_SIZE, secret: bytes | None = None
) -> IngestSummary:
    """Re-submit every unresolved quarantined row against today's catalogue and pricing."""
    run = UsageIngest(app, actor, secret=secret)
    summary = IngestSummary()
    pending = list_quarantine(app)
    by_source: dict[str, list[QuarantinedRow]] = {}
    for entry in pending:
        by_source.setdefault(entry.source, []).append(entry)
    for source, entries in sorted(by_source.items()):
        for start in range(0, len(entries), batch_size):
            chunk = entries[start : start + batch_size]
            batch = normalise_dicts([e.row for e in chunk], source, listener_hashed=True)
            prepared, position = run.record(batch, "quarantine retry", [e.quarantine_id for e in chunk])
            summary.add(len(batch), prepared, position)
    return summary
