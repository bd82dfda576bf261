"""WebhookSubscription: a URL that receives the log's events of some types, for a party or the operator.

Its tracking position is part of the log (`Advanced`, one event per delivered run, never per
message), so delivery is at-least-once from the log: a dispatcher that dies re-sends from the
last recorded position, with the same message ids. A message that keeps failing is set aside
(`DeadLettered`) so the rest flow; an operator replays it (`ReplayRequested`).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.domain.party import DomainError

OPERATOR = "operator"
EVENT_TYPES = (
    "release.delivered",
    "release.updated",
    "release.taken_down",
    "split.proposed",
    "split.activated",
    "dispute.opened",
    "dispute.resolved",
    "sale.recorded",
    "statement.issued",
    "payout.sent",
)


class WebhookSubscription(Aggregate):
    @event("Created")
    def __init__(self, owner: str, url: str, event_types: list[str], actor: str) -> None:
        if not url.startswith(("http://", "https://")) or len(url) > 2000:
            raise DomainError(f"webhook url {url[:80]!r}: expected an http(s) URL")
        unknown = sorted(set(event_types) - set(EVENT_TYPES))
        if unknown or not event_types:
            raise DomainError(f"webhook event types {unknown or '(none)'}: expected some of {', '.join(EVENT_TYPES)}")
        self.owner = owner
        self.url = url
        self.event_types = sorted(set(event_types))
        self.position = 0
        self.active = True
        self.dead_letters: dict[str, dict[str, Any]] = {}
        self.replays: list[str] = []

    @event("Advanced")
    def advance(self, position: int, delivered: int) -> None:
        self.position = max(self.position, position)

    @event("DeadLettered")
    def dead_letter(self, message_id: str, position: int, event_type: str, reason: str, attempts: int) -> None:
        self.dead_letters[message_id] = {
            "position": position,
            "type": event_type,
            "reason": reason,
            "attempts": attempts,
        }

    def request_replay(self, message_id: str, actor: str) -> None:
        if message_id not in self.dead_letters:
            raise DomainError(f"message {message_id} is not in the dead-letter list of this subscription")
        self._replay_requested(message_id=message_id, actor=actor)

    @event("ReplayRequested")
    def _replay_requested(self, message_id: str, actor: str) -> None:
        self.replays.append(message_id)

    @event("Replayed")
    def replayed(self, message_id: str) -> None:
        self.replays.remove(message_id)
        self.dead_letters.pop(message_id, None)

    @event("Cancelled")
    def cancel(self, actor: str) -> None:
        self.active = False
