"""Payouts against closed balances: floor to the currency's minor unit, a minimum threshold.

The payable balance of a party in a currency is the closing balance of the latest closed
period minus the payouts recorded since that close's as-of position. Money leaves only in
whole minor units (cents); the sub-cent rest stays in the balance and carries forward.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ledger.accounting import floor_to_minor_unit
from ledger.application import RoyaltyLedger
from ledger.domain.identifiers import parse_currency
from ledger.domain.money import parse_decimal_micros
from ledger.domain.party import DomainError
from ledger.domain.payout import Payout
from ledger.domain.period import Period
from ledger.royalties import RightsHistory, read_rights_history

MIN_PAYOUT_ENV = "ROYALTY_MIN_PAYOUT"
DEFAULT_MIN_PAYOUT = "10"  # units of the payout currency


def min_payout_micros() -> int:
    """The configured minimum payout (ROYALTY_MIN_PAYOUT, a decimal; default 10 units)."""
    return parse_decimal_micros(os.environ.get(MIN_PAYOUT_ENV) or DEFAULT_MIN_PAYOUT)


@dataclass(frozen=True)
class Payable:
    party: str
    currency: str
    balance_micros: int
    payable_micros: int  # floored to the minor unit
    last_closed_period: str | None


def payable(history: RightsHistory, party: str, currency: str) -> Payable:
    closes = history.closes_as_of(history.upto)
    if not closes:
        return Payable(party, currency, 0, 0, None)
    last = max(closes.values(), key=lambda c: Period.parse(c.period))
    closing = last.account_totals.get(f"party:{party}", {}).get(currency, {}).get("closing", 0)
    paid = sum(
        p.amount_micros
        for p in history.payouts_between(last.as_of_position, history.upto)
        if p.party == party and p.currency == currency
    )
    balance = closing - paid
    return Payable(party, currency, balance, max(0, floor_to_minor_unit(balance, currency)), last.period)


def record_payout_checked(
    app: RoyaltyLedger,
    party: str,
    amount_micros: int,
    currency: str,
    actor: str,
    reference: str = "",
    minimum_micros: int | None = None,
) -> Payout:
    """Record a payout if the closed balance covers it and it reaches the minimum."""
    currency = parse_currency(currency)
    minimum = min_payout_micros() if minimum_micros is None else minimum_micros
    available = payable(read_rights_history(app), party, currency)
    if amount_micros > available.payable_micros:
        raise DomainError(
            f"{party} can be paid at most {available.payable_micros} micro-units of {currency} "
            f"(closed balance {available.balance_micros}, floored to the minor unit)"
        )
    if amount_micros < minimum:
        raise DomainError(f"payout of {amount_micros} micro-units is below the minimum of {minimum}")
    return app.record_payout(party, amount_micros, currency, actor, reference)


PARTY_PREFIX = "party:"  # ledger.royalties.allocation.party_account


def payout_balances(app: RoyaltyLedger, period: Period) -> dict[tuple[str, str], int]:
    """Each party's payable balance after `period` closed, by the accounting rule (`payable`).

    Payouts run for the latest closed period only: `payable` measures from the latest close.
    """
    history = read_rights_history(app)
    closes = history.closes_as_of(history.upto)
    if str(period) not in closes:
        raise DomainError(f"period {period} is not closed; close it first (royalty statements close)")
    latest = max(closes, key=Period.parse)
    if latest != str(period):
        raise DomainError(f"period {latest} is closed after {period}: run payouts for {latest}")
    balances = {}
    for account, per_currency in closes[str(period)].account_totals.items():
        if account.startswith(PARTY_PREFIX):
            party = account.removeprefix(PARTY_PREFIX)
            for currency in per_currency:
                balances[(party, currency)] = payable(history, party, currency).balance_micros
    return balances
