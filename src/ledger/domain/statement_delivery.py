"""StatementDelivery: a party's statement for one month, sent by email — once.

One aggregate per (period, party), so a delivery is found again after a crash. `Delivered`
names the message id and the address; `DeliveryFailed` names the reason and when to try again
(exponential backoff); after the last attempt it stays failed until an operator retries it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE
from ledger.domain.party import DomainError


def statement_delivery_id(period: str, party: str) -> UUID:
    return uuid5(NAMESPACE, f"statement-delivery:{period}:{party}")


class StatementDelivery(Aggregate):
    @staticmethod
    def create_id(period: str, party: str, **_: Any) -> Any:
        return statement_delivery_id(period, party)

    @event("Requested")
    def __init__(self, period: str, party: str, message_id: str, actor: str) -> None:
        self.period = period
        self.party = party
        self.message_id = message_id
        self.status = "pending"
        self.attempts = 0
        self.reason = ""
        self.next_attempt_at: datetime | None = None
        self.address = ""
        self.delivered_at: datetime | None = None

    def record_delivered(self, address: str, at: datetime, actor: str) -> None:
        if self.status == "delivered":
            raise DomainError(f"the {self.period} statement of {self.party} is already delivered")
        self._delivered(address=address, at=at, actor=actor)

    @event("Delivered")
    def _delivered(self, address: str, at: datetime, actor: str) -> None:
        self.status = "delivered"
        self.attempts += 1
        self.address = address
        self.delivered_at = at
        self.next_attempt_at = None

    @event("DeliveryFailed")
    def record_failed(self, reason: str, at: datetime, next_attempt_at: datetime | None, actor: str) -> None:
        """A failed attempt; `next_attempt_at` None means no more automatic attempts."""
        self.status = "retrying" if next_attempt_at else "failed"
        self.attempts += 1
        self.reason = reason
        self.next_attempt_at = next_attempt_at

    @event("RetryRequested")
    def request_retry(self, actor: str) -> None:
        """An operator asks for another attempt of a delivery that gave up."""
        self.status = "pending"
        self.next_attempt_at = None
