"""PayoutTransfer: one period's payout of one party's balance in one currency, sent by transfer.

Deterministic id from (party, period, currency), so a re-run of the payout run finds the same
payout and never creates a second one. Created → Sent | Failed: a created payout whose outcome
was not recorded (a crash after sending) is resumed by looking the transfer up by the payout id.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError

PENDING, SENT, FAILED = "pending", "sent", "failed"


def payout_transfer_id(party: str, period: str, currency: str) -> UUID:
    return uuid5(NAMESPACE, f"payout-transfer:{party}:{period}:{currency}")


class PayoutTransfer(Aggregate):
    @staticmethod
    def create_id(party: str, period: str, currency: str, **_: Any) -> Any:
        return payout_transfer_id(party, period, currency)

    @event("PayoutCreated")
    def __init__(
        self,
        party: str,
        period: str,
        currency: str,
        amount_micros: int,
        amount_minor: int,
        destination: str,
        balance_micros: int,
        actor: str,
    ) -> None:
        """`amount_micros` = `amount_minor` whole minor units; the rest of `balance_micros` stays."""
        self.party = party
        self.period = period
        self.currency = currency
        self.amount_micros = amount_micros
        self.amount_minor = amount_minor
        self.destination = destination
        self.balance_micros = balance_micros
        self.status = PENDING
        self.transfer_id: str | None = None
        self.failure_reason: str | None = None

    def mark_sent(self, transfer_id: str, amount_minor: int, currency: str, actor: str) -> None:
        self._require_pending()
        if (amount_minor, currency) != (self.amount_minor, self.currency):
            raise DomainError(
                f"transfer {transfer_id} moved {amount_minor} {currency} minor units, but payout "
                f"{self.id} is for {self.amount_minor} {self.currency}"
            )
        self._sent(transfer_id=transfer_id, actor=actor)

    @event("PayoutSent")
    def _sent(self, transfer_id: str, actor: str) -> None:
        self.status = SENT
        self.transfer_id = transfer_id

    def mark_failed(self, reason: str, actor: str) -> None:
        self._require_pending()
        if not reason.strip():
            raise DomainError("a failed payout keeps its reason")
        self._failed(reason=reason, actor=actor)

    @event("PayoutFailed")
    def _failed(self, reason: str, actor: str) -> None:
        self.status = FAILED
        self.failure_reason = reason

    def _require_pending(self) -> None:
        if self.status != PENDING:
            raise DomainError(f"payout {self.id} is already {self.status}")
