"""Money in and out through Stripe, end to end: payment intent → webhook → sale row → earnings →
close → payout run → transfer → reconcile clean; then a refund → a negative adjustment next period.

Payment intents and refunds live in localstripe; transfers go to the local Transfers server
(localstripe has no Connect transfers). Webhooks are signed for real with the endpoint secret.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from cli.payouts_stripe import payout_balances
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.payments.payouts import link_payout_account, run_payouts
from ledger.payments.reconcile import reconcile
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers
from ledger.store.config import StoreConfig
from ledger.usage.listener import SECRET_ENV
from projections.statements.close import close_period
from tests.payments_helpers import (
    DEC_2,
    ISRC,
    NOV_21,
    OCT_5,
    SALE_META,
    Clock,
    payments_catalogue,
    post_event,
    webhook_api,
)
from tests.peers.fixtures import API_KEY, localstripe_client, paid_intent, refunded_charge, transfers
from tests.peers.transfers_server import TransfersState
from tests.usage_helpers import SECRET

__all__ = ["localstripe_client", "transfers"]
OCT, NOV = Period.parse("2026-10"), Period.parse("2026-11")


def _pay(app: RoyaltyLedger, period: Period, gateway: StripeTransfers) -> dict[str, Any]:
    report = run_payouts(app, period, payout_balances(app, period), gateway, actor="test", minimum_micros=1_000_000)
    return {(x.party, x.status): x for x in report.lines}


def test_a_sale_is_paid_out_reconciled_and_its_refund_is_clawed_back_next_period(
    store_config: StoreConfig,
    localstripe_client: stripe.StripeClient,
    transfers: tuple[str, TransfersState],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET.decode())
    clock = Clock()
    app = RoyaltyLedger(store_config, clock=clock)
    payments_catalogue(app)
    link_payout_account(app, "aria", "acct_aria", "test")
    link_payout_account(app, "lbl", "acct_lbl", "test")
    gateway = StripeTransfers(StripeSettings(api_key=API_KEY, api_base=transfers[0]))

    intent = paid_intent(localstripe_client, 2000, "eur", SALE_META)  # €20.00 for ISRC
    with webhook_api(store_config, clock) as api:
        assert post_event(api, "payment_intent.succeeded", intent, OCT_5).json()["outcome"] == "accepted"

    # Pie: 30 % platform, 70 % master; master 60 % aria / 40 % label.
    october = close_period(app, store_config, OCT, "test")
    assert october.totals["party:aria"]["EUR"]["earnings"] == 8_400_000
    assert october.totals["party:lbl"]["EUR"]["earnings"] == 5_600_000
    paid = _pay(app, OCT, gateway)
    assert paid[("aria", "sent")].amount_micros == 8_400_000
    assert paid[("lbl", "sent")].amount_micros == 5_600_000
    assert sorted((t["destination"], t["amount"]) for t in transfers[1].transfers) == [
        ("acct_aria", 840),
        ("acct_lbl", 560),
    ]
    assert reconcile(app, gateway).ok

    charge = refunded_charge(localstripe_client, intent.id, 500)  # €5.00 back to the buyer
    with webhook_api(store_config, clock) as api:
        assert post_event(api, "charge.refunded", charge, NOV_21).json()["outcome"] == "accepted"
    clock.now = DEC_2
    november = close_period(app, store_config, NOV, "test")
    aria = november.documents["party:aria"]["currencies"]["EUR"]
    # The refund occurred in November: a November line keyed by October's sale, taking back
    # exactly a quarter of what aria got (DESIGN.md "Refunds reverse the sale they refund").
    assert [(e["kind"], e["isrc"], e["amount_micros"]) for e in aria["earnings"]] == [("refund", ISRC, -2_100_000)]
    assert (aria["opening_micros"], aria["payout_micros"], aria["closing_micros"]) == (8_400_000, 8_400_000, -2_100_000)
    assert aria["adjustments"] == []
    again = _pay(app, NOV, gateway)
    assert again[("aria", "held")].balance_micros == -2_100_000  # a claw-back is never paid out
    assert len(transfers[1].transfers) == 2
    assert reconcile(app, gateway).ok
    app.close()
