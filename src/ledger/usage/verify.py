"""The usage tables checked against their UsageBatch events, for `royalty audit verify`.

The hash chain proves the events unaltered; this proves the rows beside them unaltered: per
batch, the stored lines are counted, summed per currency and their canonical digest recomputed
(ledger.usage.digest) and compared with what the event states; lines and quarantine rows at a
position no batch event holds are reported too. Since digest scheme 3 the digest covers each
quarantine row's content (source, usage id, raw hash, reason, detail, raw row); in scheme-2
batches only its id (counted as `quarantine_rows_by_id_only`). Batches recorded before digest
scheme 2 are counted and summed, their digest not recomputable (reported as such, not as a
failure). A batch event that cannot be decoded is named by its position.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.domain.usage_batch import UsageBatch
from ledger.usage.digest import batch_digest
from ledger.usage.payload import with_payloads
from ledger.usage.positions import rows_between
from ledger.usage.store import PG_LINE_SELECT, SQLITE_LINE_SELECT, UsageStore

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

# The hashes as hex text on both backends (both store them as bytes: migrations 0040 and 0045; on
# SQLite the listener's from usage_listeners, migration 0050).
# SQLite: the batch's rowid run (migration 0046), the position re-checked on each row; a row
# outside every run is still counted (`_TOTAL`), as a line at no batch's position.
_LINES = f"SELECT {SQLITE_LINE_SELECT} FROM usage_rows WHERE {rows_between('sqlite', mark='{p}')}"
_PG_LINES = f"SELECT {PG_LINE_SELECT} FROM usage_rows WHERE position = {{p}}"
_QUARANTINED = (
    "SELECT quarantine_id, source, usage_id, raw_sha256, reason, detail, raw_row FROM usage_quarantine "
    "WHERE position = {p}"
)
_RESOLVED = "SELECT quarantine_id, outcome FROM usage_quarantine_resolved WHERE position = {p}"
_TOTAL = "SELECT COUNT(*) FROM usage_rows"
_QUARANTINE_TOTAL = "SELECT COUNT(*) FROM usage_quarantine"


@dataclass
class UsageReport:
    batches: int = 0
    lines: int = 0
    digests_recomputed: int = 0
    digests_not_recomputable: int = 0
    quarantine_rows: int = 0
    quarantine_rows_by_id_only: int = 0  # in scheme-2 batches: their content is not in the digest
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
            "quarantine_rows": self.quarantine_rows,
            "quarantine_rows_by_id_only": self.quarantine_rows_by_id_only,
            "problems": [{"position": p, "problem": text} for p, text in self.problems],
        }


def _query(store: UsageStore, sql: str, position: int, pg_sql: str | None = None) -> list[tuple[Any, ...]]:
    pg = pg_sql or sql
    marks = (sql if store.backend == "sqlite" else pg).count("{p}")  # every one is the position
    return store.query(sql.format(p="?"), pg.format(p="%s"), (position,) * marks)


def verify_usage(app: RoyaltyLedger) -> UsageReport:
    report, store = UsageReport(), UsageStore(app)
    for n in app.read_log(topics=app.topics_of(UsageBatch.Recorded)):
        position = int(n.id)
        report.batches += 1
        try:
            event = app.decode(n)
        except Exception as exc:  # altered bytes: named here (and by the hash chain), not a crash
            report.problems.append((position, f"the batch event cannot be read: {type(exc).__name__}: {exc}"))
            continue
        # A NULL payload hash (SQLite, migration 0050) recomputed from its line.
        lines = with_payloads(_query(store, _LINES, position, _PG_LINES))
        report.lines += len(lines)
        if len(lines) != event.line_count:
            report.problems.append((position, f"{len(lines)} usage lines stored, the batch states {event.line_count}"))
        totals: Counter[str] = Counter()
        for line in lines:
            totals[line[10]] += int(line[11])
        if {c: t for c, t in totals.items() if t} != {c: t for c, t in event.totals.items() if t}:
            report.problems.append((position, f"usage lines sum to {dict(totals)}, the batch states {event.totals}"))
        quarantined = _query(store, _QUARANTINED, position)
        report.quarantine_rows += len(quarantined)
        if event.digest_scheme < 2:
            report.digests_not_recomputable += 1
            report.quarantine_rows_by_id_only += len(quarantined)
            continue
        resolved = [(row[0], row[1]) for row in _query(store, _RESOLVED, position)]
        report.digests_recomputed += 1
        if event.digest_scheme < 3:
            report.quarantine_rows_by_id_only += len(quarantined)
        if batch_digest(lines, quarantined, resolved, event.digest_scheme) != event.rows_sha256:
            report.problems.append(
                (
                    position,
                    "the stored rows' canonical SHA-256 differs from the batch's rows_sha256 "
                    f"(its {len(lines)} usage lines, {len(quarantined)} quarantine rows and "
                    f"{len(resolved)} resolved entries)",
                )
            )
    stored = int(store.query(_TOTAL, _TOTAL)[0][0])
    if stored != report.lines:
        where = "at positions no batch event holds"
        if store.backend == "sqlite":  # a line is read by its batch's rowid run (migration 0046)
            where = "outside every batch's rows (at a position no batch event holds, or apart from its batch's run)"
        report.problems.append((0, f"{stored - report.lines} usage lines stored {where}"))
    stored_quarantine = int(store.query(_QUARANTINE_TOTAL, _QUARANTINE_TOTAL)[0][0])
    if stored_quarantine != report.quarantine_rows:
        report.problems.append(
            (
                0,
                f"{stored_quarantine - report.quarantine_rows} quarantine rows stored at positions "
                "no batch event holds",
            )
        )
    report.problems.sort()
    return report
