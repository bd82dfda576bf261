"""Payout runs and reconciliation against a local Transfers server (localstripe has no Connect).

The server (tests/peers/transfers_server.py) implements the Transfers endpoints the stripe
library calls, with Idempotency-Key semantics; the stripe library is pointed at it by api_base.
"""

from __future__ import annotations

from typing import Any

import pytest

from cli.payouts_stripe import payout_balances
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.payments.payouts import link_payout_account, run_payouts
from ledger.payments.reconcile import reconcile
from ledger.payments.stripe_adapter import StripeSettings, StripeTransfers
from ledger.royalties import read_rights_history
from ledger.store.config import StoreConfig
from projections.statements.payouts import payable
from tests.peers.fixtures import API_KEY, transfers
from tests.peers.transfers_server import TransfersState

__all__ = ["transfers"]
OCT = Period.parse("2026-10")
CLOSING = {"aria": 12_345_678, "lbl": 50_000_000, "tiny": 9_999_999, "nolink": 20_000_000}


def close_october(app: RoyaltyLedger) -> None:
    """A closed October with hand-chosen closing balances (accounting itself is tested elsewhere)."""
    for key in CLOSING:
        app.upsert_party(key, key.title(), ["artist"], "test")
    totals = {
        f"party:{k}": {
            "EUR": {"opening": 0, "earnings": v, "escrow_releases": 0, "adjustments": 0, "payouts": 0, "closing": v}
        }
        for k, v in CLOSING.items()
    }
    totals["platform"] = {"EUR": {"closing": 1}}
    app.record_period_close(OCT, app.head_position(), None, totals, {}, "test")
    for key in ("aria", "lbl", "tiny"):
        link_payout_account(app, key, f"acct_{key}", "test")


@pytest.fixture
def setup(store_config: StoreConfig, transfers: tuple[str, TransfersState]) -> Any:
    url, state = transfers
    state.declined.add("acct_lbl")
    app = RoyaltyLedger(store_config)
    close_october(app)
    yield app, StripeTransfers(StripeSettings(api_key=API_KEY, api_base=url)), state
    app.close()


def _run(app: RoyaltyLedger, gateway: StripeTransfers) -> dict[str, Any]:
    report = run_payouts(app, OCT, payout_balances(app, OCT), gateway, actor="test", minimum_micros=10_000_000)
    return {line.party: line for line in report.lines}


def test_a_run_pays_each_party_once_in_whole_cents_and_a_rerun_sends_nothing(setup: Any) -> None:
    app, gateway, server = setup
    lines = _run(app, gateway)
    assert {p: x.status for p, x in lines.items()} == {
        "aria": "sent",
        "lbl": "failed",
        "tiny": "held",
        "nolink": "no_account",
    }
    assert (lines["aria"].amount_micros, lines["aria"].rest_micros) == (12_340_000, 5_678)
    assert "No such destination" in lines["lbl"].reason
    [sent] = server.transfers
    assert (sent["amount"], sent["currency"], sent["destination"]) == (1234, "eur", "acct_aria")
    assert sent["transfer_group"] == sent["metadata"]["royalty_payout_id"] == lines["aria"].payout_id
    history = read_rights_history(app)
    assert payable(history, "aria", "EUR").balance_micros == 5_678  # the sub-cent rest stays
    assert payable(history, "lbl", "EUR").balance_micros == 50_000_000  # failed: balance whole
    requests = server.create_requests
    again = _run(app, gateway)
    assert {p: x.status for p, x in again.items()} == {
        "aria": "already_sent",
        "lbl": "already_failed",
        "tiny": "held",
        "nolink": "no_account",
    }
    assert server.create_requests == requests and len(server.transfers) == 1
    assert reconcile(app, gateway).ok


def test_reconcile_lists_every_difference_between_transfers_and_payout_events(setup: Any) -> None:
    app, gateway, server = setup
    _run(app, gateway)
    [sent] = server.transfers
    server.add(999, "eur", "acct_stranger")
    server.reverse(sent["id"], 100)
    sent["amount"] = 1200
    kinds = sorted(d.kind for d in reconcile(app, gateway).differences)
    assert kinds == ["amount_mismatch", "extra", "reversed"]
    sent["currency"] = "usd"
    assert "currency_mismatch" in {d.kind for d in reconcile(app, gateway).differences}
    server.transfers.remove(sent)
    report = reconcile(app, gateway)
    assert sorted(d.kind for d in report.differences) == ["extra", "missing"]
    assert not report.ok
