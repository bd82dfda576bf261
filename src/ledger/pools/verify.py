"""`royalty audit verify` for pool contributions: every stored row against its batch event.

Each row's payload digest is recomputed from its columns, the batch's row count, totals and
rows digest (accepted rows and quarantined rows alike) from the stored rows; rows at a position
no batch event holds are named too. So a row changed, added or removed in the table is caught
even with the append-only triggers dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.domain.pool import PoolContributionBatch
from ledger.pools.contributions import ContributionRow, rows_digest
from ledger.usage.store import UsageStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_ROWS = (
    "SELECT position, contribution_id, pool_key, kind, occurred_at_us, funder_hash, target, currency, amount_micros, "
    "refund_of, payload_sha256 FROM pool_contributions ORDER BY position, batch_id"
)
_QUARANTINE = (
    "SELECT position, quarantine_id, contribution_id, reason, raw_row FROM pool_contribution_quarantine "
    "ORDER BY position, quarantine_id"
)


@dataclass
class ContributionsReport:
    batches: int = 0
    rows: int = 0
    quarantine_rows: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "batches": self.batches,
            "rows": self.rows,
            "quarantine_rows": self.quarantine_rows,
            "problems": [{"position": p, "problem": text} for p, text in self.problems],
        }


def verify_contributions(app: RoyaltyLedger) -> ContributionsReport:
    report, store = ContributionsReport(), UsageStore(app)
    rows: dict[int, list[tuple[Any, ...]]] = {}
    for row in store.query(_ROWS, _ROWS):
        rows.setdefault(int(row[0]), []).append(row)
    held: dict[int, list[tuple[Any, ...]]] = {}
    for row in store.query(_QUARANTINE, _QUARANTINE):
        held.setdefault(int(row[0]), []).append(row)
    batches = set()
    recorded = PoolContributionBatch.Recorded  # type: ignore[attr-defined]
    for n in app.read_log(topics=app.topics_of(recorded)):
        position = int(n.id)
        batches.add(position)
        report.batches += 1
        try:
            event = app.decode(n)
        except Exception as exc:  # altered bytes: named here (and by the hash chain), not a crash
            report.problems.append((position, f"the batch event cannot be read: {type(exc).__name__}: {exc}"))
            continue
        accepted: list[ContributionRow] = []
        for _, cid, pool, kind, at, funder, target, cur, amount, refund_of, payload in rows.get(position, []):
            stored = ContributionRow(cid, pool, kind, int(at), funder, target, cur, int(amount), refund_of)
            if stored.payload_sha256() != payload:
                report.problems.append((position, f"contribution {cid}: its columns do not match its digest"))
            accepted.append(stored)
        quarantined = [(cid, reason, "", json.loads(raw)) for _, _, cid, reason, raw in held.get(position, [])]
        report.rows += len(accepted)
        report.quarantine_rows += len(quarantined)
        if len(accepted) != event.row_count:
            report.problems.append(
                (position, f"{len(accepted)} contributions stored, the batch states {event.row_count}")
            )
        totals: dict[str, int] = {}
        for r in accepted:
            totals[r.currency] = totals.get(r.currency, 0) + r.amount_micros
        if {c: t for c, t in totals.items() if t} != {c: t for c, t in event.totals.items() if t}:
            report.problems.append((position, f"contributions sum to {totals}, the batch states {event.totals}"))
        if rows_digest(accepted, quarantined) != event.rows_sha256:
            report.problems.append((position, "the stored rows do not give the batch's rows digest"))
    for position in sorted((set(rows) | set(held)) - batches):
        report.problems.append((position, "contribution rows stored at a position no batch event holds"))
    return report
