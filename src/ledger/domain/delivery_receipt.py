"""DeliveryReceipt: one release or takedown of one delivered message, imported (so never twice)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.domain.ids import NAMESPACE


def delivery_receipt_id(sender_dpid: str, message_id: str, item: str) -> UUID:
    """One receipt per (sender, message, item): re-importing the message finds it."""
    return uuid5(NAMESPACE, f"delivery-receipt:{sender_dpid}:{message_id}:{item}")


class DeliveryReceipt(Aggregate):
    @staticmethod
    def create_id(sender_dpid: str, message_id: str, item: str, **_: Any) -> Any:
        return delivery_receipt_id(sender_dpid, message_id, item)

    @event("Received")
    def __init__(
        self, sender_dpid: str, message_id: str, item: str, content_sha256: str, result: str, actor: str
    ) -> None:
        self.sender_dpid = sender_dpid
        self.message_id = message_id
        self.item = item
        self.content_sha256 = content_sha256
        self.result = result
