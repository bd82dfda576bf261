"""Shared set-up for payment tests: a catalogue with splits and a rights pie, a movable clock."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.app import create_app
from ledger.application import RoyaltyLedger
from ledger.payments.stripe_adapter import StripeSettings
from ledger.store.config import StoreConfig
from tests.peers.fixtures import WEBHOOK_SECRET
from tests.peers.localstripe import event_of, signed
from tests.usage_helpers import ISRCS, build_catalogue

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2; the test client works with httpx
    from fastapi.testclient import TestClient

OCT_5 = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
NOV_21 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DEC_2 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
ISRC = ISRCS[0]
SALE_META = {"isrc": ISRC, "listener": "listener-7", "territory": "DE", "kind": "download"}


@dataclass
class Clock:
    now: datetime = NOV_21

    def __call__(self) -> datetime:
        return self.now


def payments_catalogue(app: RoyaltyLedger) -> None:
    """Aria 60 % / label 40 % of the master; the pie keeps 30 % for the platform."""
    build_catalogue(app)
    app.upsert_party("lbl", "Label", ["label"], "test")
    app.set_split("master", ISRC, {"aria": 600_000, "lbl": 400_000}, JAN_1, "test", "initial")
    app.set_rights_pie({"*:*": {"platform": 300_000, "master": 700_000, "publishing": 0}}, JAN_1, "test pie", "test")


def webhook_api(config: StoreConfig, clock: Clock) -> TestClient:
    app = create_app(config, clock=clock)
    app.state.stripe_settings = StripeSettings(webhook_secret=WEBHOOK_SECRET)
    return TestClient(app)


def post_event(client: TestClient, event_type: str, obj: Any, created: datetime, secret: str = WEBHOOK_SECRET) -> Any:
    payload, signature = signed(event_of(event_type, obj, int(created.timestamp())), secret)
    return client.post(
        "/v1/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
