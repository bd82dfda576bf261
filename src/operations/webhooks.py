"""Outbound webhooks: the log's events, signed as the Standard Webhooks specification says.

Each subscription follows the log from its own recorded position. A message's id is derived
from (subscription, position), so a repeat after a failure or a crash carries the same
`webhook-id`; the receiver deduplicates by it. Headers `webhook-id`, `webhook-timestamp`,
`webhook-signature` (`v1,` base64 HMAC-SHA256 of `id.timestamp.body`, the `standardwebhooks`
package). A failing message is retried with exponential backoff and holds back the messages
after it (order is kept); after `max_attempts` it goes to the dead-letter list and the rest flow.
A subscription's secret is never stored: it is derived from ROYALTY_WEBHOOK_KEY and its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from standardwebhooks import Webhook

from ledger.application import RoyaltyLedger
from ledger.domain.webhook_subscription import OPERATOR, WebhookSubscription
from ledger.webhook_topics import TYPES, subscribed_topics

KEY_ENV = "ROYALTY_WEBHOOK_KEY"


class WebhooksNotConfigured(RuntimeError):
    """ROYALTY_WEBHOOK_KEY is missing or too short."""


def webhook_key(environ: Mapping[str, str] | None = None) -> bytes:
    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    if len(value) < 16:
        raise WebhooksNotConfigured(f"set {KEY_ENV} (16 characters or more; keep it secret)")
    return value.encode()


def subscription_secret(key: bytes, subscription_id: UUID) -> str:
    digest = hmac.new(key, b"webhook-subscription:" + subscription_id.bytes, hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def message_id(subscription_id: UUID, position: int) -> str:
    return "msg_" + uuid5(subscription_id, str(position)).hex


@dataclass
class Message:
    id: str
    position: int
    type: str
    body: str


def _fields(event: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(event, n) for n in names if hasattr(event, n)}


def describe(app: RoyaltyLedger, event: Any, name: str) -> tuple[dict[str, Any], set[str]] | None:
    """(data, the parties it concerns) of one log event; None when it is not a webhook event."""
    aggregate: Any = None
    if name.startswith(("Release.", "SplitAgreement.", "Dispute.", "PayoutTransfer.")):
        aggregate = app.repository.get(event.originator_id, version=event.originator_version)
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


def build_message(app: RoyaltyLedger, subscription: WebhookSubscription, notification: Any) -> Message | None:
    """The message this subscription gets for one log position, or None (another's, or no event)."""
    event = app.decode(notification)
    name = type(event).__qualname__
    kind = TYPES.get(name)
    if kind is None or kind not in subscription.event_types:
        return None
    described = describe(app, event, name)
    if described is None:
        return None
    data, parties = described
    if subscription.owner != OPERATOR:
        if subscription.owner not in parties:
            return None
        if name == "PeriodClose.PeriodClosed":
            data["party"] = subscription.owner
    position = int(notification.id)
    payload = {"type": kind, "timestamp": event.timestamp.isoformat(), "position": position, "data": data}
    body = json.dumps(payload, default=str, sort_keys=True, separators=(",", ":"))
    return Message(message_id(subscription.id, position), position, kind, body)


@dataclass
class Backoff:
    attempts: int = 0
    due: datetime | None = None


@dataclass
class WebhookDispatcher:
    app: RoyaltyLedger
    key: bytes
    clock: Callable[[], datetime] | None = None
    max_attempts: int = 8
    first_retry: timedelta = timedelta(seconds=1)
    max_retry: timedelta = timedelta(minutes=10)
    timeout_s: float = 10.0
    per_pass: int = 1000
    backoff: dict[UUID, Backoff] = field(default_factory=dict)
    _connections: dict[UUID, tuple[str, http.client.HTTPConnection]] = field(default_factory=dict, repr=False)
    _signers: dict[UUID, Webhook] = field(default_factory=dict, repr=False)

    def now(self) -> datetime:
        return (self.clock or self.app.clock)()

    def subscriptions(self) -> list[WebhookSubscription]:
        ids = dict.fromkeys(self.app.aggregate_ids_with(WebhookSubscription.Created))
        subs: list[WebhookSubscription] = [self.app.repository.get(i) for i in ids]
        return [s for s in subs if s.active]

    def run_once(self) -> dict[str, int]:
        """One pass over every subscription: replays, then new messages. Returns counts."""
        totals = {"delivered": 0, "failed": 0, "dead_lettered": 0}
        for subscription in self.subscriptions():
            for k, v in self._pump(subscription).items():
                totals[k] += v
        return totals

    def send(self, subscription: WebhookSubscription, message: Message) -> str | None:
        """POST one signed message; None when the receiver answered 2xx, else the reason.

        One keep-alive connection per subscription is reused across messages; a connection the
        receiver closed meanwhile is reopened once (at-least-once: a repeat keeps its id)."""
        # The signed timestamp is the real time of this attempt (receivers refuse one more than a
        # few minutes off), whatever clock paces the retries.
        sent_at = datetime.now(UTC)
        signer = self._signers.get(subscription.id)
        if signer is None:
            signer = self._signers[subscription.id] = Webhook(subscription_secret(self.key, subscription.id))
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signer.sign(message.id, sent_at, message.body),
        }
        url = urllib.parse.urlsplit(subscription.url)
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        body = message.body.encode()
        for attempt in (1, 2):
            connection = self._connection(subscription)
            try:
                connection.request("POST", target, body, headers)
                with connection.getresponse() as answer:
                    answer.read()
                    status = answer.status
                    if answer.will_close:
                        self._drop(subscription.id)
                return None if 200 <= status < 300 else f"HTTP {status}"
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop(subscription.id)
                if attempt == 2:
                    return f"{type(exc).__name__}: {exc}"
            except (http.client.HTTPException, OSError) as exc:
                self._drop(subscription.id)
                return f"{type(exc).__name__}: {exc}"
        return None  # pragma: no cover - the loop always returns

    def _connection(self, subscription: WebhookSubscription) -> http.client.HTTPConnection:
        held = self._connections.get(subscription.id)
        if held is not None and held[0] == subscription.url:
            return held[1]
        self._drop(subscription.id)
        url = urllib.parse.urlsplit(subscription.url)
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = kind(url.hostname or "", url.port, timeout=self.timeout_s)
        self._connections[subscription.id] = (subscription.url, connection)
        return connection

    def _drop(self, subscription_id: UUID) -> None:
        held = self._connections.pop(subscription_id, None)
        if held is not None:
            held[1].close()

    def close(self) -> None:
        """Close the held connections."""
        for sid in list(self._connections):
            self._drop(sid)

    def _pump(self, sub: WebhookSubscription) -> dict[str, int]:
        counts = {"delivered": 0, "failed": 0, "dead_lettered": 0}
        version = sub.version
        for mid in list(sub.replays):
            letter = sub.dead_letters[mid]
            [notification] = list(self.app.read_log(letter["position"], stop=letter["position"]))
            message = build_message(self.app, sub, notification)
            if message is not None and self.send(sub, message) is None:
                sub.replayed(message_id=mid)
                counts["delivered"] += 1
        state = self.backoff.setdefault(sub.id, Backoff())
        last = sub.position
        if state.due is None or self.now() >= state.due:
            topics = subscribed_topics(self.app, sub)
            for notification in self.app.read_log(sub.position + 1, topics=topics, page=self.per_pass):
                message = build_message(self.app, sub, notification)
                if message is not None:
                    reason = self.send(sub, message)
                    if reason is not None:
                        state.attempts += 1
                        counts["failed"] += 1
                        if state.attempts < self.max_attempts:
                            delay = min(self.first_retry * 2 ** (state.attempts - 1), self.max_retry)
                            state.due = self.now() + delay
                            break
                        sub.dead_letter(
                            message_id=message.id,
                            position=message.position,
                            event_type=message.type,
                            reason=reason,
                            attempts=state.attempts,
                        )
                        counts["dead_lettered"] += 1
                    else:
                        counts["delivered"] += 1
                    state.attempts, state.due = 0, None  # delivered, or set aside: the next one's turn
                last = int(notification.id)
                if counts["delivered"] + counts["dead_lettered"] >= self.per_pass:
                    break
        if last > sub.position:
            sub.advance(position=last, delivered=counts["delivered"])
        if sub.version != version:
            self.app.save(sub)
        return counts
