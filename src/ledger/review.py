"""The review queue: releases from unverified senders wait here; verifying a sender releases them.

A delivery a person must look at (no release date, no label, no deal saying where; each reason
with its element path, `Release.review_reasons`) waits here too, whoever sent it.

Verifying a distributor delegates trust to what it delivers: its future deliveries go live, and
its releases waiting in review are approved, each with a recorded decision naming the verifier.
Suspending a sender refuses its future deliveries; what is already live stays live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain.party import DomainError
from ledger.domain.release import Release

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


def review_queue(app: RoyaltyLedger, delivered_by: str | None = None) -> list[Release]:
    """Releases in review (oldest delivery first), from one pass over the release events."""
    topics = app.topics_of(Release.Delivered, Release.Redelivered, Release.ReviewDecided)  # type: ignore[attr-defined]
    waiting: dict[object, None] = {}
    for notification in app.read_log(topics=topics):
        event = app.decode(notification)
        if isinstance(event, Release.Delivered) and event.status == "in_review":  # type: ignore[attr-defined]
            waiting[notification.originator_id] = None
        elif isinstance(event, Release.Redelivered):  # type: ignore[attr-defined]
            if event.changes.get("status") == "in_review":
                waiting[notification.originator_id] = None
        else:
            waiting.pop(notification.originator_id, None)
    releases: list[object] = [app.repository.get(UUID(str(i))) for i in waiting]
    return [
        r
        for r in releases
        if isinstance(r, Release)
        and r.status == "in_review"
        and (delivered_by is None or r.delivered_by == delivered_by)
    ]


def verify_sender(app: RoyaltyLedger, key: str, reason: str, actor: str) -> list[str]:
    """Verify a party; approve its releases in review. Returns the UPCs approved."""
    if not reason.strip():
        raise DomainError("verifying a party needs a reason")
    app.set_party_verification(key, "verified", reason, actor)
    approved = []
    for release in review_queue(app, delivered_by=key):
        app.decide_review(release.upc, "approved", f"sender {key} verified: {reason}", actor)
        approved.append(release.upc)
    return approved


def suspend_sender(app: RoyaltyLedger, key: str, reason: str, actor: str) -> None:
    if not reason.strip():
        raise DomainError("suspending a party needs a reason")
    app.set_party_verification(key, "suspended", reason, actor)
