"""PaymentEventReceipt: that one payment-provider event (e.g. a Stripe webhook) was handled, and how.

Deterministic id from (provider, event id): a redelivered event finds its receipt and changes
nothing, and two racing deliveries cannot both record one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE


def payment_event_id(provider: str, event_id: str) -> UUID:
    return uuid5(NAMESPACE, f"payment-event:{provider}:{event_id}")


class PaymentEventReceipt(Aggregate):
    @staticmethod
    def create_id(provider: str, event_id: str, **_: Any) -> Any:
        return payment_event_id(provider, event_id)

    @event("PaymentEventHandled")
    def __init__(
        self,
        provider: str,
        event_id: str,
        event_type: str,
        object_id: str,
        outcome: str,
        usage_id: str | None,
        detail: str,
        actor: str,
    ) -> None:
        """`outcome`: accepted | duplicate | quarantined | ignored (see ledger.payments.webhooks)."""
        self.provider = provider
        self.event_id = event_id
        self.event_type = event_type
        self.object_id = object_id
        self.outcome = outcome
        self.usage_id = usage_id
        self.detail = detail
