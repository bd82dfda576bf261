"""Outbound webhooks: the log's events, signed as the Standard Webhooks specification says.

Each subscription follows the log from its own recorded position. A message's id is derived
from (subscription, position), so a repeat after a failure or a crash carries the same
`webhook-id`; the receiver deduplicates by it. Headers `webhook-id`, `webhook-timestamp`,
`webhook-signature` (`v1,` base64 HMAC-SHA256 of `id.timestamp.body`, the `standardwebhooks`
package). A failing message is retried with exponential backoff and holds back its
subscription's position; after `max_attempts` it goes to the dead-letter list and the rest flow.
A subscription's secret is never stored: it is derived from ROYALTY_WEBHOOK_KEY and its id.

One pass reads the log in pages for every subscription at once (operations.webhook_messages
describes each event once per page), sends over kept-alive connections (operations.webhook_http)
and records every subscription's position once per page, in one transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from standardwebhooks import Webhook

from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import WebhookSubscription
from ledger.webhook_subscriptions import KEY_ENV, WebhooksNotConfigured, subscription_secret, webhook_key
from ledger.webhook_topics import subscribed_topics
from operations.webhook_book import SubscriptionBook
from operations.webhook_http import Delivery, Sender
from operations.webhook_messages import LogEvent, Message, message_id, read_events

__all__ = ["KEY_ENV", "WebhookDispatcher", "WebhooksNotConfigured", "message_id", "subscription_secret", "webhook_key"]


@dataclass
class Backoff:
    attempts: int = 0
    due: datetime | None = None


@dataclass
class _Outcome:
    """What one pass did for one subscription."""

    position: int = 0
    delivered: int = 0
    failed: int = 0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)


@dataclass
class WebhookDispatcher:
    """Reads the log in pages for every subscription at once, sends signed messages over a pool of
    kept-alive connections, and records positions in batches (operations.webhook_book).

    A message that fails holds back its subscription (its position stays before it) and is
    retried with exponential backoff; the messages after it that were delivered meanwhile are
    remembered, in memory only, and not sent again (after a restart they are: at-least-once, same
    ids). After `max_attempts` a message is dead-lettered and the rest flow."""

    app: RoyaltyLedger
    key: bytes
    clock: Callable[[], datetime] | None = None
    max_attempts: int = 8
    first_retry: timedelta = timedelta(seconds=1)
    max_retry: timedelta = timedelta(minutes=10)
    timeout_s: float = 10.0
    per_pass: int = 10_000
    page: int = 1_000
    workers: int = 4
    record_every_s: float = 5.0
    backoff: dict[UUID, Backoff] = field(default_factory=dict)
    _ahead: dict[UUID, set[int]] = field(default_factory=dict, repr=False)
    _signers: dict[UUID, Webhook] = field(default_factory=dict, repr=False)
    _sender: Sender | None = field(default=None, repr=False)
    _book: SubscriptionBook | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return (self.clock or self.app.clock)()

    @property
    def sender(self) -> Sender:
        if self._sender is None:
            self._sender = Sender(timeout_s=self.timeout_s, workers=self.workers)
        return self._sender

    @property
    def book(self) -> SubscriptionBook:
        if self._book is None:
            self._book = SubscriptionBook(self.app, self.record_every_s)
        return self._book

    def close(self) -> None:
        """Record the positions reached and close the held connections."""
        if self._book is not None:
            self._book.record(flush=True)
        if self._sender is not None:
            self._sender.close()
            self._sender = None

    def subscriptions(self) -> list[WebhookSubscription]:
        return self.book.refresh()

    def run_once(self, flush: bool = True) -> dict[str, int]:
        """Replays, then pages of new messages until every subscription is caught up (or backing
        off, or `per_pass` log events were read). Records positions (all when `flush`, else those
        due). Returns counts."""
        totals = {"delivered": 0, "failed": 0, "dead_lettered": 0}
        subs = self.subscriptions()
        self._count(totals, self._replays(subs))
        read = 0
        while read < self.per_pass:
            due = [s for s in subs if self._is_due(s)]
            head = self.app.head_position()
            start = min((self.book.position(s) for s in due), default=head) + 1
            if start > head:
                break
            topics = sorted({t for s in due for t in subscribed_topics(self.app, s)})
            limit = min(self.page, self.per_pass - read)
            notes = self.app.recorder.select_notifications(start, limit, stop=head, topics=topics)
            read += len(notes)
            # a page that is not full read every event of these topics up to the head: the
            # subscriptions are past all of it (else each pass would scan from the last event of
            # a subscribed type, however far back)
            last = int(notes[-1].id) if len(notes) == limit else head
            self._count(totals, self._deliver(due, read_events(self.app, notes), last))
            self.book.record()
            if len(notes) < limit and all(self.book.position(s) >= last for s in due):
                break  # caught up (a subscription held back by a failure is no longer due)
            subs = self.subscriptions()
        self.book.record(flush=flush)
        return totals

    def run_forever(self, poll_seconds: float = 0.05, stop: threading.Event | None = None) -> None:
        """Pass after pass while there is work; when idle, only the log's head position is read,
        every `poll_seconds`, until it moves (a new event, a replay request) or a retry is due."""
        seen = -1
        while stop is None or not stop.is_set():
            head = self.app.head_position()
            retry_due = any(b.due is not None and self.now() >= b.due for b in self.backoff.values())
            if head != seen or retry_due:
                seen = head
                if any(self.run_once(flush=False).values()):
                    continue
            time.sleep(poll_seconds)

    def _is_due(self, sub: WebhookSubscription) -> bool:
        state = self.backoff.get(sub.id)
        return state is None or state.due is None or self.now() >= state.due

    def _count(self, totals: dict[str, int], outcomes: dict[UUID, _Outcome]) -> None:
        for sub_id, o in outcomes.items():
            totals["delivered"] += o.delivered + len(o.replayed)
            totals["failed"] += o.failed
            totals["dead_lettered"] += len(o.dead_letters)
            self.book.note(sub_id, o.position, o.delivered, o.dead_letters, o.replayed)

    def _delivery(self, sub: WebhookSubscription, message: Message) -> Delivery:
        signer = self._signers.get(sub.id)
        if signer is None:
            signer = self._signers[sub.id] = Webhook(subscription_secret(self.key, sub.id))
        return Delivery(sub.url, message, signer.sign)

    def _replays(self, subs: list[WebhookSubscription]) -> dict[UUID, _Outcome]:
        outcomes: dict[UUID, _Outcome] = {}
        for sub in subs:
            if not sub.replays:
                continue
            positions = {sub.dead_letters[m]["position"] for m in sub.replays if m in sub.dead_letters}
            notes = [n for p in sorted(positions) for n in self.app.read_log(p, stop=p)]
            events = {e.position: e for e in read_events(self.app, notes)}
            outcome = outcomes[sub.id] = _Outcome()
            for mid in list(sub.replays):
                event = events.get(sub.dead_letters.get(mid, {}).get("position", -1))
                if event is None:
                    continue
                message = event.message_for(sub)
                if message.id == mid and self.sender.send(self._delivery(sub, message)) is None:
                    outcome.replayed.append(mid)
        return outcomes

    def _deliver(self, subs: list[WebhookSubscription], events: list[LogEvent], last: int) -> dict[UUID, _Outcome]:
        """Send this page's messages: each subscription's first one alone (a receiver that is down
        costs one attempt, not a page of them), then the rest of every subscription together."""
        pending: dict[UUID, list[Message]] = {}
        for sub in subs:
            ahead, position = self._ahead.get(sub.id, set()), self.book.position(sub)
            pending[sub.id] = [
                e.message_for(sub)
                for e in events
                if e.position > position and e.position not in ahead and e.concerns(sub)
            ]
        heads = [(sub, pending[sub.id][0]) for sub in subs if pending[sub.id]]
        results: dict[tuple[UUID, int], str | None] = {}
        sent = self.sender.send_all([self._delivery(s, m) for s, m in heads])
        for (sub, message), reason in zip(heads, sent, strict=True):
            results[(sub.id, message.position)] = reason
        rest = [
            (sub, m) for sub, head in heads if results[(sub.id, head.position)] is None for m in pending[sub.id][1:]
        ]
        sent = self.sender.send_all([self._delivery(s, m) for s, m in rest])
        for (sub, message), reason in zip(rest, sent, strict=True):
            results[(sub.id, message.position)] = reason
        return {sub.id: self._settle(sub, pending[sub.id], results, last) for sub in subs}

    def _settle(
        self, sub: WebhookSubscription, messages: list[Message], results: dict[tuple[UUID, int], str | None], last: int
    ) -> _Outcome:
        """Walk the messages in log order: the position moves up to the first failure (which backs
        off, or is dead-lettered after `max_attempts`); deliveries past it are remembered."""
        outcome, state = _Outcome(position=last), self.backoff.setdefault(sub.id, Backoff())
        ahead = self._ahead.setdefault(sub.id, set())
        blocked = False
        for message in messages:
            key = (sub.id, message.position)
            if key not in results:  # not sent (its subscription's first message failed): from here next time
                if not blocked:
                    outcome.position = message.position - 1
                break
            reason = results[key]
            if reason is None:
                outcome.delivered += 1
                if blocked:
                    ahead.add(message.position)
                continue
            if blocked:
                continue  # retried after the message that holds the subscription back
            state.attempts += 1
            outcome.failed += 1
            if state.attempts < self.max_attempts:
                state.due = self.now() + min(self.first_retry * 2 ** (state.attempts - 1), self.max_retry)
                outcome.position, blocked = message.position - 1, True
                continue
            outcome.dead_letters.append(
                {
                    "message_id": message.id,
                    "position": message.position,
                    "event_type": message.type,
                    "reason": reason,
                    "attempts": state.attempts,
                }
            )
            state.attempts, state.due = 0, None  # set aside: the next one's turn
        if not blocked:
            state.attempts, state.due = 0, None
        self._ahead[sub.id] = {p for p in ahead if p > outcome.position}
        return outcome
