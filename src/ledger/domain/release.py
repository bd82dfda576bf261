"""Release: a product with ordered tracks, territories, label and delivering party.

Its key is its UPC/EAN (ICPN) when it has one, else "GRID:<GRid>", else a sender's namespaced
proprietary id ("DPID:PADPIDA…:value"); `upc` holds that key (the name predates GRid and
proprietary ids). `identifiers` are every id the senders named it by; `delivered_types` the
ReleaseType values as delivered (`release_type` is the internal kind); `review_reasons` what a
person must settle while it waits in review; `deals` what each delivered deal allows (territories,
exclusions, start and end, commercial models, use types). A release may have no date until a
person gives one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.availability import HasAvailability
from ledger.domain.ids import release_id

REVIEW_STATES = ("live", "in_review", "rejected")


class Release(Aggregate, HasAvailability):
    @staticmethod
    def create_id(upc: str, **_: Any) -> Any:
        return release_id(upc)

    @event("Delivered")
    def __init__(
        self,
        upc: str,
        title: str,
        label_key: str | None,
        release_type: str,
        track_isrcs: list[str],
        release_date: date | None,
        territories: list[str],
        delivered_by: str | None,
        status: str,
        actor: str,
        identifiers: list[str] | None = None,
        delivered_types: list[str] | None = None,
        review_reasons: list[str] | None = None,
        deals: list[dict[str, Any]] | None = None,
    ) -> None:
        self.upc = upc
        self.title = title
        self.label_key = label_key
        self.release_type = release_type
        self.track_isrcs = track_isrcs
        self.release_date = release_date
        self.territories = territories
        self.delivered_by = delivered_by
        self.status = status
        self.identifiers = identifiers or [upc]
        self.delivered_types = delivered_types or []
        self.review_reasons = review_reasons or []
        self.deals = deals or []
        self.availability: list[dict[str, Any]] = []
        self.review_history: list[dict[str, str]] = []

    @event("Redelivered")
    def redeliver(self, changes: dict[str, Any], actor: str) -> None:
        """An update message: only the named fields change."""
        for field, value in changes.items():
            setattr(self, field, value)

    @event("ReviewDecided")
    def decide_review(self, decision: str, reason: str, actor: str) -> None:
        self.review_history.append({"decision": decision, "reason": reason, "actor": actor})
        self.status = "live" if decision == "approved" else "rejected"

    @event("TakenDown")
    def take_down(self, territories: list[str], reason: str, effective_at: datetime, actor: str) -> None:
        self._record_availability("takedown", territories, reason, effective_at, actor)

    @event("Reinstated")
    def reinstate(self, territories: list[str], reason: str, effective_at: datetime, actor: str) -> None:
        self._record_availability("reinstatement", territories, reason, effective_at, actor)
