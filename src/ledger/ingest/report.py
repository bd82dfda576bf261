"""The validation report of one delivered file: what was accepted, what was rejected and why."""

from __future__ import annotations

import enum
import io
import json
from dataclasses import dataclass

from ledger.ingest.delivery import DeliveredRelease, Takedown
from ledger.safe_csv import csv_writer


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    """One release or takedown: accepted as a whole, or rejected with every reason found."""

    reference: str
    upc: str
    title: str
    action: str
    status: Status
    reasons: tuple[str, ...] = ()
    release: DeliveredRelease | None = None
    takedown: Takedown | None = None

    @property
    def accepted(self) -> bool:
        return self.status is Status.ACCEPTED

    @property
    def review(self) -> tuple[str, ...]:
        """What a person must settle before an accepted release goes live (it waits in review)."""
        return self.release.review if self.release is not None and self.accepted else ()


@dataclass(frozen=True, slots=True)
class ValidationReport:
    source: str
    message_id: str
    sender_dpid: str
    kind: str
    ern_version: str
    message_errors: tuple[str, ...] = ()
    outcomes: tuple[ReleaseOutcome, ...] = ()

    @property
    def accepted(self) -> tuple[ReleaseOutcome, ...]:
        return tuple(o for o in self.outcomes if o.accepted)

    @property
    def rejected(self) -> tuple[ReleaseOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.accepted)

    @property
    def ok(self) -> bool:
        return not self.message_errors and not self.rejected

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "message_id": self.message_id,
            "sender_dpid": self.sender_dpid,
            "kind": self.kind,
            "ern_version": self.ern_version,
            "message_errors": list(self.message_errors),
            "counts": {
                "accepted": len(self.accepted),
                "rejected": len(self.rejected),
            },
            "outcomes": [
                {
                    "reference": o.reference,
                    "upc": o.upc,
                    "title": o.title,
                    "action": o.action,
                    "status": o.status.value,
                    "reasons": list(o.reasons),
                    "review": list(o.review),
                }
                for o in self.outcomes
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per reason (one row for an accepted item); message errors have no reference."""
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        head = [self.source, self.message_id]
        for error in self.message_errors:
            writer.writerow([*head, "", "", "", "message", "rejected", error])
        for o in self.outcomes:
            row = [*head, o.reference, o.upc, o.title, o.action, o.status.value]
            for reason in o.reasons or ("",):
                writer.writerow([*row, reason])
            for reason in o.review:
                writer.writerow([*head, o.reference, o.upc, o.title, o.action, "review", reason])
        return out.getvalue()


CSV_COLUMNS = ("source", "message_id", "reference", "upc", "title", "action", "status", "reason")
