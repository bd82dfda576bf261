"""Which log events each outbound webhook type stands for, and how far a subscription is behind.

Read by the dispatcher (operations) and by the metrics route (api); it lives in the ledger so
both can use it without one importing the other.
"""

from __future__ import annotations

from ledger.application import RoyaltyLedger
from ledger.domain.dispute import Dispute
from ledger.domain.payout_transfer import PayoutTransfer
from ledger.domain.period_close import PeriodClose
from ledger.domain.release import Release
from ledger.domain.split_agreement import SplitAgreement
from ledger.domain.usage_batch import UsageBatch
from ledger.domain.webhook_subscription import WebhookSubscription

# Log event (qualified class name) → webhook type.
TYPES: dict[str, str] = {
    "Release.Delivered": "release.delivered",
    "Release.Redelivered": "release.updated",
    "Release.TakenDown": "release.taken_down",
    "SplitAgreement.SplitVersionProposed": "split.proposed",
    "SplitAgreement.SplitVersionActivated": "split.activated",
    "SplitAgreement.Established": "split.activated",  # a delivered split: active at once
    "Dispute.Opened": "dispute.opened",
    "Dispute.Resolved": "dispute.resolved",
    "UsageBatch.Recorded": "sale.recorded",
    "PeriodClose.PeriodClosed": "statement.issued",
    "PayoutTransfer.PayoutSent": "payout.sent",
}
_CLASSES: dict[str, type] = {
    "Release.Delivered": Release.Delivered,  # type: ignore[attr-defined]
    "Release.Redelivered": Release.Redelivered,  # type: ignore[attr-defined]
    "Release.TakenDown": Release.TakenDown,  # type: ignore[attr-defined]
    "SplitAgreement.SplitVersionProposed": SplitAgreement.SplitVersionProposed,  # type: ignore[attr-defined]
    "SplitAgreement.SplitVersionActivated": SplitAgreement.SplitVersionActivated,  # type: ignore[attr-defined]
    "SplitAgreement.Established": SplitAgreement.Established,
    "Dispute.Opened": Dispute.Opened,  # type: ignore[attr-defined]
    "Dispute.Resolved": Dispute.Resolved,  # type: ignore[attr-defined]
    "UsageBatch.Recorded": UsageBatch.Recorded,
    "PeriodClose.PeriodClosed": PeriodClose.PeriodClosed,  # type: ignore[attr-defined]
    "PayoutTransfer.PayoutSent": PayoutTransfer.PayoutSent,  # type: ignore[attr-defined]
}


def subscribed_topics(app: RoyaltyLedger, subscription: WebhookSubscription) -> list[str]:
    return app.topics_of(*(c for n, c in _CLASSES.items() if TYPES[n] in subscription.event_types))


def queue_depth(app: RoyaltyLedger, subscription: WebhookSubscription) -> int:
    """Log events of the subscription's types after its recorded position (an upper bound of the
    messages it is behind: a party's subscription skips the events not its own)."""
    topics = subscribed_topics(app, subscription)
    return sum(1 for _ in app.read_log(subscription.position + 1, topics=topics))
