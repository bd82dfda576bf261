"""The usage tables checked against their UsageBatch events, for `royalty audit verify`.

The hash chain proves the events unaltered; this proves the rows beside them unaltered: per
batch, the stored lines are counted, summed per currency and their canonical digest recomputed
(ledger.usage.digest) and compared with what the event states; lines at a position no batch
event holds are reported too. Batches recorded before digest scheme 2 are counted and summed,
their digest not recomputable (reported as such, not as a failure).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.domain.usage_batch import UsageBatch
from ledger.usage.digest import batch_digest
from ledger.usage.store import LINE_COLUMNS, UsageStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

_LINES = f"SELECT {', '.join(LINE_COLUMNS)} FROM usage_rows WHERE position = {{p}}"
_QUARANTINED = "SELECT quarantine_id FROM usage_quarantine WHERE position = {p}"
_RESOLVED = "SELECT quarantine_id, outcome FROM usage_quarantine_resolved WHERE position = {p}"
_TOTAL = "SELECT COUNT(*) FROM usage_rows"


@dataclass
class UsageReport:
    batches: int = 0
    lines: int = 0
    digests_recomputed: int = 0
    digests_not_recomputable: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "batches": self.batches,
            "lines": self.lines,
            "digests_recomputed": self.digests_recomputed,
            "digests_not_recomputable": self.digests_not_recomputable,
            "problems": [{"position": p, "problem": text} for p, text in self.problems],
        }


def _query(store: UsageStore, sql: str, position: int) -> list[tuple[Any, ...]]:
    return store.query(sql.format(p="?"), sql.format(p="%s"), (position,))


def verify_usage(app: RoyaltyLedger) -> UsageReport:
    report, store = UsageReport(), UsageStore(app)
    for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded)):
        event, position = app.decode(n), int(n.id)
        report.batches += 1
        lines = _query(store, _LINES, position)
        report.lines += len(lines)
        if len(lines) != event.line_count:
            report.problems.append((position, f"{len(lines)} usage lines stored, the batch states {event.line_count}"))
        totals: Counter[str] = Counter()
        for line in lines:
            totals[line[10]] += int(line[11])
        if {c: t for c, t in totals.items() if t} != {c: t for c, t in event.totals.items() if t}:
            report.problems.append((position, f"usage lines sum to {dict(totals)}, the batch states {event.totals}"))
        if event.digest_scheme < 2:
            report.digests_not_recomputable += 1
            continue
        quarantined = [row[0] for row in _query(store, _QUARANTINED, position)]
        resolved = [(row[0], row[1]) for row in _query(store, _RESOLVED, position)]
        report.digests_recomputed += 1
        if batch_digest(lines, quarantined, resolved) != event.rows_sha256:
            report.problems.append(
                (position, "the stored rows' canonical SHA-256 differs from the batch's rows_sha256")
            )
    stored = int(store.query(_TOTAL, _TOTAL)[0][0])
    if stored != report.lines:
        report.problems.append((0, f"{stored - report.lines} usage lines stored at positions no batch event holds"))
    report.problems.sort()
    return report
