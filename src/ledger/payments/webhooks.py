"""Stripe events become usage: a succeeded payment intent is a sale row, a refunded charge a refund row.

Both go through the one usage ingestion path (source `stripe`), so a sale is validated, priced,
deduplicated and quarantined exactly like a row from a file. A handled event is recorded once,
by Stripe event id (a PaymentEventHandled event plus its stripe_webhook_events row, together).
Ingest first, receipt second: a crash between them leaves Stripe to redeliver, and the usage
ids (the payment intent id; the charge id with its cumulative refunded amount) make the second
pass a counted duplicate, never a second accrual.

Stripe states a charge's refunds cumulatively (`amount_refunded`), and two refunds of one charge
may be delivered at the same moment, in either order. The increment a refund event reverses
(its cumulative amount minus what the sale's stored refunds already reversed) is worked out in
the same serialised step as its write: afresh in every write attempt, and the write is refused
if any usage landed since that attempt read the store (the usage watermark). An event whose
usage could not be written answers non-2xx (`WebhookNotRecorded`), so Stripe delivers it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from ledger.accounting import minor_unit_micros
from ledger.domain.identifiers import InvalidIdentifier, parse_currency
from ledger.domain.payment_event import PaymentEventReceipt, payment_event_id
from ledger.domain.text import check_texts
from ledger.payments.store import STRIPE_SOURCE, HandledWebhook, StripeStore
from ledger.pools.stripe_events import (
    POOL_TYPES,
    SUBSCRIPTION_TYPES,
    handle_invoice_paid,
    handle_subscription,
    pool_refund,
)
from ledger.usage.ingest import UsageIngest
from ledger.usage.rows import RowBatch, datetime_to_us, normalise_dicts
from ledger.usage.store import UsageConflict

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

SALE_KINDS = ("purchase", "download", "tip")
HANDLED_TYPES = ("payment_intent.succeeded", "charge.refunded", *POOL_TYPES)  # pools: ledger.pools.stripe_events


class WebhookNotRecorded(RuntimeError):
    """The event's usage could not be written (other writes kept landing first): nothing of it
    was recorded, and the sender should deliver it again."""


class MalformedEvent(ValueError):
    """A signed event without the shape Stripe documents for its type: answered 400, nothing
    recorded (a guess at its time or its object could put money in the wrong place)."""


# Stripe's `created` is Unix seconds; anything outside year 1970..9999 is not a time.
_LAST_SECOND = 253_402_300_799


def check_event_shape(event: dict[str, Any]) -> dict[str, Any]:
    """The event's object, once `created`, `data.object` and the metadata have their types."""
    created = event.get("created")
    if created is None:
        raise MalformedEvent(f"event {event['id']}: created is missing")
    if type(created) is not int:
        raise MalformedEvent(f"event {event['id']}: created is a {type(created).__name__}, not Unix seconds (an int)")
    if not 0 < created <= _LAST_SECOND:
        raise MalformedEvent(f"event {event['id']}: created {created} is out of range for Unix seconds")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedEvent(f"event {event['id']}: data.object must be an object")
    if not isinstance(obj.get("id"), str):
        raise MalformedEvent(f"event {event['id']}: data.object.id must be a string")
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise MalformedEvent(f"event {event['id']}: data.object.metadata must be an object")
    return obj


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    event_type: str
    outcome: str  # accepted | duplicate | quarantined | ignored
    usage_id: str | None = None
    detail: str = ""
    position: int | None = None


def minor_to_micros(amount_minor: int, currency: str) -> int:
    """Stripe amounts are integers in the currency's minor unit; micro-units are exact multiples."""
    return amount_minor * minor_unit_micros(currency)


def handle_stripe_event(
    app: RoyaltyLedger, event: dict[str, Any], *, actor: str = "stripe", secret: bytes | None = None
) -> WebhookResult:
    """Handle one verified event; redelivery of a handled event changes nothing.

    An event of a handled type without the documented shape raises MalformedEvent.
    """
    event_id, event_type = str(event["id"]), str(event.get("type", ""))
    # Looked up and recorded as they are: the text rules of every way in (ledger.domain.text).
    check_texts({"event id": (event_id, "id")})
    if event_type not in HANDLED_TYPES:
        return WebhookResult(event_id, event_type, "ignored", detail="event type not handled")
    obj = check_event_shape(event)
    check_texts({"object id": (str(obj["id"]), "id")})
    store = StripeStore(app)
    previous = store.handled_outcome(event_id)
    if previous is not None or payment_event_id(STRIPE_SOURCE, event_id) in app.repository:
        return WebhookResult(event_id, event_type, "duplicate", detail=f"already {previous}")
    pooled = None
    if event_type in SUBSCRIPTION_TYPES:
        pooled = handle_subscription(app, obj, actor, secret)
    elif event_type == "invoice.paid":
        pooled = handle_invoice_paid(app, event, obj, actor)
    elif event_type == "charge.refunded":
        pooled = pool_refund(app, event, obj, actor)  # None: the charge paid no pool invoice
    elif isinstance(obj.get("invoice"), str) and obj["invoice"]:
        pooled = ("ignored", None, "the payment of an invoice: recorded by invoice.paid")
    if pooled is not None:
        outcome, usage_id, note = pooled
    elif event_type == "payment_intent.succeeded":
        sale = _sale_row(event, obj)
        outcome, usage_id, note = _ingest(app, lambda: (sale, ""), actor, secret, event_id)
    else:
        outcome, usage_id, note = _ingest(app, lambda: _refund_row(store, event, obj), actor, secret, event_id)
    return _record(app, event, str(obj.get("id", "")), outcome, usage_id, note, actor)


