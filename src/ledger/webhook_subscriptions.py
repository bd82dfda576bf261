"""Webhook subscriptions as the CLI and the API manage them: subscribe, find, list, cancel, replay,
and each subscription's signing secret.

A secret is never stored: it is derived from ROYALTY_WEBHOOK_KEY and the subscription's id, so
the log holds none, and whoever subscribes is shown it once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.application import NotFound, RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.webhook_subscription import EVENT_TYPES, OPERATOR, WebhookSubscription

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


def _is_http_url(url: str) -> bool:
    """Stricter than the aggregate's own check (which replays old events and so stays as it was)."""
    if len(url) > 2000 or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def subscribe(
    app: RoyaltyLedger, owner: str, url: str, event_types: list[str] | None, actor: str
) -> WebhookSubscription:
    """A new subscription (a party's, or the operator's), from the log's head on — not its history."""
    if not _is_http_url(url):
        raise DomainError(f"webhook url {url[:80]!r}: expected an http or https URL with a host")
    if owner != OPERATOR:
        app.require_parties([owner])
    sub = WebhookSubscription(owner=owner, url=url, event_types=list(event_types or EVENT_TYPES), actor=actor)
    sub.advance(position=app.head_position(), delivered=0)
    app.save(sub)
    return sub


def get_subscription(app: RoyaltyLedger, subscription_id: UUID, owner: str | None = None) -> WebhookSubscription:
    """The subscription, if it exists, is active and (when `owner` is given) belongs to `owner`."""
    try:
        found = app.repository.get(subscription_id)
    except AggregateNotFoundError:
        found = None
    if not isinstance(found, WebhookSubscription) or not found.active or owner not in (None, found.owner):
        raise NotFound(f"webhook subscription {subscription_id}: not found")
    return found


def list_subscriptions(app: RoyaltyLedger, owner: str | None = None) -> list[WebhookSubscription]:
    """Active subscriptions (of one owner, or all), oldest first."""
    ids = dict.fromkeys(app.aggregate_ids_with(WebhookSubscription.Created))
    subs: list[WebhookSubscription] = [app.repository.get(i) for i in ids]
    return [s for s in subs if s.active and owner in (None, s.owner)]


def cancel(app: RoyaltyLedger, subscription_id: UUID, actor: str, owner: str | None = None) -> WebhookSubscription:
    sub = get_subscription(app, subscription_id, owner)
    sub.cancel(actor=actor)
    app.save(sub)
    return sub


def request_replay(
    app: RoyaltyLedger, subscription_id: UUID, message_id: str, actor: str, owner: str | None = None
) -> WebhookSubscription:
    """Ask the dispatcher to send a dead-lettered message again (with its own id)."""
    sub = get_subscription(app, subscription_id, owner)
    if message_id in sub.replays:
        raise DomainError(f"message {message_id}: a replay is already requested")
    sub.request_replay(message_id, actor)
    app.save(sub)
    return sub
