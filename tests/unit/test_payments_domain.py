"""Payments without peers: the payout lifecycle, settings that never show secrets, uncertain sends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ledger.application import RoyaltyLedger
from ledger.domain.party import DomainError
from ledger.domain.payout_transfer import PayoutTransfer
from ledger.domain.period import Period
from ledger.payments.gateway import TransferRecord, TransferUncertain
from ledger.payments.payouts import link_payout_account, run_payouts
from ledger.payments.stripe_adapter import StripeNotConfigured, StripeSettings, WebhookRejected, verify_webhook

OCT = Period.parse("2026-10")


def _payout() -> PayoutTransfer:
    return PayoutTransfer(
        party="aria",
        period="2026-10",
        currency="EUR",
        amount_micros=12_340_000,
        amount_minor=1234,
        destination="acct_aria",
        balance_micros=12_345_678,
        actor="test",
    )


def test_a_payout_is_sent_or_failed_once_and_only_for_its_own_amount() -> None:
    payout = _payout()
    with pytest.raises(DomainError, match="1234 EUR"):
        payout.mark_sent("tr_1", 1200, "EUR", "test")
    with pytest.raises(DomainError, match="keeps its reason"):
        payout.mark_failed(" ", "test")
    payout.mark_sent("tr_1", 1234, "EUR", "test")
    assert (payout.status, payout.transfer_id) == ("sent", "tr_1")
    with pytest.raises(DomainError, match="already sent"):
        payout.mark_failed("late failure", "test")


def test_the_payout_id_is_the_same_for_the_same_party_period_and_currency() -> None:
    assert _payout().id == _payout().id
    other = PayoutTransfer(
        party="aria",
        period="2026-11",
        currency="EUR",
        amount_micros=10_000,
        amount_minor=1,
        destination="acct_aria",
        balance_micros=10_000,
        actor="t",
    )
    assert other.id != _payout().id


def test_settings_never_show_keys_or_secrets() -> None:
    settings = StripeSettings.from_env(
        {"ROYALTY_STRIPE_API_KEY": "sk_test_SECRET1", "ROYALTY_STRIPE_WEBHOOK_SECRET": "whsec_SECRET2"}
    )
    shown = repr(settings) + str(settings)
    assert "SECRET1" not in shown and "SECRET2" not in shown and "<set>" in shown
    assert settings.redact("bad key sk_test_SECRET1 / whsec_SECRET2") == "bad key <redacted> / <redacted>"
    with pytest.raises(StripeNotConfigured):
        StripeSettings.from_env({"ROYALTY_STRIPE_API_BASE": "ftp://x"})


def test_a_webhook_without_a_configured_secret_or_signature_is_refused() -> None:
    with pytest.raises(WebhookRejected, match="missing Stripe-Signature"):
        verify_webhook(b"{}", None, StripeSettings(webhook_secret="whsec_x"))  # noqa: S106 - a test value
    with pytest.raises(StripeNotConfigured):
        verify_webhook(b"{}", "t=1,v1=00", StripeSettings())


@dataclass
class FlakyGateway:
    """Sends succeed at the provider, but the first answer is lost (a timeout)."""

    transfers: list[TransferRecord] = field(default_factory=list)
    lose_next_answer: bool = True

    def find_transfer(self, payout_id: str) -> TransferRecord | None:
        return next((t for t in self.transfers if t.payout_id == payout_id), None)

    def create_transfer(
        self, payout_id: str, amount_minor: int, currency: str, destination: str, metadata: dict[str, str]
    ) -> TransferRecord:
        record = TransferRecord(f"tr_{len(self.transfers)}", payout_id, amount_minor, currency, destination)
        self.transfers.append(record)
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise TransferUncertain("read timed out")
        return record

    def list_transfers(self) -> Iterator[TransferRecord]:
        return iter(self.transfers)


def test_an_unclear_answer_leaves_the_payout_pending_and_the_next_run_records_it(
    memory_app: RoyaltyLedger,
) -> None:
    memory_app.upsert_party("aria", "Aria", ["artist"], "test")
    link_payout_account(memory_app, "aria", "acct_aria", "test")
    gateway = FlakyGateway()
    first = run_payouts(memory_app, OCT, {("aria", "EUR"): 5_000_000}, gateway, actor="t", minimum_micros=0)
    assert not first.ok and first.lines[0].status == "pending"
    second = run_payouts(memory_app, OCT, {("aria", "EUR"): 5_000_000}, gateway, actor="t", minimum_micros=0)
    assert [x.status for x in second.resumed] == ["sent"] and second.ok
    assert len(gateway.transfers) == 1


def test_only_connected_account_ids_can_be_linked(memory_app: RoyaltyLedger) -> None:
    memory_app.upsert_party("aria", "Aria", ["artist"], "test")
    with pytest.raises(DomainError, match="acct_"):
        link_payout_account(memory_app, "aria", "DE89 3704 0044 0532 0130 00", "test")
    assert link_payout_account(memory_app, "aria", "acct_1Abc", "test")
    assert not link_payout_account(memory_app, "aria", "acct_1Abc", "test")
