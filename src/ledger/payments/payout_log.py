"""Payout states from the log in one bulk read: each PayoutTransfer as its events left it.

Money leaves a balance only by PayoutRecorded (recorded together with PayoutSent), so a failed
or never-sent payout leaves the balance whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.domain.payout_transfer import FAILED, PENDING, SENT, PayoutTransfer

if TYPE_CHECKING:
    from ledger.application import RoyaltyLedger


@dataclass
class PayoutState:
    """A PayoutTransfer as its events left it, with the positions they were recorded at."""

    payout_id: str
    party: str
    period: str
    currency: str
    amount_micros: int
    amount_minor: int
    destination: str
    created_at: int
    status: str = PENDING
    transfer_id: str | None = None
    reason: str | None = None


def read_payout_states(app: RoyaltyLedger) -> dict[str, PayoutState]:
    # Event classes are made by eventsourcing's @event decorator; the type checker cannot see them.
    events: Any = PayoutTransfer
    created, sent, failed = events.PayoutCreated, events.PayoutSent, events.PayoutFailed
    states: dict[str, PayoutState] = {}
    for n in app.read_log(topics=app.topics_of(created, sent, failed)):
        e = app.decode(n)
        key = str(e.originator_id)
        if isinstance(e, created):
            states[key] = PayoutState(
                key, e.party, e.period, e.currency, e.amount_micros, e.amount_minor, e.destination, n.id
            )
        elif isinstance(e, sent):
            states[key].status, states[key].transfer_id = SENT, e.transfer_id
        elif isinstance(e, failed):
            states[key].status, states[key].reason = FAILED, e.reason
    return states
