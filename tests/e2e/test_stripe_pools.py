"""Stripe subscriptions and invoices into a pool, through the verified webhook, against localstripe:
a subscription links a subscriber to the pool, its paid invoice is a contribution, a refund of
the charge takes part back, redeliveries change nothing, an unlinked invoice is quarantined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stripe

from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from projections.pools_compare import compare_pools
from projections.statements.close import engine_for
from tests.payments_helpers import Clock, payments_catalogue, post_event, webhook_api
from tests.peers.fixtures import localstripe_client
from tests.pools_helpers import listener_secret  # noqa: F401

__all__ = ["localstripe_client"]
pytestmark = pytest.mark.usefixtures("listener_secret")


def _subscribe(client: stripe.StripeClient, metadata: dict[str, str]) -> tuple[stripe.Subscription, stripe.Invoice]:
    customer = client.v1.customers.create(params={"email": "fan@example.org"})
    card = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    client.v1.customers.update(customer.id, params={"invoice_settings": {"default_payment_method": card.id}})
    plan = client.v1.plans.create(
        params={"amount": 999, "currency": "eur", "interval": "month", "product": {"name": "Listening"}}
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"plan": plan.id}], "metadata": metadata}
    )
    latest = sub.latest_invoice
    invoice = client.v1.invoices.retrieve(latest if isinstance(latest, str) else latest.id)
    return sub, invoice


def test_a_subscription_s_invoices_and_refunds_reach_the_pool(sqlite_config, localstripe_client):
    now = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(now + timedelta(hours=1))
    app = RoyaltyLedger(sqlite_config, clock=clock)
    payments_catalogue(app)
    app.configure_pool("subs", "Subscriptions", "subscription", "EUR", "t")
    app.set_pool_rule("subs", {"method": "user-centric"}, str(Period.containing(now)), "t", "t")
    api = webhook_api(sqlite_config, clock)
    sub, invoice = _subscribe(localstripe_client, {"pool": "subs", "listener": "fan-1"})
    linked = post_event(api, "customer.subscription.created", sub, now)
    assert linked.status_code == 200 and linked.json()["outcome"] == "accepted", linked.text
    paid = post_event(api, "invoice.paid", invoice, now)
    assert paid.json()["outcome"] == "accepted", paid.text
    assert post_event(api, "invoice.paid", invoice, now).json()["outcome"] == "duplicate"
    # The invoice's payment intent is not a sale of a recording: left to invoice.paid.
    intent = localstripe_client.v1.payment_intents.retrieve(str(invoice.payment_intent))
    as_sale = post_event(api, "payment_intent.succeeded", {**intent.to_dict(), "invoice": invoice.id}, now)
    assert as_sale.json()["outcome"] == "ignored"
    localstripe_client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300})
    charge = localstripe_client.v1.charges.retrieve(
        intent.latest_charge if isinstance(intent.latest_charge, str) else intent.latest_charge.id
    )
    refunded = post_event(api, "charge.refunded", charge, now + timedelta(seconds=5))
    assert refunded.json()["outcome"] == "accepted", refunded.text
    again = post_event(api, "charge.refunded", charge, now + timedelta(seconds=6))
    assert again.json()["outcome"] == "duplicate"
    cancelled = post_event(api, "customer.subscription.deleted", {**sub.to_dict(), "status": "canceled"}, now)
    assert cancelled.json()["outcome"] == "accepted"
    _, stray = _subscribe(localstripe_client, {})
    held = post_event(api, "invoice.paid", stray, now)
    assert held.json()["outcome"] == "quarantined" and "is not configured" in held.text
    engine = engine_for(app, app.config)
    doc = compare_pools(app.config, engine.history, Period.containing(now), app.head_position()).as_dict()
    assert doc["totals"]["EUR"]["configured"] == 9_990_000 - 3_000_000  # €9.99 paid, €3.00 refunded
    assert doc["pools"][0]["subscribers"] == 1
    api.close()
    app.close()