def _sale_row(event: dict[str, Any], intent: dict[str, Any]) -> dict[str, Any]:
    """Metadata names what was bought (isrc or upc), the listener and the territory."""
    meta: dict[str, Any] = intent.get("metadata") or {}
    currency = str(intent.get("currency", "")).upper()
    amount = intent.get("amount_received") or intent.get("amount")
    kind = meta.get("kind") or "purchase"
    return {
        "sale_id": intent.get("id"),
        "kind": kind if kind in SALE_KINDS else f"unknown:{kind}",
        "occurred_at_us": int(event["created"]) * 1_000_000,
        "isrc": meta.get("isrc"),
        "upc": meta.get("upc"),
        "listener_id": meta.get("listener") or meta.get("listener_id"),
        "territory": meta.get("territory"),
        "currency": currency,
        "amount_micros": _micros(amount, currency),
    }


def _refund_row(store: StripeStore, event: dict[str, Any], charge: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The refunded amount not yet reversed, spread like the sale (the ingestion does the spread).

    The refund occurs when Stripe made it (the event's `created`, never before the sale): it is
    in the period it occurred, allocated under the sale's key (DESIGN.md "Refunds reverse the
    sale they refund"; the statements find the sale by `refund_of`).
    """
    sale_id = str(charge.get("payment_intent") or charge.get("id") or "")
    currency = str(charge.get("currency", "")).upper()
    refunded = _micros(charge.get("amount_refunded"), currency)
    sale = store.sale(sale_id)
    if sale is None:
        # No accepted sale to reverse: the row is held in quarantine as it came (it names no
        # recording, so the ingestion keeps it with its reason rather than pricing it).
        meta: dict[str, Any] = charge.get("metadata") or {}
        return (
            {
                "sale_id": f"{charge.get('id')}:refunded:{charge.get('amount_refunded')}",
                "kind": "refund",
                "refund_of": sale_id,
                "occurred_at_us": int(event["created"]) * 1_000_000,
                "listener_id": meta.get("listener") or "unknown",
                "territory": meta.get("territory"),
                "currency": currency,
                "amount_micros": refunded,
            },
            f"sale {sale_id} is not among accepted sales",
        )
    if refunded is None:
        return None, "no refunded amount"
    delta = refunded - store.refunded_micros(sale_id)
    if delta <= 0:
        return None, "refunded amount already recorded"
    return (
        {
            "sale_id": f"{charge.get('id')}:refunded:{charge.get('amount_refunded')}",
            "kind": "refund",
            "refund_of": sale_id,
            "occurred_at_us": max(sale.occurred_at_us, int(event["created"]) * 1_000_000),
            "isrc": sale.isrc,
            "upc": sale.upc,
            "listener_hash": sale.listener_hash,
            "territory": sale.territory,
            "currency": currency,
            "amount_micros": -delta,
        },
        "",
    )


def _micros(amount: Any, currency: str) -> int | None:
    if type(amount) is not int or amount < 0:
        return None
    try:
        return minor_to_micros(amount, parse_currency(currency))
    except InvalidIdentifier:
        return None


RowBuilder = Callable[[], tuple[dict[str, Any] | None, str]]


def _ingest(
    app: RoyaltyLedger, build: RowBuilder, actor: str, secret: bytes | None, event_id: str
) -> tuple[str, str | None, str]:
    """(outcome, usage id, note) of writing the row `build` makes, built in the write's own
    serialised step (see the module docstring)."""
    built: list[tuple[dict[str, Any] | None, str]] = []

    def batch() -> RowBatch | None:
        built.append(build())
        row = built[-1][0]
        if row is None:
            return None
        hashed = "listener_hash" in row
        clean = {k: v for k, v in row.items() if v is not None}
        return normalise_dicts([clean], STRIPE_SOURCE, listener_hashed=hashed)

    try:
        recorded = UsageIngest(app, actor, secret=secret).record_built(batch, f"stripe:{event_id}")
    except (UsageConflict, IntegrityError) as exc:
        raise WebhookNotRecorded(f"event {event_id}: its usage could not be written ({exc}); deliver it again") from exc
    row, note = built[-1]
    if recorded is None or row is None:
        return "duplicate", None, note
    prepared, _ = recorded
    outcome = "accepted" if prepared.accepted else "quarantined" if prepared.quarantined else "duplicate"
    return outcome, str(row["sale_id"]), note


def _record(
    app: RoyaltyLedger,
    event: dict[str, Any],
    object_id: str,
    outcome: str,
    usage_id: str | None,
    detail: str,
    actor: str,
) -> WebhookResult:
    event_id, event_type = str(event["id"]), str(event["type"])
    receipt = PaymentEventReceipt(
        provider=STRIPE_SOURCE,
        event_id=event_id,
        event_type=event_type,
        object_id=object_id,
        outcome=outcome,
        usage_id=usage_id,
        detail=detail,
        actor=actor,
    )
    row = HandledWebhook(event_id, event_type, object_id, outcome, usage_id, datetime_to_us(app.clock()))
    try:
        recordings = app.save(receipt, side_writes=[row])
    except IntegrityError:  # a concurrent delivery of the same event recorded it first
        return WebhookResult(event_id, event_type, "duplicate", usage_id, "handled concurrently")
    return WebhookResult(event_id, event_type, outcome, usage_id, detail, int(recordings[0].notification.id))
