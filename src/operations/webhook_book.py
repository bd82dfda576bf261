"""The dispatcher's view of the webhook subscriptions: loaded once, then kept current from the log,
with each subscription's position held in memory and recorded in batches.

A subscription's position is recorded (`Advanced`) at most once every `record_every_s` seconds
while messages flow, and whenever the dispatcher stops or a pass is flushed; dead letters and
replays are recorded at once. After a crash, delivery resumes from the last recorded position:
the messages after it are sent again, with the same ids (at-least-once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import WebhookSubscription

_EVENTS = ("Created", "Advanced", "DeadLettered", "ReplayRequested", "Replayed", "Cancelled")
TOPICS = [get_topic(getattr(WebhookSubscription, name)) for name in _EVENTS]


@dataclass
class _Unrecorded:
    position: int = 0
    delivered: int = 0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)
    recorded_at: float = field(default_factory=time.monotonic)


@dataclass
class SubscriptionBook:
    app: RoyaltyLedger
    record_every_s: float = 5.0
    subs: dict[UUID, WebhookSubscription] = field(default_factory=dict)
    seen: int = -1
    unrecorded: dict[UUID, _Unrecorded] = field(default_factory=dict)

    def refresh(self) -> list[WebhookSubscription]:
        """The active subscriptions, brought up to date with the log's new subscription events
        (a new one, a replay request, a cancellation) — each applied to the copy held here."""
        if self.seen < 0:
            self.seen = self.app.head_position()
            ids = dict.fromkeys(self.app.aggregate_ids_with(WebhookSubscription.Created))
            self.subs = {i: self.app.repository.get(i) for i in ids}
        else:
            head = self.app.head_position()
            for note in self.app.read_log(self.seen + 1, stop=head, topics=TOPICS):
                held = self.subs.get(note.originator_id)  # type: ignore[arg-type]
                if held is not None and note.originator_version == held.version + 1:
                    self.app.decode(note).mutate(held)
                elif held is None or note.originator_version > held.version:
                    self.subs[note.originator_id] = self.app.repository.get(note.originator_id)  # type: ignore[index]
            self.seen = head  # read up to the head: the next refresh starts there, not at the last change
        return [s for s in self.subs.values() if s.active]

    def position(self, sub: WebhookSubscription) -> int:
        held = self.unrecorded.get(sub.id)
        return max(sub.position, held.position if held else 0)

    def note(
        self, sub_id: UUID, position: int, delivered: int, letters: list[dict[str, Any]], replayed: list[str]
    ) -> None:
        held = self.unrecorded.setdefault(sub_id, _Unrecorded())
        held.position = max(held.position, position)
        held.delivered += delivered
        held.dead_letters += letters
        held.replayed += replayed

    def record(self, flush: bool = False) -> None:
        """Save what is due in one transaction: dead letters and replays always, positions when
        `flush` or `record_every_s` has passed since the subscription's last record."""
        now = time.monotonic()
        due = [
            i
            for i, held in self.unrecorded.items()
            if held.dead_letters or held.replayed or flush or now - held.recorded_at >= self.record_every_s
        ]
        changed = [self.subs[i] for i in due if i in self.subs and self._apply(self.subs[i], self.unrecorded[i])]
        if changed:
            try:
                self.app.save(*changed)
            except IntegrityError:
                self._record_alone([s.id for s in changed])
        for i in due:
            held = self.unrecorded.pop(i)
            self.unrecorded[i] = _Unrecorded(position=held.position, recorded_at=now)

    def _record_alone(self, ids: list[UUID]) -> None:
        """Someone wrote to a subscription meanwhile: apply again to a fresh copy of each."""
        for i in ids:
            for _ in range(3):
                fresh: WebhookSubscription = self.app.repository.get(i)
                self.subs[i] = fresh
                if not self._apply(fresh, self.unrecorded[i]):
                    break
                try:
                    self.app.save(fresh)
                    break
                except IntegrityError:
                    continue

    @staticmethod
    def _apply(sub: WebhookSubscription, held: _Unrecorded) -> bool:
        changed = False
        for letter in held.dead_letters:
            if letter["message_id"] not in sub.dead_letters:
                sub.dead_letter(**letter)
                changed = True
        for mid in held.replayed:
            if mid in sub.replays:
                sub.replayed(message_id=mid)
                changed = True
        if held.position > sub.position:
            sub.advance(position=held.position, delivered=held.delivered)
            changed = True
        return changed
