"""Hypothesis: money through Stripe is never created or lost — exact minor units in, whole
minor units out, the sub-cent rest kept, and a re-run never sends more."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.accounting import minor_unit_micros
from ledger.application import RoyaltyLedger
from ledger.domain.period import Period
from ledger.payments.gateway import TransferRecord
from ledger.payments.payouts import link_payout_account, run_payouts
from ledger.payments.webhooks import minor_to_micros
from ledger.store.config import StoreConfig

CURRENCIES = ["EUR", "USD", "JPY", "KWD", "GBP", "CLP", "BHD"]
OCT = Period.parse("2026-10")


@given(st.integers(0, 10**12), st.sampled_from(CURRENCIES))
def test_a_stripe_amount_becomes_micro_units_exactly(amount_minor: int, currency: str) -> None:
    micros = minor_to_micros(amount_minor, currency)
    assert micros % minor_unit_micros(currency) == 0
    assert micros // minor_unit_micros(currency) == amount_minor


@dataclass
class Ledgerless:
    transfers: list[TransferRecord] = field(default_factory=list)

    def find_transfer(self, payout_id: str) -> TransferRecord | None:
        return next((t for t in self.transfers if t.payout_id == payout_id), None)

    def create_transfer(
        self, payout_id: str, amount_minor: int, currency: str, destination: str, metadata: dict[str, str]
    ) -> TransferRecord:
        self.transfers.append(
            TransferRecord(f"tr_{len(self.transfers)}", payout_id, amount_minor, currency, destination)
        )
        return self.transfers[-1]

    def list_transfers(self) -> Iterator[TransferRecord]:
        return iter(self.transfers)


balances = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(CURRENCIES)),
    st.integers(-(10**9), 10**11),
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(balances, st.integers(0, 20_000_000))
def test_payouts_send_whole_minor_units_keep_the_rest_and_never_pay_twice(
    owed: dict[tuple[str, str], int],
    minimum: int,
) -> None:
    app = RoyaltyLedger(StoreConfig("sqlite"), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    for party in {p for p, _ in owed}:
        app.upsert_party(party, party, ["artist"], "t")
        link_payout_account(app, party, f"acct_{party}", "t")
    gateway = Ledgerless()
    report = run_payouts(app, OCT, owed, gateway, actor="t", minimum_micros=minimum)
    for line in report.lines:
        unit = minor_unit_micros(line.currency)
        balance = owed[(line.party, line.currency)]
        if line.status == "sent":
            assert line.amount_micros + line.rest_micros == balance
            assert 0 <= line.rest_micros < unit and line.amount_micros >= max(minimum, 1)
        else:
            assert line.status == "held"
            assert line.amount_micros == max(balance, 0) // unit * unit < max(minimum, 1)
    sent = sorted(
        (t.destination, t.currency, t.amount_minor * minor_unit_micros(t.currency)) for t in gateway.transfers
    )
    assert sent == sorted((f"acct_{x.party}", x.currency, x.amount_micros) for x in report.lines if x.status == "sent")
    run_payouts(app, OCT, owed, gateway, actor="t", minimum_micros=minimum)
    assert len(gateway.transfers) == len(sent)
    app.close()
