"""Stripe webhooks through the API against localstripe: sales, refunds, quarantine, rejections.

Payment intents and refunds are made in localstripe (a stateful Stripe emulator run as a
subprocess); the webhook payloads wrap its objects and are signed for real with the secret.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
import stripe

from ledger.application import RoyaltyLedger
from ledger.payments.store import StripeStore
from ledger.store.config import StoreConfig
from ledger.usage.listener import SECRET_ENV
from ledger.usage.quarantine import retry_quarantine
from ledger.usage.store import UsageStore
from tests.payments_helpers import OCT_5, SALE_META, Clock, payments_catalogue, post_event, webhook_api
from tests.peers.fixtures import WEBHOOK_SECRET, localstripe_client, paid_intent, refunded_charge
from tests.peers.localstripe import event_of, signed
from tests.usage_helpers import SECRET, upc

__all__ = ["localstripe_client"]


@pytest.fixture
def api(store_config: StoreConfig, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    clock = Clock()
    seed = RoyaltyLedger(store_config, clock=clock)
    payments_catalogue(seed)
    seed.close()
    with webhook_api(store_config, clock) as client:
        yield client


def _rows(app: Any, usage_id: str) -> list[tuple[Any, ...]]:
    return UsageStore(app).query(
        "SELECT kind, gross_micros, currency, isrc, occurred_at_us, refund_of FROM usage_rows "
        "WHERE source = 'stripe' AND (usage_id = ? OR refund_of = ?) ORDER BY position",
        "SELECT kind, gross_micros, currency, isrc, occurred_at_us, refund_of FROM usage_rows "
        "WHERE source = 'stripe' AND (usage_id = %s OR refund_of = %s) ORDER BY position",
        (usage_id, usage_id),
    )


def test_a_succeeded_payment_intent_becomes_one_sale_row_and_redelivery_changes_nothing(
    api: Any,
    localstripe_client: stripe.StripeClient,
) -> None:
    intent = paid_intent(localstripe_client, 1299, "eur", SALE_META)
    first = post_event(api, "payment_intent.succeeded", intent, OCT_5)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "accepted"
    ledger = api.app.state.ledger
    head = ledger.head_position()
    again = post_event(api, "payment_intent.succeeded", intent, OCT_5)
    assert again.json()["outcome"] == "duplicate"
    assert ledger.head_position() == head
    assert _rows(ledger, intent.id) == [
        ("download", 12_990_000, "EUR", SALE_META["isrc"], int(OCT_5.timestamp()) * 1_000_000, None)
    ]


def test_refunds_reverse_the_sale_once_per_refunded_amount_at_the_time_they_occur(
    api: Any,
    localstripe_client: stripe.StripeClient,
) -> None:
    intent = paid_intent(localstripe_client, 1000, "eur", SALE_META)
    post_event(api, "payment_intent.succeeded", intent, OCT_5)
    charge = refunded_charge(localstripe_client, intent.id, 300)
    refund_time = OCT_5.replace(month=11, day=3)
    assert post_event(api, "charge.refunded", charge, refund_time).json()["outcome"] == "accepted"
    assert post_event(api, "charge.refunded", charge, refund_time).json()["outcome"] == "duplicate"
    charge = refunded_charge(localstripe_client, intent.id, 200)
    assert post_event(api, "charge.refunded", charge, refund_time).json()["outcome"] == "accepted"
    ledger = api.app.state.ledger
    sale_us, refund_us = (int(t.timestamp()) * 1_000_000 for t in (OCT_5, refund_time))
    # A refund is in the period it occurred (November), keyed by its sale (refund_of).
    assert [(r[0], r[1], r[4], r[5]) for r in _rows(ledger, intent.id)] == [
        ("download", 10_000_000, sale_us, None),
        ("refund", -3_000_000, refund_us, intent.id),
        ("refund", -2_000_000, refund_us, intent.id),
    ]
    assert StripeStore(ledger).refunded_micros(intent.id) == 5_000_000


def test_unknown_metadata_is_quarantined_with_its_reason_not_lost(
    api: Any,
    localstripe_client: stripe.StripeClient,
) -> None:
    unknown = paid_intent(localstripe_client, 500, "eur", {**SALE_META, "isrc": "USRC17607839"})
    bare = paid_intent(localstripe_client, 500, "eur", {})
    for intent in (unknown, bare):
        answer = post_event(api, "payment_intent.succeeded", intent, OCT_5)
        assert answer.json()["outcome"] == "quarantined", answer.text
    ledger = api.app.state.ledger
    held = dict(
        UsageStore(ledger).query(
            "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe'",
            "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe'",
        )
    )
    assert held == {unknown.id: "unknown_isrc", bare.id: "malformed"}
    assert _rows(ledger, unknown.id) == [] and _rows(ledger, bare.id) == []
    # Once the release is delivered, the held sale is re-submitted and accepted, whole.
    ledger.upsert_recording("USRC17607839", "Late", "Aria Lune", 180_000, "test")
    ledger.deliver_release(upc(300), "Late single", ["USRC17607839"], date(2026, 1, 2), "test")
    assert retry_quarantine(ledger, actor="test", secret=SECRET).accepted == 1
    assert [(r[0], r[1]) for r in _rows(ledger, unknown.id)] == [("download", 5_000_000)]


def test_unsigned_stale_or_mismatched_webhooks_answer_400_and_record_nothing(
    api: Any,
    localstripe_client: stripe.StripeClient,
) -> None:
    intent = paid_intent(localstripe_client, 700, "eur", SALE_META)
    event = event_of("payment_intent.succeeded", intent, int(OCT_5.timestamp()))
    payload, good = signed(event, WEBHOOK_SECRET)
    _, wrong_secret = signed(event, "whsec_someone_else")
    _, stale = signed(event, WEBHOOK_SECRET, at=int(time.time()) - 301)
    tampered = payload.replace(b'"amount": 700', b'"amount": 70000')
    ledger = api.app.state.ledger
    head = ledger.head_position()
    attempts: list[tuple[bytes, dict[str, str]]] = [
        (payload, {}),
        (payload, {"Stripe-Signature": wrong_secret}),
        (payload, {"Stripe-Signature": stale}),
        (tampered, {"Stripe-Signature": good}),
        (payload, {"Stripe-Signature": "t=1,v1=00"}),
    ]
    for body, headers in attempts:
        answer = api.post("/v1/webhooks/stripe", content=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert ledger.head_position() == head
    assert StripeStore(ledger).handled_outcome(event["id"]) is None
    assert post_event(api, "payment_intent.succeeded", intent, OCT_5).json()["outcome"] == "accepted"


def test_a_refund_of_a_sale_never_accepted_is_held_in_quarantine(
    api: Any,
    localstripe_client: stripe.StripeClient,
) -> None:
    intent = paid_intent(localstripe_client, 900, "eur", SALE_META)  # its sale webhook never came
    charge = refunded_charge(localstripe_client, intent.id, 900)
    answer = post_event(api, "charge.refunded", charge, OCT_5).json()
    assert (answer["outcome"], answer["detail"]) == ("quarantined", f"sale {intent.id} is not among accepted sales")
    held = UsageStore(api.app.state.ledger).query(
        "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe'",
        "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe'",
    )
    assert held == [(f"{charge.id}:refunded:900", "malformed")]


def test_control_characters_in_a_signed_event_are_a_quarantine_reason_or_a_422_never_a_500(api: Any) -> None:
    """Issue 15 finding 3: a NUL sent on to PostgreSQL failed the request with a 500."""
    intent = {
        "id": "pi_ctrl1",
        "object": "payment_intent",
        "amount": 500,
        "amount_received": 500,
        "currency": "eur",
        "status": "succeeded",
        "metadata": {**SALE_META, "listener": "listener\x00seven"},
    }
    answer = post_event(api, "payment_intent.succeeded", intent, OCT_5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "quarantined"
    ledger = api.app.state.ledger
    held = UsageStore(ledger).query(
        "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe'",
        "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe'",
    )
    assert held == [("pi_ctrl1", "control_character_in_listener_id")]
    head = ledger.head_position()
    bad_id = post_event(api, "payment_intent.succeeded", {**intent, "id": "pi_\x00"}, OCT_5)
    assert bad_id.status_code == 422, bad_id.text
    assert bad_id.json()["errors"][0]["field"] == "object id" and "U+0000" in bad_id.json()["detail"]
    assert ledger.head_position() == head
