"""Pytest fixtures for the payment peers; import them into a test module by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.peers.localstripe import running_localstripe
from tests.peers.transfers_server import TransfersState, running_transfers_server

API_KEY = "sk_test_royalty_ledger_0123456789"
WEBHOOK_SECRET = "whsec_test_royalty_ledger_0123456789"  # noqa: S105 - a test-only secret


@pytest.fixture(scope="session")
def localstripe_client() -> Iterator[stripe.StripeClient]:
    """A stripe client talking to a localstripe subprocess on loopback (one per test session)."""
    with running_localstripe() as url:
        yield stripe.StripeClient(API_KEY, base_addresses={"api": url})


@pytest.fixture
def transfers() -> Iterator[tuple[str, TransfersState]]:
    """The local Transfers server (localstripe has no Connect transfers): (base URL, state)."""
    with running_transfers_server(API_KEY) as served:
        yield served


def paid_intent(
    client: stripe.StripeClient, amount: int, currency: str, metadata: dict[str, str]
) -> stripe.PaymentIntent:
    """A payment intent confirmed with a test card, as localstripe reports it."""
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    intent = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": method.id,
            "metadata": metadata,
        }
    )
    return client.v1.payment_intents.confirm(intent.id)


def refunded_charge(client: stripe.StripeClient, intent_id: str, amount: int) -> stripe.Charge:
    """Refund part of a payment in localstripe; the charge as it stands afterwards."""
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": amount})
    intent = client.v1.payment_intents.retrieve(intent_id)
    charge = intent.latest_charge
    return client.v1.charges.retrieve(charge if isinstance(charge, str) else charge.id)
