"""Payout: money leaving a party's balance in the currency's minor unit (Stripe sends it)."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class Payout(Aggregate):
    @event("PayoutRecorded")
    def __init__(self, party: str, currency: str, amount_micros: int, reference: str, actor: str) -> None:
        self.party = party
        self.currency = currency
        self.amount_micros = amount_micros
        self.reference = reference
