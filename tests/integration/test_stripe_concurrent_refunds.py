"""Two `charge.refunded` webhooks of one charge arriving together: both refunds are reversed.

Stripe sends the charge's *cumulative* `amount_refunded`; two refunds of one charge made close
together arrive as two events (400, then 900) that may be delivered at the same moment and in
either order. Each is signed for real and posted from its own thread, released together; an
answer that is not 2xx is delivered again, as Stripe does. Whatever the interleaving, the sale
ends with exactly 9.00 reversed and nothing of it in quarantine.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from ledger.application import RoyaltyLedger
from ledger.payments.store import StripeStore
from ledger.store.config import StoreConfig
from ledger.usage.ingest import UsageIngest
from ledger.usage.listener import SECRET_ENV
from ledger.usage.store import UsageConflict, UsageStore
from tests.payments_helpers import OCT_5, SALE_META, Clock, payments_catalogue, webhook_api
from tests.peers.fixtures import WEBHOOK_SECRET, localstripe_client, paid_intent, refunded_charge
from tests.peers.localstripe import event_of, signed
from tests.usage_helpers import SECRET

__all__ = ["localstripe_client"]
ROUNDS = 6
REDELIVERIES = 5


@pytest.fixture
def api(store_config: StoreConfig, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    clock = Clock()
    seed = RoyaltyLedger(store_config, clock=clock)
    payments_catalogue(seed)
    seed.close()
    with webhook_api(store_config, clock) as client:
        yield client


def _deliver(api: Any, payload: bytes, signature: str, start: threading.Barrier) -> list[int]:
    """Post once when both threads are ready; then redeliver any non-2xx answer, as Stripe does."""
    start.wait()
    statuses = []
    for _ in range(REDELIVERIES):
        answer = api.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        statuses.append(answer.status_code)
        if 200 <= answer.status_code < 300:
            break
    return statuses


def _quarantined_refunds(app: Any, charge_id: str) -> list[tuple[Any, ...]]:
    return UsageStore(app).query(
        "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe' AND usage_id LIKE ?",
        "SELECT usage_id, reason FROM usage_quarantine WHERE source = 'stripe' AND usage_id LIKE %s",
        (f"{charge_id}:%",),
    )


def test_two_refunds_of_one_charge_delivered_together_reverse_both(
    api: Any, localstripe_client: stripe.StripeClient
) -> None:
    ledger = api.app.state.ledger
    created = int(OCT_5.timestamp())
    for round_ in range(ROUNDS):
        intent = paid_intent(localstripe_client, 1000, "eur", SALE_META)
        sale, sale_signature = signed(event_of("payment_intent.succeeded", intent, created), WEBHOOK_SECRET)
        answer = api.post("/v1/webhooks/stripe", content=sale, headers={"Stripe-Signature": sale_signature})
        assert answer.json()["outcome"] == "accepted", answer.text
        first = refunded_charge(localstripe_client, intent.id, 400)  # amount_refunded 400
        second = refunded_charge(localstripe_client, intent.id, 500)  # amount_refunded 900
        assert (first.amount_refunded, second.amount_refunded) == (400, 900)
        deliveries = [signed(event_of("charge.refunded", c, created + 60), WEBHOOK_SECRET) for c in (first, second)]
        if round_ % 2:
            deliveries.reverse()  # the later refund's event first, as Stripe may deliver it
        start = threading.Barrier(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(_deliver, api, payload, sig, start) for payload, sig in deliveries]
            statuses = [f.result() for f in futures]
        assert all(200 <= s[-1] < 300 for s in statuses), (round_, statuses)
        assert StripeStore(ledger).refunded_micros(intent.id) == 9_000_000, (round_, statuses)
        assert _quarantined_refunds(ledger, first.id) == [], round_


def test_a_webhook_whose_usage_could_not_be_written_answers_503_and_is_recorded_on_redelivery(
    api: Any, localstripe_client: stripe.StripeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = api.app.state.ledger
    intent = paid_intent(localstripe_client, 700, "eur", SALE_META)
    payload, signature = signed(event_of("payment_intent.succeeded", intent, int(OCT_5.timestamp())), WEBHOOK_SECRET)
    head = ledger.head_position()

    def always_overtaken(*_: Any, **__: Any) -> None:
        raise UsageConflict("usage watermark moved from 1 to 2")

    with monkeypatch.context() as patch:
        patch.setattr(UsageIngest, "record_built", always_overtaken)
        refused = api.post("/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": signature})
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["type"].endswith("webhook-not-recorded")
    assert ledger.head_position() == head  # no receipt: the redelivery is handled afresh
    again = api.post("/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": signature})
    assert (again.status_code, again.json()["outcome"]) == (200, "accepted")
