"""Stripe subscriptions and invoices become pool contributions (the verified-webhook path).

- `customer.subscription.created|updated|deleted`: a subscription whose metadata names a `pool`
  and a `listener` is linked to them (`PoolSubscription.Linked`, the listener kept as its HMAC
  only); later events record its status.
- `invoice.paid`: the subscriber's payment into the pool, contribution id = the invoice's payment
  intent (else the invoice id), occurred when it was paid; an invoice whose subscription is not
  linked is quarantined with its reason (it names no known pool), never dropped.
- `charge.refunded` of a charge that paid such an invoice: a refund contribution for the refunded
  amount not yet reversed (Stripe states refunds cumulatively), in the period it occurred.
Everything goes through `record_contributions`, so it is validated, deduplicated and quarantined
exactly like a CSV row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from ledger.accounting import minor_unit_micros
from ledger.domain.identifiers import InvalidIdentifier, parse_currency
from ledger.domain.pool import PoolSubscription, pool_subscription_id
from ledger.usage.listener import ListenerHasher, load_listener_secret

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger

SOURCE = "stripe"
SUBSCRIPTION_TYPES = ("customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted")
POOL_TYPES = (*SUBSCRIPTION_TYPES, "invoice.paid")

Outcome = tuple[str, str | None, str]  # (outcome, contribution id, note)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def _micros(amount: Any, currency: str) -> int | None:
    if type(amount) is not int or amount < 0:
        return None
    try:
        return amount * minor_unit_micros(parse_currency(currency))
    except InvalidIdentifier:
        return None


def _link(app: RoyaltyLedger, sub_id: str) -> PoolSubscription | None:
    try:
        found: Any = app.repository.get(pool_subscription_id(SOURCE, sub_id))
    except AggregateNotFoundError:
        return None
    assert isinstance(found, PoolSubscription)
    return found


def handle_subscription(app: RoyaltyLedger, obj: dict[str, Any], actor: str, secret: bytes | None) -> Outcome:
    sub_id, status = str(obj["id"]), str(obj.get("status") or "unknown")
    meta: dict[str, Any] = obj.get("metadata") or {}
    linked = _link(app, sub_id)
    if linked is not None:
        if linked.status == status:
            return "duplicate", None, f"subscription {sub_id} is already {status}"
        linked.change_status(status, actor)
        app.save(linked)
        return "accepted", None, f"subscription {sub_id} is {status}"
    pool, listener = meta.get("pool"), meta.get("listener")
    if not isinstance(pool, str) or not isinstance(listener, str) or not pool or not listener:
        return "ignored", None, "no pool and listener in the subscription's metadata"
    if pool not in app.pool_keys():
        return "quarantined", None, f"subscription {sub_id}: pool {pool!r} is not configured"
    hasher = ListenerHasher(secret or load_listener_secret())
    app.save(
        PoolSubscription(
            provider=SOURCE,
            subscription_id=sub_id,
            pool=pool,
            listener_hash=hasher(listener),
            status=status,
            actor=actor,
        )
    )
    return "accepted", None, f"subscription {sub_id} linked to pool {pool}"


def _record(app: RoyaltyLedger, row: dict[str, Any], actor: str) -> Outcome:
    result = app.record_contributions([row], SOURCE, actor, origin="stripe")
    cid = str(row["contribution_id"])
    if result.accepted:
        return "accepted", cid, ""
    if result.quarantined:
        return "quarantined", cid, "; ".join(f"{r['reason']}: {r['detail']}" for r in result.reasons)
    return "duplicate", cid, "contribution already recorded"


def handle_invoice_paid(app: RoyaltyLedger, event: dict[str, Any], invoice: dict[str, Any], actor: str) -> Outcome:
    sub_id = invoice.get("subscription")
    linked = _link(app, str(sub_id)) if isinstance(sub_id, str) else None
    intent = invoice.get("payment_intent")
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    at = paid_at if type(paid_at) is int else int(event["created"])
    currency = str(invoice.get("currency", "")).upper()
    row: dict[str, Any] = {
        "contribution_id": intent if isinstance(intent, str) and intent else str(invoice["id"]),
        "pool": linked.pool if linked is not None else f"stripe-subscription:{sub_id}",
        "kind": "payment",
        "occurred_at": _iso(at),
        "amount_micros": _micros(invoice.get("amount_paid"), currency),
        "currency": currency,
    }
    if linked is not None:
        row["listener_hash"] = linked.listener_hash
    return _record(app, row, actor)


def pool_refund(app: RoyaltyLedger, event: dict[str, Any], charge: dict[str, Any], actor: str) -> Outcome | None:
    """The refund of a charge that paid a pool invoice, or None when the charge paid none."""
    candidates = [c for c in (charge.get("invoice"), charge.get("payment_intent")) if isinstance(c, str) and c]
    from ledger.usage.store import UsageStore

    store = UsageStore(app)
    lookups = app._lookups(store)
    payment = next((p for c in candidates if (p := lookups.stored_payment(SOURCE, c)) is not None), None)
    if payment is None:
        return None
    currency = str(charge.get("currency", "")).upper()
    refunded = _micros(charge.get("amount_refunded"), currency)
    if refunded is None:
        return "quarantined", None, "no refunded amount"
    delta = refunded - lookups.refunded_so_far(SOURCE, payment.contribution_id)
    if delta <= 0:
        return "duplicate", None, "refunded amount already recorded"
    row = {
        "contribution_id": f"{charge.get('id')}:refunded:{charge.get('amount_refunded')}",
        "pool": payment.pool_key,
        "kind": "refund",
        "refund_of": payment.contribution_id,
        "occurred_at": _iso(max(int(event["created"]), payment.occurred_at_us // 1_000_000)),
        "amount_micros": delta,
        "currency": currency,
    }
    return _record(app, row, actor)
