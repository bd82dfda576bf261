"""What a page of the log says to webhook subscribers: each event decoded once, its data and the
parties it concerns resolved for the whole page at once, then a message per subscription.

An event that needs its aggregate's state (a release's title, a split version's shares, a
dispute's parties) is described from the aggregate as it stood at that event: the events of every
such aggregate on the page are read in ONE query by primary key (`log_of`) and folded in Python —
never a repository load per event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.persistence import Notification

from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import OPERATOR, WebhookSubscription
from ledger.webhook_topics import TYPES

# Log events whose webhook data comes from their aggregate's state at that event.
_STATEFUL = ("Release.", "SplitAgreement.", "Dispute.", "PayoutTransfer.")


def message_id(subscription_id: UUID, position: int) -> str:
    return "msg_" + uuid5(subscription_id, str(position)).hex


@dataclass
class Message:
    id: str
    position: int
    type: str
    body: str


@dataclass
class LogEvent:
    """One webhook-worthy log event, described once for every subscription."""

    position: int
    name: str
    type: str
    timestamp: str
    data: dict[str, Any]
    parties: frozenset[str]
    _bodies: dict[str, str] = field(default_factory=dict, repr=False)

    def concerns(self, subscription: WebhookSubscription) -> bool:
        if self.type not in subscription.event_types:
            return False
        return subscription.owner == OPERATOR or subscription.owner in self.parties

    def body_for(self, owner: str) -> str:
        """The JSON body; the same for every subscription except a party's statement.issued,
        which names the party it is for."""
        variant = owner if owner != OPERATOR and self.name == "PeriodClose.PeriodClosed" else OPERATOR
        body = self._bodies.get(variant)
        if body is None:
            data = self.data if variant == OPERATOR else {**self.data, "party": variant}
            payload = {"type": self.type, "timestamp": self.timestamp, "position": self.position, "data": data}
            body = self._bodies[variant] = json.dumps(payload, default=str, sort_keys=True, separators=(",", ":"))
        return body

    def message_for(self, subscription: WebhookSubscription) -> Message:
        return Message(
            message_id(subscription.id, self.position), self.position, self.type, self.body_for(subscription.owner)
        )


def _fields(event: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(event, n) for n in names if hasattr(event, n)}


def describe(event: Any, name: str, aggregate: Any) -> tuple[dict[str, Any], set[str]] | None:
    """(data, the parties it concerns) of one log event, given its aggregate as of that event
    (None for events that need none); None when it is not a webhook event."""
    if name.startswith("Release."):
        data = {"upc": aggregate.upc, "title": aggregate.title, **_fields(event, "territories", "reason")}
        return data, {k for k in (aggregate.label_key, aggregate.delivered_by) if k}
    if name.startswith("SplitAgreement."):
        version = aggregate.get_version(event.version)
        data = {"right": aggregate.right, "subject_key": aggregate.subject_key, "version": event.version}
        data.update(shares=version["shares"], effective_from=version["effective_from"], status=version["status"])
        return data, set(version["shares"]) | set(version["required"])
    if name.startswith("Dispute."):
        data = {"dispute_id": str(aggregate.id), "right": aggregate.right, "subject_key": aggregate.subject_key}
        data.update(claimed_ppm=aggregate.claimed_ppm, status=aggregate.status, outcome=aggregate.outcome)
        return data, {k for k in (aggregate.claimant, aggregate.respondent) if k}
    if name == "UsageBatch.Recorded":
        sales = {k: v for k, v in (event.kinds or {}).items() if k != "stream"}
        if not sales:
            return None
        return {"source": event.source, "kinds": sales, "batch_id": str(event.originator_id)}, set()
    if name == "PeriodClose.PeriodClosed":
        parties = {a.removeprefix("party:") for a in event.account_totals if a.startswith("party:")}
        return {"period": event.period, "as_of_position": event.as_of_position}, parties
    if name == "PayoutTransfer.PayoutSent":
        data = {"party": aggregate.party, "period": aggregate.period, "currency": aggregate.currency}
        data.update(amount_minor=aggregate.amount_minor)
        return data, {aggregate.party}
    return None


def read_events(app: RoyaltyLedger, notifications: Sequence[Notification]) -> list[LogEvent]:
    """The webhook events among these notifications (in log order), each described once. The
    topic says what an event is, so only webhook events are decoded."""
    found: list[LogEvent] = []
    wanted: dict[UUID, dict[int, int]] = {}  # aggregate → version → position, for stateful events
    for notification in notifications:
        name = notification.topic.rpartition(":")[2]
        if name not in TYPES:
            continue
        position = int(notification.id)
        if name.startswith(_STATEFUL):
            versions = wanted.setdefault(cast(UUID, notification.originator_id), {})
            versions[notification.originator_version] = position
            continue
        made = _log_event(position, app.decode(notification), name, None)
        if made is not None:
            found.append(made)
    if not wanted:
        return found
    return sorted(found + _describe_stateful(app, wanted), key=lambda e: e.position)


def _log_event(position: int, event: Any, name: str, aggregate: Any) -> LogEvent | None:
    described = describe(event, name, aggregate)
    if described is None:
        return None
    data, parties = described
    return LogEvent(position, name, TYPES[name], event.timestamp.isoformat(), data, frozenset(parties))


def _describe_stateful(app: RoyaltyLedger, wanted: dict[UUID, dict[int, int]]) -> list[LogEvent]:
    """Fold each wanted aggregate's events (one query for all of them), describing each wanted
    version from the aggregate as it stood right after that event."""
    found: list[LogEvent] = []
    states: dict[UUID, Any] = {}
    last = {originator: max(versions) for originator, versions in wanted.items()}
    for stored in app.log_of(list(wanted)):
        originator = cast(UUID, stored.originator_id)
        if stored.originator_version > last[originator]:
            continue
        event = app.decode(stored)
        states[originator] = aggregate = event.mutate(states.get(originator))
        position = wanted[originator].get(stored.originator_version)
        if position is not None:
            made = _log_event(position, event, type(event).__qualname__, aggregate)
            if made is not None:
                made.body_for(OPERATOR)  # written now, while the aggregate stands as of this event
                found.append(made)
    return found
